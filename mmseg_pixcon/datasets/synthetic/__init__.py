"""Generators of the built-in synthetic sets, in the exact Cityscapes and PASCAL VOC 2012 layouts.

Drawing code only (numpy, OpenCV, PIL); it registers nothing, and ``import mmseg_pixcon`` does not
import it. The data tools reach it through :mod:`mmseg_pixcon.datasets`.
"""
from .cityscapes import (TRAINID_TO_LABELID, generate_cityscapes, render_street_scene,
                         trainids_to_labelids)
from .voc import generate_voc, render_object_scene, voc_palette

__all__ = ['TRAINID_TO_LABELID', 'generate_cityscapes', 'generate_voc', 'render_object_scene',
           'render_street_scene', 'trainids_to_labelids', 'voc_palette']

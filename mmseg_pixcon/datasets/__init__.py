"""What the data tools need: label-budget splits and the built-in synthetic sets.

The one place to import them from (tools/make_synthetic_data.py, make_split.py, run_recipe.py)::

    from mmseg_pixcon.datasets import generate_cityscapes, generate_voc   # synthetic sets
    from mmseg_pixcon.datasets import make_split, write_split, default_split_path

The generators write trees in the exact Cityscapes / PASCAL VOC 2012 layouts, which the stock
``CityscapesDataset`` and ``PascalVOCDataset`` load unchanged. Nothing here registers a module, so
``import mmseg_pixcon`` (what a config's ``custom_imports`` runs) leaves this package, and the
drawing code of :mod:`.synthetic`, unimported.
"""
from .classes import CITYSCAPES_CLASSES, VOC_CLASSES
from .splits import (Split, class_presence, default_split_path, greedy_coverage, make_split,
                     random_subset, read_label, write_split)
from .synthetic import (TRAINID_TO_LABELID, generate_cityscapes, generate_voc,
                        render_object_scene, render_street_scene, trainids_to_labelids,
                        voc_palette)

__all__ = [
    'CITYSCAPES_CLASSES', 'TRAINID_TO_LABELID', 'VOC_CLASSES', 'Split', 'class_presence',
    'default_split_path', 'generate_cityscapes', 'generate_voc', 'greedy_coverage', 'make_split',
    'random_subset', 'read_label', 'render_object_scene', 'render_street_scene',
    'trainids_to_labelids', 'voc_palette', 'write_split'
]

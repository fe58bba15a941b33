"""Built-in synthetic sets in the exact Cityscapes / PASCAL VOC 2012 layouts; label-budget splits.

The stock ``CityscapesDataset`` and ``PascalVOCDataset`` load the generated trees unchanged.
"""
from .splits import (Split, class_presence, default_split_path, greedy_coverage, make_split,
                     random_subset, read_label, write_split)
from .synthetic_cityscapes import (CITYSCAPES_CLASSES, TRAINID_TO_LABELID, generate_cityscapes,
                                   render_street_scene, trainids_to_labelids)
from .synthetic_voc import VOC_CLASSES, generate_voc, render_object_scene, voc_palette

__all__ = [
    'CITYSCAPES_CLASSES', 'TRAINID_TO_LABELID', 'VOC_CLASSES', 'Split', 'class_presence',
    'default_split_path', 'generate_cityscapes', 'generate_voc', 'greedy_coverage', 'make_split',
    'random_subset', 'read_label', 'render_object_scene', 'render_street_scene',
    'trainids_to_labelids', 'voc_palette', 'write_split'
]

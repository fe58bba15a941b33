# The built-in synthetic object set (tools/make_synthetic_data.py voc): 128x128 images in the exact
# PASCAL VOC 2012 layout, so the stock PascalVOCDataset and IoUMetric apply unchanged. Only the
# root, the image scale, the crop (96x96) and the loader sizes differ from the stock dataset config.
_base_ = ['mmseg::_base_/datasets/pascal_voc12.py']
data_root = 'data/synthetic/VOCdevkit/VOC2012'
crop_size = (96, 96)
scale = (512, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=crop_size),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
# No loader workers: on 2 cores they take the cores from the model (one CE iteration of the
# synthetic DeepLabV3+: 0.23 s with the images loaded in the main process, 0.34 s with 1 worker,
# 0.58 s with 2); loading 4 small images costs 0.02 s.
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

# The built-in synthetic street scenes (tools/make_synthetic_data.py cityscapes): 128x256 images in
# the exact Cityscapes layout, so the stock CityscapesDataset and IoUMetric apply unchanged.
# Only the root, the image scale, the crop (96x192) and the loader sizes differ from the stock
# dataset config.
_base_ = ['mmseg::_base_/datasets/cityscapes.py']
data_root = 'data/synthetic/cityscapes'
crop_size = (96, 192)
scale = (256, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
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

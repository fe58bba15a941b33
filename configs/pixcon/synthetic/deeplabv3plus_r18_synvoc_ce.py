# CE baseline on the built-in synthetic VOC set: stock DeepLabV3+ on ResNet-18 V1c, from scratch,
# at a quarter of the stock R18 widths (see deeplabv3plus_r18_syncity_ce.py), output stride 16,
# small crops, BN instead of SyncBN.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/synthetic_voc.py',
    '../_base_/cpu_schedule.py',
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    pretrained=None,
    backbone=dict(
        depth=18, stem_channels=16, base_channels=16, strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2), norm_cfg=norm_cfg),
    decode_head=dict(
        c1_in_channels=16, c1_channels=12, in_channels=128, channels=32,
        dilations=(1, 6, 12, 18), num_classes=21, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=16, num_classes=21, norm_cfg=norm_cfg))

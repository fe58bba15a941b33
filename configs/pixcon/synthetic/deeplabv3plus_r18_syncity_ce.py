# CE baseline on the built-in synthetic Cityscapes set: stock DeepLabV3+ on ResNet-18 V1c, trained
# from scratch (no ImageNet weights are reachable here), BN instead of SyncBN for one CPU process.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/synthetic_cityscapes.py',
    '../_base_/cpu_schedule.py',
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 256)),
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    # the stock deeplabv3plus_r18-d8 widths
    decode_head=dict(
        c1_in_channels=64, c1_channels=12, in_channels=512, channels=128, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=256, channels=64, norm_cfg=norm_cfg))

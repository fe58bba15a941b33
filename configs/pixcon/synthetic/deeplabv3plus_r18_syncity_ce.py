# CE baseline on the built-in synthetic Cityscapes set: stock DeepLabV3+ on ResNet-18 V1c, trained
# from scratch (no ImageNet weights are reachable here). CPU-sized so that a schedule that
# converges takes minutes on 2 cores: a quarter of the stock R18 widths (stem and base channels
# 16, the decoder's alike but for its c1 projection, which keeps the stock 12), output stride 16
# (the ASPP rates that go with it), small crops, BN instead of SyncBN. One iteration (batch 4,
# 96x192): 0.23 s, against 1.1 s at the stock widths.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/synthetic_cityscapes.py',
    '../_base_/cpu_schedule.py',
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    pretrained=None,
    backbone=dict(
        depth=18, stem_channels=16, base_channels=16, strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2), norm_cfg=norm_cfg),
    # the stock deeplabv3plus_r18 decoder (c1 64->12, ASPP 512->128) at the backbone's widths
    decode_head=dict(
        c1_in_channels=16, c1_channels=12, in_channels=128, channels=32,
        dilations=(1, 6, 12, 18), norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=16, norm_cfg=norm_cfg))

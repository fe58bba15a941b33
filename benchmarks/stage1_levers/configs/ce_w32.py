# CE alone on twice the synthetic model's widths (a lever on capacity): stem and base channels 32
# instead of 16, every decoder and auxiliary-head width doubled too (3.13 M parameters against
# 0.79 M): the stock deeplabv3plus_r18 widths halved, but for the c1 projection (24 channels, the
# stock 12 doubled). Stage 1 takes the same widths from width32_10x.sh's STAGE1_OPTIONS;
# finetune_w32.py is this config with the stage-1 hand-off.
_base_ = ['../../../configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py']
model = dict(
    backbone=dict(stem_channels=32, base_channels=32),
    decode_head=dict(c1_in_channels=32, c1_channels=24, in_channels=256, channels=64),
    auxiliary_head=dict(in_channels=128, channels=32))

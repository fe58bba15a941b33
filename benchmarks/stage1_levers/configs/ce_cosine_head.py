# CE alone (no stage 1) with the cosine-classifier head of finetune_cosine_prototypes.py: the
# projection (3 1x1 convs, 256) and cosine logits at tau 0.07 on top of the stock decoder, class
# vectors at random unit directions, trained from scratch for the CE baseline's schedule. The
# control that tells the head's own effect apart from what stage 1 brings to it.
_base_ = ['../../../configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py']
custom_imports = dict(imports=['mmseg_pixcon'], allow_failed_imports=False)
model = dict(decode_head=dict(
    type='CosineClassifierHead', base_type='DepthwiseSeparableASPPHead', proj_channels=256,
    num_proj_convs=3, temperature=0.07))

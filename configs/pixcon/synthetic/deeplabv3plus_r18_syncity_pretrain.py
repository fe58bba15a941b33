# Stage 1 on the built-in synthetic set: the CE baseline's model with its classifier replaced by
# the projection head, trained with the cross-image pixel contrastive loss alone (no CE).
_base_ = ['./deeplabv3plus_r18_syncity_ce.py']
# A third of the CE baseline's 2,250 iterations: stage 1 + stage 2 never out-compute CE alone.
train_cfg = dict(max_iters=750, val_interval=750)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=750, by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=750))
custom_imports = dict(imports=['mmseg_pixcon'], allow_failed_imports=False)
model = dict(
    data_preprocessor=dict(type='PixConDataPreProcessor'),
    decode_head=dict(
        type='ContrastHead',
        base_type='DepthwiseSeparableASPPHead',
        # Project and contrast at half the 24×48 decoder grid of a 96×192 crop, like the released
        # code's resize_size: 1/4 of the pixels, 1/16 of the pairs.
        loss_resolution=(12, 24),
        loss_decode=dict(_delete_=True, type='PixelContrastLoss', mode='cross')),
    auxiliary_head=None)
val_evaluator = dict(type='PrototypeIoUMetric')
test_evaluator = val_evaluator
custom_hooks = [dict(type='PrototypeHook')]

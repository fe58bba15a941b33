# Stage 2 on the built-in synthetic set: the CE baseline's config, started from stage 1's weights
# (all but the classifier and the auxiliary head, which start fresh).
_base_ = ['./deeplabv3plus_r18_syncity_ce.py']
# Two thirds of the CE baseline's 2,250 iterations, a full CE schedule of its own (a third goes to
# stage 1): stage 1 + stage 2 never out-compute CE alone (benchmarks/label_efficiency.md).
train_cfg = dict(max_iters=1500, val_interval=1500)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=1500, by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=1500))
custom_imports = dict(imports=['mmseg_pixcon'], allow_failed_imports=False)
custom_hooks = [
    dict(type='LoadStageOneHook', checkpoint='work_dirs/deeplabv3plus_r18_syncity_pretrain')
]

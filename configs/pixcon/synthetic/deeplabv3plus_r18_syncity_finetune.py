# Stage 2 on the built-in synthetic set: the CE baseline's config, started from stage 1's weights
# (all but the classifier and the auxiliary head, which start fresh).
_base_ = ['./deeplabv3plus_r18_syncity_ce.py']
custom_imports = dict(imports=['mmseg_pixcon'], allow_failed_imports=False)
custom_hooks = [
    dict(type='LoadStageOneHook', checkpoint='work_dirs/deeplabv3plus_r18_syncity_pretrain')
]

# Stage 2 at twice the synthetic model's widths: ce_w32.py with the stage-1 hand-off, as the
# synthetic finetune config is the CE config with it (the lever scripts rescale either schedule
# to the stage 2's iterations, which gives both the same poly decay).
_base_ = ['./ce_w32.py']
custom_imports = dict(imports=['mmseg_pixcon'], allow_failed_imports=False)
# the checkpoint: width32_10x.sh sets it (custom_hooks.0.checkpoint) to each seed's width-32 stage 1
custom_hooks = [dict(type='LoadStageOneHook', checkpoint='work_dirs/stage1_w32')]

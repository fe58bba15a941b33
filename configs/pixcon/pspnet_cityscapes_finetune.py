# Stage 2 of the recipe for PSPNet (ResNet-50 V1c) on Cityscapes: the stock model and CE loss,
# every backbone and decoder tensor loaded from stage 1; only the classifier (conv_seg) and the
# stock auxiliary head start fresh. LoadStageOneHook refuses a checkpoint that does not fit.
# Another stage-1 run: --cfg-options custom_hooks.0.checkpoint=PATH (a .pth or its work_dir)
_base_ = ['mmseg::pspnet/pspnet_r50-d8_4xb2-80k_cityscapes-512x1024.py']
custom_imports = dict(imports=['mmseg_pixcon'], allow_failed_imports=False)
model = dict(pretrained=None)
custom_hooks = [
    dict(type='LoadStageOneHook', checkpoint='work_dirs/pspnet_cityscapes_pretrain')
]

# Stage 2 of the recipe for PSPNet (ResNet-50 V1c) on PASCAL VOC 2012: the stock model and CE loss,
# every backbone and decoder tensor loaded from stage 1; only the classifier (conv_seg) and the
# stock auxiliary head start fresh. LoadStageOneHook refuses a checkpoint that does not fit.
# Another stage-1 run: --cfg-options custom_hooks.0.checkpoint=PATH (a .pth or its work_dir)
_base_ = ['mmseg::pspnet/pspnet_r50-d8_4xb4-20k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmseg_pixcon'], allow_failed_imports=False)
model = dict(pretrained=None)
# PASCAL VOC 2012 train (1,464 images) without the SBD "aug" annotations the stock config adds:
# the label-efficient setting starts from the official masks only.
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PascalVOCDataset',
        data_root={{_base_.data_root}},
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline={{_base_.train_pipeline}}))
custom_hooks = [
    dict(type='LoadStageOneHook', checkpoint='work_dirs/pspnet_voc_pretrain')
]

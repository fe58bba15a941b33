# Stage 1 of the recipe for DeepLabV3 (ResNet-50 V1c) on PASCAL VOC 2012: the stock model with its
# classifier replaced by the projection head, trained with the pixel contrastive loss alone.
# From scratch by default (the paper's main setting); ImageNet weights with
#   --cfg-options model.pretrained=open-mmlab://resnet50_v1c
# A label budget: --cfg-options train_dataloader.dataset.ann_file=splits/train_<K>_seed<S>.txt
_base_ = ['mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmseg_pixcon'], allow_failed_imports=False)
model = dict(
    pretrained=None,
    data_preprocessor=dict(type='PixConDataPreProcessor'),
    decode_head=dict(
        type='ContrastHead',
        base_type='ASPPHead',
        loss_decode=dict(_delete_=True, type='PixelContrastLoss', mode='cross')),
    auxiliary_head=None)
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
val_evaluator = dict(type='PrototypeIoUMetric')
test_evaluator = val_evaluator
custom_hooks = [dict(type='PrototypeHook')]

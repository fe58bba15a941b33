# Stage 2 that keeps stage 1's projection head (not the paper's stage 2, which drops it): the
# decode head classifies each pixel by the cosine of its unit embedding to one learnt vector per
# class, divided by the stage-1 loss's temperature (0.07), and the class vectors start at the
# stage-1 class prototypes, so fine-tuning starts from the prototype readout (stage-1 proto mIoU)
# instead of from a fresh classifier on the 32-channel decoder features. Everything else is the
# recipe's stage 2: CE, 1,500 iterations, the same learning rate and fresh auxiliary head.
_base_ = ['../../../configs/pixcon/synthetic/deeplabv3plus_r18_syncity_finetune.py']
model = dict(decode_head=dict(
    type='CosineClassifierHead', base_type='DepthwiseSeparableASPPHead', proj_channels=256,
    num_proj_convs=3, temperature=0.07))
custom_hooks = [
    dict(type='LoadStageOneHook', checkpoint='work_dirs/deeplabv3plus_r18_syncity_pretrain',
         fresh=('decode_head.conv_seg.class_vectors', 'auxiliary_head')),
    dict(type='PrototypeClassifierInitHook'),
]

# Stage 2, first phase of linear-probe-then-fine-tune (LP-FT, Kumar et al. 2022): from the
# stage-1 weights, only the fresh classifier (decode_head.conv_seg) and the fresh auxiliary head
# learn; backbone and decoder have learning rate and weight decay 0, so their stage-1 features
# meet a classifier that fits them before any gradient reaches them. The second phase is the CE
# config started from this phase's checkpoint (benchmarks/stage1_levers/lpft_10x.sh).
_base_ = ['../../../configs/pixcon/synthetic/deeplabv3plus_r18_syncity_finetune.py']
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    'backbone': dict(lr_mult=0.0, decay_mult=0.0),
    'decode_head': dict(lr_mult=0.0, decay_mult=0.0),
    'decode_head.conv_seg': dict(lr_mult=1.0, decay_mult=1.0),
}))

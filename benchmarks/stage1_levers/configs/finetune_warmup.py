# Stage 2 with a linear learning-rate warm-up over its first 10 % (150 of 1,500 iterations), then
# the stock poly decay: the fresh classifier's first, large gradients reach the stage-1 features
# at a hundredth of the learning rate instead of the full 0.05. PolyLR comes first so that
# param_scheduler.0.end=<iters> still sets the end of the decay.
_base_ = ['../../../configs/pixcon/synthetic/deeplabv3plus_r18_syncity_finetune.py']
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=150, end=1500, by_epoch=False),
    dict(type='LinearLR', start_factor=0.01, begin=0, end=150, by_epoch=False),
]

# Stage 1 with a linear learning-rate warm-up over its first 10 % (75 of 750 iterations), then
# the stock poly decay. PolyLR comes first so that tools/run_recipe.py's
# param_scheduler.0.end=<iters> still sets the end of the decay.
_base_ = ['../../../configs/pixcon/synthetic/deeplabv3plus_r18_syncity_pretrain.py']
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=75, end=750, by_epoch=False),
    dict(type='LinearLR', start_factor=0.01, begin=0, end=75, by_epoch=False),
]

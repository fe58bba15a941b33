# The CPU schedule of the built-in synthetic sets: the stock SGD + poly policy, 2,250 iterations
# and a 5x larger learning rate, which a run of minutes from scratch needs (synthetic Cityscapes,
# 8 labelled images, 400 iterations: CE 6.84 mIoU at the stock 0.01, 8.56 at 0.05;
# benchmarks/recipe_syncity.md). The CE baseline gets all of them; the recipe gives a third to
# stage 1 and two thirds, a full CE schedule, to stage 2 (their configs: 750 and 1,500; with
# 750 + 750 stage 2 was too short to use its start: benchmarks/label_efficiency_750+750.md).
# tools/run_recipe.py rescales max_iters, the scheduler and the intervals together.
_base_ = ['mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_80k.py']
optim_wrapper = dict(optimizer=dict(lr=0.05))
max_iters = 2250
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters),
    visualization=dict(type='SegVisualizationHook'))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)

# finetune_cosine_prototypes.py at a tenth of the stage-2 learning rate (0.005 instead of 0.05,
# the same poly decay), the usual rate for fine-tuning pretrained weights: at the full rate a
# single step took the seed-1 10x start from its prototype readout (20.96) to 19.01, and 375
# steps to 15.68.
_base_ = ['./finetune_cosine_prototypes.py']
optim_wrapper = dict(optimizer=dict(lr=0.005))

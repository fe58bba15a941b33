# The recipe's stage 2 (the paper's: fresh softmax classifier on the decoder features) at a tenth
# of its learning rate, 0.005: the control for finetune_cosine_prototypes_lr0.005.py, which
# changes the head and the rate together.
_base_ = ['../../../configs/pixcon/synthetic/deeplabv3plus_r18_syncity_finetune.py']
optim_wrapper = dict(optimizer=dict(lr=0.005))

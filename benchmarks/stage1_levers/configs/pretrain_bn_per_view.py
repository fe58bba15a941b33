# Stage 1 with BatchNorm in the projection's hidden layers (the released code), its statistics
# computed per view (I and Î apart).
_base_ = ['../../../configs/pixcon/synthetic/deeplabv3plus_r18_syncity_pretrain.py']
model = dict(decode_head=dict(proj_norm_cfg=dict(type='BN'), proj_norm_per_view=True))

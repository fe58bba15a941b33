# Stage 1 with SimCLR's colour distortion at strength 1.0 (its ImageNet default) instead of the
# recipe's 0.5: ColorJitter(0.8, 0.8, 0.8, 0.2) with p=0.8, then grayscale with p=0.2.
_base_ = ['../../../configs/pixcon/synthetic/deeplabv3plus_r18_syncity_pretrain.py']
model = dict(
    data_preprocessor=dict(distort=dict(
        color_jitter=dict(brightness=0.8, contrast=0.8, saturation=0.8, hue=0.2, prob=0.8),
        grayscale=dict(prob=0.2))))

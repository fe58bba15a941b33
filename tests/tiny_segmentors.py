"""Tiny segmentors, batches and an on-disk dataset for the ContrastHead / stage hand-off tests."""
import copy
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmengine.config import ConfigDict
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from PIL import Image

import mmseg_pixcon  # noqa: F401  (registers the plugin)
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

NUM_CLASSES = 3
SIZE = 32
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
NORM = dict(type='BN', requires_grad=True)
# ResNet-18 with base 8: stage outputs 8, 16, 32, 64 channels at strides 4, 8, 8, 8.
BACKBONE = dict(type='ResNetV1c', depth=18, base_channels=8, stem_channels=8,
                num_stages=4, out_indices=(0, 1, 2, 3), dilations=(1, 1, 2, 4),
                strides=(1, 2, 1, 1), norm_cfg=NORM, norm_eval=False, style='pytorch',
                contract_dilation=True)
COMMON = dict(in_channels=64, in_index=3, channels=16, dropout_ratio=0.1,
              num_classes=NUM_CLASSES, norm_cfg=NORM, align_corners=False)
STOCK_HEADS = {
    'DepthwiseSeparableASPPHead': dict(dilations=(1, 2), c1_in_channels=8, c1_channels=4),
    'ASPPHead': dict(dilations=(1, 2)),
    'PSPHead': dict(pool_scales=(1, 2, 3)),
    'FCNHead': dict(num_convs=1, concat_input=False),
}
CONTRAST = dict(proj_channels=16, num_proj_convs=3, proj_norm_cfg=None)
PIXCON_LOSS = dict(type='PixelContrastLoss', mode='within', temperature=0.1)
CE_LOSS = dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)
AUX_FCN = dict(type='FCNHead', in_channels=32, in_index=2, channels=8, num_convs=1,
               concat_input=False, dropout_ratio=0.1, num_classes=NUM_CLASSES, norm_cfg=NORM,
               align_corners=False, loss_decode=dict(CE_LOSS, loss_weight=0.4))


def head_cfg(base_type: str, contrast: bool, **overrides) -> dict:
    """Config of a stock head, or of its ContrastHead variant (the stage-1 config's edit)."""
    cfg = dict(COMMON, **STOCK_HEADS[base_type], type=base_type, loss_decode=CE_LOSS)
    if contrast:
        cfg.update(CONTRAST, type='ContrastHead', base_type=base_type, loss_decode=PIXCON_LOSS)
    cfg.update(overrides)
    return cfg


def segmentor_cfg(decode_head: dict, auxiliary_head: Optional[dict] = None,
                  two_views: bool = True, backbone: Optional[dict] = None) -> dict:
    """EncoderDecoder around a tiny ResNet; the PixCon preprocessor builds [I; Î]."""
    preprocessor = dict(type='PixConDataPreProcessor' if two_views else 'SegDataPreProcessor',
                        mean=MEAN, std=STD, bgr_to_rgb=True, pad_val=0, seg_pad_val=255,
                        size=(SIZE, SIZE))
    if two_views:
        preprocessor['seed'] = 0
    return dict(type='EncoderDecoder', data_preprocessor=preprocessor,
                backbone=copy.deepcopy(backbone or BACKBONE), decode_head=decode_head,
                auxiliary_head=auxiliary_head, train_cfg=dict(), test_cfg=dict(mode='whole'))


def build(cfg: dict, seed: int = 0) -> torch.nn.Module:
    """The initialised model of ``cfg``, its random init seeded."""
    torch.manual_seed(seed)
    # BaseModel builds its data preprocessor through mmengine's root registry: needs the scope.
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(ConfigDict(copy.deepcopy(cfg)))
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs one INFO line per parameter
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model


def blob_scene(rng: np.random.Generator, size: int = SIZE,
               num_classes: int = NUM_CLASSES) -> Tuple[np.ndarray, np.ndarray]:
    """(size, size, 3) uint8 BGR image and (size, size) labels: rectangles of random classes on
    class 0, each class a colour plus noise; a 2-pixel band around each rectangle is ignored."""
    labels = np.zeros((size, size), np.int64)
    for _ in range(3):
        cls = int(rng.integers(1, num_classes))
        y, x = rng.integers(0, size - 8, 2)
        h, w = rng.integers(6, size // 2, 2)
        labels[y:y + h, x:x + w] = cls
    colours = np.array([[40, 40, 200], [200, 60, 40], [60, 200, 60], [200, 200, 40]])
    image = colours[labels] + rng.normal(0, 20, (size, size, 3))
    edge = np.zeros_like(labels, bool)
    edge[1:] |= labels[1:] != labels[:-1]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    labels[edge] = 255
    return np.clip(image, 0, 255).astype(np.uint8), labels


def make_batch(batch: int = 2, seed: int = 0) -> dict:
    """A dataloader batch: raw (3, H, W) uint8 images and samples with gt_sem_seg."""
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for i in range(batch):
        image, labels = blob_scene(rng)
        inputs.append(torch.from_numpy(image).permute(2, 0, 1).contiguous())
        sample = SegDataSample(metainfo=dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE),
                                             img_path=f'img_{seed}_{i}.png'))
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(labels)[None])
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def write_dataset(root: Path, num_images: int, seed: int = 0) -> List[str]:
    """Blob scenes as PNGs under root/img_dir and root/ann_dir; returns the image stems."""
    rng = np.random.default_rng(seed)
    (root / 'img_dir').mkdir(parents=True)
    (root / 'ann_dir').mkdir()
    stems = [f'{i:03d}' for i in range(num_images)]
    for stem in stems:
        image, labels = blob_scene(rng)
        Image.fromarray(image[..., ::-1]).save(root / 'img_dir' / f'{stem}.png')
        Image.fromarray(labels.astype(np.uint8)).save(root / 'ann_dir' / f'{stem}.png')
    return stems


def dataset_cfg(root: Path, test: bool = False, test_size: int = 48) -> dict:
    """BaseSegDataset over ``write_dataset``'s files. The test pipeline resizes the image
    before loading the labels (as mmseg's VOC config does), so labels keep the original size."""
    if test:
        pipeline = [dict(type='LoadImageFromFile'),
                    dict(type='Resize', scale=(test_size, test_size), keep_ratio=True),
                    dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
    else:
        pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                    dict(type='PackSegInputs')]
    return dict(type='BaseSegDataset', data_root=str(root),
                data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
                img_suffix='.png', seg_map_suffix='.png',
                metainfo=dict(classes=('bg', 'red', 'green'),
                              palette=[[0, 0, 0], [255, 0, 0], [0, 255, 0]]),
                pipeline=pipeline)


def runner_kwargs(work_dir: Path, data_root: Path, model: dict, max_iters: int,
                  custom_hooks: Optional[list] = None, **extra) -> dict:
    """Keyword arguments of a CPU mmengine Runner training ``model`` on the on-disk set."""
    kwargs = dict(
        model=model, work_dir=str(work_dir), experiment_name=work_dir.name,
        default_scope='mmseg', log_level='WARNING', randomness=dict(seed=0),
        train_dataloader=dict(batch_size=2, num_workers=0, dataset=dataset_cfg(data_root),
                              sampler=dict(type='InfiniteSampler', shuffle=True)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10 ** 6),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False,
                                           interval=max(max_iters, 1)),
                           logger=dict(type='LoggerHook', interval=10 ** 6)),
        custom_hooks=custom_hooks or [])
    kwargs.update(extra)
    return kwargs

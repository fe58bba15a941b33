"""PrototypeHook: class prototypes for a ContrastHead before every validation / test epoch."""
import copy
import logging
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import Runner
from torch.utils.data import DataLoader, Subset

from mmseg.registry import DATASETS, HOOKS
from ...evaluation.prototypes import PrototypeAccumulator, labels_on_input_grid
from ...models.decode_heads.contrast_head import ContrastHeadMixin
from ...models.grid_resize import resize_labels
from ...utils.data_root import leaf_datasets
from .runner_model import bare_model


class TrainingImagesHook(Hook):
    """A hook that reads the labelled training images with an evaluation pipeline (for class
    prototypes): its arguments and :meth:`build_dataloader`.

    Args:
        max_images: use only the first ``max_images`` training images (all if None).
        pipeline: pipeline for the training images; None takes the evaluation dataloader's.
        num_workers: dataloader workers; None takes ``train_dataloader.num_workers``.
    """

    def __init__(self, max_images: Optional[int] = None, pipeline: Optional[List[dict]] = None,
                 num_workers: Optional[int] = None) -> None:
        if max_images is not None and max_images < 1:
            raise ValueError(f'max_images must be positive or None, got {max_images}')
        self.max_images = max_images
        self.pipeline = pipeline
        self.num_workers = num_workers

    def build_dataloader(self, cfg: Config, eval_loader: str) -> DataLoader:
        """The training images with the pipeline of ``eval_loader`` (``'val_dataloader'`` or
        ``'test_dataloader'``) unless the hook has its own, batch 1, unshuffled, split over
        ranks without repeats."""
        train_loader = cfg.get('train_dataloader')
        if not train_loader:
            raise ValueError('prototypes need train_dataloader in the config: they are class '
                             'means over the labelled training images')
        pipeline = self.pipeline
        if pipeline is None:
            pipeline = (cfg.get(eval_loader) or {}).get('dataset', {}).get('pipeline')
            if pipeline is None:
                raise ValueError(f'{eval_loader}.dataset.pipeline not found; give '
                                 f'{type(self).__name__} a pipeline=[...]')
        leaves = list(leaf_datasets(copy.deepcopy(train_loader['dataset'])))
        for leaf in leaves:
            leaf['pipeline'] = copy.deepcopy(pipeline)
        dataset = DATASETS.build(leaves[0] if len(leaves) == 1 else
                                 dict(type='ConcatDataset', datasets=leaves))
        if self.max_images is not None:
            dataset = Subset(dataset, range(min(self.max_images, len(dataset))))
        num_workers = self.num_workers
        if num_workers is None:
            num_workers = train_loader.get('num_workers', 0)
        return Runner.build_dataloader(
            dict(dataset=dataset, batch_size=1, num_workers=num_workers,
                 sampler=dict(type='DefaultSampler', shuffle=False, round_up=False)))


@HOOKS.register_module()
class PrototypeHook(TrainingImagesHook):
    """Sets the class prototypes of every ContrastHead of the model before each val/test epoch.

    A prototype is the normalised mean embedding of a class over the labelled training images
    (the datasets of ``train_dataloader``, wrappers such as RepeatDataset looked through, read
    with the deterministic pipeline of the evaluation dataloader, batch 1, in order). The model
    runs in eval mode without gradients: data preprocessor (eval), backbone (+ neck), each
    head's forward at its embedding resolution; labels are brought to the input grid and
    downsampled to the pixel nearest each cell under the head's ``align_corners``, as in
    training. Sums are all-reduced across ranks, each rank reading its
    share of the images. With prototypes the head predicts class scores, which
    ``PrototypeIoUMetric`` evaluates.

    Heads: ``decode_head`` and every ``auxiliary_head`` that is a ContrastHead get their own
    prototypes. The stock pipeline predicts with ``decode_head`` only, so prototypes of an
    auxiliary ContrastHead (joint training) serve manual analysis, e.g.
    ``model.auxiliary_head.predict(...)``.

    Args:
        max_images: use only the first ``max_images`` training images (all if None).
        pipeline: pipeline for the training images; None takes the pipeline of the evaluation
            dataloader that runs next (``val_dataloader`` or ``test_dataloader``).
        num_workers: dataloader workers; None takes ``train_dataloader.num_workers``.
    """

    priority = 'NORMAL'

    def before_val_epoch(self, runner: Runner) -> None:
        self.update_prototypes(runner, 'val_dataloader')

    def before_test_epoch(self, runner: Runner) -> None:
        self.update_prototypes(runner, 'test_dataloader')

    def update_prototypes(self, runner: Runner, eval_loader: str) -> None:
        """Computes the prototypes and sets them on the model's ContrastHeads."""
        model = bare_model(runner)
        heads = heads_of_kind(model)
        loader = self.build_dataloader(runner.cfg, eval_loader)
        set_class_prototypes(model, heads, loader)


def set_class_prototypes(model: nn.Module, heads: Dict[str, nn.Module], loader: DataLoader,
                         log_prefix: str = 'PrototypeHook') -> None:
    """Runs ``model`` (eval, no gradients) over ``loader`` and gives each head in ``heads``
    its class prototypes (``head.set_prototypes``), the normalised class means of
    ``head.embed(features)``; logs the image count and warns about classes without pixels,
    each line starting with ``log_prefix``."""
    device = next(model.parameters()).device
    accumulators = {
        name: PrototypeAccumulator(head.num_classes, head.proj_channels, head.ignore_index,
                                   device) for name, head in heads.items()
    }
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for data in loader:
            data = model.data_preprocessor(data, False)
            inputs, samples = data['inputs'], data['data_samples']
            feats = model.extract_feat(inputs)
            for name, head in heads.items():
                embeddings = head.embed(feats)
                labels = torch.stack([
                    labels_on_input_grid(sample, inputs.shape[2:], head.ignore_index)
                    for sample in samples
                ])
                accumulators[name].add(embeddings, resize_labels(
                    labels, tuple(embeddings.shape[2:]), head.align_corners))
    model.train(was_training)
    for name, head in heads.items():
        prototypes, counts = accumulators[name].result()
        head.set_prototypes(prototypes)
        absent = torch.nonzero(counts == 0).flatten().tolist()
        print_log(f'{log_prefix}: {name} prototypes from {len(loader.dataset)} training '
                  'images', logger='current')
        if absent:
            print_log(f'{log_prefix}: {name}: classes {absent} have no pixel in the training '
                      'images used; they get no prototype (a ContrastHead scores them 0, a '
                      'CosineClassifierHead keeps their class vector)', logger='current',
                      level=logging.WARNING)


def heads_of_kind(model: nn.Module, kind: type = ContrastHeadMixin) -> Dict[str, nn.Module]:
    """The heads of a segmentor that are a ``kind`` (by default ContrastHeads), by attribute
    path, from ``decode_head`` and ``auxiliary_head``; ValueError if there is none."""
    heads = {}
    if isinstance(getattr(model, 'decode_head', None), kind):
        heads['decode_head'] = model.decode_head
    auxiliary = getattr(model, 'auxiliary_head', None)
    if isinstance(auxiliary, nn.ModuleList):
        heads.update({f'auxiliary_head.{i}': head for i, head in enumerate(auxiliary)
                      if isinstance(head, kind)})
    elif isinstance(auxiliary, kind):
        heads['auxiliary_head'] = auxiliary
    if not heads:
        name = kind.__name__.removesuffix('Mixin')
        raise ValueError(f'found no {name} in decode_head or auxiliary_head')
    return heads

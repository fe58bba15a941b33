"""Is stage 1 learning? The contrastive loss of a stage-1 checkpoint next to the loss every
collapsed embedding (one point for all pixels) would score, and the loss of a class-separated
one (each class on its own orthogonal unit vector), on training batches.

A collapsed embedding is a stationary point of the pixel contrastive loss; its value is the log
of each anchor's contrast-set size, averaged like the loss. A stage-1 model whose loss sits at
or above it has learned nothing that separates classes; the gap below it is the progress. The
separated embedding scores about the log of each anchor's same-class count: the share of the
way from collapsed to separated that a checkpoint has gone says how far stage 1 has got.

    python tools/collapse_gap.py configs/pixcon/synthetic/deeplabv3plus_r18_syncity_pretrain.py \
        init work_dirs/recipe/stage1/iter_200.pth \
        --cfg-options train_dataloader.dataset.ann_file=splits/train_8_seed0.txt

``init`` stands for the freshly initialised model. Prints one row per checkpoint.
"""
import argparse
import math
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, load_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mmseg_pixcon  # noqa: E402,F401  (registers the plugin)
from mmseg.registry import MODELS  # noqa: E402
from mmseg_pixcon.models.grid_resize import resize_labels  # noqa: E402
from torch import Tensor  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='a stage-1 config (ContrastHead decode head)')
    parser.add_argument('checkpoints', nargs='+', help="checkpoint files, or 'init'")
    parser.add_argument('--batches', type=int, default=2, help='training batches per checkpoint')
    parser.add_argument('--seed', type=int, default=0, help='seeds Î, partners and the loader')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args()


def separated_embedding(head, samples, size: Tuple[int, int]) -> Tensor:
    """(N, C, h, w): a pixel of class c at the unit vector e_c (ignored pixels, which the loss
    leaves out, at e_0); C = num_classes channels, whatever the head's D."""
    labels = resize_labels(head._stack_batch_gt(samples).squeeze(1), size, head.align_corners)
    labels = torch.where(labels == head.ignore_index, 0, labels)
    return F.one_hot(labels, head.num_classes).permute(0, 3, 1, 2).float()


def loss_and_collapsed(model, batch: dict, seed: int) -> Dict[str, float]:
    """The head's loss on ``batch`` (as in training: [I; Î], loss resolution), and the losses of
    a constant unit embedding and of a class-separated one on the same labels and partners."""
    head = model.decode_head
    data = model.data_preprocessor(batch, True)
    with torch.no_grad(), head.projecting_at_loss_resolution():
        embeddings = head(model.extract_feat(data['inputs']))
        constant = torch.ones_like(embeddings) / math.sqrt(embeddings.shape[1])
        separated = separated_embedding(head, data['data_samples'], tuple(embeddings.shape[2:]))
        values = {}
        for name, x in (('loss', embeddings), ('collapsed', constant),
                        ('separated', separated.to(embeddings))):
            torch.manual_seed(seed)  # the same cross-image partners for both
            items = head.loss_by_feat(x, data['data_samples'])
            # the losses, not the logged anchor count beside them (mmengine's rule)
            values[name] = sum(v for k, v in items.items() if 'loss' in k).item()
    return values


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    if cfg.model.decode_head.get('type') != 'ContrastHead':
        raise SystemExit(f'{args.config} is not a stage-1 config: its decode head is '
                         f"{cfg.model.decode_head.get('type')}, not ContrastHead")
    rows: List[str] = []
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
        for checkpoint in args.checkpoints:
            torch.manual_seed(args.seed)
            if checkpoint == 'init':
                model.init_weights()
            else:
                load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                                logger='silent')
            model.train()  # BN as in training; the preprocessor makes Î
            loader = Runner.build_dataloader(cfg.train_dataloader, seed=args.seed)
            batches = iter(loader)
            values = [loss_and_collapsed(model, next(batches), args.seed)
                      for _ in range(min(args.batches, len(loader)))]
            loss, collapsed, separated = (sum(v[key] for v in values) / len(values)
                                          for key in ('loss', 'collapsed', 'separated'))
            rows.append(f'| {checkpoint} | {len(values)} | {loss:.3f} | {collapsed:.3f} | '
                        f'{separated:.3f} | {collapsed - loss:+.3f} | '
                        f'{100 * (collapsed - loss) / (collapsed - separated):.0f} % |')
    print('| checkpoint | batches | loss | collapsed loss | separated loss | '
          'gap (collapsed − loss) | share of the way to separated |')
    print('|---|---|---|---|---|---|---|')
    print('\n'.join(rows))


if __name__ == '__main__':
    main()

"""Is stage 1 learning? The contrastive loss of a stage-1 checkpoint next to the loss every
collapsed embedding (one point for all pixels) would score, on training batches.

A collapsed embedding is a stationary point of the pixel contrastive loss; its value is the log
of each anchor's contrast-set size, averaged like the loss. A stage-1 model whose loss sits at
or above it has learned nothing that separates classes; the gap below it is the progress.

    python tools/collapse_gap.py configs/pixcon/synthetic/deeplabv3plus_r18_syncity_pretrain.py \
        init work_dirs/recipe/stage1/iter_200.pth \
        --cfg-options train_dataloader.dataset.ann_file=splits/train_8_seed0.txt

``init`` stands for the freshly initialised model. Prints one row per checkpoint.
"""
import argparse
import math
import sys
from pathlib import Path
from typing import Dict, List

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, load_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mmseg_pixcon  # noqa: E402,F401  (registers the plugin)
from mmseg.registry import MODELS  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='a stage-1 config (ContrastHead decode head)')
    parser.add_argument('checkpoints', nargs='+', help="checkpoint files, or 'init'")
    parser.add_argument('--batches', type=int, default=2, help='training batches per checkpoint')
    parser.add_argument('--seed', type=int, default=0, help='seeds Î, partners and the loader')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args()


def loss_and_collapsed(model, batch: dict, seed: int) -> Dict[str, float]:
    """The head's loss on ``batch`` (as in training: [I; Î], loss resolution) and the loss of a
    constant unit embedding on the same labels and partners."""
    head = model.decode_head
    data = model.data_preprocessor(batch, True)
    with torch.no_grad(), head.projecting_at_loss_resolution():
        embeddings = head(model.extract_feat(data['inputs']))
        constant = torch.ones_like(embeddings) / math.sqrt(embeddings.shape[1])
        values = {}
        for name, x in (('loss', embeddings), ('collapsed', constant)):
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
            loss = sum(v['loss'] for v in values) / len(values)
            collapsed = sum(v['collapsed'] for v in values) / len(values)
            rows.append(f'| {checkpoint} | {len(values)} | {loss:.3f} | {collapsed:.3f} | '
                        f'{collapsed - loss:+.3f} |')
    print('| checkpoint | batches | loss | collapsed loss | gap (collapsed − loss) |')
    print('|---|---|---|---|---|')
    print('\n'.join(rows))


if __name__ == '__main__':
    main()

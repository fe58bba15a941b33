"""The mIoU a segmentor whose logits live on a stride-s grid can reach at best, per class.

For each val label map, the one-hot ground truth is averaged over every s×s cell (the most a
stride-s logit map can hold about the cell), upsampled bilinearly as mmseg upsamples logits
(align_corners=False), and its argmax scored like a prediction. Thin classes (poles, signs,
bicycles a few pixels wide) lose most of their IoU once s exceeds their width; the table says
how much of a model's shortfall on them the grid alone explains.

    python tools/resolution_ceiling.py data/synthetic/cityscapes --strides 1 4 8 16
"""
import argparse
import sys
from pathlib import Path
from typing import Dict, Sequence

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmseg_pixcon.datasets.splits import DATASETS, read_label  # noqa: E402


def ceiling_prediction(labels: torch.Tensor, num_classes: int, stride: int,
                       ignore_index: int = 255) -> torch.Tensor:
    """(H, W) labels → (H, W) argmax of the cell-averaged one-hot map brought back to (H, W)."""
    valid = labels != ignore_index
    onehot = F.one_hot(torch.where(valid, labels, 0), num_classes).permute(2, 0, 1).float()
    onehot = (onehot * valid)[None]
    if stride > 1:
        cells = F.avg_pool2d(onehot, stride, stride, ceil_mode=True)
        onehot = F.interpolate(cells, size=tuple(labels.shape), mode='bilinear',
                               align_corners=False)
    return onehot[0].argmax(0)


def ceilings(label_maps: Sequence[np.ndarray], num_classes: int, strides: Sequence[int],
             ignore_index: int = 255) -> Dict[int, np.ndarray]:
    """stride → (C,) IoU (NaN for a class absent from every map and every prediction)."""
    result = {}
    for stride in strides:
        inter, union = np.zeros(num_classes), np.zeros(num_classes)
        for label in label_maps:
            labels = torch.from_numpy(label.astype(np.int64))
            pred = ceiling_prediction(labels, num_classes, stride, ignore_index)
            valid = labels != ignore_index
            for cls in range(num_classes):
                p, g = (pred == cls) & valid, labels == cls
                inter[cls] += (p & g).sum().item()
                union[cls] += (p | g).sum().item()
        with np.errstate(invalid='ignore'):
            result[stride] = np.where(union > 0, inter / np.maximum(union, 1), np.nan)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='dataset root (Cityscapes or VOC 2012 layout)')
    parser.add_argument('--kind', choices=sorted(DATASETS), default='cityscapes')
    parser.add_argument('--split', default='val')
    parser.add_argument('--strides', type=int, nargs='+', default=[1, 2, 4, 8, 16])
    args = parser.parse_args()
    list_items, classes = DATASETS[args.kind]
    maps = [read_label(path) for _, path in list_items(Path(args.root), args.split)]
    table = ceilings(maps, len(classes), args.strides)
    print(f'{len(maps)} {args.split} label maps of {args.root}; IoU (%) of the best stride-s '
          'prediction')
    print('| stride | mIoU | ' + ' | '.join(classes) + ' |')
    print('|---' * (len(classes) + 2) + '|')
    for stride, iou in table.items():
        print(f'| {stride} | {100 * np.nanmean(iou):.1f} | '
              + ' | '.join(f'{100 * v:.0f}' for v in iou) + ' |')


if __name__ == '__main__':
    main()

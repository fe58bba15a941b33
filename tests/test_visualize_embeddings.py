"""tools/visualize_embeddings.py: the separation score, and both pictures from tiny checkpoints."""
import math
import sys
from pathlib import Path

import numpy as np
import torch
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools'))

import visualize_embeddings as vis  # noqa: E402

from mmseg.registry import MODELS  # noqa: E402
from mmseg_pixcon.datasets import generate_cityscapes  # noqa: E402

CONFIGS = REPO / 'configs' / 'pixcon' / 'synthetic'


def test_knn_accuracy_of_separated_and_interleaved_classes():
    angles = np.arange(12) * math.pi / 6
    circle = np.stack([np.cos(angles), np.sin(angles)], 1)
    halves = (circle[:, 0] > 0).astype(int)  # two arcs
    assert vis.knn_accuracy(circle[np.r_[0:2, 10:12, 4:8]], np.r_[0, 0, 0, 0, 1, 1, 1, 1],
                            k=3) == 1.0
    # alternating labels: of the 5 nearest, 3 (±30°, one of ±90°) are of the other class
    assert vis.knn_accuracy(circle, np.arange(12) % 2) == 0.0
    assert 0 < vis.knn_accuracy(circle, halves) <= 1


def save_random_checkpoint(config: Path, path: Path) -> None:
    model = MODELS.build(Config.fromfile(str(config)).model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)


def test_pictures_from_tiny_checkpoints(tmp_path):
    root = tmp_path / 'cityscapes'
    generate_cityscapes(str(root), seed=0, num_train=2, num_val=3, size=(64, 128))
    args = ['--data-root', str(root), '--num-images', '3', '--pixels-per-class', '30',
            '--sheet-images', '2', '--out-dir', str(tmp_path / 'out')]
    for name, stage in (('ce', 'ce'), ('stage1', 'pretrain'), ('recipe', 'finetune')):
        config = CONFIGS / f'deeplabv3plus_r18_syncity_{stage}.py'
        save_random_checkpoint(config, tmp_path / f'{name}.pth')
        args += [f'--{name}', str(config), str(tmp_path / f'{name}.pth')]
    vis.main(args)
    for picture in ('embeddings.png', 'overlays.png'):
        assert (tmp_path / 'out' / picture).stat().st_size > 10_000

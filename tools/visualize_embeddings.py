"""Pictures of what the two stages learn, on val images.

1. ``embeddings.png``: pixel features of val images projected to 2-d (PCA and t-SNE, scikit-learn),
   coloured by their ground-truth class — a CE-trained model's decoder features (the input of its
   classifier) next to a stage-1 model's unit-norm embeddings, like Fig. 1 of Zhao et al. The
   title of each panel gives the 5-nearest-neighbour accuracy of those pixels (leave one out,
   cosine), a number for how well the classes separate in the full feature space.
2. ``overlays.png`` (with ``--recipe``): for a few val images, input / ground truth / CE
   prediction / recipe prediction.

    python tools/visualize_embeddings.py \\
        --ce configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py work_dirs/ce/iter_3000.pth \\
        --stage1 configs/pixcon/synthetic/deeplabv3plus_r18_syncity_pretrain.py \\
            work_dirs/stage1/iter_1500.pth \\
        --recipe configs/pixcon/synthetic/deeplabv3plus_r18_syncity_finetune.py \\
            work_dirs/stage2/iter_1500.pth \\
        --data-root data/synthetic/cityscapes --out-dir benchmarks/embeddings
"""
import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

import mmseg_pixcon  # noqa: E402,F401  (registers the plugin's modules)
from mmseg.registry import DATASETS, MODELS  # noqa: E402
from mmseg_pixcon.evaluation.prototypes import labels_on_input_grid  # noqa: E402
from mmseg_pixcon.models.grid_resize import resize_labels  # noqa: E402
from mmseg_pixcon.utils import load_config  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--ce', nargs=2, metavar=('CONFIG', 'CHECKPOINT'), required=True,
                        help='a CE-trained model')
    parser.add_argument('--stage1', nargs=2, metavar=('CONFIG', 'CHECKPOINT'), required=True,
                        help='a stage-1 (contrastive) model')
    parser.add_argument('--recipe', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                        help='a stage-2 model, for the overlay sheet')
    parser.add_argument('--data-root', help='dataset root of the val images (default: the '
                        "configs' own)")
    parser.add_argument('--num-images', type=int, default=20, help='val images to sample from')
    parser.add_argument('--pixels-per-class', type=int, default=150)
    parser.add_argument('--sheet-images', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', default='benchmarks/embeddings')
    return parser.parse_args(argv)


class LoadedModel:
    """A segmentor built from its config with a checkpoint, in eval mode on the CPU, and the
    first val images of its test dataloader."""

    def __init__(self, config: str, checkpoint: str, data_root: Optional[str]) -> None:
        options = None if data_root is None else {
            f'{loader}.dataset.data_root': data_root
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
        self.cfg = load_config(config, options)
        init_default_scope('mmseg')
        self.model = MODELS.build(self.cfg.model)
        load_checkpoint(self.model, checkpoint, map_location='cpu', logger='silent')
        self.model.eval()
        self.dataset = DATASETS.build(self.cfg.test_dataloader.dataset)
        self.head = self.model.decode_head
        self.palette = np.array(self.dataset.metainfo['palette'], np.uint8)
        self.classes = list(self.dataset.metainfo['classes'])

    @torch.no_grad()
    def features(self, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Val image ``index``: (C, h, w) features at the classifier's input (CE model) or the
        unit-norm embeddings (stage-1 model), and (h, w) labels on that grid."""
        data = self.model.data_preprocessor(pseudo_collate([self.dataset[index]]), False)
        inputs, samples = data['inputs'], data['data_samples']
        seen: List[torch.Tensor] = []
        hook = self.head.conv_seg.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
        try:
            output = self.head.forward(self.model.extract_feat(inputs))
        finally:
            hook.remove()
        feats = output if hasattr(self.head, 'proj_channels') else seen[0]
        labels = labels_on_input_grid(samples[0], inputs.shape[2:], self.head.ignore_index)
        labels = resize_labels(labels[None], tuple(feats.shape[2:]), self.head.align_corners)
        return feats[0], labels[0]

    @torch.no_grad()
    def predict(self, index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(H, W, 3) RGB input, (H, W) ground truth and (H, W) prediction of val image index."""
        data = self.model.data_preprocessor(pseudo_collate([self.dataset[index]]), False)
        sample = self.model.predict(data['inputs'], data['data_samples'])[0]
        image = self.dataset[index]['inputs'].numpy().transpose(1, 2, 0)[:, :, ::-1]  # BGR->RGB
        return (image, sample.gt_sem_seg.data[0].numpy(),
                sample.pred_sem_seg.data[0].numpy())


def sample_pixels(model: LoadedModel, num_images: int, per_class: int,
                  rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """(P, C) features and (P,) labels: up to ``per_class`` random pixels of each class from the
    first ``num_images`` val images (ignored pixels left out)."""
    feats, labels = [], []
    for index in range(min(num_images, len(model.dataset))):
        feat, label = model.features(index)
        feats.append(feat.flatten(1).T.numpy())
        labels.append(label.flatten().numpy())
    feats, labels = np.concatenate(feats), np.concatenate(labels)
    keep = []
    for cls in np.unique(labels):
        if cls == model.head.ignore_index:
            continue
        where = np.flatnonzero(labels == cls)
        keep.append(rng.choice(where, min(per_class, where.size), replace=False))
    keep = np.concatenate(keep)
    return feats[keep], labels[keep]


def knn_accuracy(feats: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-NN accuracy (cosine) of the sampled pixels."""
    from sklearn.neighbors import KNeighborsClassifier
    unit = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    knn = KNeighborsClassifier(n_neighbors=k + 1).fit(unit, labels)
    neighbours = knn.kneighbors(unit, return_distance=False)[:, 1:]  # drop the pixel itself
    votes = labels[neighbours]
    predicted = np.array([np.bincount(row).argmax() for row in votes])
    return float((predicted == labels).mean())


def embedding_figure(panels: Dict[str, Tuple[np.ndarray, np.ndarray]], palette: np.ndarray,
                     classes: List[str], seed: int, path: Path) -> Dict[str, float]:
    """Rows: models; columns: PCA, t-SNE. Returns each model's k-NN accuracy."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    fig, axes = plt.subplots(len(panels), 2, figsize=(9, 4.2 * len(panels)), dpi=110)
    scores = {}
    for row, (name, (feats, labels)) in enumerate(panels.items()):
        scores[name] = knn_accuracy(feats, labels)
        unit = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
        for col, (method, points) in enumerate((
                ('PCA', PCA(2, random_state=seed).fit_transform(unit)),
                ('t-SNE', TSNE(2, init='pca', perplexity=30, random_state=seed)
                 .fit_transform(unit)))):
            ax = axes[row, col]
            ax.scatter(points[:, 0], points[:, 1], c=palette[labels] / 255.0, s=4,
                       linewidths=0)
            ax.set_title(f'{name} — {method} (5-NN acc. {100 * scores[name]:.1f} %)',
                         fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    present = sorted({int(c) for _, labels in panels.values() for c in labels})
    handles = [plt.Line2D([], [], marker='o', linestyle='', color=palette[c] / 255.0,
                          label=classes[c]) for c in present]
    fig.legend(handles=handles, loc='lower center', ncol=min(7, len(handles)), fontsize=7)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path)
    plt.close(fig)
    return scores


def overlay_sheet(models: Dict[str, LoadedModel], num_images: int, path: Path) -> None:
    """Rows: val images; columns: input, ground truth, each model's prediction."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    first = next(iter(models.values()))
    palette = np.concatenate([first.palette, np.zeros((256 - len(first.palette), 3),
                                                       np.uint8)])  # 255 (ignore) -> black
    columns = 2 + len(models)
    fig, axes = plt.subplots(num_images, columns, figsize=(3.2 * columns, 1.8 * num_images),
                             dpi=110, squeeze=False)
    for row in range(num_images):
        image, truth, _ = first.predict(row)
        panels = [('input', image), ('ground truth', palette[truth])]
        panels += [(name, palette[model.predict(row)[2]]) for name, model in models.items()]
        for col, (title, picture) in enumerate(panels):
            axes[row, col].imshow(picture)
            axes[row, col].set_axis_off()
            if row == 0:
                axes[row, col].set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ce = LoadedModel(*args.ce, args.data_root)
    stage1 = LoadedModel(*args.stage1, args.data_root)
    panels = {}
    for name, model in (('CE decoder features', ce), ('stage-1 embeddings', stage1)):
        panels[name] = sample_pixels(model, args.num_images, args.pixels_per_class,
                                     np.random.default_rng(args.seed))
    scores = embedding_figure(panels, ce.palette, ce.classes, args.seed,
                              out / 'embeddings.png')
    print('5-NN accuracy of val pixels: ' + ', '.join(f'{name} {100 * value:.1f} %'
                                                      for name, value in scores.items()))
    print(f'wrote {out / "embeddings.png"}')
    if args.recipe:
        recipe = LoadedModel(*args.recipe, args.data_root)
        overlay_sheet({'CE only': ce, 'contrastive + CE': recipe}, args.sheet_images,
                      out / 'overlays.png')
        print(f'wrote {out / "overlays.png"}')


if __name__ == '__main__':
    main()

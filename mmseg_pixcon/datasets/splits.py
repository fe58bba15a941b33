"""Label-budget splits: K labelled images out of a training set, seeded, covering many classes.

The split is an ``ann_file`` that mmseg's stock datasets read: for Cityscapes one ``<city>/<stem>``
per line (relative to ``leftImg8bit/<split>``, suffix ``_leftImg8bit.png`` left off), for VOC one
image id per line. It works on the synthetic sets and on real Cityscapes / VOC 2012 trees alike.

The default strategy is greedy maximum coverage: repeatedly take the image that adds the most
classes not yet covered, ties broken by the seeded RNG; once every class of the training set is
covered the remaining picks are uniform among the rest."""
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image

from .classes import CITYSCAPES_CLASSES, VOC_CLASSES

Item = Tuple[str, Path]  # (ann_file line, label map path)
STRATEGIES = ('greedy', 'random')


def cityscapes_items(root: Path, split: str = 'train') -> List[Item]:
    """Every image of ``leftImg8bit/<split>`` with its ``_gtFine_labelTrainIds.png``, sorted."""
    image_dir = Path(root) / 'leftImg8bit' / split
    images = sorted(image_dir.glob('*/*_leftImg8bit.png'))
    if not images:
        raise FileNotFoundError(f'no */*_leftImg8bit.png under {image_dir}')
    items = []
    for image in images:
        stem = image.name[:-len('_leftImg8bit.png')]
        label = (Path(root) / 'gtFine' / split / image.parent.name
                 / f'{stem}_gtFine_labelTrainIds.png')
        if not label.is_file():
            raise FileNotFoundError(
                f'{label} is missing; for real Cityscapes write the trainId maps first with '
                f'`python tools/convert_cityscapes.py {root}`')
        items.append((f'{image.parent.name}/{stem}', label))
    return items


def voc_items(root: Path, split: str = 'train') -> List[Item]:
    """The ids of ``ImageSets/Segmentation/<split>.txt`` with their SegmentationClass PNGs."""
    list_file = Path(root) / 'ImageSets' / 'Segmentation' / f'{split}.txt'
    if not list_file.is_file():
        raise FileNotFoundError(f'{list_file} not found (is {root} a VOC2012 directory?)')
    ids = [line.strip() for line in list_file.read_text().splitlines() if line.strip()]
    items = []
    for image_id in ids:
        for path in (Path(root) / 'JPEGImages' / f'{image_id}.jpg',
                     Path(root) / 'SegmentationClass' / f'{image_id}.png'):
            if not path.is_file():
                raise FileNotFoundError(f'{path} listed in {list_file} does not exist')
        items.append((image_id, Path(root) / 'SegmentationClass' / f'{image_id}.png'))
    return items


DATASETS: Dict[str, Tuple[Callable[[Path, str], List[Item]], Sequence[str]]] = {
    'cityscapes': (cityscapes_items, CITYSCAPES_CLASSES),
    'voc': (voc_items, VOC_CLASSES),
}


def read_label(path: Path) -> np.ndarray:
    """Class-index map (H, W) uint8 of a label PNG; palette PNGs give their indices, not colours."""
    with Image.open(path) as image:
        if image.mode not in ('P', 'L'):
            raise ValueError(f'{path}: label PNGs must hold class indices (mode P or L), got mode '
                             f'{image.mode}; colour-coded labels are not supported')
        return np.asarray(image)


def read_checked_label(path: Path, num_classes: int,
                       ignore_index: int = 255) -> Tuple[np.ndarray, np.ndarray]:
    """read_label's (H, W) map and its (num_classes,) pixel count per class; raises on a value
    that is neither a class 0..num_classes - 1 nor ``ignore_index``."""
    labels = read_label(path)
    counts = np.bincount(labels.ravel(), minlength=256)
    unknown = np.flatnonzero(counts[num_classes:])  # indices >= num_classes that occur
    unknown = unknown[unknown + num_classes != ignore_index]
    if unknown.size:
        raise ValueError(f'{path}: label values {(unknown + num_classes).tolist()} are neither '
                         f'classes 0..{num_classes - 1} nor ignore_index {ignore_index}')
    return labels, counts[:num_classes]


def _presence_row(args: Tuple[Path, int, int]) -> np.ndarray:
    return read_checked_label(*args)[1] > 0


def class_presence(paths: Sequence[Path], num_classes: int, ignore_index: int = 255,
                   nproc: int = 1) -> np.ndarray:
    """(N, C) bool: which classes occur in each label map; ``nproc`` > 1 reads them in parallel."""
    jobs = [(Path(p), num_classes, ignore_index) for p in paths]
    if nproc > 1:
        with Pool(nproc) as pool:
            rows = pool.map(_presence_row, jobs, chunksize=16)
    else:
        rows = [_presence_row(job) for job in jobs]
    return np.stack(rows) if rows else np.zeros((0, num_classes), bool)


def greedy_coverage(presence: np.ndarray, k: int, rng: np.random.Generator) -> List[int]:
    """Indices of ``k`` rows of ``presence`` (N, C) chosen greedily to cover the most classes.

    Each step takes a row with the largest number of still uncovered classes, uniformly at random
    among the tied rows, so the seed matters even when coverage is complete.
    """
    _check_budget(len(presence), k)
    covered = np.zeros(presence.shape[1], bool)
    available = np.ones(len(presence), bool)
    chosen = []
    for _ in range(k):
        gains = np.where(available, (presence & ~covered).sum(1), -1)
        pick = int(rng.choice(np.flatnonzero(gains == gains.max())))
        chosen.append(pick)
        available[pick] = False
        covered |= presence[pick]
    return chosen


def random_subset(n: int, k: int, rng: np.random.Generator) -> List[int]:
    """``k`` distinct indices out of ``n``, uniformly."""
    _check_budget(n, k)
    return [int(i) for i in rng.choice(n, k, replace=False)]


def _check_budget(n: int, k: int) -> None:
    if not 1 <= k <= n:
        raise ValueError(f'the label budget must be between 1 and the {n} training images, got {k}')


@dataclass(frozen=True)
class Split:
    """A label-budget split: its ann_file lines (sorted) and the classes it covers."""

    lines: List[str]
    covered: List[str]
    available: List[str]  # the classes present anywhere in the training set


def make_split(kind: str, root: str, k: int, seed: int = 0, split: str = 'train',
               strategy: str = 'greedy', nproc: int = 1) -> Split:
    """Chooses ``k`` labelled images of ``root``'s ``split`` (``kind``: 'cityscapes' or 'voc')."""
    if kind not in DATASETS:
        raise ValueError(f'kind must be one of {sorted(DATASETS)}, got {kind!r}')
    if strategy not in STRATEGIES:
        raise ValueError(f'strategy must be one of {STRATEGIES}, got {strategy!r}')
    list_items, classes = DATASETS[kind]
    items = list_items(Path(root), split)
    presence = class_presence([path for _, path in items], len(classes), nproc=nproc)
    rng = np.random.default_rng(seed)
    chosen = (greedy_coverage(presence, k, rng) if strategy == 'greedy'
              else random_subset(len(items), k, rng))
    return Split(sorted(items[i][0] for i in chosen), _names(classes, presence[chosen].any(0)),
                 _names(classes, presence.any(0)))


def _names(classes: Sequence[str], mask: np.ndarray) -> List[str]:
    return [name for name, present in zip(classes, mask) if present]


def default_split_path(root: str, split: str, k: int, seed: int, strategy: str) -> Path:
    """``<root>/splits/<split>_<k>_seed<seed>.txt`` (``_random`` appended for random splits)."""
    suffix = '' if strategy == 'greedy' else f'_{strategy}'
    return Path(root) / 'splits' / f'{split}_{k}_seed{seed}{suffix}.txt'


def write_split(lines: Sequence[str], path: Path) -> None:
    """Writes an ann_file: one entry per line."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(''.join(f'{line}\n' for line in lines))

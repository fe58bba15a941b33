"""Writing a generated dataset safely: ownership marker, foreign directories refused, PNGs."""
import json
import shutil
from multiprocessing import Pool
from pathlib import Path
from typing import Callable, Optional, Sequence, Tuple, TypeVar

import numpy as np
from PIL import Image

from .drawing import check_size

MARKER_NAME = '.mmseg_pixcon_synthetic.json'
Job = TypeVar('Job')


def prepare_output_dir(root: Path, kind: str, owned: Sequence[str], overwrite: bool) -> None:
    """Makes ``root`` ready for a fresh ``kind`` set: the ``owned`` sub-trees are removed, anything
    else (e.g. ``splits/``) is kept.

    Raises FileExistsError if ``root`` is non-empty and not a synthetic ``kind`` set made by us,
    unless ``overwrite`` is set — then, too, only the ``owned`` sub-trees are replaced.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise FileExistsError(f'{root} exists and is not a directory')
    if root.is_dir() and any(root.iterdir()) and not overwrite:
        marker = root / MARKER_NAME
        made_by_us = marker.is_file() and json.loads(marker.read_text()).get('kind') == kind
        if not made_by_us:
            raise FileExistsError(
                f'{root} is not empty and holds no synthetic {kind} set made by this tool (no '
                f'{MARKER_NAME} with kind={kind!r}); refusing to write into it. Choose another '
                f'--out, or pass --overwrite to replace its {", ".join(owned)} (other files are '
                f'kept).')
    for sub in owned:
        shutil.rmtree(root / sub, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)


def start_dataset(root: str, kind: str, owned: Sequence[str], overwrite: bool, seed: int,
                  num_train: int, num_val: int, size: Tuple[int, int]) -> Path:
    """Checks the arguments of a generator, prepares ``root`` (see :func:`prepare_output_dir`) and
    marks it as ours before anything is written, so an interrupted run can simply be rerun."""
    if num_train < 1 or num_val < 0:
        raise ValueError(f'need num_train >= 1 and num_val >= 0, got {num_train}, {num_val}')
    check_size(*size)
    root_path = Path(root)
    prepare_output_dir(root_path, kind, owned, overwrite)
    marker = dict(kind=kind, seed=seed, num_train=num_train, num_val=num_val, size=list(size))
    (root_path / MARKER_NAME).write_text(json.dumps(marker, indent=2, sort_keys=True) + '\n')
    return root_path


def save_png(array: np.ndarray, path: Path, palette: Optional[Sequence[int]] = None) -> None:
    """Saves uint8 (H, W) or (H, W, 3) as PNG; with ``palette`` (768 ints) a 'P'-mode PNG.

    PIL writes no timestamp into PNGs, so the same array always gives the same bytes.
    """
    if array.dtype != np.uint8:
        raise ValueError(f'{path}: expected uint8, got {array.dtype}')
    image = Image.fromarray(array)
    if palette is not None:
        if array.ndim != 2:
            raise ValueError(f'{path}: a palette PNG needs an (H, W) index map, got {array.shape}')
        image.putpalette(list(palette))  # turns the 'L' image into a 'P' one, indices unchanged
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def run_jobs(write: Callable[[Job], None], jobs: Sequence[Job], nproc: int = 1) -> None:
    """Calls ``write`` on every job, in ``nproc`` worker processes when > 1. Each job renders from
    its own seed and writes its own files, so the output does not depend on ``nproc``."""
    if nproc < 1:
        raise ValueError(f'nproc must be >= 1, got {nproc}')
    if nproc == 1 or len(jobs) < 2:
        for job in jobs:
            write(job)
        return
    with Pool(min(nproc, len(jobs))) as pool:
        for _ in pool.imap_unordered(write, jobs, chunksize=8):
            pass

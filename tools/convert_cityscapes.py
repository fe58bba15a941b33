"""Write every Cityscapes ``*_gtFine_labelTrainIds.png`` beside its ``*_gtFine_labelIds.png``.

    python tools/convert_cityscapes.py data/cityscapes [--nproc 8]

Label ids map to the 19 train ids through cityscapesscripts' label table (the package mmseg's own
converter uses); ids without a train id become 255 (ignore).
"""
import argparse
import sys
from functools import partial
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

IGNORE_INDEX = 255


def labelid_to_trainid_lut() -> np.ndarray:
    """(256,) uint8: Cityscapes label id -> train id (255 for ignored ids)."""
    try:
        from cityscapesscripts.helpers.labels import id2label
    except ImportError:
        sys.exit('error: this tool needs the package cityscapesscripts '
                 '(pip install cityscapesscripts) for the official Cityscapes label table')
    lut = np.full(256, IGNORE_INDEX, np.uint8)
    for label_id, label in id2label.items():
        if 0 <= label_id < 256 and 0 <= label.trainId < IGNORE_INDEX:
            lut[label_id] = label.trainId
    return lut


def convert(path: Path, lut: np.ndarray) -> None:
    """Writes the train-id map of one ``_gtFine_labelIds.png``."""
    with Image.open(path) as image:
        if image.mode not in ('L', 'P'):
            raise ValueError(f'{path}: expected a single-channel label-id PNG, got mode '
                             f'{image.mode}')
        ids = np.asarray(image)
    out = path.with_name(path.name.replace('_gtFine_labelIds.png', '_gtFine_labelTrainIds.png'))
    Image.fromarray(lut[ids]).save(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='Cityscapes root, holding gtFine/')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    args = parser.parse_args()
    lut = labelid_to_trainid_lut()
    files = sorted((Path(args.root) / 'gtFine').glob('*/*/*_gtFine_labelIds.png'))
    if not files:
        sys.exit(f'error: no gtFine/<split>/<city>/*_gtFine_labelIds.png under {args.root}')
    if args.nproc > 1:
        with Pool(args.nproc) as pool:
            pool.map(partial(convert, lut=lut), files, chunksize=16)
    else:
        for path in files:
            convert(path, lut)
    print(f'wrote {len(files)} *_gtFine_labelTrainIds.png under {Path(args.root) / "gtFine"}')


if __name__ == '__main__':
    main()

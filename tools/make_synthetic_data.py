"""Generate a built-in synthetic dataset in the exact Cityscapes or PASCAL VOC 2012 layout.

    python tools/make_synthetic_data.py cityscapes --out data/cityscapes --seed 0
    python tools/make_synthetic_data.py voc --out data/VOCdevkit/VOC2012 --num-train 300

Deterministic: the same arguments give byte-identical files. Refuses a non-empty --out that holds no
synthetic set of the same kind made by this tool, unless --overwrite.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmseg_pixcon.datasets import generate_cityscapes, generate_voc  # noqa: E402

DEFAULTS = {
    'cityscapes': dict(out='data/cityscapes', size=(128, 256), generate=generate_cityscapes),
    'voc': dict(out='data/VOCdevkit/VOC2012', size=(128, 128), generate=generate_voc),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('kind', choices=sorted(DEFAULTS))
    parser.add_argument('--out', help='dataset root (default: data/cityscapes or '
                        'data/VOCdevkit/VOC2012)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=300)
    parser.add_argument('--num-val', type=int, default=60)
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'),
                        help='image size (default: 128 256 for cityscapes, 128 128 for voc)')
    parser.add_argument('--nproc', type=int, default=1,
                        help='worker processes (the files do not depend on it)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace the image/label folders of a directory not made by this tool')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    defaults = DEFAULTS[args.kind]
    out = args.out or defaults['out']
    start = time.perf_counter()
    try:
        written = defaults['generate'](
            out, seed=args.seed, num_train=args.num_train, num_val=args.num_val,
            size=tuple(args.size or defaults['size']), overwrite=args.overwrite,
            nproc=args.nproc)
    except (FileExistsError, ValueError) as error:
        sys.exit(f'error: {error}')
    print(f"wrote {len(written['train'])} train and {len(written['val'])} val images "
          f'({args.kind}, seed {args.seed}) to {out} in {time.perf_counter() - start:.1f} s')


if __name__ == '__main__':
    main()

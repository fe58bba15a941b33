"""Write a label-budget split: K labelled training images covering as many classes as possible.

    python tools/make_split.py cityscapes -k 8 --seed 0   # data/cityscapes/splits/train_8_seed0.txt
    python tools/make_split.py voc --root data/VOCdevkit/VOC2012 -k 16 --seed 1

The file is an ann_file for the stock datasets (Cityscapes: '<city>/<stem>' lines; VOC: image ids),
e.g. ``--cfg-options train_dataloader.dataset.ann_file=splits/train_8_seed0.txt``. Works on the
synthetic sets and on real Cityscapes (after tools/convert_cityscapes.py) and VOC 2012.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmseg_pixcon.datasets import default_split_path, make_split, write_split  # noqa: E402
from mmseg_pixcon.datasets.splits import STRATEGIES  # noqa: E402

ROOTS = {'cityscapes': 'data/cityscapes', 'voc': 'data/VOCdevkit/VOC2012'}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('kind', choices=sorted(ROOTS))
    parser.add_argument('-k', '--num-labeled', type=int, required=True,
                        help='label budget: number of labelled images')
    parser.add_argument('--root', help='dataset root (default: data/cityscapes or '
                        'data/VOCdevkit/VOC2012)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--split', default='train', help='the set to draw from (default: train)')
    parser.add_argument('--strategy', choices=STRATEGIES, default='greedy',
                        help='greedy class coverage (default) or uniform random')
    parser.add_argument('--out',
                        help='output file (default: <root>/splits/<split>_<K>_seed<seed>.txt)')
    parser.add_argument('--nproc', type=int, default=1, help='processes reading the label maps')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    root = args.root or ROOTS[args.kind]
    try:
        split = make_split(args.kind, root, args.num_labeled, args.seed, args.split, args.strategy,
                           args.nproc)
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f'error: {error}')
    out = Path(args.out) if args.out else default_split_path(root, args.split, args.num_labeled,
                                                             args.seed, args.strategy)
    write_split(split.lines, out)
    print(f'wrote {len(split.lines)} {args.kind} {args.split} images ({args.strategy}, seed '
          f'{args.seed}) to {out}')
    print(f'classes covered: {len(split.covered)} of the {len(split.available)} in the set: '
          + ', '.join(split.covered))
    missing = sorted(set(split.available) - set(split.covered))
    if missing:
        print('not covered: ' + ', '.join(missing))


if __name__ == '__main__':
    main()

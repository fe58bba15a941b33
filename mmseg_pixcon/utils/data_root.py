"""Fail at start, with a helpful message, when a config points at a dataset that is not on disk:
a missing data root or image/label directory says how to get the data; a split file (``ann_file``)
naming a missing image names that image, before any training instead of when the loader reaches
it."""
import copy
import os.path as osp
from typing import Iterator, List

from mmengine.config import Config, ConfigDict

from mmseg.registry import DATASETS

GET_THE_DATA = {
    'CityscapesDataset': (
        'Real Cityscapes: register at https://www.cityscapes-dataset.com, download '
        'leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip, unzip both into data/cityscapes '
        'and run `python tools/convert_cityscapes.py data/cityscapes`.'),
    'PascalVOCDataset': (
        'Real PASCAL VOC 2012: download VOCtrainval_11-May-2012.tar from '
        'http://host.robots.ox.ac.uk/pascal/VOC/voc2012/ and untar it into data/ so that '
        'data/VOCdevkit/VOC2012/JPEGImages exists.'),
}
SHOWN_MISSING = 5
BUILT_IN = ('Or use the built-in synthetic set in the same layout: '
            '`python tools/make_synthetic_data.py {kind} --out {root}` '
            '(or `make demo`, which generates it).')


def leaf_datasets(dataset_cfg: ConfigDict) -> Iterator[ConfigDict]:
    """Yields every leaf dataset config, looking through wrappers such as RepeatDataset."""
    if 'datasets' in dataset_cfg:
        for child in dataset_cfg['datasets']:
            yield from leaf_datasets(child)
    elif 'dataset' in dataset_cfg:
        yield from leaf_datasets(dataset_cfg['dataset'])
    else:
        yield dataset_cfg


def how_to_get_the_data(dataset_type: str, root: str) -> str:
    """Where the real data of ``dataset_type`` comes from, and how to generate the built-in set
    at ``root`` instead."""
    kind = 'voc' if 'VOC' in dataset_type else 'cityscapes'
    return (f"{GET_THE_DATA.get(dataset_type, 'Put the dataset there.')} "
            + BUILT_IN.format(kind=kind, root=root))


def check_data_roots(cfg: Config) -> None:
    """Raises FileNotFoundError naming the missing root, image/label directory, split file or
    listed image, and how to get the data.

    Only the dataloaders the config defines are checked (a config may define train alone).
    """
    for loader_name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(loader_name)
        if not loader:
            continue
        for dataset in leaf_datasets(loader['dataset']):
            root = dataset.get('data_root')
            if root is None:
                continue
            dataset_type = str(dataset.get('type', ''))
            if not osp.isdir(root):
                raise FileNotFoundError(
                    f'{loader_name}: data_root {root!r} ({dataset_type}) does not exist. '
                    + how_to_get_the_data(dataset_type, root) + ' To point the config '
                    f'elsewhere: --cfg-options {loader_name}.dataset.data_root=PATH.')
            for key, prefix in (dataset.get('data_prefix') or {}).items():
                if prefix and not osp.isdir(osp.join(root, prefix)):
                    raise FileNotFoundError(
                        f'{loader_name}: {osp.join(root, prefix)!r} (data_prefix.{key} of '
                        f'{dataset_type}) does not exist, although data_root does. '
                        + how_to_get_the_data(dataset_type, root))
            if dataset.get('ann_file'):
                check_listed_files(dataset, loader_name)


def check_listed_files(dataset: ConfigDict, loader_name: str) -> None:
    """FileNotFoundError if the dataset's ann_file (a split) is missing or lists an image or
    label map that is not on disk; the paths are the dataset class's own (its suffixes)."""
    root = dataset['data_root']
    ann_file = dataset['ann_file']
    ann_path = ann_file if osp.isabs(ann_file) else osp.join(root, ann_file)
    if osp.isdir(ann_path):  # mmseg then lists the image directory: only files that exist
        return
    if not osp.isfile(ann_path):
        raise FileNotFoundError(
            f'{loader_name}: ann_file {ann_path!r} does not exist (a label budget: '
            f'`python tools/make_split.py {{cityscapes,voc}} -k K --root {root}` writes '
            'splits/train_<K>_seed<S>.txt)')
    # lazy_init: read the paths without loading anything; no pipeline to build.
    listed = DATASETS.build(dict(copy.deepcopy(dataset), pipeline=[], lazy_init=True))
    entries = listed.load_data_list()
    missing: List[str] = [path for entry in entries
                          for path in (entry['img_path'], entry.get('seg_map_path'))
                          if path is not None and not osp.isfile(path)]
    if missing:
        more = f' ... and {len(missing) - SHOWN_MISSING} more' if len(
            missing) > SHOWN_MISSING else ''
        raise FileNotFoundError(f'{loader_name}: {len(missing)} files of the {len(entries)} '
                                f'images listed in {ann_path} do not exist: '
                                f'{missing[:SHOWN_MISSING]}{more}')

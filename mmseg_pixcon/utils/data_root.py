"""Fail at start, with a helpful message, when a config points at a dataset that is not on disk."""
import os.path as osp
from typing import Iterator

from mmengine.config import Config, ConfigDict

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


def check_data_roots(cfg: Config) -> None:
    """Raises FileNotFoundError naming the missing root and how to get the data.

    Only the dataloaders the config defines are checked (a config may define train alone).
    """
    for loader_name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(loader_name)
        if not loader:
            continue
        for dataset in leaf_datasets(loader['dataset']):
            root = dataset.get('data_root')
            if root is None or osp.isdir(root):
                continue
            dataset_type = str(dataset.get('type', ''))
            kind = 'voc' if 'VOC' in dataset_type else 'cityscapes'
            raise FileNotFoundError(
                f'{loader_name}: data_root {root!r} ({dataset_type}) does not exist. '
                f"{GET_THE_DATA.get(dataset_type, 'Put the dataset there.')} "
                + BUILT_IN.format(kind=kind, root=root)
                + ' To point the config elsewhere: '
                f'--cfg-options {loader_name}.dataset.data_root=PATH.')

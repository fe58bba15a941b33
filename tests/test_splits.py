"""Label-budget splits: greedy class coverage, seeding, ann_file lines the stock datasets accept."""
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmseg_pixcon.datasets import (class_presence, default_split_path, generate_cityscapes,
                                   generate_voc, greedy_coverage, make_split, random_subset,
                                   read_label, write_split)
from mmseg_pixcon.datasets.splits import cityscapes_items, voc_items

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def cityscapes_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('split_cs') / 'cityscapes'
    generate_cityscapes(str(root), seed=1, num_train=12, num_val=1, size=(48, 96))
    return root


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('split_voc') / 'VOC2012'
    generate_voc(str(root), seed=1, num_train=30, num_val=1, size=(64, 64))
    return root


def test_greedy_coverage_hand_computed():
    # classes:        0  1  2  3  4
    presence = np.array([[1, 1, 0, 0, 0],   # A
                         [0, 0, 1, 1, 0],   # B
                         [1, 1, 1, 0, 0],   # C: most classes, always first
                         [0, 0, 0, 1, 0],   # D
                         [0, 0, 0, 0, 1]],  # E
                        bool)
    for seed in range(5):
        chosen = greedy_coverage(presence, 3, np.random.default_rng(seed))
        assert chosen[0] == 2
        assert set(chosen[1:]) in ({1, 4}, {3, 4})  # each adds one new class; A adds none
        assert presence[chosen].any(0).all()


def test_greedy_ties_follow_the_seed():
    presence = np.eye(6, dtype=bool)  # every image adds exactly one class: all tied
    picks = {tuple(greedy_coverage(presence, 2, np.random.default_rng(s))) for s in range(10)}
    assert len(picks) > 3
    again = greedy_coverage(presence, 2, np.random.default_rng(4))
    assert again == greedy_coverage(presence, 2, np.random.default_rng(4))


def test_budget_out_of_range_raises():
    with pytest.raises(ValueError, match='label budget'):
        greedy_coverage(np.ones((3, 2), bool), 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match='label budget'):
        random_subset(3, 0, np.random.default_rng(0))


@pytest.mark.parametrize('kind', ['cityscapes', 'voc'])
def test_split_lines_resolve_and_are_seeded(kind, cityscapes_root, voc_root):
    root = cityscapes_root if kind == 'cityscapes' else voc_root
    split = make_split(kind, str(root), 4, seed=0)
    assert len(split.lines) == len(set(split.lines)) == 4 and split.lines == sorted(split.lines)
    for line in split.lines:
        image = (root / 'leftImg8bit' / 'train' / f'{line}_leftImg8bit.png' if kind == 'cityscapes'
                 else root / 'JPEGImages' / f'{line}.jpg')
        assert image.is_file(), line
    assert make_split(kind, str(root), 4, seed=0) == split
    others = {tuple(make_split(kind, str(root), 4, seed=s).lines) for s in range(1, 6)}
    assert len(others | {tuple(split.lines)}) > 1


@pytest.mark.parametrize('kind', ['cityscapes', 'voc'])
def test_greedy_covers_at_least_what_random_subsets_do(kind, cityscapes_root, voc_root):
    root = cityscapes_root if kind == 'cityscapes' else voc_root
    items = cityscapes_items(root) if kind == 'cityscapes' else voc_items(root)
    presence = class_presence([path for _, path in items], 19 if kind == 'cityscapes' else 21)
    k = 3
    greedy = make_split(kind, str(root), k, seed=0)
    best_random = max(presence[random_subset(len(items), k, np.random.default_rng(s))].any(0).sum()
                      for s in range(30))
    assert len(greedy.covered) >= best_random
    assert set(greedy.covered) <= set(greedy.available)
    random_split = make_split(kind, str(root), k, seed=0, strategy='random')
    assert len(random_split.lines) == k


def test_class_presence_reads_palette_indices_and_checks_values(tmp_path):
    label = np.array([[0, 3], [255, 3]], np.uint8)
    image = Image.fromarray(label)
    image.putpalette([200, 10, 10] * 256)  # every index the same colour: only indices tell them
    image.save(tmp_path / 'p.png')
    np.testing.assert_array_equal(read_label(tmp_path / 'p.png'), label)
    presence = class_presence([tmp_path / 'p.png'], 5)
    np.testing.assert_array_equal(presence, [[True, False, False, True, False]])
    with pytest.raises(ValueError, match=r'label values \[3\]'):
        class_presence([tmp_path / 'p.png'], 3)
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / 'rgb.png')
    with pytest.raises(ValueError, match='mode RGB'):
        read_label(tmp_path / 'rgb.png')


def test_missing_train_ids_name_the_converter(tmp_path):
    image = tmp_path / 'leftImg8bit' / 'train' / 'ulm' / 'ulm_000000_000019_leftImg8bit.png'
    image.parent.mkdir(parents=True)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(image)
    with pytest.raises(FileNotFoundError, match='convert_cityscapes.py'):
        make_split('cityscapes', str(tmp_path), 1)


@pytest.mark.parametrize('kind', ['cityscapes', 'voc'])
def test_stock_dataset_loads_exactly_the_split(kind, cityscapes_root, voc_root, tmp_path):
    from mmseg.registry import DATASETS
    from mmseg.utils import register_all_modules
    register_all_modules()
    root = cityscapes_root if kind == 'cityscapes' else voc_root
    split = make_split(kind, str(root), 5, seed=2)
    ann_file = tmp_path / 'split.txt'
    write_split(split.lines, ann_file)
    prefix = (dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train')
              if kind == 'cityscapes' else dict(img_path='JPEGImages',
                                                seg_map_path='SegmentationClass'))
    dataset = DATASETS.build(dict(
        type='CityscapesDataset' if kind == 'cityscapes' else 'PascalVOCDataset',
        data_root=str(root), data_prefix=prefix, ann_file=str(ann_file),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]))
    assert len(dataset) == 5
    loaded = sorted(Path(dataset.get_data_info(i)['img_path']).name for i in range(5))
    suffix = '_leftImg8bit.png' if kind == 'cityscapes' else '.jpg'
    assert loaded == sorted(Path(line).name + suffix for line in split.lines)
    assert dataset[0]['gt_seg_map'].shape == dataset[0]['img'].shape[:2]


def test_cli_writes_default_path_and_prints_coverage(cityscapes_root, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', ['make_split.py', 'cityscapes', '--root', str(cityscapes_root),
                                      '-k', '2', '--seed', '3'])
    runpy.run_path(str(REPO / 'tools' / 'make_split.py'), run_name='__main__')
    out = default_split_path(str(cityscapes_root), 'train', 2, 3, 'greedy')
    assert out == cityscapes_root / 'splits' / 'train_2_seed3.txt'
    assert out.read_text().splitlines() == make_split('cityscapes', str(cityscapes_root), 2,
                                                      seed=3).lines
    assert 'classes covered:' in capsys.readouterr().out

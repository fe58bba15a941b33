"""The synthetic Cityscapes / VOC sets: exact layouts the stock datasets load, label tables,
determinism, class coverage, and colour that says nothing about the class."""
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmseg_pixcon.datasets import (generate_cityscapes, generate_voc, render_object_scene,
                                   render_street_scene, trainids_to_labelids, voc_palette)

REPO = Path(__file__).resolve().parents[1]
CS_SIZE, VOC_SIZE = (64, 128), (64, 64)
# The official Cityscapes table (cityscapesscripts.helpers.labels), label id -> train id, written
# out here independently of the generator's own table.
OFFICIAL_ID_TO_TRAINID = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
                          23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18}
VOC_COLOURS = {0: (0, 0, 0), 1: (128, 0, 0), 2: (0, 128, 0), 3: (128, 128, 0), 4: (0, 0, 128),
               15: (192, 128, 128), 20: (0, 64, 128), 255: (224, 224, 192)}


@pytest.fixture(scope='module')
def cityscapes_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('cs') / 'cityscapes'
    generate_cityscapes(str(root), seed=0, num_train=7, num_val=3, size=CS_SIZE)
    return root


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('voc') / 'VOCdevkit' / 'VOC2012'
    generate_voc(str(root), seed=0, num_train=8, num_val=3, size=VOC_SIZE)
    return root


def _stock_dataset(kind: str, root: Path, **kwargs):
    from mmseg.registry import DATASETS
    from mmseg.utils import register_all_modules
    register_all_modules()
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    if kind == 'cityscapes':
        cfg = dict(type='CityscapesDataset', data_root=str(root),
                   data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'))
    else:
        cfg = dict(type='PascalVOCDataset', data_root=str(root),
                   data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                   ann_file='ImageSets/Segmentation/train.txt')
    cfg.update(kwargs)
    return DATASETS.build(dict(cfg, pipeline=pipeline))


def test_cityscapes_layout_names(cityscapes_root):
    pattern = re.compile(r'([a-z]+)_(\d{6})_(\d{6})_leftImg8bit\.png')
    for split, count in (('train', 7), ('val', 3)):
        images = sorted((cityscapes_root / 'leftImg8bit' / split).glob('*/*'))
        assert len(images) == count
        for image in images:
            match = pattern.fullmatch(image.name)
            assert match and match.group(1) == image.parent.name
            stem = image.name[:-len('_leftImg8bit.png')]
            gt = cityscapes_root / 'gtFine' / split / image.parent.name
            for suffix in ('_gtFine_labelTrainIds.png', '_gtFine_labelIds.png'):
                assert (gt / f'{stem}{suffix}').is_file()
            with Image.open(image) as im:
                assert im.mode == 'RGB' and im.size == (CS_SIZE[1], CS_SIZE[0])


def test_cityscapes_stock_dataset_loads(cityscapes_root):
    dataset = _stock_dataset('cityscapes', cityscapes_root)
    assert len(dataset) == 7
    sample = dataset[0]
    assert sample['img'].shape == (*CS_SIZE, 3)
    values = set(np.unique(sample['gt_seg_map']).tolist())
    assert values <= set(range(19)) | {255} and len(values) >= 4


def test_cityscapes_label_ids_match_train_ids_via_official_table(cityscapes_root):
    lut = np.full(256, 255, np.uint8)
    for label_id, train_id in OFFICIAL_ID_TO_TRAINID.items():
        lut[label_id] = train_id
    pairs = sorted(cityscapes_root.glob('gtFine/*/*/*_gtFine_labelTrainIds.png'))
    assert len(pairs) == 10
    for train_path in pairs:
        train = np.asarray(Image.open(train_path))
        ids = np.asarray(Image.open(str(train_path).replace('labelTrainIds', 'labelIds')))
        assert set(np.unique(train).tolist()) <= set(range(19)) | {255}
        assert set(np.unique(ids).tolist()) <= set(OFFICIAL_ID_TO_TRAINID) | {0}
        np.testing.assert_array_equal(lut[ids], train)
        np.testing.assert_array_equal(ids[train == 255], 0)


def test_trainids_to_labelids_table():
    train = np.array([[0, 10, 18, 255]], np.uint8)
    np.testing.assert_array_equal(trainids_to_labelids(train), [[7, 23, 33, 0]])


def test_voc_layout_palette_and_lists(voc_root):
    lists = voc_root / 'ImageSets' / 'Segmentation'
    train, val, trainval = ((lists / f'{s}.txt').read_text().split() for s in ('train', 'val',
                                                                               'trainval'))
    assert (len(train), len(val)) == (8, 3) and sorted(train + val) == trainval
    assert not set(train) & set(val)
    palette = np.array(voc_palette()).reshape(256, 3)
    for index, colour in VOC_COLOURS.items():
        assert tuple(palette[index]) == colour
    for image_id in trainval:
        assert re.fullmatch(r'20(0[7-9]|1[0-2])_\d{6}', image_id)
        assert (voc_root / 'JPEGImages' / f'{image_id}.jpg').is_file()
        with Image.open(voc_root / 'SegmentationClass' / f'{image_id}.png') as label:
            assert label.mode == 'P'
            np.testing.assert_array_equal(np.array(label.getpalette()[:768]).reshape(256, 3),
                                          palette)
            values = set(np.unique(np.asarray(label)).tolist())
        assert values <= set(range(21)) | {255} and 0 in values


def test_voc_void_band_separates_all_regions(voc_root):
    """As in VOC, no two different classes touch: a 255 band lies between them."""
    for path in sorted((voc_root / 'SegmentationClass').glob('*.png')):
        label = np.asarray(Image.open(path)).astype(int)
        assert (label == 255).any()
        for a, b in ((label[1:], label[:-1]), (label[:, 1:], label[:, :-1])):
            touching = (a != b) & (a != 255) & (b != 255)
            assert not touching.any(), path.name


def test_voc_stock_dataset_loads(voc_root):
    dataset = _stock_dataset('voc', voc_root)
    assert len(dataset) == 8
    sample = dataset[1]
    assert sample['img'].shape == (*VOC_SIZE, 3)
    assert set(np.unique(sample['gt_seg_map']).tolist()) <= set(range(21)) | {255}


def _file_bytes(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*'))
            if p.is_file() and p.name != '.mmseg_pixcon_synthetic.json'}


@pytest.mark.parametrize('generate', [generate_cityscapes, generate_voc])
def test_same_seed_same_bytes_other_seed_other_images(tmp_path, generate):
    runs = {}  # 'b' also checks that worker processes write the same bytes
    for name, seed, nproc in (('a', 3, 1), ('b', 3, 2), ('c', 4, 1)):
        generate(str(tmp_path / name), seed=seed, num_train=2, num_val=1, size=(48, 96),
                 nproc=nproc)
        runs[name] = _file_bytes(tmp_path / name)
    assert runs['a'] == runs['b'] and len(runs['a']) >= 5
    assert runs['a'].keys() == runs['c'].keys()
    images = [k for k in runs['a'] if k.endswith(('leftImg8bit.png', '.jpg'))]
    assert all(runs['a'][k] != runs['c'][k] for k in images)


def test_scene_does_not_depend_on_resolution():
    """The layout is drawn before any size-dependent randomness: 2x and 1x renders agree."""
    _, small = render_street_scene(np.random.default_rng(11), 64, 128)
    _, large = render_street_scene(np.random.default_rng(11), 128, 256)
    assert (large[::2, ::2] == small).mean() > 0.85


def _render_many(render, count: int, size: tuple) -> list:
    return [render(np.random.default_rng([7, i]), *size) for i in range(count)]


@pytest.fixture(scope='module')
def street_scenes():
    return _render_many(render_street_scene, 30, CS_SIZE)


@pytest.fixture(scope='module')
def object_scenes():
    return _render_many(render_object_scene, 120, (96, 96))


def test_street_scenes_cover_the_classes(street_scenes):
    present = set().union(*(np.unique(label).tolist() for _, label in street_scenes))
    assert len(present & set(range(19))) >= 17, sorted(present)
    per_image = [len(set(np.unique(label).tolist()) - {255}) for _, label in street_scenes]
    assert np.mean(per_image) >= 9


def test_object_scenes_cover_the_classes(object_scenes):
    present = set().union(*(np.unique(label).tolist() for _, label in object_scenes))
    assert len(present & set(range(1, 21))) >= 19, sorted(present)


def _region_colours(scenes: list) -> tuple:
    """Mean RGB (N, 3) and class (N,) of every (image, class) region of the scenes."""
    colours, classes = [], []
    for image, label in scenes:
        for c in sorted(set(np.unique(label).tolist()) - {255}):
            colours.append(image[label == c].mean(0))
            classes.append(c)
    return np.array(colours), np.array(classes)


@pytest.mark.parametrize('kind', ['street', 'object'])
def test_colour_does_not_give_the_class_away(kind, street_scenes, object_scenes):
    scenes = street_scenes if kind == 'street' else object_scenes
    colours, classes = _region_colours(scenes)
    for c in np.unique(classes):  # a class's mean colour swings from image to image
        if (classes == c).sum() >= 4:
            assert colours[classes == c].std(0).mean() > 15, c
    # Nearest neighbour in mean colour (leave one out) finds a region of the same class no more
    # often than chance, sum_c p_c^2; with a colour per class it would be right almost always.
    dist = ((colours[:, None] - colours[None]) ** 2).sum(-1)
    np.fill_diagonal(dist, np.inf)
    accuracy = (classes[dist.argmin(1)] == classes).mean()
    chance = ((np.bincount(classes) / len(classes)) ** 2).sum()
    assert accuracy < chance + 0.08, (accuracy, chance)
    # Likewise a nearest-mean-colour pixel classifier fitted on half the scenes: chance per class.
    half = len(scenes) // 2
    sums, counts = np.zeros((256, 3)), np.zeros(256)
    for image, label in scenes[:half]:
        np.add.at(sums, label.ravel(), image.reshape(-1, 3))
        np.add.at(counts, label.ravel(), 1)
    known = np.flatnonzero(counts[:255])
    centroids = sums[known] / counts[known, None]
    hits, totals = np.zeros(256), np.zeros(256)
    for image, label in scenes[half:]:
        pixels, truth = image.reshape(-1, 3).astype(float), label.ravel()
        pred = known[((pixels[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)]
        np.add.at(hits, truth, pred == truth)
        np.add.at(totals, truth, 1)
    seen = np.flatnonzero(totals[:255])
    assert (hits[seen] / totals[seen]).mean() < 2.0 / len(known)


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match='at least 32x32'):
        render_street_scene(np.random.default_rng(0), 16, 32)
    with pytest.raises(ValueError, match='num_train'):
        generate_voc(str(tmp_path / 'v'), num_train=0)
    with pytest.raises(ValueError, match='at least 32x32'):  # before anything is written
        generate_cityscapes(str(tmp_path / 'c'), size=(16, 32))
    assert not (tmp_path / 'c').exists()


def test_refuses_foreign_directory_unless_overwrite(tmp_path):
    foreign = tmp_path / 'cityscapes'
    foreign.mkdir()
    (foreign / 'README').write_text('real data')
    with pytest.raises(FileExistsError, match='--overwrite'):
        generate_cityscapes(str(foreign), num_train=1, num_val=0, size=(32, 64))
    generate_cityscapes(str(foreign), num_train=1, num_val=0, size=(32, 64), overwrite=True)
    assert (foreign / 'README').is_file() and len(list(foreign.glob('leftImg8bit/train/*/*'))) == 1
    # Ours now: a rerun without --overwrite replaces the set, keeping other files.
    generate_cityscapes(str(foreign), num_train=2, num_val=0, size=(32, 64))
    assert len(list(foreign.glob('leftImg8bit/train/*/*'))) == 2
    with pytest.raises(FileExistsError):  # a Cityscapes set is not a VOC set
        generate_voc(str(foreign), num_train=1, num_val=0, size=(32, 32))


def test_cli_refuses_foreign_directory(tmp_path, monkeypatch, capsys):
    (tmp_path / 'x').write_text('x')
    monkeypatch.setattr(sys, 'argv', ['make_synthetic_data.py', 'voc', '--out', str(tmp_path),
                                      '--num-train', '1', '--num-val', '0', '--size', '32', '32'])
    with pytest.raises(SystemExit, match='refusing to write'):
        runpy.run_path(str(REPO / 'tools' / 'make_synthetic_data.py'), run_name='__main__')
    out = tmp_path / 'voc'
    monkeypatch.setattr(sys, 'argv', ['make_synthetic_data.py', 'voc', '--out', str(out),
                                      '--num-train', '2', '--num-val', '1', '--size', '32', '32'])
    runpy.run_path(str(REPO / 'tools' / 'make_synthetic_data.py'), run_name='__main__')
    assert 'wrote 2 train and 1 val images' in capsys.readouterr().out
    assert len(list((out / 'JPEGImages').glob('*.jpg'))) == 3


def test_convert_cityscapes_reproduces_the_generated_train_ids(cityscapes_root, tmp_path,
                                                               monkeypatch):
    pytest.importorskip('cityscapesscripts.helpers.labels')
    import shutil
    copy = tmp_path / 'cityscapes'
    shutil.copytree(cityscapes_root / 'gtFine', copy / 'gtFine')
    originals = sorted(copy.glob('gtFine/*/*/*_gtFine_labelTrainIds.png'))
    expected = {p: p.read_bytes() for p in originals}
    for path in originals:
        path.unlink()
    monkeypatch.setattr(sys, 'argv', ['convert_cityscapes.py', str(copy), '--nproc', '2'])
    runpy.run_path(str(REPO / 'tools' / 'convert_cityscapes.py'), run_name='__main__')
    assert len(originals) == 10
    for path, data in expected.items():
        assert path.read_bytes() == data, path.name

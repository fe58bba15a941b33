"""tools/train.py and tools/test.py end to end on a tiny built-in set, the data-root guard, and
--amp on the CPU."""
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmseg_pixcon.datasets import generate_cityscapes
from mmseg_pixcon.utils import CPUAmpOptimWrapper, check_data_roots, load_config

REPO = Path(__file__).resolve().parents[1]
CE_CONFIG = 'configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py'


def test_missing_data_root_says_how_to_get_the_data(tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(FileNotFoundError) as error:
        load_config(str(REPO / CE_CONFIG),
                    cfg_options={'train_dataloader.dataset.data_root': str(missing)})
    message = str(error.value)
    assert str(missing) in message and 'train_dataloader' in message
    assert 'cityscapes-dataset.com' in message  # how to get the real data
    assert f'tools/make_synthetic_data.py cityscapes --out {missing}' in message  # or the built-in


def test_data_root_check_looks_through_dataset_wrappers(tmp_path):
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        type='ConcatDataset', datasets=[
            dict(type='PascalVOCDataset', data_root=str(tmp_path)),
            dict(type='RepeatDataset', times=2, dataset=dict(
                type='PascalVOCDataset', data_root=str(tmp_path / 'aug')))]))))
    with pytest.raises(FileNotFoundError, match='VOCtrainval_11-May-2012.tar'):
        check_data_roots(cfg)
    (tmp_path / 'aug').mkdir()
    check_data_roots(cfg)  # every leaf exists now


def test_missing_image_directory_says_how_to_get_the_data(tmp_path):
    (tmp_path / 'cityscapes').mkdir()  # a root without leftImg8bit/ (only gtFine unzipped)
    with pytest.raises(FileNotFoundError) as error:
        load_config(str(REPO / CE_CONFIG), cfg_options={
            'train_dataloader.dataset.data_root': str(tmp_path / 'cityscapes')})
    message = str(error.value)
    assert f"'{tmp_path / 'cityscapes' / 'leftImg8bit/train'}' (data_prefix.img_path" in message
    assert 'leftImg8bit_trainvaltest.zip' in message


@pytest.fixture(scope='module')
def small_cityscapes(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('data') / 'cityscapes'
    return dict(root=root, images=generate_cityscapes(str(root), seed=0, num_train=3, num_val=1,
                                                      size=(32, 64)))


def test_split_naming_a_missing_image_fails_at_start_with_its_name(small_cityscapes):
    root, listed = small_cityscapes['root'], small_cityscapes['images']['train']
    split = root / 'splits' / 'broken.txt'
    split.parent.mkdir(exist_ok=True)
    split.write_text('\n'.join([listed[0], 'aachen/gone_000000_000019', listed[1]]) + '\n')
    options = {f'{loader}.dataset.data_root': str(root)
               for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    options['train_dataloader.dataset.ann_file'] = 'splits/broken.txt'
    with pytest.raises(FileNotFoundError) as error:
        load_config(str(REPO / CE_CONFIG), cfg_options=options)
    message = str(error.value)
    # the image and its label map, as the dataset would have looked them up
    assert message.startswith(f'train_dataloader: 2 files of the 3 images listed in {split}')
    assert 'leftImg8bit/train/aachen/gone_000000_000019_leftImg8bit.png' in message
    assert 'gtFine/train/aachen/gone_000000_000019_gtFine_labelTrainIds.png' in message
    split.write_text('\n'.join(listed[:2]) + '\n')
    load_config(str(REPO / CE_CONFIG), cfg_options=options)  # every listed file exists now
    options['train_dataloader.dataset.ann_file'] = 'splits/train_4_seed0.txt'
    with pytest.raises(FileNotFoundError, match=r'train_4_seed0.txt.* does not exist .*'
                       r'tools/make_split.py'):
        load_config(str(REPO / CE_CONFIG), cfg_options=options)


def test_train_then_test_prints_per_class_iou_and_miou(tmp_path):
    root = tmp_path / 'cityscapes'
    generate_cityscapes(str(root), seed=0, num_train=4, num_val=2, size=(64, 128))
    work = tmp_path / 'work'
    options = [f'{loader}.dataset.data_root={root}'
               for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    options += ['train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.0.end=2',
                'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2',
                'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
                'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
                'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']
    train = subprocess.run(
        [sys.executable, 'tools/train.py', CE_CONFIG, '--work-dir', str(work),
         '--cfg-options', *options], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]
    checkpoint = work / 'iter_2.pth'
    assert checkpoint.is_file()
    test = subprocess.run(
        [sys.executable, 'tools/test.py', CE_CONFIG, str(checkpoint), '--work-dir',
         str(work / 'test'), '--cfg-options', *options], cwd=REPO, capture_output=True,
        text=True, timeout=300)
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
    log = test.stdout + test.stderr
    assert 'per class results:' in log
    for name in ('road', 'sidewalk', 'bicycle'):  # rows of the per-class IoU table
        assert re.search(rf'\|\s+{name}\s+\|\s+[\d.]+\s+\|', log), name
    assert re.search(r'mIoU: [\d.]+', log)


def test_cpu_amp_wrapper_autocasts_the_forward_to_bfloat16():
    layer = torch.nn.Linear(4, 4)
    wrapper = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(layer.parameters(), lr=0.1))
    with wrapper.optim_context(layer):
        out = layer(torch.randn(2, 4))
    assert out.dtype == torch.bfloat16 and layer.weight.dtype == torch.float32
    wrapper.update_params(out.float().square().mean())
    assert layer.weight.grad is None or layer.weight.grad.dtype == torch.float32


def _train(config: str, work: Path, root: Path, *options: str) -> str:
    """tools/train.py --amp for 2 iterations on the tiny set at ``root``; returns its log."""
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    options = [f'{loader}.{key}' for loader in loaders for key in (
        f'dataset.data_root={root}', 'num_workers=0', 'persistent_workers=False')] + [
        'train_dataloader.batch_size=2', 'train_cfg.max_iters=2', 'train_cfg.val_interval=1000',
        'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
        'param_scheduler.0.end=2', *options]
    run = subprocess.run([sys.executable, 'tools/train.py', config, '--amp', '--work-dir',
                          str(work), '--cfg-options', *options], cwd=REPO, capture_output=True,
                         text=True, timeout=400)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return next(work.glob('*/*.log')).read_text()


def test_amp_runs_both_stages_on_cpu_in_bfloat16(tmp_path):
    """--amp without CUDA: stage 1 and stage 2 (from stage 1's weights) train under CPU
    bfloat16 autocast, every logged loss finite."""
    root = tmp_path / 'cityscapes'
    generate_cityscapes(str(root), seed=0, num_train=4, num_val=1, size=(64, 128))
    synthetic = 'configs/pixcon/synthetic/deeplabv3plus_r18_syncity'
    log = _train(f'{synthetic}_pretrain.py', tmp_path / 'stage1', root)
    assert "type='CPUAmpOptimWrapper'" in log
    losses = re.findall(r'Iter\(train\) \[[12]/2\].*decode\.loss_pixcon: (\S+)', log)
    assert len(losses) == 2 and all(math.isfinite(float(v)) and float(v) > 0 for v in losses)
    log = _train(f'{synthetic}_finetune.py', tmp_path / 'stage2', root,
                 f'custom_hooks.0.checkpoint={tmp_path / "stage1" / "iter_2.pth"}')
    assert "type='CPUAmpOptimWrapper'" in log and 'LoadStageOneHook: loaded' in log
    losses = re.findall(r'Iter\(train\) \[[12]/2\].*decode\.loss_ce: (\S+)', log)
    assert len(losses) == 2 and all(math.isfinite(float(v)) and float(v) > 0 for v in losses)

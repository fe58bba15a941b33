"""PixelContrastLoss under a distributed launch: two gloo processes on CPU, each holding half
of a batch, give the loss and gradients of one process holding all of it; a two-process
stage-1 training runs through tools/train.py --launcher pytorch.

Semantics checked (see PixelContrastLoss): the mean of the processes' losses is the global
loss, and the gradient a process gets for its own embeddings is W = 2 times the global loss's
gradient for them — DDP then averages parameter gradients over the W processes.
"""
import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from distributed_loss_worker import loss_kwargs, main, make_inputs
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmseg.registry import MODELS
from tiny_segmentors import make_batch

from mmseg_pixcon.datasets import generate_cityscapes
from mmseg_pixcon.models.losses import PixelContrastLoss
from mmseg_pixcon.models.losses.partners import select_partners

WORLD_SIZE = 2
REPO = Path(__file__).resolve().parents[1]
# The stock-size ones; the synthetic one trains under DDP below.
STAGE_ONE_CONFIGS = sorted((REPO / 'configs' / 'pixcon').glob('*_pretrain.py'))
FORMULATIONS = ('paper', 'official')
MODES = ('within', 'cross', 'batch')
SEED = 11


def _case(formulation, mode, symmetric=True, partner='roll', sizes=(2, 2), **extra):
    return dict(formulation=formulation, mode=mode, symmetric=symmetric, partner=partner,
                sizes=sizes, seed=SEED, **extra)


def _labelled_cap(**inputs) -> int:
    """Pixels per image that keep every labelled pixel of the inputs, yet fewer than all."""
    _, labels, _, labels_aug = make_inputs(**inputs)
    labelled = torch.cat(((labels != 255).flatten(1), (labels_aug != 255).flatten(1)))
    cap = int(labelled.sum(1).max())
    assert cap < labelled.shape[1]
    return cap


SPARSE = dict(ignored=0.5)
LEAN = dict(height=16, width=16, dim=8)
# Compared with one process holding the whole batch.
EXACT = {f'{f}-{m}-{"symmetric" if s else "one-way"}-{p}': _case(f, m, s, p)
         for f, m, s, p in itertools.product(FORMULATIONS, MODES, (True, False),
                                             ('roll', 'shuffle'))
         if m == 'cross' or p == 'roll'}
EXACT.update({f'{f}-{m}-3+1-images': _case(f, m, partner='shuffle', sizes=(3, 1))
              for f in FORMULATIONS for m in ('cross', 'batch')})
# A per-image cap that keeps every labelled pixel changes nothing; a cap per process would.
EXACT.update({f'{f}-{m}-capped': _case(f, m, inputs=SPARSE, max_pixels=_labelled_cap(**SPARSE))
              for f in FORMULATIONS for m in ('cross', 'batch')})
EXACT.update({f'{f}-batch-lean': _case(f, 'batch', sizes=(1, 1), inputs=LEAN, tile_size=64,
                                       probe=True) for f in FORMULATIONS})
GATHER_OFF = {f'{f}-{m}-gather-off': _case(f, m, gather=False)
              for f in FORMULATIONS for m in ('cross', 'batch')}
# What ContrastHead logs (loss_items): the loss of the global batch, the global anchor count.
LOGGED = {f'logged-{f}-{m}': _case(f, m, partner='shuffle', sizes=sizes, items=True)
          for f, m, sizes in (('paper', 'within', (2, 2)), ('official', 'cross', (3, 1)),
                              ('paper', 'batch', (1, 3)))}
# Last: a failing call must leave both processes out of any collective. Every mode, the
# problem found on the device (NaN) or on the host (dtype, shape), or against num_classes.
FAULTS = {'nan-on-rank-1': _case('paper', 'cross', rank1_fault='nan'),
          'size-on-rank-1': _case('official', 'batch', rank1_fault='size'),
          'nan-on-rank-1-within': _case('paper', 'within', rank1_fault='nan'),
          'dtype-on-rank-1-within': _case('official', 'within', rank1_fault='dtype'),
          'nan-on-rank-1-gather-off': _case('official', 'cross', rank1_fault='nan',
                                            gather=False),
          'label-on-rank-1-batch': _case('paper', 'batch', rank1_fault='label',
                                         num_classes=4)}
CASES = {**EXACT, **GATHER_OFF, **LOGGED, **FAULTS}


@pytest.fixture(scope='module')
def ranks(tmp_path_factory):
    """Per rank: case name -> what the worker saw (value, grads, collectives, largest)."""
    out = tmp_path_factory.mktemp('ranks')
    mp.spawn(main, args=(WORLD_SIZE, str(out / 'init'), CASES, str(out)), nprocs=WORLD_SIZE)
    return [torch.load(out / f'rank{rank}.pt') for rank in range(WORLD_SIZE)]


def _parts(case):
    starts = [sum(case['sizes'][:rank]) for rank in range(WORLD_SIZE)]
    return [slice(start, start + size) for start, size in zip(starts, case['sizes'])]


def _one_process(case, part=slice(None), **override):
    """Loss and gradients of one process holding images ``part`` of the case's batch."""
    feats, labels, feats_aug, labels_aug = (
        x[part].clone() for x in make_inputs(sum(case['sizes']), **case.get('inputs', {})))
    feats.requires_grad_()
    feats_aug.requires_grad_()
    torch.manual_seed(case['seed'])
    value = PixelContrastLoss(**{**loss_kwargs(case), **override})(
        feats, labels, feats_aug, labels_aug)
    return value, torch.autograd.grad(value, (feats, feats_aug), materialize_grads=True)


@pytest.mark.parametrize('name', list(EXACT))
def test_two_processes_equal_one(ranks, name):
    case = CASES[name]
    value, grads = _one_process(case, max_pixels_per_image=None)
    seen = [rank[name] for rank in ranks]
    mean = sum(s['value'] for s in seen) / WORLD_SIZE
    assert mean.item() == pytest.approx(value.item(), rel=1e-10)
    for s, part in zip(seen, _parts(case)):
        for grad, expected in zip(s['grads'], grads):
            torch.testing.assert_close(grad / WORLD_SIZE, expected[part], rtol=1e-9,
                                       atol=1e-12)
    if case['mode'] == 'within':
        assert all(s['collectives'] == 1 for s in seen)  # the input check's all-gather
    else:
        # stats, embeddings and labels gathered, a backward reduce-scatter (+ the partner
        # broadcast, in cross mode only: the other modes draw no partners)
        shuffled = case['mode'] == 'cross' and case['partner'] == 'shuffle'
        assert all(s['collectives'] == 4 + shuffled for s in seen)
        # forward straight into the gathered tensor; backward sums and scatters each
        # process's slot, never an all-reduce of the whole gathered gradient
        assert all(s['names'].count('all_gather_single') == 2
                   and s['names'][-1] == 'reduce_scatter_single'
                   and 'all_reduce' not in s['names'] for s in seen)


def test_shuffled_partners_would_differ_without_the_broadcast():
    """The processes seed differently (SEED + rank), so the shuffle cases above pass only
    because every process uses rank 0's draw."""
    draws = []
    for seed in (SEED, SEED + 1):
        torch.manual_seed(seed)
        draws.append(select_partners(4, 'shuffle', torch.device('cpu')))
    assert not torch.equal(*draws)


@pytest.mark.parametrize('name', [n for n, c in EXACT.items() if c['mode'] == 'within']
                         + list(GATHER_OFF))
def test_local_modes_use_only_their_own_images(ranks, name):
    """Mode 'within' and gather=False: each process's loss is that of its images alone;
    the only collective is the input check's all-gather."""
    case = CASES[name]
    for rank, part in zip(ranks, _parts(case)):
        value, grads = _one_process(case, part)
        assert rank[name]['collectives'] == 1
        assert rank[name]['value'].item() == pytest.approx(value.item(), rel=1e-12)
        for grad, expected in zip(rank[name]['grads'], grads):
            torch.testing.assert_close(grad, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize('name', [n for n, c in EXACT.items() if c.get('probe')])
def test_gathered_contrast_sets_stay_memory_lean(ranks, name):
    """One 16×16 image per process, D = 8: the gathered batch holds 2·2·256·8 = 8192 numbers;
    the similarities of this process's anchors with the global bag would be ≥ 256 × 512."""
    gathered = WORLD_SIZE * 2 * 256 * 8
    assert all(0 < rank[name]['largest'] <= gathered for rank in ranks)


@pytest.mark.parametrize('name,message', [
    ('nan-on-rank-1', r'finite \(found NaN or Inf\) \(rank 1\)'),
    ('size-on-rank-1', r'one \(D, H, W\); got \[\(4, 4, 5\), \(4, 4, 4\)\]'),
    ('nan-on-rank-1-within', r'finite \(found NaN or Inf\) \(rank 1\)'),
    ('dtype-on-rank-1-within', r'labels must be an integer tensor, got torch.float32 \(rank 1\)'),
    ('nan-on-rank-1-gather-off', r'finite \(found NaN or Inf\) \(rank 1\)'),
    ('label-on-rank-1-batch', r'below num_classes=4 .*found class 9 \(rank 1\)')])
def test_bad_input_on_one_process_raises_on_every_process(ranks, name, message):
    """Both processes raise the same ValueError, within seconds (the group's timeout, which
    a process left waiting in a collective would hit, is 60 s)."""
    for rank in ranks:
        assert re.search(message, rank[name].get('error', '')), rank[name]
        assert rank[name]['seconds'] < 10
    assert ranks[0][name]['error'] == ranks[1][name]['error']


@pytest.mark.parametrize('name', list(LOGGED))
def test_logged_loss_is_global_and_anchors_are_counted_over_processes(ranks, name):
    """loss_items: every process logs the same value — the mean over processes of what they
    optimise, in modes 'cross' and 'batch' the loss of one process holding the whole batch
    — and the valid anchors of the whole batch; the gradient stays the process's own."""
    case = CASES[name]
    seen = [rank[name] for rank in ranks]
    logged = [s['logged'] for s in seen]
    assert logged[0]['loss_pixcon'].item() == logged[1]['loss_pixcon'].item()
    assert logged[0]['pixcon_anchors'].item() == logged[1]['pixcon_anchors'].item()
    whole, _ = _one_process(case)
    if case['mode'] == 'within':
        expected = sum(_one_process(case, part)[0] for part in _parts(case)) / WORLD_SIZE
    else:
        expected = whole
    assert logged[0]['loss_pixcon'].item() == pytest.approx(expected.item(), rel=1e-10)
    feats, labels, feats_aug, labels_aug = make_inputs(sum(case['sizes']))
    torch.manual_seed(case['seed'])
    counted = PixelContrastLoss(**loss_kwargs(case)).loss_items(feats, labels, feats_aug,
                                                                labels_aug)
    assert logged[0]['pixcon_anchors'].item() == counted['pixcon_anchors'].item() > 0
    scale = 1 if case['mode'] == 'within' else WORLD_SIZE
    for s, part in zip(seen, _parts(case)):
        grads = _one_process(case, part)[1] if case['mode'] == 'within' else \
            [g[part] for g in _one_process(case)[1]]
        for grad, expected_grad in zip(s['grads'], grads):
            torch.testing.assert_close(grad / scale, expected_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize('path', STAGE_ONE_CONFIGS, ids=lambda p: p.stem)
def test_stage_one_models_give_every_parameter_a_gradient(path):
    """DDP runs with find_unused_parameters=False (mmengine's default): one stage-1 step must
    reach every trainable parameter. Stock-size models on 32×32 inputs, SyncBN as BN."""
    cfg = Config.fromfile(str(path))
    cfg.model.data_preprocessor.size = (32, 32)
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).train()
    losses = model(**model.data_preprocessor(make_batch(2), True), mode='loss')
    assert list(losses) == ['decode.loss_pixcon', 'decode.pixcon_anchors']
    losses['decode.loss_pixcon'].backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.isfinite().all(), name


def test_end_process_group_destroys_the_group_and_is_a_no_op_without_one(tmp_path):
    """tools/train.py and tools/test.py end a --launcher run with end_process_group (in its own
    process: a group here would outlive the test)."""
    code = '\n'.join([
        'import torch.distributed as dist',
        'from mmseg_pixcon.utils import end_process_group',
        'end_process_group()',  # no group yet: nothing to do, no error
        f"dist.init_process_group('gloo', init_method='file://{tmp_path / 'store'}', rank=0, "
        'world_size=1)',
        'print(dist.is_initialized())',
        'end_process_group()',
        'print(dist.is_initialized())'])
    run = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ['True', 'False']


def test_two_process_stage_one_training(tmp_path):
    """tools/train.py --launcher pytorch, 2 CPU processes (gloo), batch 1 each, 2 iterations,
    then validation with PrototypeHook; DDP with find_unused_parameters=False fails in the
    second iteration if any parameter got no gradient in the first; the checkpoint holds both
    ranks' random states."""
    root = tmp_path / 'data'
    generate_cityscapes(str(root), seed=0, num_train=4, num_val=2, size=(64, 128))
    work = tmp_path / 'work'
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    options = [f'{loader}.{key}' for loader in loaders for key in (
        f'dataset.data_root={root}', 'num_workers=0', 'persistent_workers=False')]
    options += ['train_dataloader.batch_size=1', 'train_cfg.max_iters=2',
                'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
                'default_hooks.logger.interval=1', 'find_unused_parameters=False']
    # --standalone: torchrun's agent binds a free port itself and the workers join its store,
    # where a port chosen here and bound later could be taken in between.
    command = [sys.executable, '-m', 'torch.distributed.run', '--standalone',
               '--nproc_per_node', '2', str(REPO / 'tools' / 'train.py'),
               'configs/pixcon/synthetic/deeplabv3plus_r18_syncity_pretrain.py',
               '--launcher', 'pytorch', '--work-dir', str(work), '--cfg-options', *options]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    assert (work / 'iter_2.pth').stat().st_size > 0
    # rank 0 alone saves (mmengine's save_checkpoint is master_only); RandomStateHook gathered
    # both ranks' random states beforehand, where both ran (a gather inside the save hung here)
    saved = torch.load(work / 'iter_2.pth', map_location='cpu', weights_only=False)
    assert len(saved['random_state']['ranks']) == 2
    log = next(work.glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
    losses = re.findall(r'Iter\(train\) \[[12]/2\].*decode\.loss_pixcon: ([-\d.e]+)', log)
    assert len(losses) == 2 and all(float(v) > 0 for v in losses)
    # the valid anchors counted over both processes' images
    anchors = re.findall(r'Iter\(train\) \[[12]/2\].*decode\.pixcon_anchors: ([\d.]+)', log)
    assert len(anchors) == 2 and all(float(v) > 0 and float(v).is_integer() for v in anchors)
    assert re.search(r'Iter\(val\).*proto/mIoU: [\d.]+', log)


def test_slurm_train_script_runs_one_task_per_gpu(tmp_path):
    """tools/slurm_train.sh hands srun one task per GPU and tools/train.py --launcher slurm;
    a stand-in srun prints what it was given."""
    srun = tmp_path / 'srun'
    srun.write_text('#!/usr/bin/env bash\necho "$@"\n')
    srun.chmod(0o755)
    env = {'PATH': f'{tmp_path}:/usr/bin:/bin', 'GPUS': '16', 'SRUN_ARGS': '--time=1:00:00 -x n1'}
    run = subprocess.run(['bash', 'tools/slurm_train.sh', 'gpu', 'pixcon', 'CONFIG.py',
                          '--cfg-options', 'a=1'], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [
        '-p', 'gpu', '--job-name=pixcon', '--gres=gpu:8', '--ntasks=16',
        '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1', '--time=1:00:00',
        '-x', 'n1', 'python', '-u', 'tools/train.py', 'CONFIG.py', '--launcher', 'slurm',
        '--cfg-options', 'a=1']

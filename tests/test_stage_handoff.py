"""LoadStageOneHook: stage 2 starts from every stage-1 tensor but the classifier, or refuses."""
import copy
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from tiny_segmentors import (AUX_FCN, BACKBONE, build, head_cfg, make_batch, runner_kwargs,
                             segmentor_cfg, write_dataset)

from mmseg_pixcon.engine.hooks import LoadStageOneHook
from mmseg_pixcon.engine.hooks.load_stage_one_hook import is_under, resolve_checkpoint

HEAD = 'DepthwiseSeparableASPPHead'
STAGE_ONE = segmentor_cfg(head_cfg(HEAD, contrast=True))
STAGE_TWO = segmentor_cfg(head_cfg(HEAD, contrast=False), auxiliary_head=AUX_FCN,
                          two_views=False)
FRESH = ('decode_head.conv_seg', 'auxiliary_head')


def fake_runner(model, iter: int = 0, load_from=None) -> SimpleNamespace:
    """What the hook reads from a Runner in before_train."""
    return SimpleNamespace(model=model, iter=iter, cfg=Config(dict(load_from=load_from)))


def save(model, path, prefix: str = '') -> str:
    torch.save(dict(meta=dict(iter=1), state_dict={prefix + k: v for k, v in
                                                   model.state_dict().items()}), path)
    return str(path)


def snapshot(model) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.fixture(scope='module')
def stage_one(tmp_path_factory):
    """(state, path): a stage-1 model after one SGD step, so that no tensor keeps its initial
    value by luck, saved as a DDP-wrapped model would be ('module.' prefix)."""
    model = build(STAGE_ONE)
    model.train_step(make_batch(2), OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    path = save(model, tmp_path_factory.mktemp('stage1') / 'stage1.pth', prefix='module.')
    return snapshot(model), path


def test_loads_all_but_classifier_and_auxiliary_head(stage_one):
    stage_one_state, path = stage_one
    model = build(STAGE_TWO, seed=1)
    before = snapshot(model)
    hook = LoadStageOneHook(path)
    hook.before_train(fake_runner(model))

    names = list(before)
    num_conv_seg = sum(n.startswith('decode_head.conv_seg.') for n in names)
    num_aux = sum(n.startswith('auxiliary_head.') for n in names)
    # conv_seg: weight, bias; FCN aux head: conv weight, 5 BN tensors, conv_seg weight and bias.
    assert (num_conv_seg, num_aux) == (2, 8)
    assert hook.loaded_count == len(names) - num_conv_seg - num_aux
    after = model.state_dict()
    for name in names:
        if is_under(name, FRESH):
            assert torch.equal(after[name], before[name]), name
        else:
            assert torch.equal(after[name], stage_one_state[name]), name
    # The value check above is meaningful: stage 2 started from other values.
    assert not torch.equal(before['backbone.stem.0.weight'],
                           stage_one_state['backbone.stem.0.weight'])
    assert after['backbone.stem.1.num_batches_tracked'] == 1


def test_resumed_run_keeps_its_weights(stage_one):
    model = build(STAGE_TWO, seed=1)
    before = snapshot(model)
    hook = LoadStageOneHook(stage_one[1])
    hook.before_train(fake_runner(model, iter=5))
    assert hook.loaded_count is None
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_load_from_and_hook_together_refused(stage_one):
    with pytest.raises(ValueError, match='both load_from=.*keep one'):
        LoadStageOneHook(stage_one[1]).before_train(
            fake_runner(build(STAGE_TWO), load_from='x.pth'))


def test_deeper_backbone_refused_with_names(tmp_path):
    deeper = copy.deepcopy(STAGE_ONE)
    deeper['backbone'] = dict(BACKBONE, depth=34)
    path = save(build(deeper), tmp_path / 'r34.pth')
    model = build(STAGE_TWO)
    before = snapshot(model)
    with pytest.raises(RuntimeError) as error:
        LoadStageOneHook(path).before_train(fake_runner(model))
    message = str(error.value)
    # ResNet-34 has 3+4+6+3 blocks, ResNet-18 2+2+2+2: 8 more blocks of 2 convs + 2 BNs (5).
    assert '96 tensors in the checkpoint but not in the model' in message
    assert "'backbone.layer1.2.conv1.weight'" in message
    assert '... and 76 more' in message
    assert 'missing' not in message and 'different shape' not in message
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_other_widths_and_decoder_refused_with_names(tmp_path):
    narrow = segmentor_cfg(head_cfg('ASPPHead', contrast=True, channels=8))
    path = save(build(narrow), tmp_path / 'aspp8.pth')
    with pytest.raises(RuntimeError) as error:
        LoadStageOneHook(path).before_train(fake_runner(build(STAGE_TWO)))
    message = str(error.value)
    # DeepLabV3+ has c1/sep bottlenecks and a separable dilated ASPP branch where DeepLabV3 has
    # a plain conv; each conv + BN of a different width has 5 tensors of another shape (the BN
    # step counter is a scalar either way).
    assert '42 tensors missing from the checkpoint' in message
    assert "'decode_head.c1_bottleneck.conv.weight'" in message
    assert '6 tensors in the checkpoint but not in the model' in message
    assert "'decode_head.aspp_modules.1.conv.weight'" in message
    assert '15 tensors of a different shape' in message
    assert ('decode_head.bottleneck.conv.weight: checkpoint (8, 24, 3, 3) vs model '
            '(16, 48, 3, 3)') in message


def test_fresh_prefixes_are_whole_components():
    assert is_under('decode_head.conv_seg.convs.0.conv.weight', FRESH)
    assert is_under('auxiliary_head', FRESH)
    assert not is_under('decode_head.conv_segment.weight', FRESH)
    assert not is_under('auxiliary_heads.0.weight', FRESH)


def test_checkpoint_from_work_dir(tmp_path):
    target = tmp_path / 'iter_4.pth'
    target.write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(target) + '\n')
    assert resolve_checkpoint(str(tmp_path)) == str(target)
    assert resolve_checkpoint(str(target)) == str(target)
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='last_checkpoint'):
        resolve_checkpoint(str(tmp_path / 'empty'))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        resolve_checkpoint(str(tmp_path / 'nope.pth'))


class Snapshot(Hook):
    """Records the model's tensors when training starts, after the higher-priority hooks."""

    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        self.state = snapshot(runner.model)


def test_two_stages_through_the_runner(tmp_path):
    """Stage 1 trains with ContrastHead and saves; stage 2 (stock + auxiliary FCN) starts from
    its work_dir, after the runner's own weight init."""
    data = tmp_path / 'data'
    write_dataset(data, 4)
    stage_one = Runner.from_cfg(Config(runner_kwargs(tmp_path / 'stage1', data, STAGE_ONE,
                                                     max_iters=2)))
    stage_one.train()
    stage_one_state = snapshot(stage_one.model)

    stage_two = Runner.from_cfg(Config(runner_kwargs(
        tmp_path / 'stage2', data, STAGE_TWO, max_iters=1,
        custom_hooks=[dict(type='LoadStageOneHook', checkpoint=str(tmp_path / 'stage1'))])))
    probe = Snapshot()
    stage_two.register_hook(probe)
    stage_two.train()
    hook = next(h for h in stage_two.hooks if isinstance(h, LoadStageOneHook))
    names = list(probe.state)
    fresh = [n for n in names if is_under(n, FRESH)]
    assert len(fresh) == 2 + 8
    assert hook.loaded_count == len(names) - len(fresh)
    for name in names:
        if not is_under(name, FRESH):
            assert torch.equal(probe.state[name], stage_one_state[name]), name


def test_work_dir_naming_a_deleted_checkpoint_says_so(tmp_path):
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_400.pth'))
    with pytest.raises(FileNotFoundError) as error:
        resolve_checkpoint(str(tmp_path))
    message = str(error.value)
    assert f'{tmp_path / "iter_400.pth"} (named in {tmp_path / "last_checkpoint"})' in message
    assert 'custom_hooks.<index of LoadStageOneHook>.checkpoint=PATH' in message


@pytest.mark.parametrize('content, message', [
    (b'PK\x03\x04 cut off mid-save', 'cannot read the stage-1 checkpoint'),
    ('tensor', 'holds no state_dict of tensors'),
])
def test_unreadable_or_foreign_checkpoint_refused_with_its_name(tmp_path, content, message):
    path = tmp_path / 'stage1.pth'
    if content == 'tensor':
        torch.save(dict(meta=dict(iter=1), state_dict=dict(weights=[1, 2])), path)
    else:
        path.write_bytes(content)
    with pytest.raises(RuntimeError, match=message) as error:
        LoadStageOneHook(str(path)).before_train(fake_runner(build(STAGE_TWO)))
    assert str(path) in str(error.value)


def test_stage_two_without_its_stage_one_stops_before_the_first_iteration(tmp_path):
    data = tmp_path / 'data'
    write_dataset(data, 2)
    missing = tmp_path / 'stage1'
    runner = Runner.from_cfg(Config(runner_kwargs(
        tmp_path / 'stage2', data, STAGE_TWO, max_iters=1,
        custom_hooks=[dict(type='LoadStageOneHook', checkpoint=str(missing))])))
    with pytest.raises(FileNotFoundError, match=f'stage-1 checkpoint {missing} does not exist'):
        runner.train()
    assert runner.iter == 0 and not list((tmp_path / 'stage2').glob('*.pth'))

"""Every config under configs/pixcon parses, inherits mmseg's stock configs and builds its model."""
import functools
from pathlib import Path
from typing import FrozenSet, Tuple

import pytest
from mmengine.config import Config
from mmseg.registry import MODELS

import mmseg_pixcon  # noqa: F401  (registers the plugin)

CONFIGS = Path(__file__).resolve().parents[1] / 'configs' / 'pixcon'
LEAVES = sorted(p for p in CONFIGS.rglob('*.py') if '_base_' not in p.parts)
STAGE_PAIRS = sorted({p.with_name(p.name.replace('_pretrain', '_finetune'))
                      for p in LEAVES if p.name.endswith('_pretrain.py')})


@functools.lru_cache(maxsize=None)
def built(path: Path) -> Tuple[Config, FrozenSet[str]]:
    """The config and the state_dict names of its model (each model is built once)."""
    cfg = Config.fromfile(str(path))
    return cfg, frozenset(MODELS.build(cfg.model).state_dict())


def test_the_documented_configs_exist():
    names = {p.name for p in LEAVES}
    for model in ('deeplabv3plus', 'deeplabv3', 'pspnet'):
        for dataset in ('cityscapes', 'voc'):
            for stage in ('pretrain', 'finetune'):
                assert f'{model}_{dataset}_{stage}.py' in names
    assert len(STAGE_PAIRS) == 8  # 6 stock-size pairs + 2 synthetic


@pytest.mark.parametrize('path', LEAVES, ids=lambda p: p.stem)
def test_config_builds_its_model(path):
    cfg, names = built(path)
    assert len(path.read_text().splitlines()) <= 30  # says only what differs from its base
    is_stage_one = path.stem.endswith('_pretrain')
    assert (cfg.model.decode_head.type == 'ContrastHead') == is_stage_one
    assert any(n.startswith('decode_head.conv_seg.') for n in names)
    if is_stage_one:
        assert cfg.model.auxiliary_head is None  # stage 1 has no CE at all
        assert cfg.model.decode_head.loss_decode.type == 'PixelContrastLoss'
        assert cfg.model.data_preprocessor.type == 'PixConDataPreProcessor'
        assert 'decode_head.conv_seg.weight' not in names  # the projection replaced it
    else:
        assert 'decode_head.conv_seg.weight' in names


@pytest.mark.parametrize('finetune', STAGE_PAIRS, ids=lambda p: p.stem)
def test_stage_two_names_every_stage_one_tensor_but_the_classifier(finetune):
    """The hand-off relies on it: same names for every backbone and decoder tensor."""
    pretrain = finetune.with_name(finetune.name.replace('_finetune', '_pretrain'))
    names = [built(p)[1] for p in (pretrain, finetune)]
    fresh = ('decode_head.conv_seg.', 'auxiliary_head.')
    stage_one = {n for n in names[0] if not n.startswith(fresh)}
    stage_two = {n for n in names[1] if not n.startswith(fresh)}
    assert stage_one == stage_two
    assert len(stage_one) > 100

"""Stage 2 that keeps the projection: cosine classifier, loaded from stage 1, started at the
stage-1 prototypes."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import Runner
from tiny_segmentors import (CE_LOSS, CONTRAST, NUM_CLASSES, dataset_cfg, head_cfg,
                             runner_kwargs, segmentor_cfg, write_dataset)

from mmseg.registry import MODELS
from mmseg_pixcon.models.decode_heads import CosineClassifier, CosineClassifierHeadMixin

TEMPERATURE = 0.1


def test_logits_are_cosines_over_temperature():
    head = CosineClassifier(4, num_classes=3, channels=5, num_convs=2, temperature=TEMPERATURE)
    x = torch.randn(2, 4, 3, 3, generator=torch.Generator().manual_seed(0))
    with head.embedding_only():
        embeddings = head(x)
    assert embeddings.shape == (2, 5, 3, 3)
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(2, 3, 3))
    # class 0 points at pixel (0, 0, 0), class 1 away from it; class 2 has no prototype (a
    # zero row) and keeps its vector
    target = embeddings[0, :, 0, 0]
    kept = head.class_vectors[2].detach().clone()
    head.set_class_vectors(torch.stack([3 * target, -target, torch.zeros(5)]))
    torch.testing.assert_close(head.class_vectors[2].detach(), kept)
    logits = head(x)
    assert logits.shape == (2, 3, 3, 3)
    torch.testing.assert_close(logits[0, :2, 0, 0], torch.tensor([10.0, -10.0]))
    torch.testing.assert_close(logits[0, 2, 0, 0], (target @ kept) / TEMPERATURE)
    assert logits.abs().max() <= 1 / TEMPERATURE + 1e-4
    with pytest.raises(ValueError, match=r'\(3, 5\)'):
        head.set_class_vectors(torch.zeros(3, 4))
    with pytest.raises(ValueError, match='temperature'):
        CosineClassifier(4, num_classes=3, temperature=0)


def test_builder_wraps_stock_heads_and_refuses_what_it_cannot_score():
    cfg = dict(head_cfg('PSPHead', contrast=False), **CONTRAST, type='CosineClassifierHead',
               base_type='PSPHead')
    head = MODELS.build(cfg)
    assert type(head).__name__ == 'CosineClassifierPSPHead'
    assert isinstance(head, CosineClassifierHeadMixin)
    assert isinstance(head.conv_seg, CosineClassifier)
    assert head.conv_seg.class_vectors.shape == (NUM_CLASSES, CONTRAST['proj_channels'])
    with pytest.raises(ValueError, match='not registered'):
        MODELS.build(dict(type='CosineClassifierHead', base_type='NoSuchHead'))
    binary = dict(cfg, num_classes=2, out_channels=1,
                  loss_decode=dict(CE_LOSS, use_sigmoid=True))
    with pytest.raises(ValueError, match='out_channels=1'):
        MODELS.build(binary)


def stage_two_head() -> dict:
    return dict(head_cfg('FCNHead', contrast=False), **CONTRAST, type='CosineClassifierHead',
                base_type='FCNHead', temperature=TEMPERATURE, loss_decode=CE_LOSS)


def test_stage_two_starts_at_the_stage_one_prototype_readout(tmp_path):
    """From a stage-1 checkpoint, LoadStageOneHook loads everything but the class vectors and
    PrototypeClassifierInitHook sets them to the stage-1 prototypes: the first stage-2 logits,
    times τ, are the stage-1 model's prototype scores. Then CE training moves the vectors."""
    data = tmp_path / 'data'
    write_dataset(data, 4)
    val = dict(val_dataloader=dict(batch_size=1, num_workers=0,
                                   dataset=dataset_cfg(data, test=True),
                                   sampler=dict(type='DefaultSampler', shuffle=False)),
               val_cfg=dict(type='ValLoop'), val_evaluator=dict(type='IoUMetric'))
    stage_one = Runner.from_cfg(Config(runner_kwargs(
        tmp_path / 's1', data, segmentor_cfg(head_cfg('FCNHead', contrast=True)), max_iters=2,
        custom_hooks=[dict(type='PrototypeHook')],
        **dict(val, val_evaluator=dict(type='PrototypeIoUMetric')))))
    stage_one.train()  # ends with a validation, for which PrototypeHook sets the prototypes
    hooks = [dict(type='LoadStageOneHook', checkpoint=str(tmp_path / 's1' / 'iter_2.pth'),
                  fresh=('decode_head.conv_seg.class_vectors',)),
             dict(type='PrototypeClassifierInitHook')]
    stage_two = Runner.from_cfg(Config(runner_kwargs(
        tmp_path / 's2', data, segmentor_cfg(stage_two_head(), two_views=False), max_iters=3,
        custom_hooks=hooks, **val)))
    stage_two.call_hook('before_train')
    one, two = stage_one.model.eval(), stage_two.model.eval()
    vectors = two.decode_head.conv_seg.class_vectors.detach().clone()
    torch.testing.assert_close(vectors, one.decode_head.prototypes)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        scores = one.decode_head.class_scores(one.decode_head(one.extract_feat(x)))
        logits = two.decode_head(two.extract_feat(x))
    assert logits.shape == (2, NUM_CLASSES, 4, 4)
    torch.testing.assert_close(logits * TEMPERATURE, scores, atol=1e-5, rtol=1e-5)
    stage_two.train()  # before_train again: the hooks redo their work, then 3 CE steps
    trained = two.decode_head.conv_seg.class_vectors.detach().clone()
    assert not torch.allclose(trained, vectors)
    # a run started from a stage-2 checkpoint (load_from) keeps its class vectors
    two.decode_head.conv_seg.class_vectors.data.zero_()
    stage_two.cfg.load_from = str(tmp_path / 's2' / 'iter_3.pth')
    init_hook = next(hook for hook in stage_two.hooks
                     if type(hook).__name__ == 'PrototypeClassifierInitHook')
    init_hook.before_train(stage_two)
    assert torch.equal(two.decode_head.conv_seg.class_vectors, torch.zeros_like(trained))

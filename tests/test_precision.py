"""Precision of PixelContrastLoss for real: float32 against float64 at the temperatures where
rounding matters most (τ = 0.01) and least (τ = 1), and bf16 autocast on the CPU — the network
and the loss under autocast, from the same float32 weights and inputs — against float32."""
import itertools

import pytest
import torch
import torch.nn.functional as F
from tiny_segmentors import build, head_cfg, make_batch, segmentor_cfg

from mmseg_pixcon.models.losses import PixelContrastLoss

FORMULATIONS = ('paper', 'official')
MODES = ('within', 'cross', 'batch')
# Relative errors (max |x32 − x64| / max |x64|), about 10× the worst measured over 3 seeds and
# every mode and formulation (value / gradient: 1.2e-7 / 2.5e-6 at τ = 0.01, 1.0e-7 / 2.4e-7
# at τ = 1); logits up to 1/τ amplify float32's rounding at small τ.
FLOAT32 = {0.01: dict(value=1e-6, grad=3e-5), 1.0: dict(value=1e-6, grad=3e-6)}
# bf16 autocast of network + loss against float32 (measured worst over 4 seeds × 2 modes: loss
# 0.61 %, cosine of the embeddings' gradient 0.983, of all parameter gradients 0.81). The loss
# computes in float32 under autocast; what bf16 changes is the network: it moves this random
# tiny ResNet's embeddings by 5–6 %, and their error grows through ~20 BatchNorm layers with
# statistics of 4 images on the way back.
BF16 = dict(loss=2e-2, embedding_grad_cosine=0.97, parameter_grad_cosine=0.7)


def _inputs(seed: int = 0, batch: int = 2, dim: int = 16, side: int = 8, classes: int = 5):
    """Unit embeddings (float64) of two views, labels with 20 % ignored."""
    gen = torch.Generator().manual_seed(seed)
    feats, feats_aug = (F.normalize(torch.randn(batch, dim, side, side, generator=gen,
                                                dtype=torch.float64), dim=1)
                        for _ in range(2))
    labels, labels_aug = (torch.randint(0, classes, (batch, side, side), generator=gen)
                          for _ in range(2))
    for y in (labels, labels_aug):
        y[torch.rand(y.shape, generator=gen) < 0.2] = 255
    return feats, labels, feats_aug, labels_aug


def _value_and_grads(loss, feats, labels, feats_aug, labels_aug):
    feats, feats_aug = (x.detach().requires_grad_() for x in (feats, feats_aug))
    value = loss(feats, labels, feats_aug, labels_aug)
    return value, torch.autograd.grad(value, (feats, feats_aug), materialize_grads=True)


def _relative(value, reference) -> float:
    """max |value − reference| / max |reference|."""
    return ((value.double() - reference).abs().max() / reference.abs().max()).item()


@pytest.mark.parametrize('formulation,mode,temperature', list(
    itertools.product(FORMULATIONS, MODES, sorted(FLOAT32))))
def test_float32_against_float64(formulation, mode, temperature):
    loss = PixelContrastLoss(mode=mode, formulation=formulation, partner='roll',
                             temperature=temperature, tile_size=16)
    inputs = _inputs()
    value64, grads64 = _value_and_grads(loss, *inputs)
    value32, grads32 = _value_and_grads(
        loss, *(x.float() if x.is_floating_point() else x for x in inputs))
    assert value32.dtype == torch.float32
    assert _relative(value32, value64) < FLOAT32[temperature]['value']
    for grad32, grad64 in zip(grads32, grads64):
        assert _relative(grad32, grad64) < FLOAT32[temperature]['grad']


def test_half_precision_inputs_are_upcast_and_stay_finite():
    """exp(1/τ) = e^100 at τ = 0.01 overflows float16: the loss computes in float32, so the
    value is the float32 loss of the rounded inputs, not inf."""
    feats, labels, feats_aug, labels_aug = _inputs()
    loss = PixelContrastLoss(mode='cross', partner='roll', temperature=0.01)
    half, grads = _value_and_grads(loss, feats.half(), labels, feats_aug.half(), labels_aug)
    rounded = loss(feats.half().float(), labels, feats_aug.half().float(), labels_aug)
    assert half.dtype == torch.float32 and half.isfinite()
    assert all(g.dtype == torch.float16 and g.isfinite().all() for g in grads)
    assert half.item() == pytest.approx(rounded.item(), rel=1e-6)


@pytest.mark.parametrize('mode', ['within', 'cross'])
def test_bf16_autocast_of_network_and_loss_against_float32(mode):
    """A tiny DeepLabV3+ stage-1 model, its float32 weights and one preprocessed batch: the
    loss, its gradient for the embeddings and every parameter's gradient, with the forward
    under CPU bf16 autocast, against the same in float32."""
    head = head_cfg('DepthwiseSeparableASPPHead', contrast=True, dropout_ratio=0,
                    loss_decode=dict(type='PixelContrastLoss', mode=mode, partner='roll'))
    model = build(segmentor_cfg(head)).train()
    data = model.data_preprocessor(make_batch(2), True)
    results = []
    for autocast in (False, True):
        model.zero_grad()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            embeddings = model.decode_head(model.extract_feat(data['inputs']))
            embeddings.retain_grad()
            loss = model.decode_head.loss_by_feat(embeddings, data['data_samples'])[
                'loss_pixcon']
        loss.backward()
        results.append((loss.detach(), embeddings.grad.float().flatten(),
                        torch.cat([p.grad.flatten() for p in model.parameters()])))
    (loss32, embedding_grad32, grads32), (loss16, embedding_grad16, grads16) = results
    assert embeddings.dtype == torch.bfloat16  # autocast was on
    assert loss16.dtype == torch.float32  # the loss computes in float32 under autocast
    assert loss16.item() == pytest.approx(loss32.item(), rel=BF16['loss'])
    assert F.cosine_similarity(embedding_grad16, embedding_grad32, dim=0) > \
        BF16['embedding_grad_cosine']
    assert F.cosine_similarity(grads16, grads32, dim=0) > BF16['parameter_grad_cosine']

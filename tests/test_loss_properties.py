"""Properties of PixelContrastLoss, for every mode and formulation, on inputs hypothesis draws:
invariance to a permutation of the pixels and to a relabelling of the classes, a finite value
and gradient for every valid input, and the dense float64 reference on small inputs.

Inputs: 1–3 images of 1–4 × 1–4 pixels, D of 1–4, up to 4 classes, none to all pixels ignored,
embeddings of any scale (not unit-norm), τ in [0.05, 2]; each example is a seed and sizes, so
hypothesis shrinks towards small batches.
"""
import itertools

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmseg_pixcon.models.losses import PixelContrastLoss
from mmseg_pixcon.models.losses.dense_reference import dense_official_loss, dense_paper_loss
from mmseg_pixcon.models.losses.partners import select_partners

CASES = list(itertools.product(('paper', 'official'), ('within', 'cross', 'batch'),
                               (True, False)))
DENSE = {'paper': dense_paper_loss, 'official': dense_official_loss}
# Derandomised: the same examples on every run, so a failure reproduces.
PROPERTY = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def contrast_inputs(draw):
    """feats, labels, feats_aug, labels_aug (float64, labels with 255) and τ."""
    batch, height, width, dim, classes = (draw(st.integers(1, n)) for n in (3, 4, 4, 4, 4))
    ignored = draw(st.sampled_from([0.0, 0.3, 1.0]))
    scale = draw(st.sampled_from([0.3, 1.0, 4.0]))
    temperature = draw(st.floats(0.05, 2.0))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    feats, feats_aug = (scale * torch.randn(batch, dim, height, width, generator=gen,
                                            dtype=torch.float64) for _ in range(2))
    labels, labels_aug = (torch.randint(0, classes, (batch, height, width), generator=gen)
                          for _ in range(2))
    for y in (labels, labels_aug):
        y[torch.rand(y.shape, generator=gen) < ignored] = 255
    return (feats, labels, feats_aug, labels_aug), temperature


def _loss(formulation, mode, symmetric, temperature):
    return PixelContrastLoss(mode=mode, formulation=formulation, symmetric=symmetric,
                             partner='roll', temperature=temperature, tile_size=3)


def _permute_pixels(x: torch.Tensor, orders: torch.Tensor) -> torch.Tensor:
    """(B, [D,] H, W) with the pixels of image b in the order ``orders[b]`` (B, H·W)."""
    flat = x.flatten(-2)
    index = orders.view(orders.shape[0], *([1] * (flat.dim() - 2)), -1).expand_as(flat)
    return flat.gather(-1, index).view_as(x)


@pytest.mark.parametrize('formulation,mode,symmetric', CASES)
@PROPERTY
@given(drawn=contrast_inputs(), seed=st.integers(0, 2**31 - 1))
def test_invariant_to_a_permutation_of_pixels(formulation, mode, symmetric, drawn, seed):
    """Each view of each image reordered on its own: the loss never looks at positions."""
    (feats, labels, feats_aug, labels_aug), temperature = drawn
    gen = torch.Generator().manual_seed(seed)
    batch, pixels = labels.shape[0], labels[0].numel()
    orders = [torch.stack([torch.randperm(pixels, generator=gen) for _ in range(batch)])
              for _ in range(2)]
    permuted = (_permute_pixels(feats, orders[0]), _permute_pixels(labels, orders[0]),
                _permute_pixels(feats_aug, orders[1]), _permute_pixels(labels_aug, orders[1]))
    loss = _loss(formulation, mode, symmetric, temperature)
    assert loss(*permuted).item() == pytest.approx(
        loss(feats, labels, feats_aug, labels_aug).item(), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize('formulation,mode,symmetric', CASES)
@PROPERTY
@given(drawn=contrast_inputs(), seed=st.integers(0, 2**31 - 1))
def test_invariant_to_a_relabelling_of_classes(formulation, mode, symmetric, drawn, seed):
    """Class ids are names: any one-to-one renaming (into a larger id range too) keeps it."""
    (feats, labels, feats_aug, labels_aug), temperature = drawn
    names = torch.randperm(7, generator=torch.Generator().manual_seed(seed))
    rename = lambda y: torch.where(y == 255, 255, names[y.clamp_max(6)])  # noqa: E731
    loss = _loss(formulation, mode, symmetric, temperature)
    assert loss(feats, rename(labels), feats_aug, rename(labels_aug)).item() == pytest.approx(
        loss(feats, labels, feats_aug, labels_aug).item(), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize('formulation,mode,symmetric', CASES)
@PROPERTY
@given(drawn=contrast_inputs())
def test_finite_with_a_finite_gradient_for_every_valid_input(formulation, mode, symmetric,
                                                            drawn):
    (feats, labels, feats_aug, labels_aug), temperature = drawn
    feats.requires_grad_()
    feats_aug.requires_grad_()
    value = _loss(formulation, mode, symmetric, temperature)(feats, labels, feats_aug,
                                                             labels_aug)
    grads = torch.autograd.grad(value, (feats, feats_aug), materialize_grads=True)
    assert value.isfinite() and all(g.isfinite().all() for g in grads)


@pytest.mark.parametrize('formulation,mode,symmetric', CASES)
@PROPERTY
@given(drawn=contrast_inputs())
def test_equals_the_dense_float64_reference(formulation, mode, symmetric, drawn):
    """Value and gradient of the tiled loss (tiles of 3 pixels) against the N×N equations."""
    (feats, labels, feats_aug, labels_aug), temperature = drawn
    feats.requires_grad_()
    feats_aug.requires_grad_()
    value = _loss(formulation, mode, symmetric, temperature)(feats, labels, feats_aug,
                                                             labels_aug)
    flat = [(x.flatten(2).transpose(1, 2), torch.where(y == 255, -1, y).flatten(1))
            for x, y in ((feats, labels), (feats_aug, labels_aug))]
    expected = DENSE[formulation](*flat[0], *flat[1], mode=mode, symmetric=symmetric,
                                  partners=select_partners(len(labels), 'roll', feats.device),
                                  temperature=temperature)
    assert value.item() == pytest.approx(expected.item(), rel=1e-9, abs=1e-12)
    for grad, reference in zip(
            torch.autograd.grad(value, (feats, feats_aug), materialize_grads=True),
            torch.autograd.grad(expected, (feats, feats_aug), materialize_grads=True)):
        torch.testing.assert_close(grad, reference, rtol=1e-8, atol=1e-10)

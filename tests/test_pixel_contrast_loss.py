"""PixelContrastLoss: released-code values, dense float64 reference, gradients, edge cases."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from probes import LargestTensor

from mmseg_pixcon.models.losses import PixelContrastLoss
from mmseg_pixcon.models.losses.partners import select_partners
from mmseg_pixcon.models.losses.dense_reference import (dense_official_loss,
                                                        dense_paper_loss)
from mmseg_pixcon.models.losses.pixel_contrast_loss import resize_labels
from mmseg_pixcon.models.losses.pixel_sampling import balanced_sample_index

MODES = ('within', 'cross', 'batch')
FORMULATIONS = ('paper', 'official')
PARTNERS = ('shuffle', 'roll', 'identity')
DENSE = {'paper': dense_paper_loss, 'official': dense_official_loss}


def _released_test_batch():
    """The released unit test's inputs: 2 images of 16 pixels, features = labels.

    Its ignore labels -2 and -1 are mapped to ignore_index (255).
    """
    labels = torch.tensor([-2, -2, -1, -1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
    feats = labels.double().view(1, 1, 4, 4).repeat(2, 1, 1, 1)
    labels = torch.where(labels < 0, 255, labels).view(1, 4, 4).repeat(2, 1, 1)
    return feats, labels


def _random_batch(batch_size=3, dim=4, height=4, width=5, num_classes=4, seed=0,
                  dtype=torch.float64):
    """Unit embeddings and labels with ignored pixels; image 2 (if any) of I has no
    labelled pixel, the distorted view of image 1 (if any) holds one class only."""
    gen = torch.Generator().manual_seed(seed)
    feats, feats_aug = (F.normalize(torch.randn(batch_size, dim, height, width,
                                                generator=gen, dtype=dtype), dim=1)
                        for _ in range(2))
    labels, labels_aug = (torch.randint(0, num_classes, (batch_size, height, width),
                                        generator=gen) for _ in range(2))
    for y in (labels, labels_aug):
        y[torch.rand(y.shape, generator=gen) < 0.2] = 255
    labels[2:3] = 255
    labels_aug[1:2] = torch.where(labels_aug[1:2] == 255, 255, 3)
    return feats, labels, feats_aug, labels_aug


def _flat(feats, labels):
    return feats.flatten(2).transpose(1, 2), torch.where(labels == 255, -1, labels).flatten(1)


@pytest.mark.parametrize('tile_size', [5, 64])
def test_released_unit_test_values(tile_size):
    feats, labels = _released_test_batch()
    within = PixelContrastLoss(formulation='official', symmetric=False, temperature=1.0,
                               tile_size=tile_size)
    assert within(feats, labels, feats, labels).item() == pytest.approx(2.4503216, abs=1e-6)
    both_views = PixelContrastLoss(formulation='official', temperature=1.0,
                                   tile_size=tile_size)
    assert both_views(feats, labels, feats, labels).item() == pytest.approx(2 * 2.4503216,
                                                                            abs=1e-6)
    cross = PixelContrastLoss(mode='cross', formulation='official', partner='identity',
                              temperature=1.0, tile_size=tile_size)
    assert cross(feats, labels, 2 * feats, labels).item() == pytest.approx(5.46027374,
                                                                           abs=1e-6)
    # The released symmetry test: swapping the two images of the bag changes nothing.
    assert cross(2 * feats, labels, feats, labels).item() == pytest.approx(5.46027374,
                                                                           abs=1e-6)


@pytest.mark.parametrize('formulation,mode,symmetric,partner', list(
    itertools.product(FORMULATIONS, MODES, (True, False), PARTNERS)))
def test_matches_dense_reference(formulation, mode, symmetric, partner):
    feats, labels, feats_aug, labels_aug = _random_batch()
    feats.requires_grad_()
    feats_aug.requires_grad_()
    loss = PixelContrastLoss(mode=mode, formulation=formulation, symmetric=symmetric,
                             partner=partner, temperature=0.2, tile_size=7)
    torch.manual_seed(3)
    value = loss(feats, labels, feats_aug, labels_aug)
    torch.manual_seed(3)
    partners = select_partners(3, partner, feats.device)
    expected = DENSE[formulation](*_flat(feats, labels), *_flat(feats_aug, labels_aug),
                                  mode=mode, partners=partners, symmetric=symmetric,
                                  temperature=0.2)
    assert value.dtype == torch.float64
    assert value.item() == pytest.approx(expected.item(), rel=1e-10)
    grads = torch.autograd.grad(value, (feats, feats_aug), materialize_grads=True)
    expected_grads = torch.autograd.grad(expected, (feats, feats_aug),
                                         materialize_grads=True)
    for grad, expected_grad in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected_grad, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize('formulation,mode,symmetric', list(
    itertools.product(FORMULATIONS, MODES, (True, False))))
def test_gradcheck(formulation, mode, symmetric):
    feats, labels, feats_aug, labels_aug = _random_batch(batch_size=2, dim=3, height=2,
                                                         width=3, num_classes=3, seed=1)
    labels[1] = labels_aug[0]  # keep a labelled pixel in both images
    loss = PixelContrastLoss(mode=mode, formulation=formulation, symmetric=symmetric,
                             partner='roll', temperature=0.5, tile_size=4)
    # Features off the unit sphere: the loss must not depend on normalisation.
    inputs = (1.3 * feats).requires_grad_(), (0.7 * feats_aug).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x, x_aug: loss(x, labels, x_aug, labels_aug), inputs)


def test_tile_size_does_not_change_the_result():
    feats, labels, feats_aug, labels_aug = _random_batch(height=6, width=7)
    values = [PixelContrastLoss(mode='cross', formulation=formulation, partner='roll',
                                tile_size=tile)(feats, labels, feats_aug, labels_aug)
              for formulation in FORMULATIONS for tile in (3, 8, 1000)]
    torch.testing.assert_close(torch.stack(values[:3]), values[0].expand(3))
    torch.testing.assert_close(torch.stack(values[3:]), values[3].expand(3))


@pytest.mark.parametrize('formulation', FORMULATIONS)
def test_gradient_of_one_view_alone(formulation):
    feats, labels, feats_aug, labels_aug = _random_batch()
    loss = PixelContrastLoss(mode='cross', formulation=formulation, partner='roll')
    both = [feats.clone().requires_grad_(), feats_aug.clone().requires_grad_()]
    loss(both[0], labels, both[1], labels_aug).backward()
    one = feats.clone().requires_grad_()
    loss(one, labels, feats_aug, labels_aug).backward()
    torch.testing.assert_close(one.grad, both[0].grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize('formulation', FORMULATIONS)
def test_never_builds_the_similarity_matrix(formulation):
    feats, labels, feats_aug, labels_aug = _random_batch(batch_size=1, dim=8, height=16,
                                                         width=16, dtype=torch.float32)
    feats.requires_grad_()
    loss = PixelContrastLoss(mode='cross', formulation=formulation, tile_size=64)
    with LargestTensor() as probe:
        loss(feats, labels, feats_aug, labels_aug).backward()
    # 256 pixels per view, bags of 512 × D = 8: an N×N matrix would have 65 536+ elements.
    assert probe.largest <= 512 * 8


def test_label_downsampling_takes_the_pixel_at_each_cell_centre():
    for (height, width), (h, w) in [((512, 1024), (128, 256)), ((97, 61), (24, 13)),
                                    ((7, 5), (7, 5))]:
        position = torch.arange(height * width).view(1, height, width)
        # centre of cell i: (i + 0.5)·H/h − 0.5, rounded half up = ⌊(2i + 1)·H / 2h⌋
        rows = ((2 * torch.arange(h) + 1) * height // (2 * h)).view(h, 1)
        cols = ((2 * torch.arange(w) + 1) * width // (2 * w)).view(1, w)
        assert torch.equal(resize_labels(position, (h, w))[0], rows * width + cols)


def test_labels_are_downsampled_before_the_loss():
    feats, labels, feats_aug, labels_aug = _random_batch()
    loss = PixelContrastLoss(formulation='official')
    big, big_aug = (y.repeat_interleave(4, 1).repeat_interleave(3, 2)
                    for y in (labels, labels_aug))
    assert loss(feats, big, feats_aug, big_aug).item() == pytest.approx(
        loss(feats, labels, feats_aug, labels_aug).item(), rel=1e-12)


def test_partner_rules():
    assert select_partners(4, 'roll', torch.device('cpu')).tolist() == [1, 2, 3, 0]
    assert select_partners(4, 'identity', torch.device('cpu')).tolist() == [0, 1, 2, 3]
    for batch_size in range(2, 7):
        torch.manual_seed(batch_size)
        partners = select_partners(batch_size, 'shuffle', torch.device('cpu'))
        assert sorted(partners.tolist()) == list(range(batch_size))
        assert (partners != torch.arange(batch_size)).all()
        torch.manual_seed(batch_size)
        assert torch.equal(partners, select_partners(batch_size, 'shuffle',
                                                     torch.device('cpu')))
    draws = set()
    for seed in range(20):
        torch.manual_seed(seed)
        draws.add(tuple(select_partners(4, 'shuffle', torch.device('cpu')).tolist()))
    assert len(draws) == 6  # all (4 - 1)! cycles of 4 images occur
    for rule in PARTNERS:
        assert select_partners(1, rule, torch.device('cpu')).tolist() == [0]


@pytest.mark.parametrize('formulation', FORMULATIONS)
def test_single_image_cross_pairs_the_image_with_itself(formulation):
    feats, labels, feats_aug, labels_aug = (x[:1] for x in _random_batch())
    values = [PixelContrastLoss(mode='cross', formulation=formulation, partner=rule)(
        feats, labels, feats_aug, labels_aug) for rule in PARTNERS]
    assert math.isfinite(values[0].item())
    assert values[0].item() == values[1].item() == values[2].item()
    within = PixelContrastLoss(formulation=formulation)(feats, labels, feats_aug,
                                                        labels_aug)
    assert values[0].item() != pytest.approx(within.item())


@pytest.mark.parametrize('formulation,mode', list(itertools.product(FORMULATIONS, MODES)))
def test_all_ignored_batch_is_a_connected_zero(formulation, mode):
    feats, _, feats_aug, _ = _random_batch()
    feats.requires_grad_()
    ignored = torch.full((3, 4, 5), 255)
    value = PixelContrastLoss(mode=mode, formulation=formulation)(feats, ignored,
                                                                  feats_aug, ignored)
    assert value.item() == 0 and value.requires_grad
    value.backward()
    assert torch.equal(feats.grad, torch.zeros_like(feats))


def test_images_without_anchors_are_skipped_by_paper_and_counted_by_official():
    feats, labels, feats_aug, labels_aug = _random_batch(batch_size=2)
    labels[1] = 255
    labels_aug[1] = 255
    for formulation, share in (('paper', 1.0), ('official', 0.5)):
        loss = PixelContrastLoss(formulation=formulation)
        alone = loss(feats[:1], labels[:1], feats_aug[:1], labels_aug[:1])
        assert loss(feats, labels, feats_aug, labels_aug).item() == pytest.approx(
            share * alone.item(), rel=1e-12)


def test_single_class():
    feats, _, feats_aug, _ = _random_batch(batch_size=2)
    labels = torch.full((2, 4, 5), 7)
    feats.requires_grad_()
    official = PixelContrastLoss(formulation='official')(feats, labels, feats_aug, labels)
    assert official.item() == 0  # no negatives: every −log(e/(e + 0)) is 0
    official.backward()
    paper = PixelContrastLoss()(feats, labels, feats_aug, labels)
    # Every contrast pixel is a positive: log Σ_q e_pq − mean_q s_pq >= log N.
    assert math.log(20) <= paper.item() < math.log(20) + 2 / 0.07


@pytest.mark.parametrize('temperature', [1e-6, 1e-3, 1e3, 1e6])
def test_very_small_and_very_large_temperatures_give_finite_values(temperature):
    """Logits up to 1e6 (τ = 1e-6, float32) or down to 1e-6: the streaming log-sum-exp keeps
    every value and gradient finite."""
    feats, labels, feats_aug, labels_aug = _random_batch(dtype=torch.float32)
    feats.requires_grad_()
    for formulation in FORMULATIONS:
        value = PixelContrastLoss(mode='cross', formulation=formulation, partner='roll',
                                  temperature=temperature)(feats, labels, feats_aug, labels_aug)
        grad, = torch.autograd.grad(value, feats)
        assert value.isfinite() and grad.isfinite().all()


def test_logits_too_large_for_float32_raise():
    """|f|²/τ beyond 1e20 (a temperature near 0, or embeddings far from unit norm) would
    overflow the kernels' float32 sums: a ValueError, not a NaN."""
    feats, labels, feats_aug, labels_aug = _random_batch(dtype=torch.float32)
    with pytest.raises(ValueError, match='embeddings too large for temperature 1e-21'):
        PixelContrastLoss(temperature=1e-21)(feats, labels, feats_aug, labels_aug)
    with pytest.raises(ValueError, match='expects unit-norm embeddings'):
        PixelContrastLoss()(feats * 1e10, labels, feats_aug, labels_aug)
    for temperature in (0.0, -1.0, float('inf'), float('nan')):
        with pytest.raises(ValueError, match='temperature must be finite and > 0'):
            PixelContrastLoss(temperature=temperature)


def test_registry_weight_and_name():
    from mmseg.registry import MODELS
    feats, labels, feats_aug, labels_aug = _random_batch()
    loss = MODELS.build(dict(type='PixelContrastLoss', loss_weight=0.5,
                             loss_name='loss_contrast'))
    assert isinstance(loss, PixelContrastLoss) and loss.loss_name == 'loss_contrast'
    plain = PixelContrastLoss()(feats, labels, feats_aug, labels_aug)
    assert loss(feats, labels, feats_aug, labels_aug).item() == pytest.approx(
        0.5 * plain.item(), rel=1e-12)


def test_balanced_sampling():
    labels = torch.cat((torch.zeros(100), torch.ones(10), torch.full((5,), 2),
                        torch.full((20,), -1))).long()
    labels = labels[torch.randperm(135, generator=torch.Generator().manual_seed(0))]
    labels = labels.expand(2, -1).contiguous()
    torch.manual_seed(0)
    index = balanced_sample_index(labels, 30)
    assert index.shape == (2, 30)
    for row in range(2):
        assert len(set(index[row].tolist())) == 30
        assert torch.bincount(labels[row, index[row]], minlength=3).tolist() == [15, 10, 5]
    assert not torch.equal(index[0], index[1])  # images draw independently
    torch.manual_seed(0)
    assert torch.equal(index, balanced_sample_index(labels, 30))
    # A budget above the labelled count keeps every labelled pixel, then ignored ones.
    torch.manual_seed(0)
    picked = labels[0, balanced_sample_index(labels, 120)[0]]
    assert (picked >= 0).sum() == 115 and (picked < 0).sum() == 5


def test_sampling_is_optional_and_seeded():
    feats, labels, feats_aug, labels_aug = _random_batch(height=8, width=8)
    exact = PixelContrastLoss()(feats, labels, feats_aug, labels_aug)
    roomy = PixelContrastLoss(max_pixels_per_image=64)(feats, labels, feats_aug, labels_aug)
    assert roomy.item() == pytest.approx(exact.item(), rel=1e-12)
    sampled = PixelContrastLoss(max_pixels_per_image=16)
    torch.manual_seed(5)
    first = sampled(feats, labels, feats_aug, labels_aug)
    torch.manual_seed(5)
    assert sampled(feats, labels, feats_aug, labels_aug).item() == first.item()
    assert first.item() != pytest.approx(exact.item())


@pytest.mark.parametrize('change,message', [
    (lambda f, y, fa, ya: (f * float('nan'), y, fa, ya), 'finite'),
    (lambda f, y, fa, ya: (f, y, fa * float('inf'), ya), 'finite'),
    (lambda f, y, fa, ya: (f.long(), y, fa, ya), 'feats must be a floating'),
    (lambda f, y, fa, ya: (f, y.float(), fa, ya), 'labels must be an integer'),
    (lambda f, y, fa, ya: (f, y, fa, ya.bool()), 'labels_aug must be an integer'),
    (lambda f, y, fa, ya: (f, y, fa[:, :2], ya), 'must match'),
    (lambda f, y, fa, ya: (f, y, fa.float(), ya), 'must match'),
    (lambda f, y, fa, ya: (f[0], y, fa, ya), r'feats must be a non-empty \(B, D, H, W\)'),
    (lambda f, y, fa, ya: (f, y[:2], fa, ya), r'labels must be \(B, H, W\)'),
    (lambda f, y, fa, ya: (f, y[:, :2], fa, ya), 'smaller than the embeddings'),
    (lambda f, y, fa, ya: (f, y - 1, fa, ya), 'non-negative class ids'),
    (lambda f, y, fa, ya: (f, y, fa, torch.where(ya == 255, 255, ya + 2)),
     'below num_classes=5 .*found class 5'),
])
def test_bad_inputs_raise(change, message):
    with pytest.raises(ValueError, match=message):
        PixelContrastLoss(num_classes=5)(*change(*_random_batch()))


@pytest.mark.parametrize('formulation,mode', list(itertools.product(FORMULATIONS, MODES)))
def test_a_fixed_class_count_changes_nothing(formulation, mode):
    """num_classes (the head's) only fixes the shapes: the same value as the call's largest
    label + 1 (4 here), with classes that never occur."""
    feats, labels, feats_aug, labels_aug = _random_batch()
    values = [PixelContrastLoss(mode=mode, formulation=formulation, partner='roll',
                                num_classes=k)(feats, labels, feats_aug, labels_aug)
              for k in (None, 4, 19)]
    assert values[0].item() == values[1].item() == pytest.approx(values[2].item(), rel=1e-12)


def test_kernel_matmuls_are_ieee_float32_whatever_the_global_setting(monkeypatch):
    """TF32 on CUDA (or bf16 on MKLDNN) set for the whole process does not reach the loss's
    matmuls, forward or backward, and is back in place afterwards."""
    seen = []
    for name in ('baddbmm', 'bmm'):
        real = getattr(torch, name)

        def spy(*args, real=real, **kwargs):
            seen.append((torch.backends.cuda.matmul.fp32_precision,
                         torch.backends.mkldnn.matmul.fp32_precision))
            return real(*args, **kwargs)
        monkeypatch.setattr(torch, name, spy)
    feats, labels, feats_aug, labels_aug = _random_batch(dtype=torch.float32)
    feats.requires_grad_()
    saved = (torch.backends.cuda.matmul.fp32_precision,
             torch.backends.mkldnn.matmul.fp32_precision)
    torch.backends.cuda.matmul.fp32_precision = 'tf32'
    torch.backends.mkldnn.matmul.fp32_precision = 'bf16'
    try:
        for formulation in FORMULATIONS:
            PixelContrastLoss(mode='cross', formulation=formulation)(
                feats, labels, feats_aug, labels_aug).backward()
        after = (torch.backends.cuda.matmul.fp32_precision,
                 torch.backends.mkldnn.matmul.fp32_precision)
    finally:
        torch.backends.cuda.matmul.fp32_precision, \
            torch.backends.mkldnn.matmul.fp32_precision = saved
    assert len(seen) > 4 and set(seen) == {('ieee', 'ieee')}
    assert after == ('tf32', 'bf16')


@pytest.mark.parametrize('kwargs,message', [
    (dict(mode='pairs'), 'mode'), (dict(formulation='tf'), 'formulation'),
    (dict(partner='random'), 'partner'), (dict(temperature=0.0), 'temperature'),
    (dict(num_classes=0), 'num_classes'),
    (dict(tile_size=0), 'tile_size'), (dict(max_pixels_per_image=0), 'max_pixels'),
    (dict(loss_name='pixcon'), 'loss_name'),
])
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PixelContrastLoss(**kwargs)

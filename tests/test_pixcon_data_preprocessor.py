"""PixConDataPreProcessor and the distortions that build the second view Î."""
import copy

import pytest
import torch
from mmengine.structures import PixelData

from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_pixcon.models.data_preprocessors import PixConDataPreProcessor, SecondView
from mmseg_pixcon.models.data_preprocessors.distortion import (
    adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation, gaussian_blur, hsv_to_rgb,
    rgb_to_hsv, to_grayscale)
from mmseg_pixcon.models.data_preprocessors.geometry import zoom

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
STRONG_JITTER = dict(color_jitter=dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1,
                                       prob=1.0))


def make_batch(shapes=((8, 12), (8, 12)), seed: int = 0) -> dict:
    """Raw uint8 BGR images (3, h, w) and samples with labels in 0..4."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for h, w in shapes:
        inputs.append(torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8))
        sample = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, h, w), generator=gen))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def build(**kwargs) -> PixConDataPreProcessor:
    cfg = dict(type='PixConDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True,
               size_divisor=4, seed=0)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def solid(rgb, h=2, w=3) -> torch.Tensor:
    """(1, 3, h, w) float image of one colour."""
    return torch.tensor(rgb, dtype=torch.float32).view(1, 3, 1, 1).expand(1, 3, h, w).clone()


# --- the batch [I; Î] -------------------------------------------------------------------------

def test_training_doubles_batch_with_originals_first():
    data = make_batch(shapes=((8, 12), (7, 10)))
    labels = [s.gt_sem_seg.data.clone() for s in data['data_samples']]
    out = build(distort=STRONG_JITTER)(data, training=True)
    assert out['inputs'].shape == (4, 3, 8, 12)  # 2B, padded to the multiple of 4 of (8, 12)
    samples = out['data_samples']
    assert len(samples) == 4
    assert [s.img_shape for s in samples] == [(8, 12), (7, 10)] * 2
    for b in range(2):
        original, view = samples[b], samples[2 + b]
        assert torch.equal(original.gt_sem_seg.data[:, :labels[b].shape[1], :labels[b].shape[2]],
                           labels[b])
        assert torch.equal(view.gt_sem_seg.data, original.gt_sem_seg.data)
        assert view.gt_sem_seg.data.data_ptr() != original.gt_sem_seg.data.data_ptr()
    # Padding treats Î like I: the 7x10 image and its view are padded with 0 / seg_pad_val.
    assert out['inputs'][[1, 3], :, 7:, :].abs().max() == 0
    assert (samples[3].gt_sem_seg.data[:, 7:] == 255).all()
    samples[2].set_metainfo(dict(img_shape=(1, 1)))
    assert samples[0].img_shape == (8, 12)  # copies do not alias the originals' metainfo


def test_view_differs_in_colour_with_same_labels():
    out = build(distort=STRONG_JITTER)(make_batch(), training=True)
    inputs = out['inputs']
    # Normalised units: a mean change of 0.05 std is ~3 grey levels.
    diff = (inputs[:2] - inputs[2:]).abs().mean(dim=(1, 2, 3))
    assert (diff > 0.05).all()
    labels = [s.gt_sem_seg.data for s in out['data_samples']]
    assert torch.equal(labels[0], labels[2]) and torch.equal(labels[1], labels[3])


def test_flip_moves_image_and_label_together():
    data = make_batch()
    raw = [img.clone() for img in data['inputs']]
    labels = [s.gt_sem_seg.data.clone() for s in data['data_samples']]
    out = build(distort=dict(flip=dict(prob=1.0)), mean=None, std=None,
                bgr_to_rgb=False)(data, training=True)
    for b in range(2):
        assert torch.equal(out['inputs'][2 + b], raw[b].float().flip(-1))
        assert torch.equal(out['data_samples'][2 + b].gt_sem_seg.data, labels[b].flip(-1))
        assert torch.equal(out['data_samples'][b].gt_sem_seg.data, labels[b])


def test_empty_distortion_copies_exactly():
    out = build(distort={})(make_batch(), training=True)
    assert torch.equal(out['inputs'][:2], out['inputs'][2:])


def test_same_seed_same_views_and_sequence_advances():
    first, second = build(distort=STRONG_JITTER), build(distort=STRONG_JITTER)
    a1 = first(make_batch(), training=True)['inputs']
    a2 = first(make_batch(), training=True)['inputs']
    b1 = second(make_batch(), training=True)['inputs']
    b2 = second(make_batch(), training=True)['inputs']
    assert torch.equal(a1, b1) and torch.equal(a2, b2)
    assert not torch.equal(a1[2:], a2[2:])  # same images, next parameters
    other = build(distort=STRONG_JITTER, seed=1)(make_batch(), training=True)['inputs']
    assert torch.equal(other[:2], a1[:2]) and not torch.equal(other[2:], a1[2:])


@pytest.mark.parametrize('test_cfg', [None, dict(size_divisor=16)])
def test_eval_is_stock(test_cfg):
    kwargs = dict(mean=MEAN, std=STD, bgr_to_rgb=True, size_divisor=4, test_cfg=test_cfg)
    data = make_batch(shapes=((9, 13), ))
    ours = build(**kwargs)(copy.deepcopy(data), training=False)
    stock = SegDataPreProcessor(**kwargs)(copy.deepcopy(data), training=False)
    assert torch.equal(ours['inputs'], stock['inputs'])
    assert len(ours['data_samples']) == 1
    assert ours['data_samples'][0].metainfo == stock['data_samples'][0].metainfo


def test_one_view_is_stock_in_training():
    kwargs = dict(mean=MEAN, std=STD, bgr_to_rgb=True, size_divisor=4)
    data = make_batch(shapes=((8, 12), (7, 10)))
    ours = build(num_views=1, **kwargs)(copy.deepcopy(data), training=True)
    stock = SegDataPreProcessor(**kwargs)(copy.deepcopy(data), training=True)
    assert torch.equal(ours['inputs'], stock['inputs'])
    assert [torch.equal(a.gt_sem_seg.data, b.gt_sem_seg.data)
            for a, b in zip(ours['data_samples'], stock['data_samples'])] == [True, True]


def test_views_stay_in_range_on_device():
    data = make_batch(shapes=((8, 12), (6, 6), (8, 12)))
    pre = build(distort=dict(color_jitter=dict(brightness=(2., 3.), hue=0.5, prob=1.0)))
    views, _ = pre.make_views(data['inputs'], data['data_samples'])
    assert [v.shape for v in views] == [img.shape for img in data['inputs']]
    for view in views:
        assert view.device == data['inputs'][0].device and view.dtype == torch.float32
        assert view.min() >= 0 and view.max() <= 255
    assert any((view == 255).any() for view in views)  # brightness >= 2 hit the clamp


@pytest.mark.parametrize('flags, raw_red, raw_yellow', [
    (dict(bgr_to_rgb=True), [0, 0, 255], [0, 255, 255]),    # raw BGR, jitter in RGB
    (dict(), [0, 0, 255], [0, 255, 255]),                   # raw BGR kept BGR
    (dict(rgb_to_bgr=True), [255, 0, 0], [255, 255, 0]),    # raw RGB
])
def test_hue_is_rotated_in_rgb_whatever_the_channel_flags(flags, raw_red, raw_yellow):
    red = torch.tensor(raw_red, dtype=torch.uint8).view(3, 1, 1).expand(3, 4, 4).clone()
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.zeros(1, 4, 4, dtype=torch.long))
    pre = build(**dict(dict(distort=dict(color_jitter=dict(hue=(1 / 6, 1 / 6), prob=1.0)),
                            mean=None, std=None, bgr_to_rgb=False), **flags))
    views, _ = pre.make_views([red], [sample])
    expected = torch.tensor(raw_yellow, dtype=torch.float32).view(3, 1, 1).expand(3, 4, 4)
    assert torch.allclose(views[0], expected, atol=1e-3)


@pytest.mark.parametrize('flags, model_is_rgb', [
    (dict(bgr_to_rgb=True), True), (dict(), False), (dict(rgb_to_bgr=True), False)])
def test_zoom_fill_normalises_to_pad_val(flags, model_is_rgb):
    for pad_val in (0., 1.):
        pre = build(**dict(dict(bgr_to_rgb=False, pad_val=pad_val), **flags))
        fill = [m + pad_val * s for m, s in zip(MEAN, STD)]  # mean/std are in the model's order
        assert torch.allclose(pre.raw_fill(), torch.tensor(fill if model_is_rgb else fill[::-1]))


def test_zoom_out_through_the_preprocessor():
    data = make_batch(shapes=((8, 8), ))
    labels = data['data_samples'][0].gt_sem_seg.data.clone()
    pre = build(distort=dict(scale_crop=dict(scale=(0.5, 0.5))), size_divisor=None, size=(8, 8))
    out = pre(data, training=True)
    view_label = out['data_samples'][1].gt_sem_seg.data
    # The image shrunk to 4x4 somewhere in the frame: 4 or 5 pixel centres per axis fall on it.
    assert 16 <= (view_label != 255).sum() <= 25
    assert torch.equal(out['data_samples'][0].gt_sem_seg.data, labels)


def test_geometric_refuses_unmoved_pixel_targets():
    data = make_batch()
    data['data_samples'][0].set_data(dict(gt_edge_map=PixelData(data=torch.zeros(1, 8, 12))))
    with pytest.raises(ValueError, match='gt_edge_map'):
        build(distort=dict(flip=dict()))(data, training=True)


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_views=3), 'num_views'),
    (dict(distort=dict(colour_jitter=dict())), 'unknown distortions'),
    (dict(distort=dict(color_jitter=dict(hue=0.6))), 'color_jitter.hue'),
    (dict(distort=dict(color_jitter=dict(brightness=-0.1))), 'brightness'),
    (dict(distort=dict(grayscale=dict(prob=1.5))), 'grayscale.prob'),
    (dict(distort=dict(blur=dict(kernel_size=4))), 'kernel_size'),
    (dict(distort=dict(blur=dict(sigma=1.0))), 'blur.sigma'),
    (dict(distort=dict(scale_crop=dict())), 'scale_crop'),
    (dict(distort=dict(flip=dict(p=0.5))), 'unknown keys'),
])
def test_bad_config_raises(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(**kwargs)


def test_non_rgb_input_raises():
    data = make_batch()
    data['inputs'] = [img[:1] for img in data['inputs']]
    with pytest.raises(ValueError, match='3-channel'):
        build(mean=None, std=None)(data, training=True)


# --- the distortions, against hand-computed values --------------------------------------------

@pytest.mark.parametrize('shift, expected', [
    (1 / 3, [0, 255, 0]),      # red + 120 deg = green
    (-1 / 3, [0, 0, 255]),     # red - 120 deg = blue
    (1 / 6, [255, 255, 0]),    # red + 60 deg = yellow
    (-1 / 6, [255, 0, 255]),   # red - 60 deg = magenta
    (0.5, [0, 255, 255]),      # the opposite hue: cyan
])
def test_hue_shift_of_pure_red(shift, expected):
    out = adjust_hue(solid([255, 0, 0]), torch.tensor([shift]))
    assert torch.allclose(out, solid(expected), atol=1e-3)


def test_hue_shift_of_orange():
    # (255, 128, 0): V = 255, S = 1, H = 128/255 of the 0-60 deg sector. +60 deg puts it at
    # 128/255 of the 60-120 deg sector, where R falls from V: R = 255 (1 - 128/255) = 127.
    out = adjust_hue(solid([255, 128, 0]), torch.tensor([1 / 6]))
    assert torch.allclose(out, solid([127, 255, 0]), atol=1e-3)


def test_hsv_round_trip_and_known_values():
    img = torch.rand(3, 3, 5, 7, generator=torch.Generator().manual_seed(0)) * 255
    assert torch.allclose(hsv_to_rgb(rgb_to_hsv(img)), img, atol=1e-3)
    hsv = rgb_to_hsv(solid([0, 0, 128]) + solid([0, 64, 0]))  # (0, 64, 128)
    # H = (4 + (R - G) / (max - min)) / 6 = (4 - 0.5) / 6; S = 128 / 128; V = 128.
    assert torch.allclose(hsv[0, :, 0, 0], torch.tensor([3.5 / 6, 1.0, 128.0]))
    assert torch.equal(rgb_to_hsv(solid([90, 90, 90]))[0, :, 0, 0], torch.tensor([0., 0., 90.]))


def test_identity_parameters_leave_the_image_unchanged():
    img = torch.rand(2, 3, 6, 5, generator=torch.Generator().manual_seed(1)) * 255
    ones, zeros = torch.ones(2), torch.zeros(2)
    assert torch.equal(adjust_brightness(img, ones), img)
    assert torch.equal(adjust_contrast(img, ones), img)
    assert torch.equal(adjust_saturation(img, ones), img)
    assert torch.allclose(adjust_hue(img, zeros), img, atol=1e-3)
    assert torch.allclose(adjust_hue(img, ones), img, atol=1e-3)  # a full turn
    assert torch.allclose(gaussian_blur(img, torch.full((2, ), 0.05), 5), img, atol=1e-4)


def test_brightness_contrast_saturation_by_hand():
    # Image 0: grey pixels 0 and 100, mean luma 50; contrast 0.5 pulls each halfway to 50.
    # Image 1: constant 200, its own mean, so unchanged (the mean is per image).
    img = torch.tensor([[0., 100.], [200., 200.]]).view(2, 1, 1, 2).expand(2, 3, 1, 2)
    out = adjust_contrast(img, torch.tensor([0.5, 0.5]))
    assert torch.allclose(out[:, 0, 0], torch.tensor([[25., 75.], [200., 200.]]))
    assert torch.equal(adjust_brightness(solid([200, 100, 0]), torch.tensor([2.])),
                       solid([255, 200, 0]))  # clamped at 255
    grey = adjust_saturation(solid([255, 0, 0]), torch.tensor([0.]))
    assert torch.allclose(grey, solid([0.299 * 255] * 3))


def test_grayscale_has_equal_channels():
    img = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(2)) * 255
    out = to_grayscale(img)
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2])
    assert torch.allclose(out[:, 0], 0.299 * img[:, 0] + 0.587 * img[:, 1] + 0.114 * img[:, 2])
    view = SecondView(dict(grayscale=dict(prob=1.0)))
    label = torch.zeros(2, 1, 4, 4, dtype=torch.long)
    out, _ = view.apply(img, label, view.sample(2), torch.zeros(3), 255)
    assert torch.equal(out[:, 0], out[:, 2])


def test_blur_per_image_sigma():
    img = torch.zeros(2, 3, 9, 9)
    img[:, :, 4, 4] = 255
    out = gaussian_blur(img, torch.tensor([0.05, 2.0]), 7)
    assert torch.allclose(out[0], img[0], atol=1e-4)  # sigma -> 0: the identity
    assert out[1, 0, 4, 4] < 255 / 10 and out[1, 0, 4, 5] > 0
    assert torch.allclose(out[1].sum(), img[1].sum(), rtol=1e-4)  # mass kept (no clamping)
    assert torch.allclose(gaussian_blur(solid([7, 8, 9], 3, 3), torch.tensor([1.5]), 5),
                          solid([7, 8, 9], 3, 3))


def test_zoom_out_by_hand():
    # 2x2 blocks of one label each, so that rounding ties of the nearest sampling do not matter.
    label = torch.arange(16).view(4, 4).repeat_interleave(2, 0).repeat_interleave(2, 1)
    label = label.view(1, 1, 8, 8)
    img = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(4)) * 255
    fill = torch.tensor([1., 2., 3.])
    out_img, out_label = zoom(img, label, torch.tensor([0.5]), torch.zeros(1, 2), fill, 255)
    # Half size at the center: source pixels land on output pixels 2..5; the 2-pixel frame
    # around them is outside the source.
    frame = torch.ones(8, 8, dtype=torch.bool)
    frame[2:6, 2:6] = False
    assert (out_label[0, 0][frame] == 255).all()
    assert torch.equal(out_label[0, 0, 2:6, 2:6], torch.arange(16).view(4, 4))
    assert torch.allclose(out_img[0][:, frame], fill.view(3, 1).expand(3, 48))


def test_zoom_in_center_crop_by_hand():
    label = torch.arange(16).view(1, 1, 4, 4)
    img = label.float().expand(1, 3, 4, 4)
    out_img, out_label = zoom(img, label, torch.tensor([2.]), torch.zeros(1, 2),
                              torch.zeros(3), 255)
    # scale 2 at the center shows source pixels 1..2 of each axis, each twice.
    expected = label[..., 1:3, 1:3].repeat_interleave(2, -1).repeat_interleave(2, -2)
    assert torch.equal(out_label, expected)
    assert out_label.dtype == label.dtype
    assert torch.allclose(out_img[0, 0, 1:3, 1:3], torch.tensor([[6.25, 6.75], [8.25, 8.75]]))


def test_jitter_order_rows_are_permutations_and_masks_follow_prob():
    view = SecondView(dict(color_jitter=dict(prob=0.0), flip=dict(prob=1.0)))
    params = view.sample(64, torch.Generator().manual_seed(3))
    assert torch.equal(params['order'].sort(dim=1).values, torch.arange(4).expand(64, 4))
    assert not params['color_jitter'].any() and params['flip'].all()
    assert not params['grayscale'].any()  # not configured: never applied

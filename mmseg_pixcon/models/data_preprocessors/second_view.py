"""The distortion that turns a training image I into its second view Î.

A config dict names the enabled distortions; each one is applied to an image with its own
probability, and its strength is drawn per image. Parameters are drawn on the CPU (a few numbers
per image) from an explicit ``torch.Generator``, so a seed gives the same views on any device and
choosing which images an operation touches needs no device-to-host sync; the pixels are then
transformed on the images' device, a whole batch at a time.

Config keys (absent = off), with their defaults::

    color_jitter=dict(brightness=0., contrast=0., saturation=0., hue=0., prob=0.8,
                      random_order=True)   # torchvision ColorJitter inside RandomApply
    grayscale=dict(prob=0.2)
    blur=dict(prob=0.5, kernel_size=23, sigma=(0.1, 2.0))
    flip=dict(prob=0.5)                   # horizontal, image and label
    scale_crop=dict(prob=1.0, scale=...)  # zoom factor range, image and label

brightness/contrast/saturation: a strength s (factor drawn in [max(0, 1 - s), 1 + s]) or a
(min, max) factor range; hue: a strength h <= 0.5 (shift in [-h, h] of the hue circle) or a
(min, max) range in [-0.5, 0.5]. Hue is rotated exactly, through RGB -> HSV -> RGB.
Order: colour jitter (its four operations in a random order per image, as torchvision),
grayscale, blur, flip, scale-crop, so the empty border of a zoom-out stays plain padding.
"""
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from .distortion import (adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation,
                         gaussian_blur, to_grayscale)
from .geometry import zoom

# SimCLR's colour distortion at strength 0.5: ColorJitter(0.4, 0.4, 0.4, 0.1) with p=0.8, then
# grayscale with p=0.2.
DEFAULT_DISTORTION = dict(
    color_jitter=dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, prob=0.8),
    grayscale=dict(prob=0.2))

_ALLOWED_KEYS = dict(
    color_jitter=('brightness', 'contrast', 'saturation', 'hue', 'prob', 'random_order'),
    grayscale=('prob', ),
    blur=('prob', 'kernel_size', 'sigma'),
    flip=('prob', ),
    scale_crop=('prob', 'scale'))
_DEFAULT_PROB = dict(color_jitter=0.8, grayscale=0.2, blur=0.5, flip=0.5, scale_crop=1.0)
_IDENTITY = dict(brightness=1., contrast=1., saturation=1., hue=0.)
_JITTER_BOUNDS = dict(brightness=(0., float('inf')), contrast=(0., float('inf')),
                      saturation=(0., float('inf')), hue=(-0.5, 0.5))
_JITTER_OPS = (('brightness', adjust_brightness), ('contrast', adjust_contrast),
               ('saturation', adjust_saturation), ('hue', adjust_hue))

Range = Tuple[float, float]


def _as_range(name: str, value: Sequence[float], low: float, high: float) -> Range:
    """A checked (min, max) pair with low <= min <= max <= high."""
    if isinstance(value, (int, float)) or len(value) != 2:
        raise ValueError(f'{name} must be a (min, max) pair, got {value!r}')
    lo, hi = float(value[0]), float(value[1])
    if not low <= lo <= hi <= high:
        raise ValueError(f'{name} range ({lo}, {hi}) must satisfy {low} <= min <= max <= {high}')
    return lo, hi


def _jitter_range(key: str, value: Union[float, Sequence[float]]) -> Range:
    """torchvision's ColorJitter argument: a strength s -> identity -/+ s (factors clipped at
    0), or an explicit (min, max)."""
    name, (low, high) = f'color_jitter.{key}', _JITTER_BOUNDS[key]
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f'{name} strength must be >= 0, got {value}')
        value = (max(low, _IDENTITY[key] - value), _IDENTITY[key] + value)
    return _as_range(name, value, low, high)


def _probability(name: str, cfg: Mapping) -> float:
    prob = float(cfg.get('prob', _DEFAULT_PROB[name]))
    if not 0 <= prob <= 1:
        raise ValueError(f'{name}.prob must be in [0, 1], got {prob}')
    return prob


def _update(tensors: Tuple[Tensor, ...], select: Tensor, fn: Callable[..., Tuple[Tensor, ...]],
            *params: Tensor) -> Tuple[Tensor, ...]:
    """Replaces the rows ``select`` (CPU bool (N,)) of each of ``tensors`` by
    ``fn(*their rows, *the rows of params)``; params are CPU (N, ...) tensors, copied to the
    tensors' device without blocking the host. The indices are known on the host, so this
    costs no device sync."""
    index = select.nonzero().flatten()
    if index.numel() == 0:
        return tensors
    device = tensors[0].device
    on_device = index.to(device, non_blocking=True)
    new = fn(*(t.index_select(0, on_device) for t in tensors),
             *(p.index_select(0, index).to(device, non_blocking=True) for p in params))
    return tuple(t.index_copy(0, on_device, n) for t, n in zip(tensors, new))


class SecondView:
    """Draws per-image distortion parameters and applies them to image/label batches.

    Args:
        cfg: which distortions to apply and how strongly (see the module docstring); an empty
            dict makes Î an exact copy of I.
    """

    def __init__(self, cfg: Mapping[str, Mapping]) -> None:
        unknown = set(cfg) - set(_ALLOWED_KEYS)
        if unknown:
            raise ValueError(f'unknown distortions {sorted(unknown)}; '
                             f'known: {sorted(_ALLOWED_KEYS)}')
        for name, sub in cfg.items():
            bad = set(sub) - set(_ALLOWED_KEYS[name])
            if bad:
                raise ValueError(f'unknown keys {sorted(bad)} for {name}; '
                                 f'known: {list(_ALLOWED_KEYS[name])}')
        self.prob = {name: _probability(name, sub) for name, sub in cfg.items()}
        jitter = cfg.get('color_jitter', {})
        self.jitter_ranges = {key: _jitter_range(key, jitter.get(key, 0.))
                              for key, _ in _JITTER_OPS}
        # Operations left at their identity are skipped: no kernels, and exactly the identity.
        self.jitter_ops = [(index, key, op) for index, (key, op) in enumerate(_JITTER_OPS)
                           if self.jitter_ranges[key] != (_IDENTITY[key], ) * 2]
        self.random_order = bool(jitter.get('random_order', True))
        blur = cfg.get('blur', {})
        self.kernel_size = int(blur.get('kernel_size', 23))
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f'blur.kernel_size must be odd and positive, got {self.kernel_size}')
        self.sigma = _as_range('blur.sigma', blur.get('sigma', (0.1, 2.0)), 1e-6,
                               float('inf'))
        if 'scale_crop' in cfg and 'scale' not in cfg['scale_crop']:
            raise ValueError("scale_crop needs 'scale', a (min, max) zoom factor range")
        self.scale = _as_range('scale_crop.scale',
                               cfg.get('scale_crop', {}).get('scale', (1., 1.)), 1e-6,
                               float('inf'))

    @property
    def geometric(self) -> bool:
        """Whether Î's labels can differ from I's."""
        return 'flip' in self.prob or 'scale_crop' in self.prob

    def sample(self, num: int, generator: Optional[torch.Generator] = None) -> Dict[str, Tensor]:
        """Draws the parameters of ``num`` views on the CPU; the same number of draws happens
        whatever the config, so a seed fixes the whole sequence of calls.

        Returns:
            dict of CPU tensors: bool (N,) masks ``color_jitter``, ``grayscale``, ``blur``,
            ``flip``, ``scale_crop`` (which images each operation touches); float (N,)
            ``brightness``, ``contrast``, ``saturation`` (factors), ``hue`` (shift), ``sigma``,
            ``scale``; ``order`` long (N, 4) (jitter step -> operation index in
            brightness, contrast, saturation, hue); ``center`` float (N, 2) in [-1, 1].
        """
        def uniform(bounds: Range) -> Tensor:
            return bounds[0] + (bounds[1] - bounds[0]) * torch.rand(num, generator=generator)

        params = {name: torch.rand(num, generator=generator) < self.prob.get(name, 0.)
                  for name in _DEFAULT_PROB}
        params.update({key: uniform(bounds) for key, bounds in self.jitter_ranges.items()})
        order = torch.rand(num, len(_JITTER_OPS), generator=generator).argsort(dim=1)
        params['order'] = order if self.random_order else order.sort(dim=1).values
        params['sigma'] = uniform(self.sigma)
        params['scale'] = uniform(self.scale)
        # The window stays inside the image when zooming in, the image inside the frame when
        # zooming out: |center| <= |1 - 1/scale|.
        reach = (1 - 1 / params['scale']).abs().unsqueeze(1)
        params['center'] = (2 * torch.rand(num, 2, generator=generator) - 1) * reach
        return params

    def apply(self, img: Tensor, label: Tensor, params: Mapping[str, Tensor], fill: Tensor,
              ignore_index: int) -> Tuple[Tensor, Tensor]:
        """Distorts a batch of same-sized images.

        Args:
            img: (N, 3, H, W) float RGB in [0, 255], any device.
            label: (N, 1, H, W) integer labels.
            params: from :meth:`sample` (N rows).
            fill: (3,) RGB value of the frame a zoom-out leaves empty.
            ignore_index: label of that frame.

        Returns:
            Î (N, 3, H, W) in [0, 255] and its labels (N, 1, H, W); where no operation
            applies, the inputs themselves.
        """
        for step in range(len(_JITTER_OPS)):
            for op_index, key, op in self.jitter_ops:
                select = params['color_jitter'] & (params['order'][:, step] == op_index)
                img, = _update((img, ), select, lambda x, f, op=op: (op(x, f), ), params[key])
        img, = _update((img, ), params['grayscale'], lambda x: (to_grayscale(x), ))
        img, = _update((img, ), params['blur'],
                       lambda x, s: (gaussian_blur(x, s, self.kernel_size), ), params['sigma'])
        img, label = _update((img, label), params['flip'], lambda x, y: (x.flip(-1), y.flip(-1)))
        img, label = _update((img, label), params['scale_crop'],
                             lambda x, y, s, c: zoom(x, y, s, c, fill, ignore_index),
                             params['scale'], params['center'])
        return img, label

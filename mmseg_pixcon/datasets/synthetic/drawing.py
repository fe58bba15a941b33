"""Vectorised drawing primitives shared by the synthetic scene generators.

A scene is painted into a :class:`Canvas`: a float32 RGB image (H, W, 3) in [0, 1], a uint8 label
map (H, W) and an int32 instance map (H, W). Textures are functions of *surface coordinates* (a, b)
— metres on a facade, on the ground or on an object — so a pattern keeps its physical size under
perspective and scale. Every region takes its colours from the same distribution whatever its
class: colour carries no class information, and the class must be told by shape, texture and
context."""
import colorsys
from dataclasses import dataclass, field
from typing import Callable, Tuple

import cv2
import numpy as np

Array = np.ndarray
# (a, b) surface coordinates, each (h, w) float32  ->  t (h, w) float32 in [0, 1].
Texture = Callable[[Array, Array], Array]
# (u, v) pixel column/row grids of a crop, each (h, w)  ->  surface coordinates (a, b).
Coords = Callable[[Array, Array], Tuple[Array, Array]]


MIN_SIZE = 32


@dataclass
class Canvas:
    """What a generator paints into; ``label`` starts as ``fill_label`` everywhere."""

    height: int
    width: int
    fill_label: int = 255
    image: Array = field(init=False)
    label: Array = field(init=False)
    instance: Array = field(init=False)

    def __post_init__(self) -> None:
        check_size(self.height, self.width)
        self.image = np.zeros((self.height, self.width, 3), np.float32)
        self.label = np.full((self.height, self.width), self.fill_label, np.uint8)
        self.instance = np.zeros((self.height, self.width), np.int32)


def check_size(height: int, width: int) -> None:
    """Raises ValueError for images too small to hold a scene."""
    if height < MIN_SIZE or width < MIN_SIZE:
        raise ValueError(f'image size must be at least {MIN_SIZE}x{MIN_SIZE}, got {height}x{width}')


def random_colour(rng: np.random.Generator) -> Array:
    """One colour (3,) in [0, 1]: uniform hue, any saturation, never black."""
    return np.array(colorsys.hsv_to_rgb(rng.random(), rng.random(), rng.uniform(0.12, 1.0)),
                    np.float32)


def colour_pair(rng: np.random.Generator, min_contrast: float = 0.25) -> Array:
    """Two colours (2, 3) whose luminances differ by at least ``min_contrast``, so a texture that
    mixes them stays visible whatever colours were drawn."""
    first, second = random_colour(rng), random_colour(rng)
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    if abs(float(luma @ first - luma @ second)) < min_contrast:
        second = second * 0.3 if float(luma @ first) > 0.5 else 0.7 + 0.3 * second
    return np.stack([first, second])


def _project(a: Array, b: Array, angle: float) -> Array:
    return a * np.float32(np.cos(angle)) + b * np.float32(np.sin(angle))


def flat() -> Texture:
    """The first colour only."""
    return lambda a, b: np.zeros_like(a)


def stripes(period: float, angle: float, duty: float = 0.5, phase: float = 0.0) -> Texture:
    """Parallel bands ``period`` apart (surface units), ``duty`` of each in the second colour."""
    return lambda a, b: (((_project(a, b, angle) / period + phase) % 1.0) < duty).astype(np.float32)


def checker(period: float, angle: float = 0.0) -> Texture:
    """Checkerboard of ``period``-sized squares."""
    def texture(a: Array, b: Array) -> Array:
        ra, rb = _project(a, b, angle), _project(a, b, angle + np.pi / 2)
        return ((np.floor(ra / period) + np.floor(rb / period)) % 2).astype(np.float32)
    return texture


def hatch(period: float, width: float, angle: float) -> Texture:
    """Two crossing sets of thin bars (a lattice), bars in the second colour."""
    duty = width / period
    first, second = stripes(period, angle, duty), stripes(period, angle + np.pi / 2, duty)
    return lambda a, b: np.maximum(first(a, b), second(a, b))


def cells(period_a: float, period_b: float, fill_a: float, fill_b: float,
          phase_a: float = 0.0, phase_b: float = 0.0) -> Texture:
    """A grid of rectangles (windows): ``fill_*`` of each period is inside a cell."""
    def texture(a: Array, b: Array) -> Array:
        inside_a = ((a / period_a + phase_a) % 1.0) < fill_a
        inside_b = ((b / period_b + phase_b) % 1.0) < fill_b
        return (inside_a & inside_b).astype(np.float32)
    return texture


def bricks(height: float, length: float, mortar: float) -> Texture:
    """Staggered courses of bricks; the mortar joints take the second colour."""
    def texture(a: Array, b: Array) -> Array:
        course = np.floor(b / height)
        shifted = a + (course % 2) * (length / 2)
        joint = ((b % height) < mortar) | ((shifted % length) < mortar)
        return joint.astype(np.float32)
    return texture


_MAX_LATTICE = 256


def value_noise(rng: np.random.Generator, cell_a: float, cell_b: float,
                contrast: float = 2.0) -> Texture:
    """Smooth random field with features ``cell_a`` x ``cell_b`` surface units (anisotropic when
    they differ, e.g. grass or wood grain); ``contrast`` stretches it around 0.5."""
    # The lattice has its own stream: its size depends on the region, and the scene drawn after
    # it must not (the same seed gives the same scene at any resolution).
    seed = int(rng.integers(2**63))

    def texture(a: Array, b: Array) -> Array:
        # Surfaces reaching the horizon span huge ranges; coarsen the features there instead of
        # drawing millions of lattice values (they would be far below a pixel anyway).
        ga = a / max(cell_a, float(np.ptp(a)) / _MAX_LATTICE)
        gb = b / max(cell_b, float(np.ptp(b)) / _MAX_LATTICE)
        ga, gb = ga - np.floor(ga.min()), gb - np.floor(gb.min())
        lattice = np.random.default_rng(seed).random((int(ga.max()) + 2, int(gb.max()) + 2),
                                                     dtype=np.float32)
        # cv2.remap samples the lattice at (row ga, column gb) with bicubic interpolation.
        field = cv2.remap(lattice, gb.astype(np.float32), ga.astype(np.float32), cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REFLECT)
        return np.clip((field - 0.5) * contrast + 0.5, 0, 1)
    return texture


def spots(rng: np.random.Generator, cell: float, coverage: float) -> Texture:
    """Blobs about ``cell`` wide covering roughly ``coverage`` of the surface (hides, leaves)."""
    noise = value_noise(rng, cell, cell, contrast=1.0)
    return lambda a, b: (noise(a, b) > 1.0 - coverage * 0.8 - 0.1).astype(np.float32)


def gradient(angle: float) -> Texture:
    """Linear ramp from the first colour to the second across the region."""
    def texture(a: Array, b: Array) -> Array:
        p = _project(a, b, angle)
        return (p - p.min()) / max(float(np.ptp(p)), 1e-6)
    return texture


def mix(first: Texture, second: Texture, weight: float) -> Texture:
    """Convex combination of two textures (e.g. windows over a noisy facade)."""
    return lambda a, b: (1 - weight) * first(a, b) + weight * second(a, b)


def pixel_coords(u: Array, v: Array) -> Tuple[Array, Array]:
    """Surface coordinates equal to pixel coordinates (b grows upwards)."""
    return u.astype(np.float32), -v.astype(np.float32)


def paint(canvas: Canvas, mask: Array, label: int, texture: Texture, colours: Array,
          coords: Coords = pixel_coords, instance: int = 0,
          origin: Tuple[int, int] = (0, 0)) -> None:
    """Paints the pixels of ``mask`` (h, w) bool, whose top-left pixel is ``origin`` (row, col) of
    the canvas: colour = mix of ``colours`` (2, 3) by the texture evaluated at the surface
    coordinates of each pixel; label and instance are overwritten.

    Only the bounding box of the mask is evaluated, so small regions are cheap.
    """
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:
        return
    local = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    box = (slice(origin[0] + rows[0], origin[0] + rows[-1] + 1),
           slice(origin[1] + cols[0], origin[1] + cols[-1] + 1))
    v, u = np.mgrid[box]
    a, b = coords(u.astype(np.float32), v.astype(np.float32))
    t = texture(a, b)[..., None]
    rgb = colours[0] * (1 - t) + colours[1] * t
    inside = mask[local]
    canvas.image[box][inside] = rgb[inside]
    canvas.label[box][inside] = label
    canvas.instance[box][inside] = instance


def finish(image: Array, rng: np.random.Generator) -> Array:
    """Camera effects on a float image (H, W, 3): uneven illumination, gamma, blur and sensor noise.
    Returns uint8 (H, W, 3)."""
    height, width = image.shape[:2]
    v, u = np.mgrid[:height, :width].astype(np.float32)
    light = value_noise(rng, width / 2.5, width / 2.5, contrast=1.0)(u, v)
    image = image * (0.65 + 0.7 * light[..., None])
    image = np.clip(image, 0, 1) ** np.float32(rng.uniform(0.7, 1.4))
    sigma = rng.uniform(0.0, 0.9)
    if sigma > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    image = image + rng.normal(0, rng.uniform(0.01, 0.05), image.shape).astype(np.float32)
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)

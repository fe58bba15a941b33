"""Objects as lists of polygon parts in metric object coordinates, and their rasterisation.

An object template returns :class:`Part` s in metres, x to the right, y up, the origin where the
object meets the ground. A :class:`Placement` (scale, rotation, mirror, position) maps it into the
image; each part belongs to a *layer* (body, windows, wheels, ...), and every layer is painted with
its own texture and its own random colours, all with the object's class label."""
from dataclasses import dataclass
from typing import Sequence, Tuple

import cv2
import numpy as np

from .drawing import Array, Canvas, Texture, colour_pair, paint

_SUBPIXEL_BITS = 4  # cv2 fixed-point vertices: polygons keep 1/16-pixel precision


@dataclass(frozen=True)
class Part:
    """A filled polygon (``width == 0``) or a polyline ``width`` metres thick; points (N, 2)."""

    points: Array
    layer: int = 0
    width: float = 0.0
    closed: bool = True


def ellipse(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0, n: int = 24) -> Array:
    """Polygon (n, 2) approximating an ellipse rotated by ``angle`` radians."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x, y = rx * np.cos(t), ry * np.sin(t)
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], 1)


def rect(x0: float, y0: float, x1: float, y1: float) -> Array:
    """Axis-aligned rectangle (4, 2)."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def poly(*points: Tuple[float, float]) -> Array:
    """Polygon (N, 2) from its vertices."""
    return np.array(points, np.float64)


@dataclass(frozen=True)
class Placement:
    """Similarity transform object metres -> pixels: u = u0 + s R [±x, y] with v pointing down."""

    u0: float
    v0: float
    scale: float
    angle: float = 0.0
    mirror: bool = False

    def to_pixels(self, points: Array) -> Array:
        """(N, 2) metres -> (N, 2) pixel (u, v)."""
        x = -points[:, 0] if self.mirror else points[:, 0]
        c, s = np.cos(self.angle), np.sin(self.angle)
        u = self.u0 + self.scale * (c * x - s * points[:, 1])
        v = self.v0 - self.scale * (s * x + c * points[:, 1])
        return np.stack([u, v], 1)

    def to_object(self, u: Array, v: Array) -> Tuple[Array, Array]:
        """Pixel grids (h, w) -> object coordinates (x, y) in metres; inverse of ``to_pixels``."""
        du, dv = (u - self.u0) / self.scale, (self.v0 - v) / self.scale
        c, s = np.float32(np.cos(self.angle)), np.float32(np.sin(self.angle))
        x, y = c * du + s * dv, -s * du + c * dv
        return (-x if self.mirror else x), y


def bounds(parts: Sequence[Part]) -> Tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of all part vertices, widths included, in metres."""
    lo = np.min([p.points.min(0) - p.width / 2 for p in parts], 0)
    hi = np.max([p.points.max(0) + p.width / 2 for p in parts], 0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def polygon_mask(points: Array, height: int, width: int) -> Array:
    """Mask (H, W) bool of a polygon given in pixel (u, v) coordinates (N, 2)."""
    pts = np.round(points * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [pts], 1, cv2.LINE_8, _SUBPIXEL_BITS)
    return mask.astype(bool)


def rasterize(parts: Sequence[Part], place: Placement, height: int,
              width: int) -> Tuple[Array, Tuple[int, int]]:
    """Layer map of the object's bounding box within the (H, W) image: uint8 (h, w), the layer of
    the last part covering each pixel, 255 where none; and the box's top-left (row, col)."""
    pixels = [place.to_pixels(part.points) for part in parts]
    pad = max(part.width for part in parts) * place.scale / 2 + 2
    lo = np.floor(np.min([p.min(0) for p in pixels], 0) - pad).astype(int)
    hi = np.ceil(np.max([p.max(0) for p in pixels], 0) + pad).astype(int)
    c0, c1 = np.clip([lo[0], hi[0]], 0, width)
    r0, r1 = np.clip([lo[1], hi[1]], 0, height)
    layers = np.full((r1 - r0, c1 - c0), 255, np.uint8)
    if layers.size == 0:
        return layers, (r0, c0)
    for part, points in zip(parts, pixels):
        pts = np.round((points - [c0, r0]) * (1 << _SUBPIXEL_BITS)).astype(np.int32)
        if part.width > 0:
            thickness = max(1, int(round(part.width * place.scale)))
            cv2.polylines(layers, [pts], part.closed, part.layer, thickness, cv2.LINE_8,
                          _SUBPIXEL_BITS)
        else:
            cv2.fillPoly(layers, [pts], part.layer, cv2.LINE_8, _SUBPIXEL_BITS)
    return layers, (r0, c0)


def draw_object(canvas: Canvas, parts: Sequence[Part], place: Placement, label: int,
                textures: Sequence[Texture], rng: np.random.Generator, instance: int = 0) -> None:
    """Paints an object: layer k with ``textures[k]`` and a fresh random colour pair."""
    if max(p.layer for p in parts) >= len(textures):
        raise ValueError(f'{len(textures)} textures for an object with layers up to '
                         f'{max(p.layer for p in parts)}')
    layers, origin = rasterize(parts, place, canvas.height, canvas.width)
    for layer, texture in enumerate(textures):
        paint(canvas, layers == layer, label, texture, colour_pair(rng), place.to_object, instance,
              origin)


def fit_placement(parts: Sequence[Part], box: Tuple[float, float, float, float],
                  angle: float = 0.0, mirror: bool = False) -> Placement:
    """The placement that fits the object's bounding box inside the pixel box (u0, v0, u1, v1),
    keeping its aspect ratio and centring it."""
    x0, y0, x1, y1 = bounds(parts)
    scale = min((box[2] - box[0]) / (x1 - x0), (box[3] - box[1]) / (y1 - y0))
    centre = np.array([[(x0 + x1) / 2, (y0 + y1) / 2]])
    probe = Placement(0.0, 0.0, scale, angle, mirror).to_pixels(centre)[0]
    return Placement((box[0] + box[2]) / 2 - probe[0], (box[1] + box[3]) / 2 - probe[1], scale,
                     angle, mirror)


"""Object templates shared by the synthetic street and object scenes.

Each template draws the proportions of one instance from ``rng`` and returns a :class:`Drawable`:
its parts (metres, side or rear view, origin on the ground) and one texture per layer. Textures are
class-specific in kind and scale (ribbed cargo boxes, rows of bus windows, spotted hides, curly
wool, ...); colours are not: :func:`mmseg_pixcon.datasets.synthetic.shapes.draw_object` gives
every layer random ones."""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple

import numpy as np

from . import drawing as tx
from .shapes import Part, ellipse, poly, rect

Rng = np.random.Generator


@dataclass
class Drawable:
    """An instance to place: parts, one texture per layer, named attachment points (metres)."""

    parts: List[Part]
    textures: List[tx.Texture]
    anchors: Dict[str, Tuple[float, float]] = field(default_factory=dict)


Template = Callable[[Rng], Drawable]


def _paintwork(rng: Rng) -> tx.Texture:
    """Smooth car paint: a soft highlight ramp."""
    return tx.mix(tx.gradient(rng.uniform(1.2, 1.9)), tx.value_noise(rng, 0.6, 0.6), 0.3)


def _glass(rng: Rng) -> tx.Texture:
    return tx.gradient(rng.uniform(0.3, 1.2))


def _rubber(rng: Rng) -> tx.Texture:
    return tx.value_noise(rng, 0.04, 0.04, contrast=0.6)


def _cloth(rng: Rng) -> tx.Texture:
    """Clothing: plain, striped or checked, at garment scale."""
    choice = rng.integers(3)
    if choice == 0:
        return tx.value_noise(rng, 0.15, 0.15, contrast=0.8)
    if choice == 1:
        return tx.stripes(rng.uniform(0.04, 0.12), rng.uniform(1.3, 1.8))
    return tx.checker(rng.uniform(0.04, 0.1))


def _wheel(x: float, r: float, layer: int) -> Part:
    return Part(ellipse(x, r, r, r), layer)


def car_side(rng: Rng) -> Drawable:
    length, height, r = rng.uniform(3.7, 4.8), rng.uniform(1.35, 1.6), rng.uniform(0.3, 0.36)
    front, back = length / 2, -length / 2
    body = poly((back, 0.3), (front, 0.3), (front, 0.6 * height), (0.3 * length, 0.66 * height),
                (0.15 * length, height), (-0.22 * length, height), (-0.3 * length, 0.66 * height),
                (back, 0.62 * height))
    window = poly((-0.27 * length, 0.68 * height), (0.26 * length, 0.68 * height),
                  (0.13 * length, 0.94 * height), (-0.2 * length, 0.94 * height))
    parts = [Part(body), Part(window, 1),
             _wheel(back + 0.8, r, 2), _wheel(front - 0.8, r, 2)]
    return Drawable(parts, [_paintwork(rng), _glass(rng), _rubber(rng)])


def car_rear(rng: Rng) -> Drawable:
    w, height = rng.uniform(1.65, 1.9) / 2, rng.uniform(1.35, 1.6)
    body = poly((-w, 0.25), (w, 0.25), (w, 0.62 * height), (0.8 * w, 0.67 * height),
                (0.66 * w, height), (-0.66 * w, height), (-0.8 * w, 0.67 * height),
                (-w, 0.62 * height))
    window = poly((-0.72 * w, 0.7 * height), (0.72 * w, 0.7 * height), (0.6 * w, 0.95 * height),
                  (-0.6 * w, 0.95 * height))
    parts = [Part(body), Part(window, 1), Part(rect(-0.95 * w, 0.45 * height, -0.6 * w,
                                                    0.56 * height), 1),
             Part(rect(0.6 * w, 0.45 * height, 0.95 * w, 0.56 * height), 1),
             Part(rect(-w + 0.05, 0, -w + 0.3, 0.3), 2), Part(rect(w - 0.3, 0, w - 0.05, 0.3), 2)]
    return Drawable(parts, [_paintwork(rng), _glass(rng), _rubber(rng)])


def truck_side(rng: Rng) -> Drawable:
    cargo, height = rng.uniform(4.5, 7.5), rng.uniform(3.0, 3.8)
    cab_h, r = rng.uniform(2.6, 3.0), 0.5
    back, front = -(cargo + 2.3) / 2, (cargo + 2.3) / 2
    cab = poly((front - 2.2, 0.5), (front, 0.5), (front, 0.55 * cab_h), (front - 0.35, cab_h),
               (front - 2.2, cab_h))
    parts = [Part(rect(back, 0.6, front - 2.3, height)), Part(cab, 1),
             Part(poly((front - 1.2, 0.6 * cab_h), (front - 0.1, 0.6 * cab_h),
                       (front - 0.4, 0.93 * cab_h), (front - 1.2, 0.93 * cab_h)), 2),
             _wheel(front - 1.3, r, 3), _wheel(back + 1.0, r, 3), _wheel(back + 2.1, r, 3)]
    ribs = tx.stripes(rng.uniform(0.25, 0.6), 0.0, rng.uniform(0.15, 0.35))
    return Drawable(parts, [ribs, tx.flat(), _glass(rng), _rubber(rng)])


def truck_rear(rng: Rng) -> Drawable:
    w, height = rng.uniform(2.4, 2.55) / 2, rng.uniform(3.0, 3.8)
    parts = [Part(rect(-w, 0.65, w, height)), Part(rect(-w, 0.45, w, 0.65), 1),
             Part(rect(-w + 0.05, 0, -w + 0.45, 0.45), 3),
             Part(rect(w - 0.45, 0, w - 0.05, 0.45), 3),
             Part(rect(-0.02, 0.7, 0.02, height - 0.05), 2)]
    ribs = tx.stripes(rng.uniform(0.25, 0.6), 0.0, rng.uniform(0.15, 0.35))
    return Drawable(parts, [ribs, tx.flat(), tx.flat(), _rubber(rng)])


def _window_row(rng: Rng) -> tx.Texture:
    """Passenger windows: tall panes separated by narrow pillars."""
    return tx.cells(rng.uniform(1.1, 2.0), 10.0, rng.uniform(0.75, 0.9), 1.0, rng.random())


def bus_side(rng: Rng) -> Drawable:
    half, height = rng.uniform(10.0, 13.0) / 2, rng.uniform(2.9, 3.3)
    body = poly((-half, 0.3), (half, 0.3), (half, height - 0.3), (half - 0.3, height),
                (-half + 0.2, height), (-half, height - 0.2))
    parts = [Part(body), Part(rect(-half + 0.4, 0.55 * height, half - 0.2, 0.9 * height), 1),
             Part(rect(half - 2.0, 0.3, half - 1.0, 0.9 * height), 2),
             _wheel(-half + 2.4, 0.5, 3), _wheel(half - 2.6, 0.5, 3)]
    return Drawable(parts, [_paintwork(rng), _window_row(rng),
                            tx.stripes(rng.uniform(0.2, 0.4), np.pi / 2), _rubber(rng)])


def bus_rear(rng: Rng) -> Drawable:
    w, height = rng.uniform(2.45, 2.55) / 2, rng.uniform(2.9, 3.3)
    parts = [Part(rect(-w, 0.35, w, height)),
             Part(rect(-0.8 * w, 0.62 * height, 0.8 * w, 0.9 * height), 1),
             Part(rect(-0.9 * w, 0.3 * height, -0.7 * w, 0.42 * height), 2),
             Part(rect(0.7 * w, 0.3 * height, 0.9 * w, 0.42 * height), 2),
             Part(rect(-w + 0.05, 0, -w + 0.4, 0.4), 3), Part(rect(w - 0.4, 0, w - 0.05, 0.4), 3)]
    return Drawable(parts, [_paintwork(rng), _glass(rng), tx.flat(), _rubber(rng)])


def train_side(rng: Rng, max_cars: int = 3) -> Drawable:
    """A tram/train of 1..max_cars cars with a pantograph; livery band, window row, bogies."""
    cars, height = int(rng.integers(1, max_cars + 1)), rng.uniform(3.3, 3.8)
    lengths = rng.uniform(12.0, 16.0, cars)
    x, parts = -(lengths.sum() + 0.4 * (cars - 1)) / 2, []
    for i, length in enumerate(lengths):
        x1 = x + length
        nose = 1.2 if i == cars - 1 else 0.0
        parts += [Part(poly((x, 0.5), (x1, 0.5), (x1, height - nose), (x1 - nose, height),
                            (x, height))),
                  Part(rect(x + 0.8, 0.55 * height, x1 - 0.3 - nose, 0.85 * height), 1),
                  Part(rect(x + 0.3, 0.15, x1 - 0.3, 0.5), 2),
                  _wheel(x + 2.5, 0.4, 2), _wheel(x1 - 2.5, 0.4, 2)]
        mid = (x + x1) / 2
        parts.append(Part(poly((mid - 1.0, height), (mid, height + 0.9), (mid + 1.0, height)), 2,
                          0.08, closed=False))
        x = x1 + 0.4
    livery = tx.stripes(rng.uniform(0.6, 1.5), np.pi / 2, rng.uniform(0.2, 0.4))
    return Drawable(parts, [livery, _window_row(rng), tx.value_noise(rng, 0.2, 0.2)])


def person(rng: Rng) -> Drawable:
    """A standing or walking pedestrian: head, torso with arms, legs."""
    h = rng.uniform(1.5, 1.95)
    torso = poly((-0.12 * h, 0.8 * h), (0.12 * h, 0.8 * h), (0.09 * h, 0.48 * h),
                 (-0.09 * h, 0.48 * h))
    parts = [Part(torso)]
    for side in (-1, 1):
        hand = (side * 0.13 * h + rng.uniform(-0.1, 0.1) * h, 0.45 * h)
        parts.append(Part(poly((side * 0.11 * h, 0.78 * h), hand), 0, 0.05 * h, closed=False))
        foot = (side * 0.05 * h + rng.uniform(-0.15, 0.15) * h, 0.0)
        parts.append(Part(poly((side * 0.05 * h, 0.5 * h), foot), 1, 0.075 * h, closed=False))
    parts.append(Part(ellipse(0, 0.93 * h, 0.055 * h, 0.068 * h), 2))
    return Drawable(parts, [_cloth(rng), _cloth(rng), tx.value_noise(rng, 0.03, 0.03)])


def rider(rng: Rng, seat: Tuple[float, float], handle: Tuple[float, float],
          pedal: Tuple[float, float]) -> Drawable:
    """A seated person whose hands reach ``handle`` and feet ``pedal`` (bike anchors, metres)."""
    h = rng.uniform(1.6, 1.9)
    hip = np.array(seat)
    shoulder = hip + np.array([rng.uniform(0.1, 0.2), 0.3]) * h
    knee = hip + np.array([0.25, 0.05]) * h
    torso = np.stack([hip + [-0.08 * h, 0], hip + [0.08 * h, 0], shoulder + [0.08 * h, 0],
                      shoulder - [0.08 * h, 0]])
    parts = [Part(torso), Part(np.stack([shoulder, handle]), 0, 0.05 * h, closed=False),
             Part(np.stack([hip, knee, pedal]), 1, 0.075 * h, closed=False),
             Part(ellipse(shoulder[0] + 0.02 * h, shoulder[1] + 0.1 * h, 0.055 * h, 0.068 * h), 2)]
    return Drawable(parts, [_cloth(rng), _cloth(rng), tx.value_noise(rng, 0.03, 0.03)])


def bicycle(rng: Rng) -> Drawable:
    """Thin frame and two ring wheels; anchors for a rider."""
    r, base = rng.uniform(0.3, 0.36), rng.uniform(0.95, 1.1)
    rear, front = (-base / 2, r), (base / 2, r)
    bracket, seat = (-0.05, r - 0.02), (-0.2 * base, r + 0.55)
    head, handle = (0.35 * base, r + 0.6), (0.3 * base, r + 0.72)
    tube = 0.04
    parts = [Part(poly(rear, bracket, seat), 0, tube), Part(poly(bracket, head, seat), 0, tube),
             Part(poly(head, front), 0, tube, closed=False),
             Part(poly(head, handle), 0, tube, closed=False),
             Part(rect(seat[0] - 0.1, seat[1], seat[0] + 0.08, seat[1] + 0.05)),
             Part(ellipse(*rear, r, r), 1, 0.05), Part(ellipse(*front, r, r), 1, 0.05)]
    anchors = dict(seat=(seat[0], seat[1] + 0.05), handle=handle,
                   pedal=(bracket[0] + 0.1, bracket[1] - 0.1))
    return Drawable(parts, [tx.flat(), _rubber(rng)], anchors)


def motorcycle(rng: Rng) -> Drawable:
    """Heavy wheels with rims, an engine/tank block, fork and handlebar; anchors for a rider."""
    r, base = rng.uniform(0.3, 0.34), rng.uniform(1.35, 1.5)
    rear, front = -base / 2, base / 2
    body = poly((rear + 0.1, r + 0.25), (-0.2, r - 0.05), (0.35, r - 0.05), (front - 0.2, r + 0.35),
                (front - 0.3, r + 0.65), (0.1, r + 0.6), (-0.3, r + 0.5), (rear, r + 0.45))
    parts = [Part(body), Part(poly((front, r), (front - 0.3, r + 0.8)), 0, 0.07, closed=False),
             _wheel(rear, r, 1), _wheel(front, r, 1),
             Part(ellipse(rear, r, 0.55 * r, 0.55 * r), 2),
             Part(ellipse(front, r, 0.55 * r, 0.55 * r), 2),
             Part(poly((rear + 0.2, r - 0.05), (0.2, r - 0.1)), 2, 0.08, closed=False)]
    anchors = dict(seat=(-0.2, r + 0.55), handle=(front - 0.3, r + 0.78), pedal=(0.0, r))
    spokes = tx.stripes(rng.uniform(0.03, 0.06), rng.uniform(0, np.pi))
    return Drawable(parts, [_paintwork(rng), _rubber(rng), spokes], anchors)


def pole(rng: Rng, height: float, arm: float = 0.0) -> Drawable:
    """A round pole ``height`` metres tall with an arm ``arm`` metres long at the top (0: none);
    anchor ``top`` is the end of the arm, where a light or sign hangs."""
    w = rng.uniform(0.12, 0.25)
    parts = [Part(rect(-w / 2, 0, w / 2, height))]
    if arm:
        parts.append(Part(rect(0, height - 0.8 * w, arm, height)))
    return Drawable(parts, [tx.gradient(0.0)], dict(top=(arm, height)))


_SIGN_SHAPES = ('circle', 'triangle', 'square', 'diamond', 'octagon', 'plate')


def traffic_sign(rng: Rng, base: Tuple[float, float]) -> Drawable:
    """A sign face above ``base`` (metres) with a contrasting border."""
    size, shape = rng.uniform(0.5, 0.85), _SIGN_SHAPES[int(rng.integers(len(_SIGN_SHAPES)))]
    cx, cy = base[0], base[1] + size / 2
    s = size / 2
    outline = {
        'circle': ellipse(cx, cy, s, s),
        'triangle': poly((cx - s, cy - 0.8 * s), (cx + s, cy - 0.8 * s), (cx, cy + s)),
        'square': rect(cx - s, cy - s, cx + s, cy + s),
        'diamond': poly((cx - s, cy), (cx, cy - s), (cx + s, cy), (cx, cy + s)),
        'octagon': ellipse(cx, cy, s, s, np.pi / 8, n=8),
        'plate': rect(cx - 1.5 * s, cy - 0.6 * s, cx + 1.5 * s, cy + 0.6 * s),
    }[shape]
    parts = [Part(outline), Part(outline, 1, 0.15 * size)]
    inner = tx.flat() if rng.random() < 0.5 else tx.stripes(0.12 * size, rng.uniform(0, np.pi))
    return Drawable(parts, [inner, tx.flat()])


def traffic_light(rng: Rng, top: Tuple[float, float]) -> Drawable:
    """A housing hanging below ``top`` (metres) with three round lamps."""
    w, h = rng.uniform(0.28, 0.36), rng.uniform(0.8, 1.0)
    x, y = top
    parts = [Part(rect(x - w / 2, y - h, x + w / 2, y))]
    for k in range(3):
        parts.append(Part(ellipse(x, y - h * (k + 0.5) / 3, 0.36 * w, 0.36 * w), 1))
    return Drawable(parts, [tx.value_noise(rng, 0.1, 0.1, 0.5), tx.gradient(rng.uniform(0, 3))])


def foliage(rng: Rng) -> tx.Texture:
    """Leaves: dense blobs at leaf-cluster scale over a noisy base."""
    cell = rng.uniform(0.08, 0.25)
    leaves = tx.spots(rng, cell, rng.uniform(0.35, 0.6))
    return tx.mix(leaves, tx.value_noise(rng, cell / 2, cell / 2), 0.35)


def tree(rng: Rng) -> Drawable:
    """Trunk plus a crown of overlapping ellipses."""
    trunk_h, crown = rng.uniform(1.5, 3.5), rng.uniform(1.0, 2.6)
    w = rng.uniform(0.2, 0.45)
    parts = [Part(rect(-w / 2, 0, w / 2, trunk_h + crown))]
    for _ in range(int(rng.integers(4, 10))):
        dx, dy = rng.uniform(-1, 1, 2) * crown * np.array([0.8, 0.6])
        rx, ry = rng.uniform(0.4, 0.8, 2) * crown
        parts.append(Part(ellipse(dx, trunk_h + crown + dy, rx, ry), 1))
    return Drawable(parts, [tx.value_noise(rng, 0.05, 0.3, 2.5), foliage(rng)])


def hedge(rng: Rng, length: float, height: float) -> Drawable:
    """A hedge ``length`` wide with a bumpy top."""
    xs = np.linspace(-length / 2, length / 2, 16)
    tops = height + rng.uniform(-0.25, 0.25, 16) * height
    outline = np.concatenate([[[-length / 2, 0]], np.stack([xs, tops], 1), [[length / 2, 0]]])
    return Drawable([Part(outline)], [foliage(rng)])


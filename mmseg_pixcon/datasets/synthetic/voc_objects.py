"""Templates of the PASCAL VOC classes that do not occur in street scenes (see :mod:`.objects`).

Same conventions: metres, x right, y up, origin on the ground, one texture per layer. The body
texture of each class has its own kind and scale (feathers, tabby stripes, spotted hide, curly wool,
wood grain, fabric, screen content, ...), the silhouette its own parts.
"""
import numpy as np

from . import drawing as tx
from .objects import Drawable, Rng, foliage
from .shapes import Part, ellipse, poly, rect


def _line(*points: tuple, width: float, layer: int = 0) -> Part:
    return Part(poly(*points), layer, width, closed=False)


def aeroplane(rng: Rng) -> Drawable:
    """Side view: fuselage, swept wing, fin and tailplane, engine under the wing."""
    length = rng.uniform(20.0, 40.0)
    d = length * rng.uniform(0.09, 0.13)
    y = d  # fuselage axis height, so the wheels-down origin stays on the ground
    fuselage = ellipse(0.02 * length, y, 0.48 * length, d / 2, n=32)
    tail_cone = poly((-0.3 * length, y + d / 2), (-0.52 * length, y + 0.45 * d),
                     (-0.5 * length, y + 0.2 * d), (-0.3 * length, y - d / 2))
    span = length * rng.uniform(0.25, 0.4)
    wing = poly((0.08 * length, y), (-0.12 * length, y), (-0.3 * length, y - span),
                (-0.2 * length, y - span))
    fin = poly((-0.33 * length, y + 0.3 * d), (-0.5 * length, y + 0.3 * d),
               (-0.52 * length, y + 0.3 * length), (-0.44 * length, y + 0.3 * length))
    tailplane = poly((-0.38 * length, y), (-0.5 * length, y), (-0.56 * length, y - 0.12 * length))
    engine = ellipse(-0.08 * length, y - 0.35 * span, 0.07 * length, 0.25 * d)
    parts = [Part(fuselage), Part(tail_cone), Part(wing, 1), Part(fin, 1), Part(tailplane, 1),
             Part(engine, 2),
             Part(rect(-0.35 * length, y + 0.05 * d, 0.35 * length, y + 0.2 * d), 2)]
    livery = tx.stripes(d * rng.uniform(0.15, 0.4), np.pi / 2, rng.uniform(0.15, 0.35))
    return Drawable(parts, [tx.mix(tx.gradient(np.pi / 2), livery, 0.6),
                            tx.gradient(rng.uniform(0, np.pi)),
                            tx.cells(rng.uniform(0.5, 0.9), 10.0, 0.5, 1.0)])


def bird(rng: Rng) -> Drawable:
    """Body, head with beak, tail; wings raised in flight or folded when perched (then legs)."""
    s = rng.uniform(0.15, 0.4)
    flying = rng.random() < 0.5
    y = 0.1 * s if flying else 0.35 * s
    parts = [Part(ellipse(0, y + 0.2 * s, 0.45 * s, 0.2 * s)),
             Part(ellipse(0.45 * s, y + 0.38 * s, 0.15 * s, 0.14 * s)),
             Part(poly((-0.4 * s, y + 0.25 * s), (-0.85 * s, y + 0.4 * s),
                       (-0.85 * s, y + 0.1 * s))),
             Part(poly((0.58 * s, y + 0.42 * s), (0.8 * s, y + 0.36 * s),
                       (0.58 * s, y + 0.32 * s)), 1)]
    if flying:
        lift = rng.uniform(0.4, 1.0) * s
        parts.append(Part(poly((-0.2 * s, y + 0.3 * s), (0.2 * s, y + 0.3 * s),
                               (-0.1 * s, y + 0.3 * s + lift), (-0.5 * s, y + 0.2 * s + lift)), 2))
    else:
        parts.append(Part(ellipse(-0.1 * s, y + 0.22 * s, 0.3 * s, 0.12 * s), 2))
        parts += [_line((d * s, y + 0.05 * s), (d * s + 0.05 * s, 0), width=0.04 * s, layer=1)
                  for d in (-0.05, 0.1)]
    feathers = tx.value_noise(rng, 0.02 * s, 0.08 * s, contrast=2.5)
    bars = tx.stripes(rng.uniform(0.05, 0.1) * s, rng.uniform(0.2, 1.0), 0.35)
    return Drawable(parts, [feathers, tx.flat(), bars])


def boat(rng: Rng) -> Drawable:
    """A hull with a cabin, and a mast with a sail half of the time."""
    length = rng.uniform(4.0, 10.0)
    h = length * rng.uniform(0.12, 0.2)
    hull = poly((-0.5 * length, h), (0.55 * length, h * 1.15), (0.4 * length, 0),
                (-0.45 * length, 0))
    parts = [Part(hull), Part(rect(-0.25 * length, h, 0.1 * length, 1.9 * h), 1)]
    if rng.random() < 0.5:
        mast = rng.uniform(0.6, 1.0) * length
        parts += [_line((0.15 * length, h), (0.15 * length, h + mast), width=0.012 * length,
                        layer=2),
                  Part(poly((0.13 * length, h + 0.15 * mast), (0.13 * length, h + mast),
                            (-0.35 * length, h + 0.15 * mast)), 2)]
    planks = tx.stripes(h * rng.uniform(0.1, 0.25), np.pi / 2, rng.uniform(0.1, 0.3))
    portholes = tx.cells(h * rng.uniform(0.4, 0.7), h * 0.9, 0.4, 0.45, rng.random(), 0.3)
    return Drawable(parts, [planks, portholes, tx.gradient(rng.uniform(0, np.pi))])


def bottle(rng: Rng) -> Drawable:
    """Upright bottle: body, shoulders and neck; cap and label."""
    h = rng.uniform(0.2, 0.35)
    w = h * rng.uniform(0.22, 0.35) / 2
    neck = w * rng.uniform(0.3, 0.45)
    shoulder = h * rng.uniform(0.55, 0.7)
    outline = poly((-w, 0), (w, 0), (w, shoulder), (neck, 0.85 * h), (neck, 0.96 * h),
                   (-neck, 0.96 * h), (-neck, 0.85 * h), (-w, shoulder))
    parts = [Part(outline), Part(rect(-neck * 1.1, 0.93 * h, neck * 1.1, h), 1),
             Part(rect(-w, 0.2 * h, w, 0.45 * h), 2)]
    label = tx.checker(w * rng.uniform(0.2, 0.5)) if rng.random() < 0.5 else tx.stripes(
        w * rng.uniform(0.2, 0.5), np.pi / 2)
    return Drawable(parts, [tx.gradient(0.0), tx.flat(), label])


def _legs(xs: tuple, top: float, width: float, rng: Rng, layer: int = 0) -> list:
    return [_line((x, top), (x + rng.uniform(-0.3, 0.3) * width * 2, 0), width=width, layer=layer)
            for x in xs]


def cat(rng: Rng) -> Drawable:
    """Crouching or walking cat: body, round head with pointed ears, curved tail; tabby stripes."""
    s = rng.uniform(0.35, 0.5)
    leg = s * rng.uniform(0.15, 0.35)
    body_y = leg + 0.12 * s
    head = (0.55 * s, body_y + 0.22 * s)
    r = 0.14 * s
    parts = [Part(ellipse(0, body_y, 0.5 * s, 0.17 * s)), Part(ellipse(*head, r, r * 0.9))]
    parts += [Part(poly((head[0] + dx * r - 0.5 * r, head[1] + 0.5 * r),
                        (head[0] + dx * r + 0.5 * r, head[1] + 0.5 * r),
                        (head[0] + dx * r, head[1] + 1.5 * r)), 1) for dx in (-0.6, 0.6)]
    curl = rng.uniform(0.2, 0.6) * s
    parts.append(_line((-0.45 * s, body_y), (-0.75 * s, body_y + 0.2 * s),
                       (-0.8 * s, body_y + 0.2 * s + curl), width=0.07 * s))
    parts += _legs((-0.35 * s, -0.2 * s, 0.25 * s, 0.38 * s), body_y, 0.08 * s, rng)
    tabby = tx.mix(tx.stripes(s * rng.uniform(0.06, 0.12), rng.uniform(-0.3, 0.3), 0.4),
                   tx.value_noise(rng, 0.03 * s, 0.03 * s), 0.3)
    return Drawable(parts, [tabby, tx.flat()])


def chair(rng: Rng) -> Drawable:
    """Front three-quarter chair: slatted back, seat, four thin legs."""
    w, seat = rng.uniform(0.4, 0.5) / 2, rng.uniform(0.42, 0.48)
    back = seat + rng.uniform(0.4, 0.55)
    leg = rng.uniform(0.025, 0.04)
    parts = [Part(rect(-0.9 * w, seat + 0.05, 0.9 * w, back)),
             Part(poly((-w, seat), (w, seat), (0.9 * w, seat + 0.08), (-0.9 * w, seat + 0.08)), 1)]
    parts += [_line((x, seat), (x * 1.05, 0), width=leg) for x in (-w, w)]
    parts += [_line((x, seat + 0.08), (x, 0.08), width=leg) for x in (-0.85 * w, 0.85 * w)]
    slats = tx.stripes(w * rng.uniform(0.15, 0.4), 0.0, rng.uniform(0.3, 0.6))
    grain = tx.value_noise(rng, 0.01, 0.12, contrast=2.5)
    return Drawable(parts, [slats, grain])


def cow(rng: Rng) -> Drawable:
    """Boxy body on four thick legs, head with horns, udder; black-and-white style spots."""
    s = rng.uniform(2.0, 2.5)
    top, bottom = 0.6 * s, 0.32 * s
    body = poly((-0.42 * s, bottom), (0.3 * s, bottom), (0.36 * s, top - 0.05 * s),
                (0.3 * s, top), (-0.4 * s, top), (-0.45 * s, top - 0.06 * s))
    head = poly((0.3 * s, top - 0.02 * s), (0.42 * s, top + 0.02 * s), (0.56 * s, 0.4 * s),
                (0.5 * s, 0.36 * s), (0.33 * s, 0.45 * s))
    parts = [Part(body), Part(head)]
    parts += _legs((-0.38 * s, -0.28 * s, 0.18 * s, 0.27 * s), bottom + 0.02 * s, 0.07 * s, rng)
    parts += [_line((0.4 * s, top + 0.01 * s), (0.4 * s + dx, top + 0.09 * s), width=0.02 * s,
                    layer=1) for dx in (-0.05 * s, 0.05 * s)]
    parts += [Part(ellipse(-0.05 * s, bottom, 0.07 * s, 0.04 * s), 1),
              _line((-0.44 * s, top - 0.05 * s), (-0.48 * s, 0.3 * s), width=0.015 * s)]
    return Drawable(parts, [tx.spots(rng, s * rng.uniform(0.08, 0.15), rng.uniform(0.3, 0.5)),
                            tx.flat()])


def diningtable(rng: Rng) -> Drawable:
    """Table top seen from slightly above (a trapezoid), apron and legs; wood grain."""
    w, h = rng.uniform(1.2, 2.0) / 2, rng.uniform(0.72, 0.78)
    depth = rng.uniform(0.2, 0.45)
    top = poly((-w, h), (w, h), (0.8 * w, h + depth), (-0.8 * w, h + depth))
    parts = [Part(top), Part(rect(-w, h - 0.08, w, h))]
    parts += [Part(rect(x - 0.03, 0, x + 0.03, h - 0.08), 1) for x in (-0.92 * w, 0.92 * w)]
    parts += [Part(rect(x - 0.025, 0.1, x + 0.025, h - 0.08), 1) for x in (-0.7 * w, 0.7 * w)]
    grain = tx.value_noise(rng, rng.uniform(0.08, 0.2), rng.uniform(0.005, 0.02), contrast=2.5)
    return Drawable(parts, [grain, tx.gradient(0.0)])


def dog(rng: Rng) -> Drawable:
    """Dog: body, head with snout and floppy ear, raised tail, four legs; short fur."""
    s = rng.uniform(0.6, 1.0)
    leg = s * rng.uniform(0.3, 0.45)
    y = leg + 0.12 * s
    parts = [Part(ellipse(0, y, 0.42 * s, 0.16 * s)),
             Part(poly((0.3 * s, y), (0.4 * s, y + 0.3 * s), (0.5 * s, y + 0.25 * s),
                       (0.42 * s, y - 0.05 * s))),
             Part(ellipse(0.47 * s, y + 0.32 * s, 0.12 * s, 0.1 * s)),
             Part(ellipse(0.6 * s, y + 0.28 * s, 0.09 * s, 0.05 * s)),
             Part(ellipse(0.43 * s, y + 0.27 * s, 0.05 * s, 0.1 * s, 0.3), 1),
             _line((-0.4 * s, y + 0.05 * s), (-0.55 * s, y + rng.uniform(0.1, 0.35) * s),
                   width=0.05 * s)]
    parts += _legs((-0.3 * s, -0.18 * s, 0.2 * s, 0.3 * s), y, 0.07 * s, rng)
    fur = tx.value_noise(rng, s * rng.uniform(0.02, 0.05), s * rng.uniform(0.02, 0.05), 1.5)
    return Drawable(parts, [fur, tx.flat()])


def horse(rng: Rng) -> Drawable:
    """Horse: barrel body on long thin legs, arched neck, long head; mane and tail streaks."""
    s = rng.uniform(2.2, 2.6)
    y = 0.62 * s
    parts = [Part(ellipse(0, y, 0.36 * s, 0.13 * s)),
             Part(poly((0.22 * s, y), (0.32 * s, y + 0.08 * s), (0.44 * s, y + 0.32 * s),
                       (0.38 * s, y + 0.36 * s), (0.26 * s, y + 0.14 * s))),
             Part(poly((0.38 * s, y + 0.36 * s), (0.45 * s, y + 0.37 * s), (0.58 * s, y + 0.2 * s),
                       (0.54 * s, y + 0.17 * s)))]
    parts += _legs((-0.28 * s, -0.2 * s, 0.18 * s, 0.25 * s), y - 0.05 * s, 0.035 * s, rng)
    parts += [_line((0.27 * s, y + 0.14 * s), (0.38 * s, y + 0.37 * s), width=0.03 * s, layer=1),
              _line((-0.36 * s, y + 0.02 * s), (-0.42 * s, y - 0.2 * s), (-0.4 * s, y - 0.35 * s),
                    width=0.05 * s, layer=1)]
    coat = tx.mix(tx.gradient(rng.uniform(1.2, 1.9)), tx.value_noise(rng, 0.3, 0.3), 0.2)
    return Drawable(parts, [coat, tx.value_noise(rng, 0.01, 0.15, 2.5)])


def pottedplant(rng: Rng) -> Drawable:
    """A flared pot with leaves fanning out of it."""
    w, h = rng.uniform(0.12, 0.2), rng.uniform(0.18, 0.3)
    parts = [Part(poly((-0.75 * w, 0), (0.75 * w, 0), (w, h), (-w, h)))]
    for angle in rng.uniform(-1.2, 1.2, int(rng.integers(5, 12))):
        leaf = rng.uniform(0.15, 0.35)
        cx, cy = np.sin(angle) * leaf / 2, h + np.cos(angle) * leaf / 2
        parts.append(Part(ellipse(cx, cy, leaf * rng.uniform(0.12, 0.25), leaf / 2, -angle), 1))
    bands = tx.stripes(h * rng.uniform(0.15, 0.35), np.pi / 2, rng.uniform(0.15, 0.4))
    return Drawable(parts, [bands, foliage(rng)])


def sheep(rng: Rng) -> Drawable:
    """A fluffy body of overlapping circles on thin dark legs, small head; curly wool."""
    s = rng.uniform(1.0, 1.4)
    y = 0.38 * s
    parts = [Part(ellipse(x * 0.3 * s, y + dy * 0.08 * s, r * s, r * s))
             for x, dy, r in zip(np.linspace(-1, 1, 9), rng.uniform(-1, 1, 9),
                                 rng.uniform(0.12, 0.17, 9))]
    parts += _legs((-0.25 * s, -0.15 * s, 0.15 * s, 0.25 * s), y - 0.05 * s, 0.035 * s, rng, 1)
    parts.append(Part(ellipse(0.42 * s, y + 0.1 * s, 0.1 * s, 0.07 * s, -0.4), 1))
    wool = tx.spots(rng, s * rng.uniform(0.015, 0.03), rng.uniform(0.45, 0.6))
    return Drawable(parts, [wool, tx.flat()])


def sofa(rng: Rng) -> Drawable:
    """Front view: seat block, back cushion, two rounded arm rests, short feet; fabric weave."""
    w = rng.uniform(1.6, 2.4) / 2
    seat, back = rng.uniform(0.4, 0.48), rng.uniform(0.8, 0.95)
    arm = rng.uniform(0.18, 0.28)
    parts = [Part(rect(-w + arm, seat, w - arm, back)), Part(rect(-w, 0.08, w, seat))]
    for side in (-1, 1):
        x = side * (w - arm / 2)
        parts.append(Part(np.concatenate([rect(x - arm / 2, 0.08, x + arm / 2, seat + 0.1)[:2],
                                          ellipse(x, seat + 0.1, arm / 2, arm / 3)[:13]]), 1))
        parts.append(Part(rect(x - 0.03, 0, x + 0.03, 0.08), 2))
    weave = (tx.checker(rng.uniform(0.02, 0.08)) if rng.random() < 0.5
             else tx.hatch(rng.uniform(0.02, 0.06), 0.01, rng.uniform(0, 1)))
    return Drawable(parts, [weave, weave, tx.flat()])


def tvmonitor(rng: Rng) -> Drawable:
    """A screen in a frame on a stand; the screen shows random content."""
    w = rng.uniform(0.4, 0.8) / 2
    h = 2 * w * rng.uniform(0.6, 0.8)
    stand = rng.uniform(0.05, 0.15)
    bezel = rng.uniform(0.02, 0.05)
    parts = [Part(rect(-w, stand, w, stand + h)),
             Part(poly((-0.1 * w, stand), (0.1 * w, stand), (0.15 * w, 0), (-0.15 * w, 0))),
             Part(rect(-0.4 * w, 0, 0.4 * w, 0.02)),
             Part(rect(-w + bezel, stand + bezel, w - bezel, stand + h - bezel), 1)]
    content = (tx.value_noise(rng, 0.05, 0.05, 1.5), tx.gradient(rng.uniform(0, np.pi)),
               tx.stripes(rng.uniform(0.02, 0.1), rng.uniform(0, np.pi)))[int(rng.integers(3))]
    return Drawable(parts, [tx.flat(), content])

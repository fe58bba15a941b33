"""Synthetic street scenes in the exact Cityscapes layout; the stock CityscapesDataset loads them.

Each image is a street seen from a car: a pinhole camera over a ground plane, a road with lane
markings between sidewalks (sometimes grass), building facades with perspective-correct windows,
walls, fences, poles carrying signs and lights, trees, and vehicles, pedestrians and riders
standing on the ground at their depth, painted far to near so near objects occlude far ones. Every
region gets random colours; the classes differ by shape, texture, size at a given depth and place
in the scene.

Layout written under ``root``::

    leftImg8bit/{train,val}/<city>/<city>_<seq:06d>_000019_leftImg8bit.png        RGB
    gtFine/{train,val}/<city>/<city>_<seq:06d>_000019_gtFine_labelTrainIds.png    0..18, 255 ignore
    gtFine/{train,val}/<city>/<city>_<seq:06d>_000019_gtFine_labelIds.png         Cityscapes ids
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np

from ..classes import CITYSCAPES_CLASSES
from . import drawing as tx
from . import objects
from .drawing import Array, Canvas, colour_pair, paint
from .output import run_jobs, save_png, start_dataset
from .shapes import Part, Placement, draw_object, ellipse, polygon_mask, rect

# Cityscapes label id of each trainId (cityscapesscripts' label table); 255 -> id 0 'unlabeled'.
TRAINID_TO_LABELID = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33)
UNLABELED_ID = 0
IGNORE_INDEX = 255
TRAIN_CITIES = ('aachen', 'bochum', 'bremen', 'cologne', 'darmstadt', 'dusseldorf')
VAL_CITIES = ('frankfurt', 'lindau', 'munster')
FRAME = 19  # Cityscapes annotates the 20th frame of each snippet
OWNED = ('leftImg8bit', 'gtFine')

_C = {name: i for i, name in enumerate(CITYSCAPES_CLASSES)}
_FAR = 150.0  # metres; the ground and facades are clipped there
_TEXTURE_FAR = 40.0


def trainids_to_labelids(train_ids: Array) -> Array:
    """(H, W) uint8 trainIds -> (H, W) uint8 Cityscapes label ids; anything not 0..18 -> 0."""
    lut = np.full(256, UNLABELED_ID, np.uint8)
    lut[:len(TRAINID_TO_LABELID)] = TRAINID_TO_LABELID
    return lut[train_ids]


@dataclass(frozen=True)
class StreetCamera:
    """Pinhole camera ``cam_height`` metres over flat ground, looking along +Z; f in pixels."""

    height: int
    width: int
    focal: float
    cx: float
    horizon: float
    cam_height: float

    @classmethod
    def sample(cls, rng: np.random.Generator, height: int, width: int) -> 'StreetCamera':
        return cls(height, width, 1.1 * width, width * rng.uniform(0.42, 0.58),
                   height * rng.uniform(0.36, 0.48), rng.uniform(1.1, 1.5))

    @property
    def nearest_ground(self) -> float:
        """Depth (m) of the ground seen in the bottom image row."""
        return self.focal * self.cam_height / (self.height - self.horizon)

    def project(self, x: Array, y: Array, z: Array) -> Array:
        """World points (metres) -> pixel (u, v), stacked (N, 2)."""
        return np.stack([self.cx + self.focal * x / z,
                         self.horizon + self.focal * (self.cam_height - y) / z], 1)

    def at(self, x: float, z: float, mirror: bool = False) -> Placement:
        """Placement of an upright object standing on the ground at (x, z), facing the camera."""
        u, v = self.project(np.array([x]), np.array([0.0]), np.array([z]))[0]
        return Placement(float(u), float(v), self.focal / z, 0.0, mirror)

    def ground(self, u: Array, v: Array, far: float = _TEXTURE_FAR) -> Tuple[Array, Array]:
        """Pixels -> ground-plane (X, Z) metres, Z clipped at ``far``.

        Textures use the near default: farther texels are below a pixel anyway, and a short range
        keeps the noise lattices small.
        """
        z = np.minimum(self.focal * self.cam_height / np.maximum(v - self.horizon, 1e-3), far)
        return (u - self.cx) * z / self.focal, z

    def side_wall(self, x_plane: float) -> Callable[[Array, Array], Tuple[Array, Array]]:
        """Pixels -> (Z, Y) metres on the vertical plane X = ``x_plane`` (along the street)."""
        def coords(u: Array, v: Array) -> Tuple[Array, Array]:
            du = np.where(np.sign(u - self.cx) == np.sign(x_plane), u - self.cx, np.sign(x_plane))
            z = np.clip(self.focal * x_plane / du, 0.1, _FAR)
            return z, self.cam_height - (v - self.horizon) * z / self.focal
        return coords

    def front_wall(self, z_plane: float) -> Callable[[Array, Array], Tuple[Array, Array]]:
        """Pixels -> (X, Y) metres on the vertical plane Z = ``z_plane`` (across the street)."""
        def coords(u: Array, v: Array) -> Tuple[Array, Array]:
            return ((u - self.cx) * z_plane / self.focal,
                    self.cam_height - (v - self.horizon) * z_plane / self.focal)
        return coords


@dataclass(frozen=True)
class Street:
    """Cross-section of the street (metres, X to the right): road, sidewalks, grass, facades."""

    road: Tuple[float, float]
    sidewalk: Tuple[float, float]
    grass: Tuple[float, float]

    @classmethod
    def sample(cls, rng: np.random.Generator) -> 'Street':
        road = (-rng.uniform(3.5, 7.5), rng.uniform(3.5, 7.5))
        walk = tuple(rng.uniform(1.5, 4.0, 2))
        grass = tuple(np.where(rng.random(2) < 0.5, 0.0, rng.uniform(1.0, 3.5, 2)))
        return cls(road, walk, grass)

    @property
    def facades(self) -> Tuple[float, float]:
        return (self.road[0] - self.sidewalk[0] - self.grass[0],
                self.road[1] + self.sidewalk[1] + self.grass[1])

    def on_sidewalk(self, rng: np.random.Generator) -> float:
        """A random X on either sidewalk."""
        side = int(rng.integers(2))
        offset = rng.uniform(0.3, self.sidewalk[side] - 0.2)
        return self.road[0] - offset if side == 0 else self.road[1] + offset

    def in_lane(self, rng: np.random.Generator, near_curb: bool) -> float:
        """A random X on the road; ``near_curb``: the parking strip along either kerb."""
        if near_curb:
            side = int(rng.integers(2))
            return self.road[side] + (1.0 if side == 0 else -1.0) * rng.uniform(0.9, 1.4)
        return rng.uniform(self.road[0] + 1.5, self.road[1] - 1.5)


def _road_texture(rng: np.random.Generator, street: Street) -> tx.Texture:
    """Asphalt grain with dashed lane lines, edge lines and sometimes a zebra crossing."""
    grain = tx.value_noise(rng, 0.15, 0.15, contrast=0.8)
    lanes = max(1, int(round((street.road[1] - street.road[0]) / 3.2)))
    lines = np.linspace(*street.road, lanes + 1)[1:-1]
    dash, edge = rng.uniform(4.0, 9.0), rng.random() < 0.5
    crossing = rng.uniform(8.0, 30.0) if rng.random() < 0.3 else None

    def texture(x: Array, z: Array) -> Array:
        marks = np.zeros(x.shape, bool)
        for line in lines:
            marks |= (np.abs(x - line) < 0.07) & ((z % dash) < dash / 2)
        if edge:
            marks |= np.minimum(np.abs(x - street.road[0]), np.abs(x - street.road[1])) - 0.3 < 0.07
        if crossing is not None:
            marks |= (np.abs(z - crossing) < 2.0) & ((x % 1.0) < 0.5)
        return np.maximum(0.45 * grain(x, z), marks.astype(np.float32))
    return texture


def _paving(rng: np.random.Generator) -> tx.Texture:
    if rng.random() < 0.5:
        return tx.mix(tx.checker(rng.uniform(0.3, 0.7)), tx.value_noise(rng, 0.1, 0.1), 0.3)
    course = rng.uniform(0.1, 0.25)
    return tx.bricks(course, course * rng.uniform(1.5, 3.0), 0.025)


def _grass(rng: np.random.Generator) -> tx.Texture:
    return tx.value_noise(rng, rng.uniform(0.03, 0.08), rng.uniform(0.2, 0.5), contrast=2.5)


def _facade(rng: np.random.Generator) -> tx.Texture:
    """Plaster with a grid of windows above a shop-front ground floor (coords: along, up)."""
    plaster = tx.value_noise(rng, rng.uniform(0.4, 2.0), rng.uniform(0.4, 2.0))
    windows = tx.cells(rng.uniform(2.5, 4.5), rng.uniform(2.8, 3.6), rng.uniform(0.35, 0.65),
                       rng.uniform(0.4, 0.65), rng.random(), rng.random())
    ground_floor = rng.uniform(2.5, 4.0)
    return lambda a, b: np.maximum(0.35 * plaster(a, b), windows(a, b) * (b > ground_floor))


def _wall(rng: np.random.Generator) -> tx.Texture:
    if rng.random() < 0.6:
        course = rng.uniform(0.08, 0.3)
        return tx.bricks(course, course * rng.uniform(2.0, 3.0), 0.3 * course)
    return tx.stripes(rng.uniform(1.0, 3.0), 0.0, 0.04)  # concrete panels


def _fence(rng: np.random.Generator) -> tx.Texture:
    if rng.random() < 0.5:
        return tx.hatch(rng.uniform(0.12, 0.35), rng.uniform(0.03, 0.06), rng.uniform(0.3, 1.2))
    return tx.stripes(rng.uniform(0.1, 0.2), 0.0, rng.uniform(0.2, 0.4))  # vertical bars


class StreetPainter:
    """Paints one street scene; objects are queued with their depth and drawn far to near."""

    def __init__(self, rng: np.random.Generator, height: int, width: int) -> None:
        self.rng = rng
        self.canvas = Canvas(height, width)
        self.cam = StreetCamera.sample(rng, height, width)
        self.street = Street.sample(rng)
        self.queue: List[Tuple[float, int, Callable[[], None]]] = []

    def _region(self, mask: Array, label: int, texture: tx.Texture,
                coords: Callable[[Array, Array], Tuple[Array, Array]]) -> None:
        paint(self.canvas, mask, label, texture, colour_pair(self.rng), coords)

    def _polygon(self, points: Array) -> Array:
        return polygon_mask(points, self.cam.height, self.cam.width)

    def _vertical_quad(self, x0: float, z0: float, x1: float, z1: float, y0: float,
                       y1: float) -> Array:
        """Mask of the vertical world rectangle from (x0, z0) to (x1, z1), heights y0..y1."""
        xs, zs = np.array([x0, x1, x1, x0]), np.array([z0, z1, z1, z0])
        return self._polygon(self.cam.project(xs, np.array([y0, y0, y1, y1]), zs))

    def background(self) -> None:
        """Sky, ground zones, then facades (far to near) with walls and fences in front."""
        rng, cam, street = self.rng, self.cam, self.street
        full = np.ones((cam.height, cam.width), bool)
        sky = tx.mix(tx.gradient(np.pi / 2 + rng.uniform(-0.2, 0.2)),
                     tx.value_noise(rng, cam.width / 4, cam.width / 8), 0.4)
        self._region(full, _C['sky'], sky, tx.pixel_coords)
        v, u = np.mgrid[:cam.height, :cam.width].astype(np.float32) + 0.5
        below = v > cam.horizon + 0.5
        x, _ = cam.ground(u, v, _FAR)
        left, right = street.road
        walk = (x >= left - street.sidewalk[0]) & (x <= right + street.sidewalk[1])
        road = (x >= left) & (x <= right)
        outside = _C['terrain'] if max(street.grass) > 0 else _C['sidewalk']
        verge = _grass(rng) if outside == _C['terrain'] else _paving(rng)
        for mask, label, texture in ((below & ~walk, outside, verge),
                                     (below & walk & ~road, _C['sidewalk'], _paving(rng)),
                                     (below & road, _C['road'], _road_texture(rng, street))):
            self._region(mask, label, texture, cam.ground)
        self._facades()

    def _facades(self) -> None:
        rng, cam = self.rng, self.cam
        ends = rng.uniform(35.0, 120.0, 2)
        xl, xr = self.street.facades
        if rng.random() < 0.6:
            back, height = float(ends.min()), rng.uniform(6.0, 30.0)
            mask = self._polygon(cam.project(np.array([xl, xr, xr, xl]),
                                             np.array([0, 0, height, height]), np.full(4, back)))
            self._region(mask, _C['building'], _facade(rng), cam.front_wall(back))
        for side, xf in enumerate((xl, xr)):
            z = 0.5
            while z < ends[side]:
                length = rng.uniform(6.0, 25.0)
                if rng.random() < 0.75:
                    mask = self._vertical_quad(xf, z, xf, z + length, 0.0, rng.uniform(5.0, 25.0))
                    self._region(mask, _C['building'], _facade(rng), cam.side_wall(xf))
                else:
                    zs = np.linspace(z, z + length, 12)
                    tops = rng.uniform(3.0, 9.0) * rng.uniform(0.8, 1.2, 12)
                    top = cam.project(np.full(12, xf), tops, zs)
                    foot = cam.project(np.full(2, xf), np.zeros(2), np.array([z + length, z]))
                    self._region(self._polygon(np.concatenate([top, foot])), _C['vegetation'],
                                 objects.foliage(rng), cam.side_wall(xf))
                z += length
            self._side_barrier(side, xf)

    def _side_barrier(self, side: int, xf: float) -> None:
        """Maybe a wall or a fence along this side, in front of the facades or at the kerb."""
        rng, cam = self.rng, self.cam
        for label, texture, heights in ((_C['wall'], _wall, (0.8, 2.5)),
                                        (_C['fence'], _fence, (1.0, 2.0))):
            if rng.random() < 0.4:
                inward = 1.0 if side == 0 else -1.0
                kerb = self.street.road[side] - inward * 0.3
                x = xf + inward * 0.2 if rng.random() < 0.6 else kerb
                z0 = rng.uniform(2.0, 20.0)
                mask = self._vertical_quad(x, z0, x, z0 + rng.uniform(5.0, 30.0), 0.0,
                                           rng.uniform(*heights))
                self._region(mask, label, texture(rng), cam.side_wall(x))

    def enqueue(self, z: float, draw: Callable[[], None]) -> None:
        self.queue.append((z, len(self.queue), draw))

    def place(self, drawable: objects.Drawable, label: int, x: float, z: float,
              mirror: bool = False) -> Placement:
        """Queues ``drawable`` standing at (x, z); returns its placement for attached parts."""
        place = self.cam.at(x, z, mirror)
        self.enqueue(z, lambda: draw_object(self.canvas, drawable.parts, place, label,
                                            drawable.textures, self.rng))
        return place

    def depth(self, far: float = 60.0) -> float:
        return self.rng.uniform(self.cam.nearest_ground * 0.9, far)

    def draw_queue(self) -> None:
        for _, _, draw in sorted(self.queue, key=lambda item: (-item[0], item[1])):
            draw()


def _populate(p: StreetPainter) -> None:
    """Queues the street furniture, vegetation, vehicles and people of one scene."""
    rng, street = p.rng, p.street
    for _ in range(int(rng.integers(2, 7))):
        _queue_pole(p, side=int(rng.integers(2)))
    for _ in range(int(rng.integers(0, 6))):
        xf = street.facades[int(rng.integers(2))]
        p.place(objects.tree(rng), _C['vegetation'], xf - np.sign(xf) * rng.uniform(0.5, 2.0),
                p.depth())
    for _ in range(int(rng.integers(0, 3))):
        p.place(objects.hedge(rng, rng.uniform(1.0, 5.0), rng.uniform(0.6, 1.5)),
                _C['vegetation'], street.on_sidewalk(rng), p.depth())
    for _ in range(int(rng.poisson(4))):
        crossing = rng.random() < 0.15
        x = street.in_lane(rng, False) if crossing else street.on_sidewalk(rng)
        p.place(objects.person(rng), _C['person'], x, p.depth(50.0), rng.random() < 0.5)
    for _ in range(int(rng.integers(0, 3))):
        _queue_rider(p)
    for _ in range(int(rng.integers(0, 3))):
        p.place(objects.bicycle(rng), _C['bicycle'], street.on_sidewalk(rng), p.depth(40.0),
                rng.random() < 0.5)
    if rng.random() < 0.35:
        p.place(objects.motorcycle(rng), _C['motorcycle'], street.in_lane(rng, True), p.depth(40.0),
                rng.random() < 0.5)
    for _ in range(int(rng.integers(0, 9))):
        view = objects.car_side if rng.random() < 0.6 else objects.car_rear
        p.place(view(rng), _C['car'], street.in_lane(rng, True), p.depth(), rng.random() < 0.5)
    for _ in range(int(rng.integers(0, 5))):
        view = objects.car_rear if rng.random() < 0.8 else objects.car_side
        p.place(view(rng), _C['car'], street.in_lane(rng, False), p.depth(), rng.random() < 0.5)
    for label, chance, views in (('truck', 0.35, (objects.truck_side, objects.truck_rear)),
                                 ('bus', 0.3, (objects.bus_side, objects.bus_rear))):
        if rng.random() < chance:
            view = views[int(rng.integers(2))]
            p.place(view(rng), _C[label], street.in_lane(rng, rng.random() < 0.5), p.depth(),
                    rng.random() < 0.5)
    if rng.random() < 0.2:
        p.place(objects.train_side(rng), _C['train'], rng.uniform(-2.0, 2.0),
                rng.uniform(15.0, 50.0), rng.random() < 0.5)
    for _ in range(int(rng.integers(0, 3))):
        _queue_clutter(p)


def _queue_pole(p: StreetPainter, side: int) -> None:
    """A pole at the kerb carrying nothing, a sign, a light on an arm over the road, or both."""
    rng = p.rng
    outward = -1.0 if side == 0 else 1.0
    x, z = p.street.road[side] + outward * rng.uniform(0.2, 0.6), p.depth()
    height, kind = rng.uniform(3.0, 7.0), rng.random()
    arm = -outward * rng.uniform(0.5, 2.5) if kind > 0.6 else 0.0
    stand = objects.pole(rng, height, arm)
    place = p.place(stand, _C['pole'], x, z)
    if kind > 0.3:
        base = (0.0, height) if kind < 0.6 else (0.0, rng.uniform(2.0, height - 1.0))
        sign = objects.traffic_sign(rng, base)
        p.enqueue(z - 1e-3, lambda: draw_object(p.canvas, sign.parts, place, _C['traffic sign'],
                                                sign.textures, rng))
    if kind > 0.6:
        light = objects.traffic_light(rng, stand.anchors['top'])
        p.enqueue(z - 2e-3, lambda: draw_object(p.canvas, light.parts, place, _C['traffic light'],
                                                light.textures, rng))


def _queue_rider(p: StreetPainter) -> None:
    """A bicycle or motorcycle on the road with a rider seated on it."""
    rng = p.rng
    motor = rng.random() < 0.35
    bike = objects.motorcycle(rng) if motor else objects.bicycle(rng)
    x, z, mirror = p.street.in_lane(rng, rng.random() < 0.6), p.depth(45.0), rng.random() < 0.5
    place = p.place(bike, _C['motorcycle' if motor else 'bicycle'], x, z, mirror)
    person = objects.rider(rng, **bike.anchors)
    p.enqueue(z - 1e-3, lambda: draw_object(p.canvas, person.parts, place, _C['rider'],
                                            person.textures, rng))


def _queue_clutter(p: StreetPainter) -> None:
    """A bin or box on the sidewalk: real streets have unlabeled objects (ignore index)."""
    rng = p.rng
    w, h = rng.uniform(0.4, 1.2), rng.uniform(0.5, 1.3)
    texture = (tx.value_noise(rng, 0.1, 0.1) if rng.random() < 0.5
               else tx.stripes(rng.uniform(0.05, 0.3), rng.uniform(0, np.pi)))
    p.place(objects.Drawable([Part(rect(-w / 2, 0, w / 2, h))], [texture]), IGNORE_INDEX,
            p.street.on_sidewalk(rng), p.depth(40.0))


def _ego_vehicle(p: StreetPainter) -> None:
    """The bonnet of the recording car at the bottom (ignored, as in Cityscapes)."""
    h, w = p.cam.height, p.cam.width
    depth = h * p.rng.uniform(0.05, 0.12)
    mask = polygon_mask(ellipse(w / 2, h, w * 0.75, depth), h, w)
    paint(p.canvas, mask, IGNORE_INDEX, tx.gradient(np.pi / 2), colour_pair(p.rng))


def render_street_scene(rng: np.random.Generator, height: int, width: int) -> Tuple[Array, Array]:
    """One scene: image (H, W, 3) uint8 RGB and trainIds (H, W) uint8 in {0..18, 255}."""
    painter = StreetPainter(rng, height, width)
    painter.background()
    _populate(painter)
    painter.draw_queue()
    if rng.random() < 0.3:
        _ego_vehicle(painter)
    return tx.finish(painter.canvas.image, rng), painter.canvas.label


def cityscapes_stems(count: int, cities: Tuple[str, ...]) -> List[Tuple[str, str]]:
    """(city, stem) of ``count`` images spread round-robin over ``cities``."""
    pairs = [(cities[i % len(cities)], i // len(cities)) for i in range(count)]
    return [(city, f'{city}_{seq:06d}_{FRAME:06d}') for city, seq in pairs]


def _write_street_scene(job: Tuple[Path, str, int, int, Tuple[int, int], str, str, int]) -> None:
    """Renders image ``index`` of a split from (seed, split_code, index) and writes its 3 files."""
    root, split, split_code, seed, size, city, stem, index = job
    image, train_ids = render_street_scene(np.random.default_rng([seed, split_code, index]), *size)
    save_png(image, root / 'leftImg8bit' / split / city / f'{stem}_leftImg8bit.png')
    gt = root / 'gtFine' / split / city
    save_png(train_ids, gt / f'{stem}_gtFine_labelTrainIds.png')
    save_png(trainids_to_labelids(train_ids), gt / f'{stem}_gtFine_labelIds.png')


def generate_cityscapes(root: str, seed: int = 0, num_train: int = 300, num_val: int = 60,
                        size: Tuple[int, int] = (128, 256), overwrite: bool = False,
                        nproc: int = 1) -> Dict[str, List[str]]:
    """Writes the synthetic street set under ``root``; returns split -> ['<city>/<stem>', ...].

    The image with index i of a split depends only on (seed, split, i), so enlarging a split keeps
    its first images, and ``nproc`` worker processes write the same bytes as one. See
    :func:`mmseg_pixcon.datasets.synthetic.output.prepare_output_dir` for ``overwrite``.
    """
    root_path = start_dataset(root, 'cityscapes', OWNED, overwrite, seed, num_train, num_val,
                              size)
    written: Dict[str, List[str]] = {}
    jobs = []
    for split_code, (split, count, cities) in enumerate((('train', num_train, TRAIN_CITIES),
                                                         ('val', num_val, VAL_CITIES))):
        stems = cityscapes_stems(count, cities)
        jobs += [(root_path, split, split_code, seed, tuple(size), city, stem, i)
                 for i, (city, stem) in enumerate(stems)]
        written[split] = [f'{city}/{stem}' for city, stem in stems]
    run_jobs(_write_street_scene, jobs, nproc)
    return written

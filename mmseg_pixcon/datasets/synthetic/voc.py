"""Synthetic object scenes in the exact PASCAL VOC 2012 layout; mmseg's PascalVOCDataset loads them.

Each image shows one to three objects of the 20 VOC classes in a scene that usually suits them
(sky, water, field, street, indoor), among background clutter, sometimes partly hidden by a
foreground occluder or by each other. Object outlines carry a void band (255) as in VOC, and
objects too small to annotate are void entirely. Colours are random per part; classes differ by
silhouette, texture and context.

Layout written under ``root`` (normally ``.../VOCdevkit/VOC2012``)::

    JPEGImages/<YYYY_NNNNNN>.jpg
    SegmentationClass/<YYYY_NNNNNN>.png     'P' mode, VOC colour map, 0..20 and 255
    ImageSets/Segmentation/{train,val,trainval}.txt
"""
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

from ..classes import VOC_CLASSES
from . import drawing as tx
from . import objects, voc_objects
from .drawing import Array, Canvas, colour_pair, paint
from .output import run_jobs, save_png, start_dataset
from .shapes import bounds, draw_object, fit_placement, polygon_mask

IGNORE_INDEX = 255
OWNED = ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation')
JPEG_QUALITY = 90

_C = {name: i for i, name in enumerate(VOC_CLASSES)}
_TEMPLATES = {
    'aeroplane': voc_objects.aeroplane, 'bicycle': objects.bicycle, 'bird': voc_objects.bird,
    'boat': voc_objects.boat, 'bottle': voc_objects.bottle,
    'bus': lambda rng: (objects.bus_side if rng.random() < 0.6 else objects.bus_rear)(rng),
    'car': lambda rng: (objects.car_side if rng.random() < 0.6 else objects.car_rear)(rng),
    'cat': voc_objects.cat, 'chair': voc_objects.chair, 'cow': voc_objects.cow,
    'diningtable': voc_objects.diningtable, 'dog': voc_objects.dog, 'horse': voc_objects.horse,
    'motorbike': objects.motorcycle, 'person': objects.person,
    'pottedplant': voc_objects.pottedplant, 'sheep': voc_objects.sheep, 'sofa': voc_objects.sofa,
    'train': lambda rng: objects.train_side(rng, max_cars=2), 'tvmonitor': voc_objects.tvmonitor,
}
# Scene -> (classes usually found there, texture kinds of the upper and lower background).
_SCENES = {
    'sky': (('aeroplane', 'bird'), 'sky', 'sky'),
    'water': (('boat', 'bird', 'person'), 'sky', 'water'),
    'field': (('cow', 'horse', 'sheep', 'dog', 'person', 'bicycle', 'bird'), 'sky', 'grass'),
    'street': (('car', 'bus', 'motorbike', 'bicycle', 'person', 'train', 'dog'), 'wall', 'road'),
    'indoor': (('bottle', 'chair', 'diningtable', 'sofa', 'tvmonitor', 'pottedplant', 'cat', 'dog',
                'person'), 'wall', 'floor'),
}
_FLYING = ('aeroplane', 'bird')
_OFF_CONTEXT = 0.25  # share of objects drawn from all classes, whatever the scene


def voc_palette() -> List[int]:
    """The VOC colour map, 256 x RGB flattened (index 255 -> (224, 224, 192))."""
    palette = []
    for index in range(256):
        rgb, c = [0, 0, 0], index
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((c >> channel) & 1) << (7 - bit)
            c >>= 3
        palette += rgb
    return palette


_PALETTE = voc_palette()


def _background_texture(rng: np.random.Generator, kind: str, size: int) -> tx.Texture:
    """Texture of a background region in pixel units (``size``: the image side)."""
    if kind == 'sky':
        return tx.mix(tx.gradient(np.pi / 2 + rng.uniform(-0.3, 0.3)),
                      tx.value_noise(rng, size / 3, size / 6), 0.4)
    if kind == 'water':
        return tx.value_noise(rng, rng.uniform(8.0, 30.0), rng.uniform(1.0, 3.0), contrast=2.0)
    if kind == 'grass':
        return tx.value_noise(rng, rng.uniform(0.7, 1.5), rng.uniform(3.0, 8.0), contrast=2.5)
    if kind == 'road':
        return tx.value_noise(rng, 1.5, 1.5, contrast=0.8)
    return _generic_texture(rng, size)


def _generic_texture(rng: np.random.Generator, size: int) -> tx.Texture:
    """Any of the texture kinds at a random scale: walls, floors and clutter share the textures of
    the object classes, so no texture alone gives the class away."""
    period = size * rng.uniform(0.03, 0.15)
    return (tx.flat(), tx.value_noise(rng, period, period),
            tx.stripes(period, rng.uniform(0, np.pi)), tx.checker(period, rng.uniform(0, np.pi)),
            tx.bricks(period, 2.5 * period, 0.15 * period),
            tx.spots(rng, period, 0.4), tx.hatch(period, 0.2 * period, rng.uniform(0, 1)),
            tx.value_noise(rng, 0.1 * period, period, 2.5))[int(rng.integers(8))]


def _clutter(canvas: Canvas, rng: np.random.Generator, max_size: float) -> None:
    """A random star-shaped polygon, labelled background (drawn over whatever lies below)."""
    size = canvas.width
    n = int(rng.integers(3, 10))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = rng.uniform(0.3, 1.0, n) * size * rng.uniform(0.05, max_size)
    centre = rng.uniform(0, size, 2)
    points = centre + np.stack([np.cos(angles), np.sin(angles)], 1) * radii[:, None]
    mask = polygon_mask(points, canvas.height, canvas.width)
    paint(canvas, mask, 0, _generic_texture(rng, size), colour_pair(rng))


def _pick_classes(rng: np.random.Generator) -> Tuple[str, List[str]]:
    """A scene and the classes of its objects, the first (main) one drawn uniformly over the 20
    classes so that every class is about equally common, the scene among those that suit it."""
    main = VOC_CLASSES[1 + int(rng.integers(len(VOC_CLASSES) - 1))]
    homes = [scene for scene, (usual, _, _) in _SCENES.items() if main in usual]
    scene = homes[int(rng.integers(len(homes)))]
    names = [main]
    for _ in range(int(rng.choice([0, 1, 2], p=[0.5, 0.3, 0.2]))):
        pool = VOC_CLASSES[1:] if rng.random() < _OFF_CONTEXT else _SCENES[scene][0]
        names.append(pool[int(rng.integers(len(pool)))])
    return scene, names


def _within(rng: np.random.Generator, extent: float, lo: float, hi: float) -> float:
    """Centre of an interval ``extent`` long placed at random in [lo, hi], up to 15% of it outside
    (objects may be cut by the frame, but are mostly in view)."""
    first, last = lo + 0.35 * extent, hi - 0.35 * extent
    return rng.uniform(first, last) if first < last else (lo + hi) / 2


def _place_objects(canvas: Canvas, rng: np.random.Generator, names: Sequence[str],
                   horizon: float) -> None:
    """Draws the objects far (high in the image) to near; each gets its own instance id."""
    size = min(canvas.height, canvas.width)
    layouts = []
    for k, name in enumerate(names):
        drawable = _TEMPLATES[name](rng)
        x0, y0, x1, y1 = bounds(drawable.parts)
        aspect = (x1 - x0) / (y1 - y0)
        extent = size * (rng.uniform(0.45, 1.0) if k == 0 else rng.uniform(0.25, 0.7))
        w, h = (extent, extent / aspect) if aspect >= 1 else (extent * aspect, extent)
        cx = _within(rng, w, 0, canvas.width)
        # Flying objects anywhere; the others stand on the ground, below the horizon.
        top = 0.0 if name in _FLYING else max(0.0, horizon - h)
        bottom = _within(rng, h, top, canvas.height) + h / 2
        layouts.append((bottom, name, drawable, (cx - w / 2, bottom - h, cx + w / 2, bottom)))
    layouts.sort(key=lambda item: item[0])
    instance = 1
    for _, name, drawable, box in layouts:
        tilt = 0.5 if name in _FLYING else 0.15
        place = fit_placement(drawable.parts, box, rng.uniform(-tilt, tilt), rng.random() < 0.5)
        draw_object(canvas, drawable.parts, place, _C[name], drawable.textures, rng, instance)
        if name == 'motorbike' and rng.random() < 0.5:
            rider = objects.rider(rng, **drawable.anchors)
            draw_object(canvas, rider.parts, place, _C['person'], rider.textures, rng, instance + 1)
            instance += 1
        instance += 1


def void_band(label: Array, instance: Array, radius: int, min_area: int) -> Array:
    """VOC-style labels: ``radius``-pixel void (255) bands wherever the instance changes, and void
    over every object instance with fewer than ``min_area`` pixels. label, instance: (H, W)."""
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    inst = instance.astype(np.float32)  # cv2 morphology does not take int32
    edge = cv2.dilate(inst, kernel) != cv2.erode(inst, kernel)
    areas = np.bincount(instance.ravel())
    tiny = (areas < min_area)[instance] & (instance > 0)
    return np.where(edge | tiny, np.uint8(IGNORE_INDEX), label)


def render_object_scene(rng: np.random.Generator, height: int, width: int,
                        band: int = 1) -> Tuple[Array, Array]:
    """One scene: image (H, W, 3) uint8 RGB and labels (H, W) uint8 in {0..20, 255}."""
    canvas = Canvas(height, width, fill_label=0)
    scene, names = _pick_classes(rng)
    _, upper, lower = _SCENES[scene]
    horizon = height * (rng.uniform(0.75, 1.0) if scene == 'sky' else rng.uniform(0.3, 0.7))
    rows = np.arange(height)[:, None] + np.zeros((1, width))
    for mask, kind in ((rows < horizon, upper), (rows >= horizon, lower)):
        paint(canvas, mask, 0, _background_texture(rng, kind, width), colour_pair(rng))
    for _ in range(int(rng.integers(0, 4))):
        _clutter(canvas, rng, 0.4)
    _place_objects(canvas, rng, names, horizon)
    if rng.random() < 0.3:
        _clutter(canvas, rng, 0.2)
    label = void_band(canvas.label, canvas.instance, band, min_area=max(16, height * width // 800))
    return tx.finish(canvas.image, rng), label


def voc_image_id(index: int) -> str:
    """VOC-style id 'YYYY_NNNNNN' of the index-th image (years 2007..2012, numbers unique)."""
    return f'{2007 + index % 6}_{index:06d}'


def _write_object_scene(job: Tuple[Path, int, int, Tuple[int, int], str, int]) -> None:
    """Renders image ``index`` of a split from (seed, split_code, index) and writes jpg + png."""
    root, split_code, seed, size, image_id, index = job
    image, label = render_object_scene(np.random.default_rng([seed, split_code, index]), *size)
    Image.fromarray(image).save(root / 'JPEGImages' / f'{image_id}.jpg', quality=JPEG_QUALITY)
    save_png(label, root / 'SegmentationClass' / f'{image_id}.png', _PALETTE)


def generate_voc(root: str, seed: int = 0, num_train: int = 300, num_val: int = 60,
                 size: Tuple[int, int] = (128, 128), overwrite: bool = False,
                 nproc: int = 1) -> Dict[str, List[str]]:
    """Writes the synthetic object set under ``root`` (e.g. data/VOCdevkit/VOC2012); returns
    split -> image ids, as also written to ImageSets/Segmentation/{train,val,trainval}.txt.

    The image with index i of a split depends only on (seed, split, i); ``nproc`` worker processes
    write the same bytes as one. See
    :func:`mmseg_pixcon.datasets.synthetic.output.prepare_output_dir` for ``overwrite``.
    """
    root_path = start_dataset(root, 'voc', OWNED, overwrite, seed, num_train, num_val, size)
    ids: Dict[str, List[str]] = {}
    jobs = []
    for split_code, (split, count, offset) in enumerate((('train', num_train, 0),
                                                         ('val', num_val, num_train))):
        ids[split] = [voc_image_id(offset + i) for i in range(count)]
        jobs += [(root_path, split_code, seed, tuple(size), image_id, i)
                 for i, image_id in enumerate(ids[split])]
    (root_path / 'JPEGImages').mkdir(parents=True, exist_ok=True)
    run_jobs(_write_object_scene, jobs, nproc)
    ids['trainval'] = ids['train'] + ids['val']
    lists = root_path / 'ImageSets' / 'Segmentation'
    lists.mkdir(parents=True, exist_ok=True)
    for split, names in ids.items():
        (lists / f'{split}.txt').write_text(''.join(f'{n}\n' for n in sorted(names)))
    return ids

"""Deterministic synthetic demo data for detection and semantic segmentation.

The generator writes two small datasets whose on-disk layout mirrors the real
ones, so that configs only need to change ``data_root``:

* ``<root>/coco``: a COCO-style *instance* dataset of coloured shapes
  (:data:`DEMO_COCO_CLASSES`) on textured backgrounds, with polygon masks for
  unoccluded instances and compressed RLE masks for occluded ones.
* ``<root>/ade/ADEChallengeData2016``: an ADE20K-style *semantic* dataset of
  simple indoor/outdoor scenes (sky, wall, floor, boxes and balls) whose label
  PNGs use the original ADE20K pixel values (``0`` = ignore/other, ``k`` =
  0-based ADE20K class index ``k - 1``), so that mmseg's ``ADE20KDataset``
  with ``reduce_zero_label=True`` and ``metainfo=dict(classes=...)`` reads it.

Everything is drawn with numpy/OpenCV from ``np.random.default_rng`` streams
derived from ``(seed, dataset, split, image index)``, so the same arguments
give byte-identical files, and the first ``n`` images of a split do not depend
on how many images are generated in total.

This module deliberately depends only on numpy, OpenCV, pycocotools and the
standard library (no torch / mmdet / mmseg).
"""
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from pycocotools import mask as mask_utils

__all__ = [
    'DEMO_COCO_CLASSES', 'DEMO_ADE_CLASSES', 'DEMO_ADE_LABEL_IDS',
    'make_demo_data'
]

#: Instance categories, in order of COCO ``category_id`` 1..4.
DEMO_COCO_CLASSES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'star')

#: Real ADE20K class names used by the semantic dataset. Pass them as
#: ``metainfo=dict(classes=DEMO_ADE_CLASSES)`` to mmseg's ``ADE20KDataset``;
#: after ``reduce_zero_label`` and mmseg's label map, class ``i`` of this tuple
#: becomes training label ``i``.
DEMO_ADE_CLASSES: Tuple[str, ...] = ('wall', 'floor', 'sky', 'box', 'ball')

#: Pixel values written to the label PNGs for :data:`DEMO_ADE_CLASSES`
#: (0-based index in ``ADE20KDataset.METAINFO['classes']`` plus one: wall=0,
#: floor=3, sky=2, box=41, ball=119). Pixel value 0 means ignore/other.
DEMO_ADE_LABEL_IDS: Tuple[int, ...] = (1, 4, 3, 42, 120)

META_FILE = 'demo_meta.json'
_FORMAT_VERSION = 1
_JPEG_QUALITY = 95
_SPLITS = ('train', 'val')
# Codes mixed into the per-image seed: (seed, dataset, split, index).
_DATASET_CODES = {'coco': 0, 'ade': 1}
_SPLIT_CODES = {'train': 0, 'val': 1}

# ---------------------------------------------------------------------------
# Instance dataset parameters
# ---------------------------------------------------------------------------
# Hue centre (OpenCV scale, 0..179) of each category: red, green, blue, yellow.
_COCO_HUES = (0, 60, 115, 28)
_HUE_JITTER = 6
_OBJECTS_PER_IMAGE = (2, 5)
_OBJECT_SIZE = (0.12, 0.40)  # fraction of the shorter image side
_MIN_VISIBLE_FRACTION = 0.30  # drop instances less visible than this
_MIN_VISIBLE_PIXELS = 64
_POLYGON_MIN_VISIBLE = 0.95  # >= this visible fraction -> polygon, else RLE
_POLYGON_MIN_IOU = 0.8  # a polygon must reproduce the visible mask this well
_MAX_PLACEMENT_TRIES = 30
_STAR_INNER_RATIO = 0.45
_POLYGON_UPSAMPLE = 2  # trace contours on a 2x mask (see below)
_POLYGON_EPSILON = 0.5  # approxPolyDP tolerance, in upsampled pixels

# ---------------------------------------------------------------------------
# Semantic dataset parameters (indices into DEMO_ADE_CLASSES)
# ---------------------------------------------------------------------------
_WALL, _FLOOR, _SKY, _BOX, _BALL = range(5)
_BALL_HUES = (0, 60, 150)  # red, green, magenta; never sky-blue
_ADE_OBJECTS_PER_IMAGE = (2, 5)


@dataclass
class _Instance:
    """One drawn shape of the instance dataset."""

    category_id: int
    full: np.ndarray  # bool mask of the whole shape
    visible: np.ndarray  # bool mask after occlusion by later shapes

    @property
    def full_area(self) -> int:
        return int(self.full.sum())

    @property
    def visible_area(self) -> int:
        return int(self.visible.sum())


# ---------------------------------------------------------------------------
# Generic drawing helpers
# ---------------------------------------------------------------------------
def _image_rng(seed: int, dataset: str, split: str,
               index: int) -> np.random.Generator:
    """Return the independent random stream of one image."""
    return np.random.default_rng(
        [seed, _DATASET_CODES[dataset], _SPLIT_CODES[split], index])


def _draw_image_size(rng: np.random.Generator,
                     img_size: Tuple[int, int]) -> Tuple[int, int]:
    """Draw ``(height, width)`` in ``img_size``, preferring multiples of 8."""
    lo, hi = img_size
    candidates = np.arange(-(-lo // 8) * 8, hi + 1, 8)
    if len(candidates) == 0:
        candidates = np.arange(lo, hi + 1)
    height, width = rng.choice(candidates, size=2)
    return int(height), int(width)


def _hsv_color(hue: float, sat: float, val: float) -> np.ndarray:
    """Convert one OpenCV-scale HSV colour to a float32 BGR vector."""
    hsv = np.array([[[
        int(round(hue)) % 180,
        int(np.clip(round(sat), 0, 255)),
        int(np.clip(round(val), 0, 255))
    ]]], dtype=np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def _smooth_field(rng: np.random.Generator, height: int, width: int,
                  cells: int) -> np.ndarray:
    """Return a smooth random ``(H, W, 1)`` field, roughly in ``[0, 1]``."""
    grid = rng.random((cells, cells)).astype(np.float32)
    field = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return field[..., None]


def _blurred_noise(rng: np.random.Generator, height: int, width: int,
                   sigma: float) -> np.ndarray:
    """Return ``(H, W, 1)`` Gaussian noise blurred by ``sigma`` (std ~1)."""
    noise = rng.standard_normal((height, width)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), sigma)
    noise /= max(float(noise.std()), 1e-6)
    return noise[..., None]


def _add_distractors(rng: np.random.Generator, img: np.ndarray,
                     num: int) -> None:
    """Add low-contrast random lines and blobs to ``img`` in place."""
    height, width = img.shape[:2]
    for _ in range(num):
        layer = np.zeros((height, width), np.float32)
        if rng.random() < 0.5:
            p1 = (int(rng.integers(width)), int(rng.integers(height)))
            p2 = (int(rng.integers(width)), int(rng.integers(height)))
            cv2.line(layer, p1, p2, 1.0, int(rng.integers(1, 4)))
        else:
            center = (int(rng.integers(width)), int(rng.integers(height)))
            axes = (int(rng.integers(5, 30)), int(rng.integers(5, 30)))
            cv2.ellipse(layer, center, axes, float(rng.uniform(0, 180)), 0,
                        360, 1.0, -1)
        layer = cv2.GaussianBlur(layer, (0, 0), 1.5)
        delta = rng.uniform(-25, 25, size=3).astype(np.float32)
        img += layer[..., None] * delta


def _finish_image(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Add sensor-like noise, soften slightly and convert to uint8."""
    height, width = img.shape[:2]
    img = img + rng.normal(0, 2.0, (height, width, 3)).astype(np.float32)
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def _textured_background(rng: np.random.Generator, height: int,
                         width: int) -> np.ndarray:
    """Muted, per-image background: colour gradient + noise + distractors.

    Returns:
        np.ndarray: float32 BGR image of shape ``(H, W, 3)`` in ~[0, 255].
    """
    color_a = _hsv_color(rng.integers(180), rng.uniform(0, 70),
                         rng.uniform(60, 190))
    color_b = _hsv_color(rng.integers(180), rng.uniform(0, 70),
                         rng.uniform(60, 190))
    mix = _smooth_field(rng, height, width, int(rng.integers(2, 5)))
    img = color_a * (1 - mix) + color_b * mix
    img += (_smooth_field(rng, height, width, int(rng.integers(6, 12))) -
            0.5) * rng.uniform(10, 30)
    img += _blurred_noise(rng, height, width, 1.0) * rng.uniform(3, 8)
    _add_distractors(rng, img, int(rng.integers(3, 9)))
    return img


def _paint(rng: np.random.Generator, img: np.ndarray, mask: np.ndarray,
           color: np.ndarray, noise_std: float = 5.0) -> None:
    """Fill ``mask`` of ``img`` with ``color``, linear shading and noise."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return
    theta = rng.uniform(0, 2 * math.pi)
    proj = xs * math.cos(theta) + ys * math.sin(theta)
    span = max(float(proj.max() - proj.min()), 1.0)
    proj = (proj - proj.min()) / span - 0.5
    shade = 1.0 + rng.uniform(0.1, 0.3) * proj
    noise = rng.normal(0, noise_std, (len(xs), 3))
    img[ys, xs] = (color[None] * shade[:, None] + noise).astype(np.float32)


# ---------------------------------------------------------------------------
# Instance dataset
# ---------------------------------------------------------------------------
def _shape_extent(name: str, size: float) -> float:
    """Circumradius of a shape of nominal ``size`` (diameter / side)."""
    if name == 'square':
        return size / math.sqrt(2)
    if name == 'triangle':
        return size / math.sqrt(3)
    return size / 2  # circle, star


def _shape_polygon(name: str, cx: float, cy: float, size: float,
                   angle: float) -> np.ndarray:
    """Vertices ``(N, 2)`` of a rotated square, triangle or star."""
    if name == 'square':
        radii = [size / math.sqrt(2)] * 4
        angles = [angle + math.pi / 4 + k * math.pi / 2 for k in range(4)]
    elif name == 'triangle':
        radii = [size / math.sqrt(3)] * 3
        angles = [angle + k * 2 * math.pi / 3 for k in range(3)]
    elif name == 'star':
        outer = size / 2
        radii = [outer if k % 2 == 0 else outer * _STAR_INNER_RATIO
                 for k in range(10)]
        angles = [angle + k * math.pi / 5 for k in range(10)]
    else:
        raise ValueError(f'not a polygon shape: {name}')
    return np.array([(cx + r * math.cos(a), cy + r * math.sin(a))
                     for r, a in zip(radii, angles)])


def _shape_mask(height: int, width: int, name: str, cx: float, cy: float,
                size: float, angle: float) -> np.ndarray:
    """Rasterise one shape into a bool mask."""
    mask = np.zeros((height, width), np.uint8)
    if name == 'circle':
        cv2.circle(mask, (int(round(cx)), int(round(cy))),
                   int(round(size / 2)), 1, -1, lineType=cv2.LINE_8)
    else:
        pts = np.round(_shape_polygon(name, cx, cy, size, angle))
        cv2.fillPoly(mask, [pts.astype(np.int32)], 1, lineType=cv2.LINE_8)
    return mask.astype(bool)


def _is_acceptable_occlusion(placed: Sequence[_Instance],
                             new_full: np.ndarray) -> bool:
    """Whether all placed instances stay visible enough under ``new_full``."""
    for inst in placed:
        visible = int(np.count_nonzero(inst.visible & ~new_full))
        if (visible < _MIN_VISIBLE_FRACTION * inst.full_area
                or visible < _MIN_VISIBLE_PIXELS):
            return False
    return True


def _category_color(rng: np.random.Generator, category_id: int) -> np.ndarray:
    """Saturated, bright colour from the hue family of a category."""
    hue = _COCO_HUES[category_id - 1] + rng.uniform(-_HUE_JITTER, _HUE_JITTER)
    return _hsv_color(hue, rng.uniform(170, 255), rng.uniform(170, 255))


def _make_instance_image(
        rng: np.random.Generator, height: int,
        width: int) -> Tuple[np.ndarray, List[_Instance]]:
    """Draw one image of overlapping coloured shapes.

    Shapes are drawn in order, later ones occluding earlier ones. A candidate
    placement that would leave an earlier shape less than 30% (or 64 px)
    visible is re-drawn, so occlusion is frequent but every drawn shape stays
    annotatable.

    Returns:
        tuple: uint8 BGR image and the instances (with visible masks).
    """
    img = _textured_background(rng, height, width)
    side = min(height, width)
    placed: List[_Instance] = []
    num_objects = int(rng.integers(_OBJECTS_PER_IMAGE[0],
                                   _OBJECTS_PER_IMAGE[1] + 1))
    for _ in range(num_objects):
        for _try in range(_MAX_PLACEMENT_TRIES):
            category_id = int(rng.integers(len(DEMO_COCO_CLASSES))) + 1
            name = DEMO_COCO_CLASSES[category_id - 1]
            size = rng.uniform(*_OBJECT_SIZE) * side
            angle = rng.uniform(0, 2 * math.pi)
            margin = _shape_extent(name, size) + 1
            cx = rng.uniform(margin, width - 1 - margin)
            cy = rng.uniform(margin, height - 1 - margin)
            full = _shape_mask(height, width, name, cx, cy, size, angle)
            if not _is_acceptable_occlusion(placed, full):
                continue
            for inst in placed:
                inst.visible &= ~full
            placed.append(_Instance(category_id, full, full.copy()))
            _paint(rng, img, full, _category_color(rng, category_id))
            break
    kept = [
        inst for inst in placed
        if inst.visible_area >= _MIN_VISIBLE_FRACTION * inst.full_area
        and inst.visible_area >= _MIN_VISIBLE_PIXELS
    ]
    return _finish_image(rng, img), kept


def _mask_to_polygons(mask: np.ndarray) -> Optional[List[List[float]]]:
    """Outer contours of a mask as COCO polygons, or None if it has holes.

    ``cv2.findContours`` returns the *centres* of the boundary pixels, and
    pycocotools rasterises such a polygon about half a pixel too small (the
    last column/row of the object is lost, ~5% of a small shape). Tracing the
    contours on a 2x nearest-upsampled mask and mapping them back with
    ``(u + 0.5) / 2`` puts the vertices a quarter pixel inside the pixel
    edges instead, so that ``annToMask`` reproduces the mask (almost) exactly.
    """
    scale = _POLYGON_UPSAMPLE
    upsampled = cv2.resize(
        mask.astype(np.uint8),
        None,
        fx=scale,
        fy=scale,
        interpolation=cv2.INTER_NEAREST)
    contours, hierarchy = cv2.findContours(upsampled, cv2.RETR_CCOMP,
                                           cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None or (hierarchy[0, :, 3] != -1).any():
        return None  # empty, or a hole that a polygon cannot express
    polygons = []
    for contour in contours:
        contour = cv2.approxPolyDP(contour, _POLYGON_EPSILON, True)
        if len(contour) >= 3:
            points = (contour.reshape(-1).astype(np.float64) + 0.5) / scale
            polygons.append(points.tolist())
    return polygons or None


def _encode_instance(inst: _Instance, height: int,
                     width: int) -> Tuple[Any, Dict[str, Any], str]:
    """Encode the visible mask as a polygon list or a compressed RLE.

    Unoccluded instances (visible fraction >= 95%) are written as polygons
    when their contours reproduce the mask (no holes, IoU >= 0.8); all others
    as compressed RLE.

    Returns:
        tuple: ``(segmentation, rle, kind)`` where ``segmentation`` is the
        JSON-ready COCO value, ``rle`` the pycocotools RLE it decodes to (used
        for ``area``/``bbox``) and ``kind`` is ``'polygon'`` or ``'rle'``.
    """
    visible = inst.visible
    if inst.visible_area >= _POLYGON_MIN_VISIBLE * inst.full_area:
        polygons = _mask_to_polygons(visible)
        if polygons is not None:
            rle = mask_utils.merge(
                mask_utils.frPyObjects(polygons, height, width))
            decoded = mask_utils.decode(rle).astype(bool)
            union = np.count_nonzero(decoded | visible)
            iou = np.count_nonzero(decoded & visible) / max(union, 1)
            if iou >= _POLYGON_MIN_IOU:
                return polygons, rle, 'polygon'
    rle = mask_utils.encode(np.asfortranarray(visible.astype(np.uint8)))
    segmentation = {
        'size': [int(height), int(width)],
        'counts': rle['counts'].decode('ascii')
    }
    return segmentation, rle, 'rle'


def _generate_coco_split(coco_root: Path, split: str, num_images: int,
                         img_size: Tuple[int, int],
                         seed: int) -> Dict[str, int]:
    """Write the images and the annotation json of one COCO split."""
    img_dir = coco_root / f'{split}2017'
    ann_file = coco_root / 'annotations' / f'instances_{split}2017.json'
    img_dir.mkdir(parents=True, exist_ok=True)
    ann_file.parent.mkdir(parents=True, exist_ok=True)
    images: List[Dict[str, Any]] = []
    annotations: List[Dict[str, Any]] = []
    counts = {'polygon': 0, 'rle': 0}
    for index in range(num_images):
        rng = _image_rng(seed, 'coco', split, index)
        height, width = _draw_image_size(rng, img_size)
        img, instances = _make_instance_image(rng, height, width)
        image_id = index + 1
        file_name = f'{image_id:012d}.jpg'
        _write_jpg(img_dir / file_name, img)
        images.append(
            dict(id=image_id, file_name=file_name, height=height,
                 width=width))
        for inst in instances:
            segmentation, rle, kind = _encode_instance(inst, height, width)
            area = float(mask_utils.area(rle))
            if area <= 0:
                continue
            counts[kind] += 1
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=image_id,
                    category_id=inst.category_id,
                    bbox=[float(v) for v in mask_utils.toBbox(rle)],
                    area=area,
                    iscrowd=0,
                    segmentation=segmentation))
    categories = [
        dict(id=i + 1, name=name, supercategory='shape')
        for i, name in enumerate(DEMO_COCO_CLASSES)
    ]
    dataset = dict(
        info=dict(
            description='mmplug synthetic demo instances', version='1.0'),
        licenses=[],
        images=images,
        annotations=annotations,
        categories=categories)
    ann_file.write_text(json.dumps(dataset), encoding='utf-8')
    return dict(
        num_images=num_images,
        num_instances=len(annotations),
        num_polygon=counts['polygon'],
        num_rle=counts['rle'])


# ---------------------------------------------------------------------------
# Semantic (ADE20K-style) dataset
# ---------------------------------------------------------------------------
def _wavy_line(rng: np.random.Generator, width: int, base: float,
               amplitude: float) -> np.ndarray:
    """Irregular border height per column: a sum of random sines."""
    xs = np.arange(width, dtype=np.float64) / width
    ys = np.full(width, base)
    for _ in range(int(rng.integers(2, 4))):
        freq = rng.uniform(0.5, 4.0)
        ys += (amplitude * rng.uniform(0.3, 1.0) *
               np.sin(2 * math.pi * freq * xs + rng.uniform(0, 2 * math.pi)))
    return ys


def _sky_texture(rng: np.random.Generator, height: int,
                 width: int) -> np.ndarray:
    """Blue vertical gradient with soft whitish clouds."""
    top = _hsv_color(rng.uniform(100, 115), rng.uniform(110, 180),
                     rng.uniform(170, 230))
    bottom = _hsv_color(rng.uniform(95, 110), rng.uniform(40, 90),
                        rng.uniform(200, 250))
    t = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    img = np.broadcast_to(top * (1 - t) + bottom * t,
                          (height, width, 3)).copy()
    clouds = _smooth_field(rng, height, width, int(rng.integers(4, 9)))
    clouds = np.clip((clouds - 0.55) * 3.0, 0, 1) * rng.uniform(0.3, 0.8)
    img = img * (1 - clouds) + 245.0 * clouds
    return img + _blurred_noise(rng, height, width, 1.5) * 3


def _wall_texture(rng: np.random.Generator, height: int,
                  width: int) -> np.ndarray:
    """Pale, low-saturation plaster with faint vertical panel lines."""
    color = _hsv_color(rng.integers(180), rng.uniform(15, 60),
                       rng.uniform(140, 210))
    img = np.broadcast_to(color, (height, width, 3)).astype(np.float32)
    img = img + (_smooth_field(rng, height, width, 5) - 0.5) * 25
    img = img + _blurred_noise(rng, height, width, 1.0) * 4
    step = int(rng.integers(30, 80))
    for x in range(int(rng.integers(0, step)), width, step):
        img[:, x:x + 2] -= rng.uniform(6, 14)
    return img


def _floor_texture(rng: np.random.Generator, height: int,
                   width: int) -> np.ndarray:
    """Dark wooden/grey planks: horizontal dark lines and grain noise."""
    color = _hsv_color(rng.uniform(0, 30), rng.uniform(30, 100),
                       rng.uniform(60, 120))
    img = np.broadcast_to(color, (height, width, 3)).astype(np.float32)
    grain = rng.standard_normal((height, max(width // 8, 1))).astype(
        np.float32)
    grain = cv2.resize(grain, (width, height), interpolation=cv2.INTER_LINEAR)
    img = img + grain[..., None] * 5
    step = int(rng.integers(10, 25))
    for y in range(int(rng.integers(0, step)), height, step):
        img[y:y + 1] -= rng.uniform(12, 25)
    return img


def _box_polygon(rng: np.random.Generator, height: int, width: int,
                 floor_base: float) -> np.ndarray:
    """A rectangle or parallelogram standing on the floor."""
    side = min(height, width)
    box_w = rng.uniform(0.12, 0.35) * side
    box_h = rng.uniform(0.12, 0.30) * side
    shear = rng.uniform(-0.3, 0.3) * box_h if rng.random() < 0.5 else 0.0
    bottom = rng.uniform(min(floor_base + 0.1 * height, height - 1),
                         height - 1)
    left = rng.uniform(-min(shear, 0), width - 1 - box_w - max(shear, 0))
    top = max(bottom - box_h, 0)
    return np.array([(left + shear, top), (left + shear + box_w, top),
                     (left + box_w, bottom), (left, bottom)])


def _draw_box(rng: np.random.Generator, img: np.ndarray,
              floor_base: float) -> np.ndarray:
    """Paint a cardboard box (with tape and dark edges); return its mask."""
    height, width = img.shape[:2]
    pts = np.round(_box_polygon(rng, height, width, floor_base))
    pts = pts.astype(np.int32)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [pts], 1)
    color = _hsv_color(rng.uniform(12, 28), rng.uniform(130, 210),
                       rng.uniform(160, 235))
    _paint(rng, img, mask.astype(bool), color, noise_std=4.0)
    detail = np.zeros((height, width), np.uint8)
    mid_top = (pts[0] + pts[1]) // 2
    mid_bottom = (pts[3] + pts[2]) // 2
    cv2.line(detail, tuple(int(v) for v in mid_top),
             tuple(int(v) for v in mid_bottom), 1, int(rng.integers(2, 5)))
    cv2.polylines(detail, [pts], True, 1, 1)
    img[(detail > 0) & (mask > 0)] *= 0.75
    return mask.astype(bool)


def _draw_ball(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Paint a shaded ball (circle/ellipse) below the sky; return its mask."""
    height, width = img.shape[:2]
    side = min(height, width)
    radius = rng.uniform(0.06, 0.15) * side
    axes = (int(round(radius)), int(round(radius * rng.uniform(0.8, 1.0))))
    cx = rng.uniform(radius, width - 1 - radius)
    cy = rng.uniform(max(0.3 * height, radius), height - 1 - radius)
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (int(round(cx)), int(round(cy))), axes,
                float(rng.uniform(0, 180)), 0, 360, 1, -1)
    hue = _BALL_HUES[int(rng.integers(len(_BALL_HUES)))]
    color = _hsv_color(hue + rng.uniform(-8, 8), rng.uniform(170, 255),
                       rng.uniform(160, 240))
    ys, xs = np.nonzero(mask)
    hx, hy = cx - 0.35 * radius, cy - 0.35 * radius
    dist = np.hypot(xs - hx, ys - hy) / (1.4 * radius)
    shade = np.clip(1.2 - 0.6 * dist, 0.55, 1.2)
    noise = rng.normal(0, 4, (len(xs), 3))
    img[ys, xs] = (color[None] * shade[:, None] + noise).astype(np.float32)
    return mask.astype(bool)


def _make_ade_scene(rng: np.random.Generator, height: int,
                    width: int) -> Tuple[np.ndarray, np.ndarray, int]:
    """Draw one sky/wall/floor scene with boxes and balls.

    Returns:
        tuple: uint8 BGR image, uint8 label map with ADE20K pixel values
        (0 = ignore on a thin band along class borders) and the number of
        objects (boxes + balls) drawn.
    """
    sky_y = _wavy_line(rng, width, height * rng.uniform(0.15, 0.35),
                       height * rng.uniform(0.01, 0.05))
    floor_base = height * rng.uniform(0.55, 0.75)
    floor_y = _wavy_line(rng, width, floor_base,
                         height * rng.uniform(0.01, 0.04))
    floor_y = np.maximum(floor_y, sky_y + 0.1 * height)
    rows = np.arange(height)[:, None]
    classes = np.where(rows < sky_y[None], _SKY,
                       np.where(rows < floor_y[None], _WALL, _FLOOR))
    classes = classes.astype(np.uint8)

    img = np.empty((height, width, 3), np.float32)
    for cls, texture in ((_SKY, _sky_texture), (_WALL, _wall_texture),
                         (_FLOOR, _floor_texture)):
        region = classes == cls
        img[region] = texture(rng, height, width)[region]

    num_objects = int(rng.integers(_ADE_OBJECTS_PER_IMAGE[0],
                                   _ADE_OBJECTS_PER_IMAGE[1] + 1))
    for _ in range(num_objects):
        if rng.random() < 0.5:
            classes[_draw_box(rng, img, floor_base)] = _BOX
        else:
            classes[_draw_ball(rng, img)] = _BALL
    _add_distractors(rng, img, int(rng.integers(2, 6)))

    kernel = np.ones((3, 3), np.uint8)
    border = cv2.dilate(classes, kernel) != cv2.erode(classes, kernel)
    label = np.asarray(DEMO_ADE_LABEL_IDS, np.uint8)[classes]
    label[border] = 0
    return _finish_image(rng, img), label, num_objects


def _generate_ade_split(ade_root: Path, split: str, num_images: int,
                        img_size: Tuple[int, int],
                        seed: int) -> Dict[str, int]:
    """Write the images and label PNGs of one ADE20K-style split."""
    folder = 'training' if split == 'train' else 'validation'
    prefix = 'ADE_train' if split == 'train' else 'ADE_val'
    img_dir = ade_root / 'images' / folder
    ann_dir = ade_root / 'annotations' / folder
    img_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    total_objects = 0
    for index in range(num_images):
        rng = _image_rng(seed, 'ade', split, index)
        height, width = _draw_image_size(rng, img_size)
        img, label, num_objects = _make_ade_scene(rng, height, width)
        stem = f'{prefix}_{index + 1:08d}'
        _write_jpg(img_dir / f'{stem}.jpg', img)
        _write_encoded(ann_dir / f'{stem}.png', label, '.png')
        total_objects += num_objects
    return dict(num_images=num_images, num_objects=total_objects)


# ---------------------------------------------------------------------------
# Files, idempotency and the public entry point
# ---------------------------------------------------------------------------
def _write_encoded(path: Path, img: np.ndarray, ext: str,
                   params: Sequence[int] = ()) -> None:
    """Encode with OpenCV and write bytes (works for non-ASCII paths)."""
    ok, buf = cv2.imencode(ext, img, list(params))
    if not ok:
        raise RuntimeError(f'failed to encode {path}')
    path.write_bytes(buf.tobytes())


def _write_jpg(path: Path, img: np.ndarray) -> None:
    _write_encoded(path, img, '.jpg',
                   (cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY))


def _layout(root: Path) -> Dict[str, Any]:
    """Paths of every output folder/file, as strings."""
    coco = root / 'coco'
    ade = root / 'ade' / 'ADEChallengeData2016'
    return {
        'coco': {
            'data_root': str(coco),
            **{
                split: {
                    'img_dir': str(coco / f'{split}2017'),
                    'ann_file': str(coco / 'annotations' /
                                    f'instances_{split}2017.json'),
                }
                for split in _SPLITS
            }
        },
        'ade': {
            'data_root': str(ade),
            **{
                split: {
                    'img_dir': str(ade / 'images' / folder),
                    'ann_dir': str(ade / 'annotations' / folder),
                }
                for split, folder in zip(_SPLITS, ('training', 'validation'))
            }
        },
    }


def _build_summary(root: Path, counts: Dict[str, Any], skipped: bool,
                   args: Dict[str, Any]) -> Dict[str, Any]:
    """Merge paths and counts into the summary returned to the caller."""
    summary = _layout(root)
    for dataset in ('coco', 'ade'):
        for split in _SPLITS:
            summary[dataset][split].update(counts[dataset][split])
    summary['coco']['classes'] = list(DEMO_COCO_CLASSES)
    summary['ade']['classes'] = list(DEMO_ADE_CLASSES)
    summary['ade']['label_ids'] = list(DEMO_ADE_LABEL_IDS)
    summary.update(
        root=str(root),
        meta_file=str(root / META_FILE),
        args=args,
        skipped=skipped)
    return summary


def _output_dirs(root: Path) -> List[Path]:
    return [root / 'coco', root / 'ade']


def _has_output(root: Path) -> bool:
    """Whether a previous run left anything in the folders we write."""
    if (root / META_FILE).exists():
        return True
    return any(d.exists() and any(d.iterdir()) for d in _output_dirs(root))


def _read_meta(root: Path) -> Optional[Dict[str, Any]]:
    try:
        return json.loads((root / META_FILE).read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return None


def _files_complete(root: Path, counts: Dict[str, Any]) -> bool:
    """Cheap check that the files recorded in the meta are on disk."""
    layout = _layout(root)
    for split in _SPLITS:
        coco, ade = layout['coco'][split], layout['ade'][split]
        expected = counts['coco'][split]['num_images']
        if not Path(coco['ann_file']).is_file():
            return False
        if len(list(Path(coco['img_dir']).glob('*.jpg'))) != expected:
            return False
        expected = counts['ade'][split]['num_images']
        if len(list(Path(ade['img_dir']).glob('*.jpg'))) != expected:
            return False
        if len(list(Path(ade['ann_dir']).glob('*.png'))) != expected:
            return False
    return True


def _check_args(num_train: int, num_val: int, img_size: Tuple[int, int],
                seed: int) -> None:
    if num_train < 0 or num_val < 0:
        raise ValueError('num_train and num_val must be >= 0, got '
                         f'{num_train} and {num_val}')
    if len(img_size) != 2 or not 32 <= img_size[0] <= img_size[1]:
        raise ValueError('img_size must be (min, max) with 32 <= min <= max, '
                         f'got {img_size}')
    if seed < 0:
        raise ValueError(f'seed must be >= 0, got {seed}')


def make_demo_data(root: Union[str, Path],
                   num_train: int = 160,
                   num_val: int = 40,
                   img_size: Tuple[int, int] = (256, 320),
                   seed: int = 0,
                   overwrite: bool = False) -> Dict[str, Any]:
    """Generate the synthetic COCO-style and ADE20K-style demo datasets.

    Layout written under ``root``::

        coco/train2017/*.jpg, coco/val2017/*.jpg
        coco/annotations/instances_{train,val}2017.json
        ade/ADEChallengeData2016/images/{training,validation}/*.jpg
        ade/ADEChallengeData2016/annotations/{training,validation}/*.png
        demo_meta.json

    Both datasets get ``num_train`` training and ``num_val`` validation
    images. Each image height and width is drawn from ``img_size`` (rounded
    to a multiple of 8 when the range allows).

    Args:
        root: Output folder (e.g. ``'data/demo'``).
        num_train: Number of training images per dataset.
        num_val: Number of validation images per dataset.
        img_size: ``(min, max)`` range of image height and width.
        seed: Non-negative random seed; equal arguments give byte-identical
            files.
        overwrite: Remove and regenerate ``root/coco``, ``root/ade`` and
            ``root/demo_meta.json`` if they already exist. Other content of
            ``root`` is never touched.

    Returns:
        dict: Summary with ``root``, ``meta_file``, ``args``, ``skipped``
        (True if an identical dataset already existed and nothing was
        written) and per dataset (``'coco'``/``'ade'``) its ``data_root``,
        ``classes`` and, per split (``'train'``/``'val'``), the folders and
        counts (``num_images``; ``num_instances``, ``num_polygon``,
        ``num_rle`` for COCO; ``num_objects`` for ADE).

    Raises:
        FileExistsError: If output exists, ``overwrite`` is False and it was
            not produced by a complete run with the same arguments.
        ValueError: On invalid arguments.
    """
    root = Path(root)
    img_size = (int(img_size[0]), int(img_size[1]))
    _check_args(num_train, num_val, img_size, seed)
    args = dict(
        num_train=int(num_train),
        num_val=int(num_val),
        img_size=list(img_size),
        seed=int(seed))

    if _has_output(root):
        if overwrite:
            for folder in _output_dirs(root):
                if folder.exists():
                    shutil.rmtree(folder)
            (root / META_FILE).unlink(missing_ok=True)
        else:
            meta = _read_meta(root)
            if (meta is not None and meta.get('version') == _FORMAT_VERSION
                    and meta.get('args') == args
                    and _files_complete(root, meta['counts'])):
                return _build_summary(root, meta['counts'], True, args)
            raise FileExistsError(
                f'Demo data output already exists in {root} (coco/, ade/ or '
                f'{META_FILE}) but was not generated with the same arguments '
                f'{args}, or is incomplete. Pass overwrite=True (CLI: '
                '--overwrite) to delete and regenerate it.')

    num_per_split = {'train': int(num_train), 'val': int(num_val)}
    counts: Dict[str, Any] = {'coco': {}, 'ade': {}}
    for split in _SPLITS:
        counts['coco'][split] = _generate_coco_split(
            root / 'coco', split, num_per_split[split], img_size, seed)
        counts['ade'][split] = _generate_ade_split(
            root / 'ade' / 'ADEChallengeData2016', split,
            num_per_split[split], img_size, seed)
    meta = dict(
        generator='mmplug.datasets.demo',
        version=_FORMAT_VERSION,
        args=args,
        counts=counts)
    (root / META_FILE).write_text(
        json.dumps(meta, indent=2, sort_keys=True), encoding='utf-8')
    return _build_summary(root, counts, False, args)

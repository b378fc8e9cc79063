"""Dataset validation: what ``tools/misc/check_dataset.py`` reports, and the
cheap part ``tools/train.py`` / ``tools/test.py`` run before training.

Two dataset layouts are understood, those of mmdet's ``CocoDataset`` (and
its subclasses) and mmseg's ``BaseSegDataset`` (ADE20K and the like); both
are found behind dataset wrappers (``RepeatDataset``, ``ConcatDataset``).

- :func:`check_config_data` (the cheap part): every path a split reads
  exists, and the class names the config gives are the dataset's
  (mmdet silently drops unknown names from a COCO file, which shifts every
  label after them); a COCO file lists images, and has annotations where
  they are needed (a training set, a set scored by COCO mAP, which would
  print -1). Reads only the ``categories`` of an annotation file and
  searches it for empty lists.
- :func:`check_dataset` (the whole report): the cheap part, then every
  annotation and image: malformed JSON, no images or annotations,
  duplicate ids, annotations of unknown images or categories, empty,
  degenerate or out-of-image boxes, empty or degenerate polygons, RLE masks
  of the wrong size, images missing, unreadable, truncated or of another
  size than declared, label maps missing, of another size than their
  image, with several channels (RGB) or lossy (JPEG); with ``deep=True``
  every image is decoded and every label value checked against the class
  range (and 16-bit values against 255).
"""
import gc
import json
import math
import mmap
import os
import os.path as osp
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import imagesize
import orjson

from mmplug.errors import DatasetError, DatasetNotFoundError

#: Where the README explains how to lay out COCO and ADE20K.
DATASET_DOCS = "README.md, section 'Dataset preparation'"

SPLITS = ('train', 'val', 'test')


# ----------------------------------------------------------------- configs
def leaf_datasets(dataset: dict) -> List[dict]:
    """The dataset configs behind wrappers (``dataset`` / ``datasets``)."""
    if 'dataset' in dataset:
        return leaf_datasets(dataset['dataset'])
    if 'datasets' in dataset:
        return [leaf for d in dataset['datasets'] for leaf in leaf_datasets(d)]
    return [dataset]


def dataset_paths(dataset: dict) -> List[str]:
    """Files and folders a dataset config reads, wrappers included.

    Joins ``ann_file`` and ``data_prefix`` to ``data_root`` as mmengine's
    ``BaseDataset`` does.
    """
    paths = []
    for leaf in leaf_datasets(dataset):
        root = leaf.get('data_root') or ''
        rel = [leaf.get('ann_file') or '']
        rel += [v for v in (leaf.get('data_prefix') or {}).values() if v]
        found = [osp.join(root, p) for p in rel if p]
        paths += found or ([root] if root else [])
    return paths


def split_datasets(cfg, split: str) -> List[dict]:
    """The leaf dataset configs of ``<split>_dataloader`` (none if unset)."""
    loader = cfg.get(f'{split}_dataloader')
    if not loader or not isinstance(loader.get('dataset'), dict):
        return []
    return leaf_datasets(loader['dataset'])


def dataset_class(cfg, dataset: dict) -> Optional[type]:
    """The class a dataset config builds, looked up in the config's scope."""
    from mmengine.registry import DATASETS
    kind = dataset.get('type')
    if not isinstance(kind, str):
        return kind if isinstance(kind, type) else None
    if '.' not in kind and cfg.get('default_scope'):
        kind = f'{cfg.default_scope}.{kind}'
    try:
        return DATASETS.get(kind)
    except Exception:  # an unknown type: building it will say so
        return None


def _is_coco(cls: Optional[type], dataset: dict) -> bool:
    return cls is not None and hasattr(cls, 'COCOAPI') or (
        cls is None and str(dataset.get('ann_file', '')).endswith('.json'))


def _is_seg(cls: Optional[type]) -> bool:
    return cls is not None and any(c.__name__ == 'BaseSegDataset'
                                   for c in cls.__mro__)


def _classes(cls: Optional[type], dataset: dict) -> Tuple[str, ...]:
    metainfo = dataset.get('metainfo') or {}
    classes = metainfo.get('classes')
    if classes is None and cls is not None:
        classes = getattr(cls, 'METAINFO', {}).get('classes')
    if isinstance(classes, str):  # a file with one name per line
        with open(classes) as f:
            classes = [line.strip() for line in f if line.strip()]
    return tuple(classes or ())


# ---------------------------------------------------------- annotation file
@lru_cache(maxsize=16)
def _categories(path: str, size: int, mtime: float) -> Tuple[dict, ...]:
    with open(path, 'rb') as f:
        try:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file
            data = b''
        at = data.rfind(b'"categories"')
        if at >= 0:  # COCO files end with their categories: read just those
            text = bytes(data[at:at + 4_000_000]).decode('utf-8', 'replace')
            colon = text.find(':')
            start = colon + 1 + len(text[colon + 1:]) - len(
                text[colon + 1:].lstrip())
            try:
                value, _ = json.JSONDecoder().raw_decode(text, start)
                if isinstance(value, list) and all(
                        isinstance(c, dict) and 'name' in c for c in value):
                    return tuple(value)
            except ValueError:
                pass
    return tuple(load_json(path).get('categories') or ())


def read_categories(path: str) -> Tuple[dict, ...]:
    """The ``categories`` of a COCO annotation file, without parsing the
    rest when they stand at its end (as in COCO's own files)."""
    stat = os.stat(path)
    return _categories(path, stat.st_size, stat.st_mtime)


_LIST_OPENING = re.compile(rb'\s*:\s*\[\s*(\]?)')


@lru_cache(maxsize=64)
def _list_state(path: str, key: str, size: int, mtime: float) -> str:
    with open(path, 'rb') as f:
        try:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file
            return 'absent'
        name, at = f'"{key}"'.encode(), 0
        while True:
            at = data.find(name, at)
            if at < 0:
                return 'absent'
            at += len(name)
            found = _LIST_OPENING.match(data, at)
            if found:  # the key, and not a text with the same letters
                return 'empty' if found.group(1) else 'items'


def list_state(path: str, key: str) -> str:
    """Whether the list ``key`` of a JSON annotation file is ``'empty'``,
    has ``'items'`` or is ``'absent'``, found without parsing the file (a
    search through it: a fraction of a second for COCO's 450 MB)."""
    stat = os.stat(path)
    return _list_state(path, key, stat.st_size, stat.st_mtime)


def load_json(path: str) -> dict:
    """A JSON annotation file, or :class:`DatasetError` naming the file and
    the place it is malformed. orjson parses a COCO-sized file in half the
    time of the standard library; the latter locates the error."""
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            json.loads(raw)
        except json.JSONDecodeError as err:
            raise DatasetError(f'{path}: malformed JSON at line '
                               f'{err.lineno}, column {err.colno}: '
                               f'{err.msg}') from None
        except UnicodeDecodeError as err:
            raise DatasetError(f'{path}: not a JSON text file ({err})'
                               ) from None
        raise  # orjson stricter than json: keep its error
    if not isinstance(data, dict):
        raise DatasetError(f'{path}: a COCO annotation file holds a JSON '
                           f'object, this one a {type(data).__name__}')
    return data


def unknown_classes_message(where: str, unknown: Sequence[str],
                            known: Sequence[str]) -> str:
    """'... not in ...', with close matches (``Circle`` -> ``circle``)."""
    lower = {k.lower(): k for k in known}
    hints = []
    for name in unknown:
        match = lower.get(name.lower()) or next(
            iter(get_close_matches(name, known, n=1)), None)
        if match:
            hints.append(f'{name!r} -> {match!r}?')
    shown = ', '.join(repr(k) for k in list(known)[:40])
    more = f', ... ({len(known) - 40} more)' if len(known) > 40 else ''
    return (f'class names not in {where}: '
            f'{", ".join(repr(u) for u in unknown)}'
            + (f' (did you mean {"; ".join(hints)})' if hints else '')
            + f'. Its classes: {shown}{more}. Set the dataset\'s '
            'metainfo=dict(classes=...) to names it has.')


def check_class_names(cfg, dataset: dict, split: str) -> None:
    """Raise :class:`DatasetError` when a dataset config names classes its
    data does not have.

    COCO layout: the names must be categories of the annotation file (mmdet
    silently drops the others, shifting every label after them). mmseg
    layout: the names must be classes of the dataset type, whose label ids
    the files hold.
    """
    cls = dataset_class(cfg, dataset)
    classes = _classes(cls, dataset)
    if not classes:
        return
    if _is_coco(cls, dataset):
        path = osp.join(dataset.get('data_root') or '',
                        dataset.get('ann_file') or '')
        if not osp.isfile(path):
            return  # the path check names it
        known = [c['name'] for c in read_categories(path)]
        where = f'the annotation file {path}'
    elif _is_seg(cls):
        known = list(getattr(cls, 'METAINFO', {}).get('classes') or ())
        where = f'{cls.__name__} (whose label ids the label maps hold)'
    else:
        return
    unknown = [c for c in classes if c not in known]
    if known and unknown:
        raise DatasetError(f'{split} data: ' + unknown_classes_message(
            where, unknown, known))


def check_config_data(cfg, splits: Iterable[str] = ('train', 'val')) -> None:
    """The cheap checks of the data a run reads, before anything is built.

    Args:
        cfg (Config): the config to run.
        splits (Iterable[str]): which of ``train``/``val``/``test`` will run.

    Raises:
        DatasetNotFoundError: a path a split reads does not exist.
        DatasetError: the config names classes the data does not have, or
            an annotation file is not JSON.
    """
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        paths = dataset_paths(loader['dataset'])
        evaluators = cfg.get(f'{split}_evaluator') or []
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        paths += [e['ann_file'] for e in evaluators if e.get('ann_file')]
        for path in paths:
            if not osp.exists(path):
                raise DatasetNotFoundError(
                    f'{split} data not found: {path!r} does not exist '
                    f'(looked from {osp.abspath(".")}). Prepare the dataset '
                    f'as described in {DATASET_DOCS}.')
        for dataset in split_datasets(cfg, split):
            check_class_names(cfg, dataset, split)
            check_coco_lists(cfg, dataset, split)
        check_evaluated_annotations(cfg, split)


def _coco_file(cfg, dataset: dict) -> Optional[str]:
    """The annotation file of a COCO-layout dataset config, if it is one
    and the file exists."""
    if not _is_coco(dataset_class(cfg, dataset), dataset):
        return None
    path = osp.join(dataset.get('data_root') or '',
                    dataset.get('ann_file') or '')
    return path if osp.isfile(path) else None


def _filters_empty(dataset: dict) -> bool:
    """Whether mmdet drops the images without annotations (training sets:
    ``filter_cfg=dict(filter_empty_gt=True)``; never in test mode)."""
    if dataset.get('test_mode'):
        return False
    return bool((dataset.get('filter_cfg') or {}).get('filter_empty_gt'))


def check_coco_lists(cfg, dataset: dict, split: str) -> None:
    """Raise :class:`DatasetError` when a COCO annotation file lists no
    images, or (where mmdet drops images without annotations) no
    annotations: mmdet would stop with "need at least one array to
    concatenate"."""
    path = _coco_file(cfg, dataset)
    if path is None:
        return
    if list_state(path, 'images') != 'items':
        raise DatasetError(
            f'{split} data: the annotation file {path} lists no images '
            '(its "images" list is empty or missing)')
    if _filters_empty(dataset) and list_state(path, 'annotations') != \
            'items':
        raise DatasetError(
            f'{split} data: the annotation file {path} has no annotations, '
            'so there is nothing to learn: mmdet drops the images without '
            'annotations (filter_cfg=dict(filter_empty_gt=True)), which '
            'leaves none')


def _evaluators(cfg, split: str) -> List[dict]:
    evaluators = cfg.get(f'{split}_evaluator') or []
    if isinstance(evaluators, dict):
        evaluators = [evaluators]
    return [e for e in evaluators if isinstance(e, dict)]


def _coco_scored(evaluator: dict) -> bool:
    """A COCO mAP metric that scores (not ``format_only``)."""
    kind = evaluator.get('type')
    return isinstance(kind, str) and kind.endswith('CocoMetric') and \
        not evaluator.get('format_only')


def _scored_by_coco(cfg, split: str) -> bool:
    return split != 'train' and any(_coco_scored(e)
                                    for e in _evaluators(cfg, split))


def check_evaluated_annotations(cfg, split: str) -> None:
    """Raise :class:`DatasetError` when a split is scored by COCO mAP
    against a file without annotations: every mAP would print as -1.

    A COCO metric with ``format_only=True`` (predictions saved for another
    server to score, as for COCO test-dev) needs none.
    """
    if split == 'train':
        return
    datasets = split_datasets(cfg, split)
    for evaluator in _evaluators(cfg, split):
        if not _coco_scored(evaluator):
            continue
        paths = [evaluator['ann_file']] if evaluator.get('ann_file') else \
            [p for p in (_coco_file(cfg, d) for d in datasets) if p]
        for path in paths:
            if osp.isfile(path) and list_state(path, 'annotations') != \
                    'items':
                raise DatasetError(
                    f'{split} data: {path} has no annotations, so every '
                    f'COCO mAP would be -1. Evaluate on annotated images; '
                    'to only save predictions (e.g. for COCO test-dev), '
                    f'set {split}_evaluator.format_only=True and '
                    f'{split}_evaluator.outfile_prefix=PATH')


# ------------------------------------------------------------- the report
@dataclass
class Problem:
    """One thing wrong with a dataset."""
    kind: str       #: short category, e.g. ``missing image``
    where: str      #: the file (or annotation) it concerns
    detail: str = ''

    def __str__(self) -> str:
        return f'{self.where}: {self.kind}' + (f' ({self.detail})'
                                               if self.detail else '')


@dataclass
class Report:
    """What :func:`check_dataset` found in one split."""
    split: str
    summary: List[str] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    def add(self, kind: str, where: str, detail: str = '') -> None:
        self.problems.append(Problem(kind, where, detail))

    def counts(self) -> Dict[str, int]:
        """Problems per kind."""
        out: Dict[str, int] = {}
        for p in self.problems:
            out[p.kind] = out.get(p.kind, 0) + 1
        return out

    def format(self, max_lines: int = 20) -> str:
        """The report as text: summary, then each kind of problem with its
        count and up to ``max_lines`` of its cases."""
        lines = [f'[{self.split}] {s}' for s in self.summary]
        if not self.problems:
            return '\n'.join(lines + [f'[{self.split}] no problem found'])
        for kind, count in sorted(self.counts().items(),
                                  key=lambda kv: -kv[1]):
            lines.append(f'[{self.split}] {kind}: {count}')
            cases = [p for p in self.problems if p.kind == kind]
            lines += [f'    {p.where}' + (f' ({p.detail})' if p.detail
                                           else '')
                      for p in cases[:max_lines]]
            if count > max_lines:
                lines.append(f'    ... {count - max_lines} more')
        return '\n'.join(lines)


def _complete(path: str) -> bool:
    """Whether a JPEG or PNG file ends with its end marker (``FFD9``, the
    ``IEND`` chunk) near its end, as a file cut short does not; other
    formats are taken as complete. Reads its last 64 bytes (and, where they
    hold no end marker, its first 8): about 15 us a file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            os.lseek(fd, -64, os.SEEK_END)
        except OSError:  # a file of fewer than 64 bytes
            os.lseek(fd, 0, os.SEEK_SET)
        tail = os.read(fd, 64)
        if b'\xff\xd9' in tail or b'IEND' in tail:
            return True
        head = os.pread(fd, 8, 0)
    finally:
        os.close(fd)
    return not head.startswith((b'\xff\xd8', b'\x89PNG'))


def _image_size(path: str, deep: bool) -> Tuple[Optional[Tuple[int, int]],
                                                Optional[str]]:
    """(width, height) from the file's header (``deep``: fully decoded), or
    the reason it cannot be read. Without ``deep``, a JPEG or PNG that does
    not end with its end marker is decoded, which tells a truncated file
    from one with data after its image."""
    from PIL import Image
    if not deep:  # imagesize reads JPEG/PNG headers 3x faster than PIL
        try:
            width, height = imagesize.get(path)
            complete = width > 0 and height > 0 and _complete(path)
        except FileNotFoundError:
            return None, 'missing'
        except Exception:  # unreadable: PIL says why
            width = height = -1
        if width > 0 and height > 0:
            if complete:
                return (width, height), None
            deep = True  # cut short, or data after its end: decode it
    try:
        with Image.open(path) as img:
            if deep:
                img.load()
            return img.size, None
    except FileNotFoundError:
        return None, 'missing'
    except Exception as err:  # PIL raises many kinds for a corrupt file
        return None, f'{type(err).__name__}: {err}'


def _sizes(paths: List[str], deep: bool, workers: int = 8):
    """:func:`_image_size` of many files: headers in this thread (parsing
    them holds the GIL), full decodes by a few threads."""
    if not deep:
        return [_image_size(p, deep) for p in paths]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda p: _image_size(p, deep), paths))


def _check_bbox(bbox: Any, width: Any, height: Any) -> Optional[str]:
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return f'bbox is {bbox!r}, not [x, y, w, h]'
    if not all(isinstance(v, (int, float)) and math.isfinite(v)
               for v in bbox):
        return f'bbox has a non-finite value {bbox!r}'
    x, y, w, h = bbox
    if w < 1 or h < 1:
        return f'box of {w} x {h} pixels'
    if isinstance(width, (int, float)) and isinstance(height, (int, float)) \
            and (x < -1 or y < -1 or x + w > width + 1
                 or y + h > height + 1):
        return f'box {bbox} outside the {width}x{height} image'
    return None


def _check_segmentation(seg: Any, width: Any, height: Any) -> Optional[str]:
    if isinstance(seg, list):
        if not seg:
            return 'empty segmentation (mmdet fails with KeyError: mask)'
        bad = [len(p) for p in seg if not isinstance(p, list) or len(p) < 6
               or len(p) % 2]
        if bad:
            return (f'degenerate polygon(s) of {bad} coordinates (fewer than '
                    '3 points or an odd count): mmdet ignores the instance')
        return None
    if isinstance(seg, dict):
        size = seg.get('size')
        if 'counts' not in seg or not isinstance(size, list):
            return f'RLE without counts or size: {sorted(seg)}'
        if size != [height, width]:
            return f'RLE of size {size}, image {height}x{width}'
        return None
    return f'segmentation of type {type(seg).__name__}'


def _check_coco(cfg, dataset: dict, report: Report, deep: bool) -> None:
    cls = dataset_class(cfg, dataset)
    root = dataset.get('data_root') or ''
    path = osp.join(root, dataset.get('ann_file') or '')
    img_dir = osp.join(root, (dataset.get('data_prefix') or {}).get('img')
                       or '')
    data = load_json(path)
    data.setdefault('annotations', [])  # image-info files (COCO test-dev)
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            report.add('malformed annotation file', path,
                       f'no list {key!r}')
            return
    images, anns, cats = data['images'], data['annotations'], \
        data['categories']
    report.summary.append(f'{path}: {len(images)} images, {len(anns)} '
                          f'annotations, {len(cats)} categories')
    if not images:
        report.add('no images', path, 'the file lists none')
    elif not anns:
        if _filters_empty(dataset):
            report.add('no annotations', path, 'mmdet drops the images '
                       'without annotations (filter_empty_gt), leaving none')
        elif _scored_by_coco(cfg, report.split):
            report.add('no annotations', path, 'every COCO mAP would be -1 '
                       '(format_only=True only saves predictions)')
    cat_ids = {}
    for cat in cats:
        if cat.get('id') in cat_ids:
            report.add('duplicate category id', path, str(cat.get('id')))
        cat_ids[cat.get('id')] = cat.get('name')
    names = [c.get('name') for c in cats]
    for name in sorted({n for n in names if names.count(n) > 1}):
        report.add('duplicate category name', path, repr(name))
    classes = _classes(cls, dataset)
    unknown = [c for c in classes if c not in names]
    if unknown:
        report.add('unknown class name', path,
                   unknown_classes_message('the file', unknown, names))
    by_id: Dict[Any, dict] = {}
    files: Dict[str, Any] = {}
    for img in images:
        if img.get('id') in by_id:
            report.add('duplicate image id', path, str(img.get('id')))
        by_id[img.get('id')] = img
        name = img.get('file_name')
        if name in files:
            report.add('duplicate file name', path,
                       f'{name} (ids {files[name]}, {img.get("id")})')
        files[name] = img.get('id')
    seen_ann = set()
    for ann in anns:
        where = f'{path}: annotation {ann.get("id")}'
        if ann.get('id') in seen_ann:
            report.add('duplicate annotation id', path, str(ann.get('id')))
        seen_ann.add(ann.get('id'))
        img = by_id.get(ann.get('image_id'))
        if img is None:
            report.add('annotation of an unknown image', where,
                       f'image_id {ann.get("image_id")}')
            continue
        if ann.get('category_id') not in cat_ids:
            report.add('annotation of an unknown category', where,
                       f'category_id {ann.get("category_id")}')
        where = f'{img.get("file_name")} (annotation {ann.get("id")})'
        problem = _check_bbox(ann.get('bbox'), img.get('width'),
                              img.get('height'))
        if problem:
            report.add('bad box', where, problem)
        if 'segmentation' in ann:
            problem = _check_segmentation(ann['segmentation'],
                                          img.get('width'), img.get('height'))
            if problem:
                report.add('bad mask', where, problem)
    paths = [osp.join(img_dir, img.get('file_name') or '') for img in images]
    for img, file, (size, err) in zip(images, paths, _sizes(paths, deep)):
        if err == 'missing':
            report.add('missing image', file)
        elif err:
            report.add('unreadable image', file, err)
        elif tuple(size) != (img.get('width'), img.get('height')):
            report.add('image size mismatch', file,
                       f'{size[0]}x{size[1]} in the file, '
                       f'{img.get("width")}x{img.get("height")} in {path}')


def _list_files(folder: str, suffix: str) -> List[str]:
    found = []
    for dirpath, _, names in os.walk(folder, followlinks=True):
        found += [osp.relpath(osp.join(dirpath, n), folder) for n in names
                  if n.endswith(suffix)]
    return sorted(found)


#: Modes of PIL images that mmseg reads as one channel of class indices
#: (a palette PNG gives its indices, not its colours).
INDEX_MODES = ('L', 'P', '1')


def _label_problem(img: Any, decode: bool) -> Optional[Tuple[str, str]]:
    """``(kind, explanation)`` of what makes an open label map unusable by
    mmseg, or None. ``decode``: read the values of a 16/32-bit map (values
    above 255 wrap around when mmseg reads it as 8-bit)."""
    import numpy as np
    if img.format == 'JPEG':
        return ('lossy (JPEG) label map', 'a JPEG label map: JPEG '
                'compression changes the label values along every region '
                'boundary; label maps must be saved losslessly, as PNG')
    mode = img.mode
    if mode in INDEX_MODES:
        return None
    if mode in ('I', 'F') or mode.startswith('I;'):
        if decode:
            top = float(np.asarray(img).max(initial=0))
            if top > 255:
                depth = {'I': '32-bit', 'F': 'floating-point'}.get(
                    mode, '16-bit')
                return ('label values above 255', f'a {depth} label map '
                        f'with values up to {top:g}: mmseg reads label maps '
                        f'as 8-bit, where {int(top)} becomes '
                        f'{int(top) % 256}')
        return None
    bands = img.getbands()
    return ('label map with several channels', f'a {len(bands)}-channel '
            f'({mode}) label map: label maps must hold one channel of class '
            'indices (a greyscale or palette PNG), not colours')


def label_map_problem(path: str, decode: bool = True) -> Optional[str]:
    """Why mmseg cannot use the label map ``path`` as it is (several
    channels, JPEG, 16-bit values above 255), or None; None also when PIL
    cannot open it (reading it will say why). Opens the header only, and
    decodes 16/32-bit maps when ``decode``."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            problem = _label_problem(img, decode)
    except Exception:  # unreadable: the loading names the error
        return None
    return problem[1] if problem else None


def _label_info(path: str, deep: bool) -> Tuple[
        Optional[Tuple[int, int]], Optional[str], Optional[Tuple[str, str]]]:
    """(size, read error, problem) of a label map, from one PIL open."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            return img.size, None, _label_problem(img, deep)
    except FileNotFoundError:
        return None, 'missing', None
    except Exception as err:
        return None, f'{type(err).__name__}: {err}', None


def _check_seg(cfg, dataset: dict, report: Report, deep: bool) -> None:
    import numpy as np
    from PIL import Image
    cls = dataset_class(cfg, dataset)
    root = dataset.get('data_root') or ''
    prefix = dataset.get('data_prefix') or {}
    img_dir = osp.join(root, prefix.get('img_path') or '')
    seg_dir = osp.join(root, prefix.get('seg_map_path') or '')
    defaults = {}
    if cls is not None:
        import inspect
        defaults = {k: p.default for k, p in
                    inspect.signature(cls.__init__).parameters.items()}
    img_suffix = dataset.get('img_suffix', defaults.get('img_suffix', '.jpg'))
    seg_suffix = dataset.get('seg_map_suffix',
                             defaults.get('seg_map_suffix', '.png'))
    reduce_zero = dataset.get('reduce_zero_label',
                              defaults.get('reduce_zero_label', False))
    classes = _classes(cls, dataset)
    unknown = [c for c in classes if cls is not None and c not in
               (cls.METAINFO.get('classes') or ())]
    if unknown:
        report.add('unknown class name', img_dir, unknown_classes_message(
            cls.__name__, unknown, cls.METAINFO['classes']))
    num_ids = len((cls.METAINFO.get('classes') if cls else None) or classes)
    stems = [f[:-len(img_suffix)] for f in _list_files(img_dir, img_suffix)]
    labels = set(f[:-len(seg_suffix)] for f in _list_files(seg_dir,
                                                           seg_suffix))
    report.summary.append(f'{img_dir}: {len(stems)} images, {seg_dir}: '
                          f'{len(labels)} label maps, {num_ids} classes')
    if not stems:
        report.add('no images', img_dir, f'no *{img_suffix} file')
    for stem in sorted(labels - set(stems)):
        report.add('label map without image', osp.join(seg_dir,
                                                       stem + seg_suffix))
    paired = [s for s in stems if s in labels]
    for stem in stems:
        if stem not in labels:
            report.add('missing label map', osp.join(seg_dir,
                                                     stem + seg_suffix))
    imgs = [osp.join(img_dir, s + img_suffix) for s in paired]
    segs = [osp.join(seg_dir, s + seg_suffix) for s in paired]
    # the highest raw value that is a class: ids 1..N with reduce_zero_label
    top = num_ids if reduce_zero else num_ids - 1
    labels = [_label_info(p, deep) for p in segs]
    for img, seg, (isize, ierr), (ssize, serr, problem) in zip(
            imgs, segs, _sizes(imgs, deep), labels):
        if ierr:
            report.add('unreadable image', img, ierr)
        if serr:
            report.add('unreadable label map', seg, serr)
        if ierr or serr:
            continue
        if isize != ssize:
            report.add('image/label size mismatch', seg,
                       f'label {ssize[0]}x{ssize[1]}, image '
                       f'{isize[0]}x{isize[1]}')
        if problem:
            report.add(problem[0], seg, problem[1])
            continue
        if deep:
            values = np.unique(np.asarray(Image.open(seg)))
            bad = [int(v) for v in values if v > top and v != 255]
            if bad:
                report.add('label value out of range', seg,
                           f'values {bad[:8]}; classes are 0-{top}'
                           + (' (0 = ignore: reduce_zero_label)'
                              if reduce_zero else '') + ', 255 = ignore')
            elif all(v == 255 or (reduce_zero and v == 0) for v in values):
                report.add('empty label map', seg, 'no labelled pixel')


def check_dataset(cfg, split: str = 'train', deep: bool = False) -> Report:
    """Check everything a split's data holds (see the module docstring).

    Args:
        cfg (Config): the config.
        split (str): ``train``, ``val`` or ``test``.
        deep (bool): decode every image and label map (slower); otherwise
            images are checked from their headers.

    Returns:
        Report: a summary and the problems found (empty when clean).

    Raises:
        DatasetNotFoundError: a path the split reads does not exist.
    """
    # millions of small objects: the cyclic GC would rescan them again and
    # again (a COCO-sized file checks in 9 s instead of 16 s without it)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check_split(cfg, split, deep)
    finally:
        if collecting:
            gc.enable()


def _check_split(cfg, split: str, deep: bool) -> Report:
    report = Report(split)
    datasets = split_datasets(cfg, split)
    if not datasets:
        report.summary.append(f'the config has no {split}_dataloader')
        return report
    for path in dataset_paths(cfg[f'{split}_dataloader']['dataset']):
        if not osp.exists(path):
            raise DatasetNotFoundError(
                f'{split} data not found: {path!r} does not exist (looked '
                f'from {osp.abspath(".")}); see {DATASET_DOCS}')
    for dataset in datasets:
        cls = dataset_class(cfg, dataset)
        try:
            if _is_coco(cls, dataset):
                _check_coco(cfg, dataset, report, deep)
            elif _is_seg(cls):
                _check_seg(cfg, dataset, report, deep)
            else:
                report.summary.append(
                    f'{dataset.get("type")}: not a COCO or mmseg layout, '
                    'only its paths were checked')
        except DatasetError as err:
            report.add('unreadable annotation file', str(err).split(':')[0],
                       str(err).split(': ', 1)[-1])
    return report

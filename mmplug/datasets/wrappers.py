"""Data loading that resumes exactly and names the file that fails.

:class:`SeededSampler` wraps any sampler (mmengine's ``DefaultSampler``,
``InfiniteSampler``, ...) and tags every index it yields with a seed derived
from ``(seed, epoch, rank, position in the epoch)``; :class:`GuardedDataset`
wraps any dataset and runs each sample's pipeline with Python's, NumPy's and
torch's random generators seeded from that tag. A sample's augmentation is
then a function of where it stands in the training stream alone: not of
``num_workers``, of whether workers persist across epochs, or of what ran in
the process before (a validation, an interrupted run). This is what makes a
resumed run equal the uninterrupted one (the model's own randomness is
re-seeded per iteration by :class:`mmplug.engine.IterationSeedHook`).

:class:`GuardedDataset` also turns an exception raised while loading a
sample into a :class:`~mmplug.errors.DatasetError` that names the image
(and label) file, checks segmentation label maps (one channel, lossless,
values in the class range), warns once per image about polygons mmdet
drops silently, warns with counts about the annotations mmdet's COCO
parsing skips silently (unknown category ids, empty boxes, boxes outside
their image), and names the annotation file when the dataset cannot be
read at all.

:class:`mmplug.engine.MMPlugRunner` wraps every dataloader's dataset and
sampler in these; nothing in a config needs to change.
"""
import contextlib
import ctypes
import functools
import os
import os.path as osp
import random
import signal
import sys
from typing import Any, Dict, Iterator, Optional, Tuple

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from torch.utils.data import Sampler

from mmplug.datasets.check import label_map_problem, leaf_datasets
from mmplug.errors import DatasetError, UserError
from mmplug.registry import DATA_SAMPLERS, DATASETS

#: Where a user learns what is wrong with a whole dataset (``--deep``:
#: decoding every image and label map finds what headers do not show).
CHECK_HINT = 'tools/misc/check_dataset.py CONFIG --deep lists every problem'


def sample_seed(seed: int, epoch: int, rank: int, position: int) -> int:
    """The seed of one sample's randomness: a 32-bit hash of where it
    stands in the training stream."""
    return int(np.random.SeedSequence(
        [seed % 2**32, epoch, rank, position]).generate_state(1)[0])


def seed_sample(seed: int) -> None:
    """Seed Python's, NumPy's and torch's CPU generators for one sample's
    pipeline (data pipelines draw on the CPU).

    Their earlier states are not restored: saving NumPy's costs more than a
    small image's whole pipeline, and nothing needs them. In a dataloader
    worker the generators serve the pipeline alone; in the training process
    (``num_workers=0``) the model's randomness is re-seeded before each
    iteration by :class:`mmplug.engine.IterationSeedHook`.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)


class SeededIndex(int):
    """A dataset index carrying the seed of its sample's randomness.

    An ``int`` subclass, so batch samplers that look indices up (mmdet's
    ``AspectRatioBatchSampler``) use it as the index it is; it survives the
    trip to dataloader workers.
    """
    seed: int

    def __new__(cls, index: int, seed: int) -> 'SeededIndex':
        obj = super().__new__(cls, index)
        obj.seed = seed
        return obj

    def __reduce__(self):
        return SeededIndex, (int(self), self.seed)


@DATA_SAMPLERS.register_module()
class SeededSampler(Sampler):
    """Yield the wrapped sampler's indices as :class:`SeededIndex`.

    Args:
        sampler (dict | Sampler): the sampler to wrap (its config is built
            with ``dataset`` and ``seed``, as mmengine builds samplers).
        dataset: the dataset.
        seed (int, optional): the run's seed; defaults to the wrapped
            sampler's ``seed`` (mmengine's samplers share one across ranks).
    """

    def __init__(self, sampler: Any, dataset: Any,
                 seed: Optional[int] = None) -> None:
        if isinstance(sampler, dict):
            sampler = DATA_SAMPLERS.build(
                sampler, default_args=dict(dataset=dataset, seed=seed))
        self.sampler = sampler
        self.dataset = dataset
        self.seed = getattr(sampler, 'seed', None)
        if self.seed is None:
            self.seed = 0 if seed is None else seed
        self.rank = get_dist_info()[0]
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch (and the wrapped sampler's)."""
        self.epoch = epoch
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[SeededIndex]:
        for position, index in enumerate(self.sampler):
            yield SeededIndex(index, sample_seed(self.seed, self.epoch,
                                                 self.rank, position))

    def __len__(self) -> int:
        return len(self.sampler)


_ARMED_IN = None  # the process in which _die_with_parent ran


def _die_with_parent() -> None:
    """In a dataloader worker, have the kernel kill it when the training
    process dies. A worker of a run killed with ``kill -9`` otherwise can
    hang for ever, flushing prefetched batches into a pipe nobody reads."""
    global _ARMED_IN
    if _ARMED_IN == os.getpid():
        return
    _ARMED_IN = os.getpid()
    if not sys.platform.startswith('linux') or \
            torch.utils.data.get_worker_info() is None:
        return
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # no prctl: nothing to arm
        return


def _describe_error(err: BaseException) -> str:
    if isinstance(err, KeyError) and err.args == ('mask', ):
        return ('an instance has no segmentation (an empty '
                '`segmentation` in the annotation file) while the pipeline '
                'loads masks')
    if isinstance(err, AssertionError) and str(err).startswith(
            'failed to load image'):  # mmcv's LoadImageFromFile
        return 'the image cannot be decoded (a truncated or corrupt file)'
    text = str(err).strip().splitlines()
    return f'{type(err).__name__}: {text[0] if text else ""}'.rstrip(': ')


# ------------------------------------------------ annotations mmdet skips
#: Why mmdet's COCO parsing skips an annotation, in the order it tests.
SKIP_REASONS = {
    'outside': 'a box outside its image',
    'empty': 'an empty box (width or height under 1 pixel, or area 0)',
    'category': 'a category_id that is not among the file\'s categories',
}

#: The annotations skipped: (annotation file, annotation id) -> (key of
#: SKIP_REASONS, annotation id, category_id)
Skipped = Dict[Tuple[str, Any], Tuple[str, Any, Any]]


def _skip_reason(ann: dict, img: dict, categories: Any) -> Optional[str]:
    """The key of :data:`SKIP_REASONS` for an annotation mmdet 3.3's
    ``CocoDataset.parse_data_info`` drops without a word, or None (kept,
    or dropped on purpose: ``ignore``, a category the config leaves
    out)."""
    if ann.get('ignore', False):
        return None
    x, y, w, h = ann['bbox']
    inter_w = max(0, min(x + w, img['width']) - max(x, 0))
    inter_h = max(0, min(y + h, img['height']) - max(y, 0))
    if inter_w * inter_h == 0:
        return 'empty' if w < 1 or h < 1 else 'outside'
    if ann.get('area', 1) <= 0 or w < 1 or h < 1:
        return 'empty'
    if categories is not None and ann.get('category_id') not in categories:
        return 'category'
    return None


def _recording(parse: Any, skipped: Skipped, seen: Dict[str, int],
               depth: list) -> Any:
    """``parse_data_info`` that notes which annotations mmdet skips (see
    :func:`_skip_reason`), then parses as before. ``depth`` counts the
    recording calls under way: a patched class whose patched base parses
    for it records once."""

    @functools.wraps(parse)
    def parse_data_info(self, raw_data_info: dict) -> Any:
        if not depth[0]:
            _record(self, raw_data_info, skipped, seen)
        depth[0] += 1
        try:
            return parse(self, raw_data_info)
        finally:
            depth[0] -= 1

    return parse_data_info


def _record(dataset: Any, raw_data_info: dict, skipped: Skipped,
            seen: Dict[str, int]) -> None:
    try:
        img = raw_data_info['raw_img_info']
        anns = raw_data_info['raw_ann_info']
        cats = getattr(getattr(dataset, 'coco', None), 'cats', None)
        file = str(dataset.ann_file)
        seen[file] = seen.get(file, 0) + len(anns)
        for ann in anns:
            reason = _skip_reason(ann, img, cats)
            if reason:
                skipped[(file, ann.get('id', id(ann)))] = (
                    reason, ann.get('id'), ann.get('category_id'))
    except Exception:  # malformed: mmdet's own parsing reports it
        return


@contextlib.contextmanager
def watch_skipped(dataset: dict) -> Iterator[Tuple[Skipped, Dict[str, int]]]:
    """While the dataset config ``dataset`` is built, note the annotations
    mmdet's COCO datasets skip without a word: boxes outside their image,
    empty boxes, unknown category ids (a polygon of fewer than 3 points is
    warned about per image instead). Costs nothing: the annotations are
    looked at as mmdet parses them (its ``parse_data_info`` is wrapped
    while the dataset builds, in this process only)."""
    skipped: Skipped = {}
    seen: Dict[str, int] = {}
    classes = []
    with DATASETS.switch_scope_and_registry(None) as registry:
        for leaf in leaf_datasets(dataset):
            kind = leaf.get('type')
            try:
                cls = kind if isinstance(kind, type) else registry.get(kind)
            except Exception:  # an unknown type: building it says so
                cls = None
            if cls is not None and hasattr(cls, 'COCOAPI') and hasattr(
                    cls, 'parse_data_info') and cls not in classes:
                classes.append(cls)
    patched = [(cls, cls.__dict__.get('parse_data_info')) for cls in classes]
    depth = [0]
    for cls, _ in patched:
        cls.parse_data_info = _recording(cls.parse_data_info, skipped, seen,
                                         depth)
    try:
        yield skipped, seen
    finally:
        for cls, own in reversed(patched):
            if own is None:
                del cls.parse_data_info
            else:
                cls.parse_data_info = own


def describe_skipped(skipped: Skipped, seen: Dict[str, int]) -> str:
    """One line per annotation file: how many annotations mmdet skips, and
    why, with a few annotation ids each."""
    lines = []
    for file in sorted({k[0] for k in skipped}):
        mine = [v for k, v in skipped.items() if k[0] == file]
        parts = []
        for reason, text in SKIP_REASONS.items():
            cases = [v for v in mine if v[0] == reason]
            if not cases:
                continue
            ids = ', '.join(str(c[1]) for c in cases[:5]) + (
                ', ...' if len(cases) > 5 else '')
            extra = ''
            if reason == 'category':
                cats = sorted({c[2] for c in cases}, key=str)
                extra = '; category_id ' + ', '.join(map(str, cats[:5])) + (
                    ', ...' if len(cats) > 5 else '')
            plural = 's' if len(cases) > 1 else ''
            parts.append(f'{len(cases)} with {text} (annotation{plural} '
                         f'{ids}{extra})')
        lines.append(f'{file}: mmdet skips {len(mine)} of its '
                     f'{seen.get(file, len(mine))} annotations without a '
                     f'word: {"; ".join(parts)}')
    return '\n'.join(lines)


@DATASETS.register_module()
class GuardedDataset:
    """A dataset whose failures name the file, whose randomness is seeded
    per sample (see the module docstring), whose segmentation label maps
    are checked (one channel, lossless, values in the class range), and
    which warns about the annotations mmdet skips without a word.

    Args:
        dataset (dict | Dataset): the dataset (config) to wrap; everything
            not defined here (``metainfo``, ``get_data_info``, ...) is the
            wrapped dataset's.
    """

    def __init__(self, dataset: Any) -> None:
        if isinstance(dataset, dict):
            dataset = self._build(dataset)
        self.dataset = dataset
        self._checked = set()

    @staticmethod
    def _build(cfg: dict) -> Any:
        """Build a dataset config; a failure names the annotation file,
        and the annotations mmdet skips are warned about with counts."""
        source = osp.join(cfg.get('data_root') or '',
                          cfg.get('ann_file') or '')
        where = f'the dataset {cfg.get("type")} ({source or "its data_root"})'
        with watch_skipped(cfg) as (skipped, seen):
            try:
                dataset = DATASETS.build(cfg)
            except UserError:
                raise
            except (ValueError, KeyError, IndexError, TypeError,
                    OSError) as err:
                if 'need at least one array to concatenate' in str(err):
                    reason = ('it has no image to use: its annotation file '
                              'lists none, or (filter_cfg=dict('
                              'filter_empty_gt=True)) no image has an '
                              'annotation mmdet keeps')
                    if skipped:
                        reason += '. ' + describe_skipped(skipped, seen)
                else:
                    reason = _describe_error(err)
                raise DatasetError(f'cannot read {where}: {reason}') \
                    from err
        if skipped:
            print_log(f'{describe_skipped(skipped, seen)} ({CHECK_HINT})',
                      logger='current', level=30)
        return dataset

    def __getattr__(self, name: str) -> Any:
        if name == 'dataset':  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __len__(self) -> int:
        return len(self.dataset)

    def _files(self, index: int) -> str:
        try:
            info = self.dataset.get_data_info(index)
        except Exception:  # the index itself is the problem
            return f'sample {index}'
        files = [info[k] for k in ('img_path', 'seg_map_path') if info.get(k)]
        return ' / '.join(files) or f'sample {index}'

    def _first_look(self, index: int) -> None:
        """Checks of a sample's annotations, once per index: polygons mmdet
        ignores (a warning), a label map mmseg would misread (an error)."""
        if index in self._checked or not hasattr(self.dataset,
                                                 'get_data_info'):
            return
        info = self.dataset.get_data_info(index)
        self._check_label_map(info)
        self._checked.add(index)
        self._warn_degenerate_polygons(info, index)

    @staticmethod
    def _check_label_map(info: dict) -> None:
        """Refuse a label map of several channels (RGB), a JPEG one, or
        16-bit values above 255, before mmseg reads it as one 8-bit channel
        (a stack or loss error in training, ``too many indices`` in testing,
        or silently changed labels)."""
        path = info.get('seg_map_path')
        if 'seg_fields' not in info or not isinstance(path, str) or \
                not osp.isfile(path):  # mmseg's samples have seg_fields
            return
        problem = label_map_problem(path)
        if problem:
            raise DatasetError(f'{path}: {problem} ({CHECK_HINT})')

    @staticmethod
    def _warn_degenerate_polygons(info: dict, index: int) -> None:
        bad = 0
        for inst in info.get('instances', ()):
            mask = inst.get('mask')
            if isinstance(mask, list):
                bad += sum(len(p) < 6 or len(p) % 2 for p in mask)
        if bad:
            print_log(
                f'{info.get("img_path", index)}: {bad} polygon(s) with fewer '
                'than 3 points (or an odd number of coordinates); mmdet '
                f'ignores such instances ({CHECK_HINT})', logger='current',
                level=30)

    def _check_labels(self, index: int, data: Any) -> None:
        sample = data.get('data_samples') if isinstance(data, dict) else None
        seg = getattr(sample, 'gt_sem_seg', None)
        if seg is None:
            return
        classes = self.dataset.metainfo.get('classes') or ()
        ignore = getattr(self.dataset, 'ignore_index', 255)
        values = seg.data
        bad = (values >= len(classes)) & (values != ignore) | (values < 0)
        if bad.any():
            found = sorted(set(values[bad].unique().tolist()))
            # what the file holds: reduce_zero_label subtracted 1
            shift = int(bool(getattr(self.dataset, 'reduce_zero_label',
                                     False)))
            raw = [v + shift for v in found[:8]]
            raise DatasetError(
                f'{self._files(index)}: label values {raw} are outside the '
                f'{len(classes)} classes (0-{len(classes) - 1} after the '
                f'dataset\'s label mapping, {ignore} = ignore); check the '
                'label maps or the dataset\'s classes / reduce_zero_label '
                f'({CHECK_HINT})')

    def __getitem__(self, idx: int) -> Any:
        _die_with_parent()
        index = int(idx)
        seed = getattr(idx, 'seed', None)
        self._first_look(index)
        if seed is not None:
            seed_sample(seed)
        try:
            data = self.dataset[index]
        except UserError:
            raise
        except Exception as err:
            raise DatasetError(
                f'{self._files(index)}: {_describe_error(err)} '
                f'({CHECK_HINT})') from err
        self._check_labels(index, data)
        return data

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
(and label) file, checks segmentation labels against the class range,
warns once per image about polygons mmdet drops silently, and names the
annotation file when the dataset cannot be read at all.

:class:`mmplug.engine.MMPlugRunner` wraps every dataloader's dataset and
sampler in these; nothing in a config needs to change.
"""
import contextlib
import ctypes
import os
import os.path as osp
import random
import signal
import sys
from typing import Any, Iterator, Optional

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from torch.utils.data import Sampler

from mmplug.errors import DatasetError, UserError
from mmplug.registry import DATA_SAMPLERS, DATASETS

#: Where a user learns what is wrong with a whole dataset.
CHECK_HINT = 'tools/misc/check_dataset.py CONFIG lists every problem'


def sample_seed(seed: int, epoch: int, rank: int, position: int) -> int:
    """The seed of one sample's randomness: a 32-bit hash of where it
    stands in the training stream."""
    return int(np.random.SeedSequence(
        [seed % 2**32, epoch, rank, position]).generate_state(1)[0])


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Python's, NumPy's and torch's global generators for the block,
    then restore their states (the caller's stream is left as it was)."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


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
    text = str(err).strip().splitlines()
    return f'{type(err).__name__}: {text[0] if text else ""}'.rstrip(': ')


@DATASETS.register_module()
class GuardedDataset:
    """A dataset whose failures name the file, whose randomness is seeded
    per sample (see the module docstring), and whose segmentation labels
    are checked against the class range.

    Args:
        dataset (dict | Dataset): the dataset (config) to wrap; everything
            not defined here (``metainfo``, ``get_data_info``, ...) is the
            wrapped dataset's.
    """

    def __init__(self, dataset: Any) -> None:
        if isinstance(dataset, dict):
            source = osp.join(dataset.get('data_root') or '',
                              dataset.get('ann_file') or '')
            try:
                dataset = DATASETS.build(dataset)
            except UserError:
                raise
            except (ValueError, KeyError, IndexError, TypeError,
                    OSError) as err:
                raise DatasetError(
                    f'cannot read the dataset {dataset.get("type")} '
                    f'({source or "its data_root"}): '
                    f'{_describe_error(err)}') from err
        self.dataset = dataset
        self._warned = set()

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

    def _warn_degenerate_polygons(self, index: int) -> None:
        if index in self._warned or not hasattr(self.dataset,
                                                'get_data_info'):
            return
        info = self.dataset.get_data_info(index)
        bad = 0
        for inst in info.get('instances', ()):
            mask = inst.get('mask')
            if isinstance(mask, list):
                bad += sum(len(p) < 6 or len(p) % 2 for p in mask)
        if bad:
            self._warned.add(index)
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
        self._warn_degenerate_polygons(index)
        try:
            with seeded(seed) if seed is not None else \
                    contextlib.nullcontext():
                data = self.dataset[index]
        except UserError:
            raise
        except Exception as err:
            raise DatasetError(
                f'{self._files(index)}: {_describe_error(err)} '
                f'({CHECK_HINT})') from err
        self._check_labels(index, data)
        return data

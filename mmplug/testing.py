"""Helpers for tests and benchmarks."""
import enum
import os.path as osp
import statistics
import sys
import time
import types
import uuid
from typing import Callable, Tuple
from unittest import mock


def import_mmpretrain_models() -> None:
    """Import ``mmpretrain.models`` (for its ConvNeXt, the baseline of the
    ParC-ConvNeXt configs and benchmarks).

    mmpretrain 1.2.0 imports torchvision at module level, for data
    transforms and box ops that a backbone does not use; CPU builds of torch
    here have no torchvision. If it is missing, empty stand-in modules are
    placed in ``sys.modules`` for the import and removed afterwards.
    """
    try:
        import mmpretrain.models  # noqa: F401
        return
    except ModuleNotFoundError as err:
        if err.name != 'torchvision':
            raise
    names = ['torchvision', 'torchvision.ops', 'torchvision.ops.boxes',
             'torchvision.transforms', 'torchvision.transforms.functional',
             'torchvision.transforms.transforms']
    stubs = {name: types.ModuleType(name) for name in names}
    interpolation = enum.Enum('InterpolationMode', 'NEAREST BILINEAR BICUBIC')
    for name in ('torchvision.transforms',
                 'torchvision.transforms.transforms'):
        stubs[name].InterpolationMode = interpolation
    sys.modules.update(stubs)
    try:
        import mmpretrain.models  # noqa: F401,F811
    finally:
        for name in names:
            sys.modules.pop(name, None)


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``runs`` calls,
    after ``warmup`` untimed calls (for the scripts in ``benchmarks/``)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def run_docstring_examples(*objs: object) -> Tuple[int, int]:
    """Run the ``>>>`` examples in the docstrings of ``objs`` (each in
    fresh globals); returns ``(failures, tries)``."""
    import doctest
    runner = doctest.DocTestRunner()
    for obj in objs:
        for test in doctest.DocTestFinder().find(obj, obj.__name__,
                                                 globs={}):
            runner.run(test)
    return runner.failures, runner.tries


def log_of(fn: Callable[[], object], log_dir: str) -> str:
    """What ``fn()`` logs through mmengine's current logger (a fresh one
    writing to ``log_dir/log``)."""
    from mmengine.logging import MMLogger
    path = osp.join(str(log_dir), 'log')
    logger = MMLogger.get_instance(f'log_of_{uuid.uuid4().hex}',
                                   log_file=path)
    with mock.patch.object(MMLogger, 'get_current_instance', lambda: logger):
        fn()
    with open(path) as f:
        return f.read()

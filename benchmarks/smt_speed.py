#!/usr/bin/env python
"""SMT against the official SMT on the same weights: forward time (eager
and compiled) and forward memory growth, alternating in one process.

The official model is imported from a file you give (the classification
``models/smt.py`` of https://github.com/AFeng-x/SMT, which imports timm,
torchvision, ptflops and thop at its top: install them or put stubs on
``PYTHONPATH``); nothing of it is part of mmplug. Its weights are loaded
into mmplug's SMT (the names are the same), the outputs are compared, then
each round times one official forward and one of ours (and of ours
compiled with ``--compile``); medians and their ratios are printed. Memory:
the growth of the resident set during one forward, each model measured in a
forked child so that neither sees the other's freed memory.

    python benchmarks/smt_speed.py --official /path/to/SMT/models/smt.py \\
        --arch small --shape 800 1216 --threads 1 --runs 5 [--compile]
"""
import argparse
import importlib.util
import os
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from mmplug.apis.analysis import _PeakRSS, _rss_bytes  # noqa: E402
from mmplug.models import SMT  # noqa: E402
from mmplug.models.backbones.smt import convert_smt  # noqa: E402
from mmplug.testing import alternate_ms  # noqa: E402

ARCHS = {'tiny': 'smt_t', 'small': 'smt_s', 'base': 'smt_b',
         'large': 'smt_l'}


def official_model(path: str, arch: str) -> torch.nn.Module:
    spec = importlib.util.spec_from_file_location('official_smt', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, ARCHS[arch])().eval()


def ours_like(official: torch.nn.Module, arch: str) -> torch.nn.Module:
    ours = SMT(arch=arch, num_classes=1000, drop_path_rate=0.).eval()
    ours.load_state_dict(convert_smt(official.state_dict()))
    return ours


def forward_memory_mib(fn) -> float:
    """Peak RSS growth (MiB) during one ``fn()``, run in a forked child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        base = _rss_bytes()
        with _PeakRSS() as peak:
            fn()
        os.write(write, str((peak.peak - base) / 2**20).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        value = float(f.read())
    os.waitpid(pid, 0)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--official', required=True,
                        help="the official models/smt.py")
    parser.add_argument('--arch', default='small', choices=sorted(ARCHS))
    parser.add_argument('--shape', type=int, nargs=2, default=(800, 1216))
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--compile', action='store_true',
                        help='also time torch.compile(ours)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    official = official_model(args.official, args.arch)
    ours = ours_like(official, args.arch)
    x = torch.rand(1, 3, *args.shape)
    models = {'official': lambda: official.forward_features(x),
              'ours': lambda: ours(x)}
    with torch.no_grad():
        ref = official.forward_features(x)
        mine = ours(x)[-1].mean(dim=(2, 3))
        print(f'SMT-{args.arch} {args.shape[0]}x{args.shape[1]}, '
              f'{args.threads} thread(s): max |official - ours| of the '
              f'pooled stage-4 features: {(ref - mine).abs().max():.2e} '
              f'(scale {ref.abs().max():.2f})')
        if args.compile:
            compiled = torch.compile(ours)
            start = time.perf_counter()
            compiled(x)
            print(f'compile (first call): {time.perf_counter() - start:.1f}'
                  ' s')
            models['ours, compiled'] = lambda: compiled(x)
        times = {name: [t / 1e3 for t in values] for name, values in
                 alternate_ms(models, args.runs).items()}
    base = statistics.median(times['official'])
    for name, values in times.items():
        median = statistics.median(values)
        print(f'{name:16s} {median:7.3f} s  ({median / base:.2f}x official; '
              f'runs {" ".join(f"{v:.2f}" for v in values)})')
    with torch.no_grad():
        for name, fn in models.items():
            if name != 'ours, compiled':  # memory of the eager forwards
                print(f'{name:16s} forward memory growth '
                      f'{forward_memory_mib(fn):7.0f} MiB')


if __name__ == '__main__':
    main()

#!/usr/bin/env python
"""Eager against compiled: forward and forward+backward time of every
registered backbone (its default arch), at each image size.

For each backbone and size: the eval-mode forward (no grad) and the
training-mode forward+backward (loss: the sum of the outputs' means), each
eager and under ``torch.compile`` (the same module, compiled once; the
first call of each mode, which traces and builds the kernels, is timed on
its own as the compile time). Medians over ``--runs`` calls; the speed-up
is eager / compiled. The compiled forward's largest difference from the
eager one, relative to the output's scale, is printed beside it.

    python benchmarks/compile_speed.py --shapes 224x224 800x1216 \\
        --threads 2 --runs 3 [--only mmplug.SMT] [--out results.json]

Inductor on a CPU builds C++ kernels with the system compiler; they are
cached (``/tmp/torchinductor_$USER``), so a second run compiles faster.
"""
import argparse
import json
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from mmplug.registry import MODELS  # noqa: E402
from mmplug.testing import median_ms, registered_backbones  # noqa: E402


def parse_shape(text: str):
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a size HxW (e.g. 800x1216)') from None
    return h, w


def forward_backward(model: torch.nn.Module, x: torch.Tensor) -> None:
    outs = model(x)
    sum(o.float().mean() for o in outs).backward()
    for p in model.parameters():
        p.grad = None


def timed_first_call(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(name: str, shape, args) -> dict:
    torch.manual_seed(0)
    model = MODELS.build(dict(type=name))
    x = torch.randn(1, 3, *shape)
    compiled = torch.compile(model, backend=args.backend, mode=args.mode)
    row = dict(backbone=name, shape=f'{shape[0]}x{shape[1]}')

    model.eval()
    with torch.no_grad():
        row['eager_fwd_ms'] = median_ms(lambda: model(x), args.runs)
        row['compile_fwd_s'] = timed_first_call(lambda: compiled(x))
        row['compiled_fwd_ms'] = median_ms(lambda: compiled(x), args.runs,
                                           warmup=0)
        ref, got = model(x), compiled(x)
        row['max_rel_diff'] = max(
            ((a - b).abs().max() / b.abs().max().clamp(min=1)).item()
            for a, b in zip(got, ref))
    if not args.no_backward:
        model.train()
        row['eager_fwdbwd_ms'] = median_ms(
            lambda: forward_backward(model, x), args.runs)
        try:
            row['compile_fwdbwd_s'] = timed_first_call(
                lambda: forward_backward(compiled, x))
            row['compiled_fwdbwd_ms'] = median_ms(
                lambda: forward_backward(compiled, x), args.runs, warmup=0)
        except Exception as err:  # a compiler error: report it, go on
            row['error'] = f'{type(err).__name__}: ' + \
                str(err).strip().splitlines()[0][:200]
    torch._dynamo.reset()
    return row


def table(rows) -> str:
    head = ('| backbone | size | eager fwd (ms) | compiled fwd (ms) | '
            'speed-up | compile (s) | eager fwd+bwd (ms) | '
            'compiled fwd+bwd (ms) | speed-up | compile (s) | '
            'compiled - eager |')
    lines = [head, '|' + '---|' * head.count(' | ') + '---|']
    for r in rows:
        cells = [r['backbone'].replace('mmplug.', ''), r['shape'],
                 f"{r['eager_fwd_ms']:.0f}", f"{r['compiled_fwd_ms']:.0f}",
                 f"{r['eager_fwd_ms'] / r['compiled_fwd_ms']:.2f}x",
                 f"{r['compile_fwd_s']:.0f}"]
        if 'error' in r:
            cells += [f"{r['eager_fwdbwd_ms']:.0f}", 'fails to compile',
                      '-', '-']
        elif 'eager_fwdbwd_ms' in r:
            cells += [f"{r['eager_fwdbwd_ms']:.0f}",
                      f"{r['compiled_fwdbwd_ms']:.0f}",
                      f"{r['eager_fwdbwd_ms'] / r['compiled_fwdbwd_ms']:.2f}x",
                      f"{r['compile_fwdbwd_s']:.0f}"]
        else:
            cells += ['-'] * 4
        cells.append(f"{r['max_rel_diff']:.1e}")
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--shapes', nargs='+', type=parse_shape,
                        default=[(224, 224), (800, 1216)],
                        help='image sizes HxW (batch 1)')
    parser.add_argument('--only', nargs='+', metavar='NAME',
                        help='backbones to run (mmplug.<Name>)')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--backend', default='inductor')
    parser.add_argument('--mode', default=None,
                        help='torch.compile mode (e.g. max-autotune)')
    parser.add_argument('--no-backward', action='store_true',
                        help='time the forward only')
    parser.add_argument('--out', help='write the rows as JSON here')
    args = parser.parse_args(argv)
    names = registered_backbones()
    unknown = sorted(set(args.only or ()) - set(names))
    if unknown:
        parser.error(f'unknown backbone(s) {", ".join(unknown)}; '
                     f'registered: {", ".join(names)}')
    torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {args.threads} threads, backend '
          f'{args.backend}, mode {args.mode}, batch 1, median of '
          f'{args.runs}', flush=True)
    rows = []
    for shape in args.shapes:
        for name in args.only or names:
            rows.append(measure(name, shape, args))
            print(json.dumps(rows[-1]), flush=True)
            if args.out:
                with open(args.out, 'w') as f:
                    json.dump(rows, f, indent=1)
    print(table(rows))
    for r in rows:
        if 'error' in r:
            print(f"{r['backbone']} {r['shape']} forward+backward: "
                  f"{r['error']}")


if __name__ == '__main__':
    main()

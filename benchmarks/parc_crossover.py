#!/usr/bin/env python
"""Time ParC's spatial and FFT forms over axis lengths, to place
``mmplug.models.layers.parc.FFT_CROSSOVER``.

Prints, per square map size L (N=1, C channels, both directions averaged),
the median forward latency of each form and their ratio.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from mmplug.models.layers.parc import ParC  # noqa: E402
from mmplug.testing import median_ms  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--channels', type=int, default=192)
    parser.add_argument('--sizes', type=int, nargs='+',
                        default=[7, 14, 25, 32, 48, 64, 100, 128, 200])
    parser.add_argument('--runs', type=int, default=7)
    parser.add_argument('--threads', type=int)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'channels={args.channels} threads={torch.get_num_threads()}')
    print(f"{'L':>5} {'spatial ms':>11} {'fft ms':>9} {'fft/spatial':>12}")
    with torch.no_grad():
        for size in args.sizes:
            x = torch.randn(1, args.channels, size, size)
            ms = {}
            for impl in ('spatial', 'fft'):
                ops = [ParC(args.channels, 14, d, impl=impl) for d in 'HW']
                ms[impl] = sum(median_ms(lambda: op(x), args.runs)
                               for op in ops) / 2
            print(f"{size:>5} {ms['spatial']:>11.3f} {ms['fft']:>9.3f} "
                  f"{ms['fft'] / ms['spatial']:>12.2f}")


if __name__ == '__main__':
    main()

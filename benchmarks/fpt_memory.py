#!/usr/bin/env python
"""FPT memory: peak memory of the neck's forward + backward on ResNet-50
features of 1333x800 images (padded to 1344x800: P2-P5 of 200x336 ...
25x42, 256-2048 channels), training mode, fp32, C=256, a batch of 2 (mmdet's
images per GPU; RT's BN on pooled vectors needs more than one).

Three settings of the same neck (``mmplug.FPT``, GT similarity as given):

* ``default``: the shipped bounds (ST keys/values pooled 8/4/2/2 on P2-P5,
  GT within a 7x7 window of the coarser level);
* ``paper``: the official FPT_a attention (ST pooled by 2, global GT);
* ``global``: full global attention (ST unpooled, global GT).

Peaks are counted by torch's ``MemTracker`` on fake tensors (every tensor
allocated, nothing computed: parameters, gradients, activations kept for
backward and temporaries), so settings that need tens of GB can be sized
on any machine. ``--real`` also runs the default setting for real in a
subprocess and prints its resident-memory growth, as a check of the count.
Example::

    python benchmarks/fpt_memory.py --real
"""
import argparse
import os.path as osp
import resource
import subprocess
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from mmplug.models import FPT  # noqa: E402

R50 = [256, 512, 1024, 2048]
SETTINGS = {
    'default': dict(),
    'paper': dict(st_cfg=dict(kv_stride=2), gt_cfg=dict(window=None)),
    'global': dict(st_cfg=dict(kv_stride=1), gt_cfg=dict(window=None)),
}


def features(h: int = 800, w: int = 1344, n: int = 2):
    return [torch.randn(n, c, h // s, w // s)
            for c, s in zip(R50, (4, 8, 16, 32))]


def step(neck, feats):
    sum(o.float().mean() for o in neck(feats)).backward()


def counted_peak(setting: str, similarity: str) -> int:
    """Peak bytes of one forward + backward, counted on fake tensors."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.distributed._tools.mem_tracker import MemTracker
    with FakeTensorMode():
        neck = FPT(R50, 256, **build_args(setting, similarity)).train()
        feats = features()
        tracker = MemTracker()
        tracker.track_external(neck, *feats)
        with tracker:
            step(neck, feats)
        return tracker.get_tracker_snapshot('peak')[torch.device('cpu')][
            'Total']


def build_args(setting: str, similarity: str) -> dict:
    args = {k: dict(v) for k, v in SETTINGS[setting].items()}
    args.setdefault('gt_cfg', {})['similarity'] = similarity
    return args


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--similarity', default='euclidean',
                        choices=['euclidean', 'dot'])
    parser.add_argument('--real', action='store_true',
                        help='also run the default setting for real')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one real run, in its own process
        neck = FPT(R50, 256, **build_args(args.child, args.similarity))
        neck.train()
        feats = features()
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        step(neck, feats)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        params = sum(p.numel() * 4 for p in neck.parameters())
        # growth of the peak, plus what was already held: params + inputs
        held = params + sum(f.numel() * 4 for f in feats)
        print((peak - base) * 1024 + held)
        return
    print(f'FPT, R-50 features of a 1333x800 image (1344x800 padded), '
          f'C=256, 2 images, GT similarity {args.similarity!r}, fwd + bwd, '
          f'fp32')
    peaks = {name: counted_peak(name, args.similarity) for name in SETTINGS}
    for name, peak in peaks.items():
        print(f'  {name:8s} counted peak {peak / 2**30:8.2f} GiB  '
              f'({peak / peaks["global"]:6.1%} of global)')
    if args.real:
        out = subprocess.run(
            [sys.executable, __file__, '--child', 'default',
             '--similarity', args.similarity],
            capture_output=True, text=True, check=True).stdout
        real = int(out.split()[-1])
        print(f'  default  real peak    {real / 2**30:8.2f} GiB  (resident '
              f'growth + parameters + inputs; counted '
              f'{peaks["default"] / 2**30:.2f})')


if __name__ == '__main__':
    main()

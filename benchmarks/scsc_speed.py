#!/usr/bin/env python
"""SCSC speed: the module and the SCSC-ResNet-50 / SCSC-Swin-T backbones
against mmdet's ResNet-50 and Swin-T, at 224x224 and 800x1216.

Prints median forward latencies (batch 1, fp32, no grad, eval mode), the
parameters and the FLOPs (mmengine's counter, 1 multiply-add = 1 FLOP) of
each. Example::

    python benchmarks/scsc_speed.py --runs 3

``--vs-resnet50`` instead times SCSC-ResNet-50 against mmdet's ResNet-50
alternately (one call of each per round, ``--runs`` rounds, medians), at
``--shape``, eager, compiled (inductor) and compiled with inductor's
``freezing`` (weights as constants: BN folded into the convs, weights
pre-packed), and prints the time ratios::

    python benchmarks/scsc_speed.py --vs-resnet50 --shape 800 1216 \
        --threads 1 --runs 5
"""
import argparse
import os.path as osp
from functools import partial
import statistics
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.analysis import FlopAnalyzer  # noqa: E402

from mmplug.models import SCSCResNet, SCSCSwin  # noqa: E402
from mmplug.models.layers import SCSC  # noqa: E402
from mmplug.testing import alternate_ms, median_ms  # noqa: E402

SIZES = [(224, 224), (800, 1216)]


def gflops(model, x) -> float:
    analyzer = FlopAnalyzer(model, x)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.total() / 1e9


def stage1_modules():
    """Token mixers of stage-1 width (96 channels) at stride 4."""
    from mmdet.models.backbones.resnet import Bottleneck
    from mmdet.models.backbones.swin import ShiftWindowMSA

    class SwinMixer(torch.nn.Module):
        """mmdet's (shifted) window attention on an (N, C, H, W) map."""

        def __init__(self):
            super().__init__()
            self.attn = ShiftWindowMSA(96, 3, 7, shift_size=3)

        def forward(self, x):
            n, c, h, w = x.shape
            y = self.attn(x.flatten(2).transpose(1, 2), (h, w))
            return y.transpose(1, 2).reshape(n, c, h, w)

    return {
        'SCSC (96 ch, kernels 3/9/13)': SCSC(96, 96, (3, 9, 13),
                                             recover_act=False),
        'Swin-T W-MSA (96 ch, window 7)': SwinMixer(),
        'ResNet-50 bottleneck (256 ch)': Bottleneck(256, 64),
    }


def backbones():
    from mmdet.models.backbones import ResNet, SwinTransformer
    return {
        'SCSC-ResNet-50': SCSCResNet(depth=50),
        'ResNet-50 (mmdet)': ResNet(50),
        'SCSC-Swin-T': SCSCSwin(),
        'Swin-T (mmdet)': SwinTransformer(embed_dims=96,
                                          depths=(2, 2, 6, 2),
                                          num_heads=(3, 6, 12, 24),
                                          window_size=7),
    }


def table(title, models, shapes, runs):
    print(f'\n{title}')
    header = ''.join(f'{f"{s[-2]}x{s[-1]} ms":>14}{"GFLOPs":>9}'
                     for s in shapes)
    print(f"{'model':<32}{'params':>9}{header}")
    for name, model in models.items():
        model.eval()
        params = sum(p.numel() for p in model.parameters()) / 1e6
        row = f'{name:<32}{params:>8.2f}M'
        for shape in shapes:
            x = torch.randn(1, *shape)
            ms = median_ms(lambda: model(x), runs)
            row += f'{ms:>14.1f}{gflops(model, x):>9.2f}'
        print(row)


def versus_resnet50(shape, runs: int) -> None:
    """SCSC-ResNet-50 / ResNet-50 time, eager and compiled, alternating."""
    import time
    from mmdet.models.backbones import ResNet
    from torch._inductor import config as inductor_config
    x = torch.randn(1, 3, *shape)
    pair = {'SCSC-ResNet-50': SCSCResNet(depth=50),
            'ResNet-50 (mmdet)': ResNet(50)}
    for model in pair.values():
        model.eval()  # (mmdet's ResNet.train returns None)
    print(f'\nSCSC-ResNet-50 against ResNet-50, 1x3x{shape[0]}x{shape[1]}, '
          f'median of {runs} alternating rounds')
    print(f"{'mode':<22}{'SCSC-R50 ms':>13}{'R50 ms':>10}{'ratio':>8}"
          f"{'compile s':>12}")
    for mode in ('eager', 'compiled', 'compiled+freezing'):
        models, compile_s = {}, []
        for name, model in pair.items():
            if mode == 'eager':
                models[name] = model
                continue
            with inductor_config.patch(freezing=mode.endswith('freezing')):
                compiled = torch.compile(model)
                start = time.perf_counter()
                compiled(x)
                compile_s.append(time.perf_counter() - start)
            models[name] = compiled
        times = alternate_ms({name: partial(model, x) for name, model in
                              models.items()}, runs)
        scsc, r50 = (statistics.median(t) for t in times.values())
        extra = '/'.join(f'{s:.0f}' for s in compile_s) or '-'
        print(f'{mode:<22}{scsc:>13.0f}{r50:>10.0f}{scsc / r50:>7.2f}x'
              f'{extra:>12}', flush=True)
        torch._dynamo.reset()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--threads', type=int)
    parser.add_argument('--vs-resnet50', action='store_true',
                        help='SCSC-ResNet-50 against ResNet-50 only, eager '
                        'and compiled, at --shape')
    parser.add_argument('--shape', type=int, nargs=2, default=(800, 1216),
                        metavar=('H', 'W'))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads')
    with torch.no_grad():
        if args.vs_resnet50:
            versus_resnet50(args.shape, args.runs)
            return
        modules = stage1_modules()
        table('Stage-1 token mixers (stride-4 maps of 224 and 800x1216 '
              'inputs)',
              {k: v for k, v in modules.items() if 'ResNet' not in k},
              [(96, 56, 56), (96, 200, 304)], args.runs)
        table('', {k: v for k, v in modules.items() if 'ResNet' in k},
              [(256, 56, 56), (256, 200, 304)], args.runs)
        table('Backbones', backbones(), [(3, h, w) for h, w in SIZES],
              args.runs)


if __name__ == '__main__':
    main()

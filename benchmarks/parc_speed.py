#!/usr/bin/env python
"""ParC speed: the layer's spatial and Fast-ParC (FFT) forms over map sizes,
and the ParC-ConvNeXt backbone (each form and ``auto``) against mmpretrain's
ConvNeXt of the same size.

Prints median forward latencies (batch 1, fp32, no grad, eval mode) on this
machine's CPU threads. Example::

    python benchmarks/parc_speed.py                   # both tables
    python benchmarks/parc_speed.py --skip-backbone --channels 96
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from mmplug.models import ParCConvNeXt  # noqa: E402
from mmplug.models.layers.parc import ParC  # noqa: E402
from mmplug.testing import median_ms  # noqa: E402

LAYER_SIZES = [(7, 7), (14, 14), (28, 28), (50, 76), (56, 56), (100, 152),
               (200, 304), (200, 336)]
BACKBONE_SIZES = [(224, 224), (800, 1216)]


def layer_table(channels: int, runs: int) -> None:
    print(f'\nParC layer, {channels} channels, both directions averaged '
          '(ms)')
    print(f"{'H x W':>10} {'spatial':>9} {'fft':>9} {'speed-up':>9} "
          f"{'auto picks':>11}")
    for h, w in LAYER_SIZES:
        x = torch.randn(1, channels, h, w)
        ms = {}
        for impl in ('spatial', 'fft'):
            ops = [ParC(channels, 14, d, impl=impl) for d in 'HW']
            ms[impl] = sum(median_ms(lambda: op(x), runs) for op in ops) / 2
        picks = '/'.join('fft' if ParC(1, 1, impl='auto').use_fft(n) else
                         'spatial' for n in (h, w))
        print(f'{h:>4} x {w:<4} {ms["spatial"]:>9.2f} {ms["fft"]:>9.2f} '
              f'{ms["spatial"] / ms["fft"]:>8.1f}x {picks:>11}')


def mmpretrain_convnext(arch: dict):
    from mmplug.testing import import_mmpretrain_models
    import_mmpretrain_models()
    from mmpretrain.models import ConvNeXt
    return ConvNeXt(arch=dict(depths=arch['depths'],
                              channels=arch['embed_dims']),
                    out_indices=(0, 1, 2, 3), gap_before_final_norm=False)


def backbone_table(arch: str, runs: int) -> None:
    cfg = ParCConvNeXt.arch_zoo[arch]
    models = {f'ParC-ConvNeXt ({impl})': ParCConvNeXt(arch=arch, impl=impl)
              for impl in ('spatial', 'fft', 'auto')}
    models['mmpretrain ConvNeXt'] = mmpretrain_convnext(cfg)
    print(f'\nBackbone {arch} (dims {cfg["embed_dims"]}, depths '
          f'{cfg["depths"]}), median ms')
    print(f"{'model':<26}" + ''.join(f'{f"{h}x{w}":>12}'
                                     for h, w in BACKBONE_SIZES))
    for name, model in models.items():
        model.eval()
        row = []
        for h, w in BACKBONE_SIZES:
            x = torch.randn(1, 3, h, w)
            row.append(median_ms(lambda: model(x), runs))
        models[name] = row
        print(f'{name:<26}' + ''.join(f'{v:>12.1f}' for v in row))
    base = models['mmpretrain ConvNeXt']
    auto = models['ParC-ConvNeXt (auto)']
    print(f"{'auto / mmpretrain':<26}" +
          ''.join(f'{a / b:>12.3f}' for a, b in zip(auto, base)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--channels', type=int, default=48,
                        help='layer channels (48: ParC-ConvNeXt-XT stage 1)')
    parser.add_argument('--arch', default='xt', help='backbone arch')
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--threads', type=int)
    parser.add_argument('--skip-layer', action='store_true')
    parser.add_argument('--skip-backbone', action='store_true')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads')
    with torch.no_grad():
        if not args.skip_layer:
            layer_table(args.channels, args.runs)
        if not args.skip_backbone:
            backbone_table(args.arch, args.runs)


if __name__ == '__main__':
    main()

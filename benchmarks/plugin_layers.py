#!/usr/bin/env python
"""Plug-and-play layers: the cost of each against what it replaces, on the
feature maps of an 800x1216 image.

For each layer: median forward time (eval, no grad) and forward + backward
time (train mode), batch 1, fp32, and the ratio to the baseline layer.
Maps: ResNet-50 stage 1's 3x3 conv (64 channels at 200x304, stride 4) for
the conv layers (DO-Conv, PSConv, PyConv, WeightNet, DGC) and ULSAM (added
after that conv, so its baseline is the conv alone); whole backbones on the
image for MobileNeXt (against mmdet's MobileNetV2), PyConvResNet-50 and the
Group Ensemble ResNet-50 (against mmdet's ResNet-50). Example::

    python benchmarks/plugin_layers.py --runs 5
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from mmplug.models import (GroupEnsembleResNet, MobileNeXt,  # noqa: E402
                           PyConvResNet)
from mmplug.models.layers import (DGConv2d, DOConv2d, PSConv2d,  # noqa: E402
                                  PyConv2d, ULSAM, WeightNetConv2d)
from mmplug.testing import median_ms  # noqa: E402

H, W = 800, 1216


def timings(module: nn.Module, x: torch.Tensor, runs: int):
    module.eval()  # (mmdet backbones' train() returns None: no chaining)
    with torch.no_grad():
        infer = median_ms(lambda: module(x), runs)
    module.train()
    x = x.clone().requires_grad_()

    def step():
        out = module(x)
        out = out if isinstance(out, torch.Tensor) else sum(
            o.mean() for o in out)
        out.mean().backward()

    return infer, median_ms(step, runs)


def rows():
    """(name, baseline name, module, baseline module, input)."""
    from mmdet.models.backbones import MobileNetV2, ResNet
    feat = torch.randn(1, 64, H // 4, W // 4)
    conv = nn.Conv2d(64, 64, 3, padding=1, bias=False)
    deploy = DOConv2d(64, 64, 3, padding=1, bias=False)
    deploy.switch_to_deploy()
    yield ('DO-Conv 3x3, training form', '3x3 conv',
           DOConv2d(64, 64, 3, padding=1, bias=False), conv, feat)
    yield 'DO-Conv 3x3, folded (deploy)', '3x3 conv', deploy, conv, feat
    yield ('PSConv 3x3 (4 parts, d = 2)', '3x3 conv',
           PSConv2d(64, 64, 3, padding=1, ps_dilation=2), conv, feat)
    yield ('3x3 conv + ULSAM (8 subspaces)', '3x3 conv',
           nn.Sequential(conv, ULSAM(64, 8)), conv, feat)
    yield ('PyConv (3/5/7/9, groups 1/4/8/16)', '3x3 conv',
           PyConv2d(64, 64), conv, feat)
    yield ('WeightNet 3x3 (M = G = 2)', '3x3 conv',
           WeightNetConv2d(64, 64, 3, padding=1), conv, feat)
    dgc = DGConv2d(64, 64, 3, padding=1)
    dgc.set_progress(1.0)
    yield 'DGC 3x3 (4 heads, 25% kept)', '3x3 conv', dgc, conv, feat
    image = torch.randn(1, 3, H, W)
    v2 = MobileNetV2(out_indices=(1, 2, 4, 7))
    yield ('MobileNeXt-1.0 backbone', 'MobileNetV2-1.0 (mmdet)',
           MobileNeXt(), v2, image)
    r50 = ResNet(50)
    yield ('PyConvResNet-50 backbone', 'ResNet-50 (mmdet)', PyConvResNet(),
           r50, image)
    yield ('Group Ensemble ResNet-50 (G=4)', 'ResNet-50 (mmdet)',
           GroupEnsembleResNet(), r50, image)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f'{H}x{W} image, batch 1, fp32, {args.threads} threads, median of '
          f'{args.runs}; ms: forward (eval) / forward + backward (train)')
    print(f"{'layer':34s} {'ms':>15s}  {'baseline':24s} {'ms':>15s}  ratio")
    for name, base_name, module, base, x in rows():
        fwd, step = timings(module, x, args.runs)
        base_fwd, base_step = timings(base, x, args.runs)
        print(f'{name:34s} {fwd:6.1f} / {step:6.1f}  {base_name:24s} '
              f'{base_fwd:6.1f} / {base_step:6.1f}  {fwd / base_fwd:4.2f}x / '
              f'{step / base_step:4.2f}x')


if __name__ == '__main__':
    main()

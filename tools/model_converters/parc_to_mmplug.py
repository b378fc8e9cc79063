#!/usr/bin/env python
"""Convert a ParC-ConvNeXt / ParC-ResNet (or plain ConvNeXt / ResNet)
checkpoint into mmplug's layout.

Accepts the public ParC-Net layout (``gcc_H.gcc_conv.weight``,
``gcc_H.pe``; ParC-ResNet50 ``parc_H.*``), the authors' research and
downstream layout (``gcc_conv_1H.weight``, ``gcc_conv_1H.meta_pe``, with
``backbone.`` for detector/segmentor checkpoints), facebookresearch and
mmpretrain ConvNeXt, and torchvision/mmdet/mmpretrain ResNet checkpoints.
Writes ``{'state_dict': ...}`` with the backbone keys as
``mmplug.ParCConvNeXt`` / ``mmplug.ParCResNet`` name them (the ``backbone.``
prefix kept for detector/segmentor checkpoints) and other keys unchanged.
Reports the inferred architecture, every checkpoint key that the model does
not have (unmapped) and every model key the checkpoint lacks (missing: for a
plain ConvNeXt/ResNet, the ParC layers, which then start from their init).
Output norms ``norm{i}`` (absent from classification checkpoints) are
listed apart. Exits with status 1 when there are unmapped or missing keys.
"""
import argparse
import os.path as osp
import re
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmplug.apis.cli import exit_on_user_error  # noqa: E402
from mmplug.apis.convert import (print_report,  # noqa: E402
                                 read_backbone_state, write_converted)
from mmplug.models.backbones.parc_convnext import (  # noqa: E402
    ParCConvNeXt, convert_parc_convnext)
from mmplug.models.backbones.parc_resnet import (  # noqa: E402
    ParCResNet, convert_parc_resnet)


def _count(state, pattern):
    """Number of distinct indices matched by ``pattern``'s group 1."""
    return len({m.group(1) for k in state for m in [re.match(pattern, k)]
                if m})


def infer_model(state: dict):
    """Build the mmplug model whose keys fit ``state`` (converted keys).

    Raises:
        ValueError: neither a ConvNeXt nor a ResNet layout.
    """
    heads = 1000 if any(k.startswith(('head.', 'fc.')) for k in state) else 0
    if any(k.startswith('downsample_layers.') for k in state):
        depths = [_count(state, rf'stages\.{i}\.(\d+)\.') for i in range(4)]
        dims = [state[f'downsample_layers.{i}.{0 if i == 0 else 1}.weight']
                .shape[0] for i in range(4)]
        parc_stages = [i for i in range(4)
                       if any(k.startswith(f'stages.{i}.') and '.parc.' in k
                              for k in state)]
        arch = dict(embed_dims=dims, depths=depths)
        if 'head.weight' in state:
            heads = state['head.weight'].shape[0]
        model = ParCConvNeXt(arch=arch, parc_stages=parc_stages or (2, 3),
                             num_classes=heads)
        return model, dict(arch=arch, parc_stages=parc_stages)
    if 'conv1.weight' in state and any(k.startswith('layer1.') for k in state):
        depths = [_count(state, rf'layer{i}\.(\d+)\.') for i in range(1, 5)]
        parc = [_count(state, rf'layer{i}\.(\d+)\.parc\.')
                for i in range(1, 5)]
        if 'fc.weight' in state:
            heads = state['fc.weight'].shape[0]
        has_parc = any(parc)
        arch = dict(depths=depths, parc_blocks=parc if has_parc else
                    list(ParCResNet.default_parc_blocks))
        return ParCResNet(arch=arch, num_classes=heads), arch
    raise ValueError('not a ConvNeXt or ResNet checkpoint: no '
                     'downsample_layers.* or conv1/layer1.* keys')


def convert_file(src: str, dst: str) -> dict:
    """Convert ``src`` to ``dst``; return a report dict."""
    prefix, raw, others = read_backbone_state(src)
    is_convnext = any(k.startswith('downsample_layers.') for k in raw)
    convert = convert_parc_convnext if is_convnext else convert_parc_resnet
    backbone = convert(raw)
    model, arch = infer_model(backbone)
    expected = model.state_dict()
    unmapped = sorted(k for k in backbone if k not in expected)
    missing = sorted(k for k in expected if k not in backbone)
    # classification checkpoints have no per-output norms: the official
    # det/seg code starts them from their init too
    new_norms = [k for k in missing if re.match(r'norm\d\.', k)]
    missing = [k for k in missing if k not in new_norms]
    write_converted(dst, prefix, backbone, others)
    return dict(model=type(model).__name__, arch=arch,
                kind='detector/segmentor' if prefix else 'classification',
                converted=len(backbone), passed_through=len(others),
                unmapped=unmapped, missing=missing, new_norms=new_norms)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='official or plain checkpoint')
    parser.add_argument('dst', help='output file')
    args = parser.parse_args(argv)
    with exit_on_user_error('parc_to_mmplug.py'):
        report = convert_file(args.src, args.dst)
    notes = []
    if report['new_norms']:
        notes.append(
            'output norms not in the checkpoint, to start from their init '
            f"({len(report['new_norms'])}): {', '.join(report['new_norms'])}")
    return print_report(
        args.src, args.dst, report,
        [f"model: mmplug.{report['model']} arch: {report['arch']}"], notes)


if __name__ == '__main__':
    sys.exit(main())

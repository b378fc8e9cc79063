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

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmplug.apis.cli import exit_on_user_error  # noqa: E402
from mmplug.apis.convert import (convert_backbone_checkpoint,  # noqa: E402
                                 print_report)
from mmplug.models.backbones.parc_convnext import (  # noqa: E402
    ParCConvNeXt, convert_parc_convnext, infer_parc_convnext_arch)
from mmplug.models.backbones.parc_resnet import (  # noqa: E402
    ParCResNet, convert_parc_resnet, infer_parc_resnet_arch)


def is_convnext(state: dict) -> bool:
    return any(k.startswith('downsample_layers.') for k in state)


def convert(state: dict) -> dict:
    return convert_parc_convnext(state) if is_convnext(state) else \
        convert_parc_resnet(state)


def build(state: dict):
    if is_convnext(state):
        kwargs = infer_parc_convnext_arch(state)
        return ParCConvNeXt(**kwargs), kwargs
    kwargs = infer_parc_resnet_arch(state)
    return ParCResNet(**kwargs), kwargs['arch']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='official or plain checkpoint')
    parser.add_argument('dst', help='output file')
    args = parser.parse_args(argv)
    with exit_on_user_error('parc_to_mmplug.py'):
        report = convert_backbone_checkpoint(args.src, args.dst, convert,
                                             build)
    # classification checkpoints have no per-output norms: the official
    # det/seg code starts them from their init too
    new_norms = [k for k in report['missing'] if re.match(r'norm\d\.', k)]
    report['missing'] = [k for k in report['missing'] if k not in new_norms]
    notes = []
    if new_norms:
        notes.append('output norms not in the checkpoint, to start from '
                      f"their init ({len(new_norms)}): {', '.join(new_norms)}")
    return print_report(
        args.src, args.dst, report,
        [f"model: mmplug.{report['model']} arch: {report['arch']}"], notes)


if __name__ == '__main__':
    sys.exit(main())

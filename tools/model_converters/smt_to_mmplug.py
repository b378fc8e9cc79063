#!/usr/bin/env python
"""Convert an official SMT checkpoint into mmplug's layout.

Accepts the ImageNet release (``smt_tiny.pth``: weights under ``model``) and
checkpoints of the official mmdet-2.x / mmseg-0.x code (``state_dict`` with
``backbone.`` keys whose MSA conv is ``attn.dw_conv``). Writes
``{'state_dict': ...}``: backbone keys as ``mmplug.SMT`` names them (with the
``backbone.`` prefix kept for detector/segmentor checkpoints), other keys
(neck, heads) unchanged. Every backbone key that does not fit ``mmplug.SMT``
of the inferred arch is reported.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmplug.apis.cli import exit_on_user_error  # noqa: E402
from mmplug.apis.convert import (convert_backbone_checkpoint,  # noqa: E402
                                 print_report)
from mmplug.models.backbones.smt import (SMT, convert_smt,  # noqa: E402
                                         infer_smt_arch)


def build(state: dict):
    arch = infer_smt_arch(state)
    return SMT(arch=arch), arch  # the classifier head aside


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output file')
    args = parser.parse_args(argv)
    with exit_on_user_error('smt_to_mmplug.py'):
        report = convert_backbone_checkpoint(args.src, args.dst, convert_smt,
                                             build, ignore=('head.', ))
    return print_report(args.src, args.dst, report,
                        [f"arch: {report['arch']}"])


if __name__ == '__main__':
    sys.exit(main())

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

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmplug.apis.cli import exit_on_user_error  # noqa: E402
from mmplug.apis.convert import (print_report,  # noqa: E402
                                 read_backbone_state, write_converted)
from mmplug.models.backbones.smt import (SMT, convert_smt,  # noqa: E402
                                         infer_smt_arch)


def convert_file(src: str, dst: str) -> dict:
    """Convert ``src`` to ``dst``; return a report dict."""
    prefix, raw, others = read_backbone_state(src)
    backbone = convert_smt(raw)
    arch = infer_smt_arch(backbone)
    expected = SMT(arch=arch).state_dict()  # the classifier head aside
    unmapped = sorted(k for k in backbone
                      if k not in expected and not k.startswith('head.'))
    missing = sorted(k for k in expected if k not in backbone)
    write_converted(dst, prefix, backbone, others)
    return dict(arch=arch, kind='detector/segmentor' if prefix else
                'classification', converted=len(backbone),
                passed_through=len(others), unmapped=unmapped,
                missing=missing)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output file')
    args = parser.parse_args(argv)
    with exit_on_user_error('smt_to_mmplug.py'):
        report = convert_file(args.src, args.dst)
    return print_report(args.src, args.dst, report,
                        [f"arch: {report['arch']}"])


if __name__ == '__main__':
    sys.exit(main())

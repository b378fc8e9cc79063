#!/usr/bin/env python
"""Fold every DO-Conv of a checkpoint into a plain conv.

Each DO-Conv (keys ``X.weight`` + ``X.D`` [+ ``X.weight_extra``]) becomes
the conv ``X.weight`` it computes, so the result loads into the same config
without ``conv_cfg=dict(type='mmplug.DOConv')`` and gives the same outputs
at a plain conv's cost. Other keys and the checkpoint's ``meta`` are kept.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmplug.apis.cli import exit_on_user_error  # noqa: E402
from mmplug.apis.convert import fold_do_conv_checkpoint  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='checkpoint trained with DO-Conv')
    parser.add_argument('dst', help='output file')
    args = parser.parse_args(argv)
    with exit_on_user_error('fold_doconv.py'):
        folded = fold_do_conv_checkpoint(args.src, args.dst)
    print(f'{args.src} -> {args.dst}: {folded} DO-Convs folded')
    return 0 if folded else 1


if __name__ == '__main__':
    sys.exit(main())

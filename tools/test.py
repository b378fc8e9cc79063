#!/usr/bin/env python
"""Evaluate a checkpoint of a detection or segmentation config."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmplug.apis import exit_on_user_error, test  # noqa: E402
from mmplug.apis.cli import (add_config_args, add_run_args,  # noqa: E402
                             parse_tool_args)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Test (evaluate) a checkpoint: COCO bbox/segm mAP for '
        'detection configs, mIoU for segmentation configs.')
    add_config_args(parser)
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save logs and metrics')
    parser.add_argument(
        '--out', help='det: dump raw results to this .pkl file; seg: save '
        'the predicted label maps in this folder')
    parser.add_argument('--show-dir',
                        help='save pictures of the predictions here')
    parser.add_argument('--tta', action='store_true',
                        help='test-time augmentation')
    add_run_args(parser)
    return parse_tool_args(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    with exit_on_user_error('test.py'):
        test(args.config, args.checkpoint, work_dir=args.work_dir,
             out=args.out, show_dir=args.show_dir, tta=args.tta,
             cfg_options=args.cfg_options, launcher=args.launcher,
             trusted=args.trust_checkpoint,
             partial_load=args.partial_load)


if __name__ == '__main__':
    main()

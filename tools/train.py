#!/usr/bin/env python
"""Train a detection (mmdet) or segmentation (mmseg) config."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmplug.apis import exit_on_user_error, train  # noqa: E402
from mmplug.apis.cli import (add_config_args, add_run_args,  # noqa: E402
                             parse_tool_args)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train a detector or segmentor from an mmdet/mmseg '
        'config (the task follows the config\'s default_scope).')
    add_config_args(parser)
    parser.add_argument('--work-dir', help='where to save logs and models')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (needs a GPU)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual total batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or without a path from the '
        'latest checkpoint in the work dir')
    add_run_args(parser)
    return parse_tool_args(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    with exit_on_user_error('train.py'):
        train(args.config, work_dir=args.work_dir, amp=args.amp,
              resume=args.resume, auto_scale_lr=args.auto_scale_lr,
              cfg_options=args.cfg_options, launcher=args.launcher,
              trusted=args.trust_checkpoint,
              partial_load=args.partial_load)


if __name__ == '__main__':
    main()

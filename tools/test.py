#!/usr/bin/env python
"""Evaluate a checkpoint of a detection or segmentation config."""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from mmplug.apis import exit_on_user_error, test  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Test (evaluate) a checkpoint: COCO bbox/segm mAP for '
        'detection configs, mIoU for segmentation configs.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save logs and metrics')
    parser.add_argument(
        '--out', help='det: dump raw results to this .pkl file; seg: save '
        'the predicted label maps in this folder')
    parser.add_argument('--show-dir',
                        help='save pictures of the predictions here')
    parser.add_argument('--tta', action='store_true',
                        help='test-time augmentation')
    parser.add_argument(
        '--trust-checkpoint', action='append', default=[], metavar='PATH',
        help='unpickle this checkpoint without the mmengine allow-list '
        '(only for files you trust: unpickling can run code)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (lists as key="[a,b]")')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    with exit_on_user_error('test.py'):
        test(args.config, args.checkpoint, work_dir=args.work_dir,
             out=args.out, show_dir=args.show_dir, tta=args.tta,
             cfg_options=args.cfg_options, launcher=args.launcher,
             trusted=args.trust_checkpoint)


if __name__ == '__main__':
    main()

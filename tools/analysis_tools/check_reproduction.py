#!/usr/bin/env python
"""Compare the metrics of a finished run with the paper's numbers of its
config (from the model index); exit 0 only when all are within tolerance."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmplug.apis.cli import exit_on_user_error  # noqa: E402
from mmplug.apis.reproduction import (AP_TOLERANCE,  # noqa: E402
                                      MIOU_TOLERANCE, check_reproduction)
from mmplug.mim import MODEL_INDEX  # noqa: E402

DESCRIPTION = """\
Read the metrics that tools/test.py (W/<timestamp>/<timestamp>.json) or the
last validation of tools/train.py (W/<timestamp>/vis_data/scalars.json)
wrote in WORK_DIR, whichever is newer, find the config's entry in the model
index and print metric, paper, ours, difference and whether it is within
tolerance. Exit status: 0 all within tolerance, 1 not (or nothing to
compare), 2 bad input."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dir', metavar='WORK_DIR')
    parser.add_argument(
        '--config', help='the config that ran (default: the one mmengine '
        'saved in WORK_DIR); only its file name is used')
    parser.add_argument('--model-index', default=MODEL_INDEX,
                        help='model-index.yml (default: mmplug\'s)')
    parser.add_argument('--tta', action='store_true',
                        help='the test ran with --tta: compare the ms+flip '
                        'numbers')
    parser.add_argument('--ap-tolerance', type=float, default=AP_TOLERANCE,
                        help='largest |ours - paper| for box/mask AP '
                        '(default %(default)s)')
    parser.add_argument('--miou-tolerance', type=float,
                        default=MIOU_TOLERANCE,
                        help='largest |ours - paper| for mIoU (default '
                        '%(default)s)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with exit_on_user_error('check_reproduction.py'):
        ok, report = check_reproduction(
            args.work_dir, args.model_index, args.config, tta=args.tta,
            ap_tolerance=args.ap_tolerance,
            miou_tolerance=args.miou_tolerance)
    print(report)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()

#!/usr/bin/env python
"""Compare a finished run with the paper's numbers of its config (from the
model index), and its setting with the paper's; exit 0 only when the
setting is the paper's and every metric is within tolerance."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmplug.apis.cli import exit_on_user_error  # noqa: E402
from mmplug.apis.reproduction import (AP_TOLERANCE,  # noqa: E402
                                      EXIT_STATUS, MIOU_TOLERANCE,
                                      check_reproduction)
from mmplug.mim import MODEL_INDEX  # noqa: E402

DESCRIPTION = """\
Read the metrics that tools/test.py (W/<timestamp>/<timestamp>.json) or the
last validation of tools/train.py (W/<timestamp>/vis_data/scalars.json)
wrote in WORK_DIR, whichever is newer, and the configs and logs both saved
there; find the config's entry in the model index (or the demo's results)
and print the run's setting against the paper's (every config value that
differs, the data's size and classes, GPUs x images per GPU, the tested
checkpoint), each tolerance with its source, and metric, paper, ours,
difference. Verdicts and exit status: REPRODUCED 0, NOT REPRODUCED 1, bad
input 2, NOT COMPARABLE (the setting is not the paper's) or NOT CHECKED
(nothing to compare) 3."""


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
    parser.add_argument(
        '--ap-tolerance', type=float,
        help='largest |ours - paper| for box/mask AP (default: the model '
        f"index's tolerance of the config, else {AP_TOLERANCE}, which is "
        'not a measured spread)')
    parser.add_argument(
        '--miou-tolerance', type=float,
        help='largest |ours - paper| for mIoU (default: the model '
        f"index's tolerance of the config, else {MIOU_TOLERANCE})")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with exit_on_user_error('check_reproduction.py'):
        verdict, report = check_reproduction(
            args.work_dir, args.model_index, args.config, tta=args.tta,
            ap_tolerance=args.ap_tolerance,
            miou_tolerance=args.miou_tolerance)
    print(report)
    sys.exit(EXIT_STATUS[verdict])


if __name__ == '__main__':
    main()

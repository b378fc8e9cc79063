#!/usr/bin/env python
"""Train every backbone and neck of mmplug on the demo data at an equal
wall-clock budget, score them, and write the table and learning curves."""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import argparse  # noqa: E402
from typing import List, Optional  # noqa: E402

from mmplug.apis.cli import exit_on_user_error  # noqa: E402
from mmplug.apis.learning import MATRIX, run_matrix, select  # noqa: E402

DESCRIPTION = """\
The learning matrix: each backbone in the demo Mask R-CNN and the demo
UPerNet, and both necks, trained from scratch on the demo data
(configs/demo/*, data/demo, generated if missing) by tools/train.py for the
same wall-clock budget, then scored by tools/test.py (bbox mAP, mIoU)
against the ResNet-18 model of its task. Each run first times a few
iterations, then trains the demo config's own schedule scaled to the
iterations that fit the budget (mmplug.TimeBudgetHook stops it if the
machine slows down). Writes learning_matrix.md / .json / .png in --out;
finished runs are kept and not repeated (run it in parts with --only).
On 2 cores: --jobs 2 --threads 1 (about 50 minutes at --budget-s 180)."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--only', help='comma-separated models: names (both tasks), '
        'det/<name>, seg/<name>, det or seg (default: all; see --list)')
    parser.add_argument(
        '--budget-s', type=float, default=240.,
        help='training seconds per model (default: %(default)s)')
    parser.add_argument(
        '--threads', type=int, default=None,
        help='CPU threads per run (OMP_NUM_THREADS; default: torch\'s)')
    parser.add_argument(
        '--jobs', type=int, default=1,
        help='runs at a time, the Mask R-CNN and UPerNet runs taking turns '
        '(default: %(default)s; on 2 cores: --jobs 2 --threads 1)')
    parser.add_argument(
        '--out', default='work_dirs/learning_matrix',
        help='folder of the runs and the report (default: %(default)s)')
    parser.add_argument('--force', action='store_true',
                        help='repeat runs that are already finished')
    parser.add_argument('--report-only', action='store_true',
                        help='only write the report from finished runs')
    parser.add_argument('--list', action='store_true',
                        help='list the models and exit')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.list:
        for entry in MATRIX:
            print(f'{entry.key:22s} {entry.config}  ({entry.size})')
        return
    with exit_on_user_error('learning_matrix.py'):
        entries = [] if args.report_only else select(args.only)
        run_matrix(entries, osp.abspath(args.out), args.budget_s,
                   threads=args.threads, force=args.force, jobs=args.jobs)


if __name__ == '__main__':
    main()

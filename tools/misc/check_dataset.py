#!/usr/bin/env python
"""Check the dataset a config points at; exit 0 only when it is clean."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from mmplug.apis import check_dataset, exit_on_user_error  # noqa: E402
from mmplug.apis.cli import add_config_args, parse_tool_args  # noqa: E402
from mmplug.apis.config import load_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Read the whole dataset of a detection (COCO layout) or '
        'segmentation (mmseg layout) config and report, with file names, '
        'unknown class names, annotation files without images or '
        'annotations, missing/corrupt/truncated/unreadable images, '
        'image/label size mismatches, label maps with several channels (RGB) '
        'or saved as JPEG, label values outside the class range, empty or '
        'degenerate masks and boxes, duplicate ids. Exit status: 0 clean, 1 '
        'problems found, 2 the config or a path is wrong.')
    add_config_args(parser)
    parser.add_argument('--split', default='all',
                        choices=['train', 'val', 'test', 'all'],
                        help='which dataloader\'s dataset (default: all)')
    parser.add_argument('--deep', action='store_true',
                        help='decode every image and label map (slower): '
                        'finds corrupt image data and label values out of '
                        'range; without it files are checked from their '
                        'headers and ends')
    parser.add_argument('--max-lines', type=int, default=20,
                        help='cases shown per kind of problem')
    return parse_tool_args(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    with exit_on_user_error('check_dataset.py'):
        cfg = load_config(args.config, args.cfg_options)
        splits = ('train', 'val', 'test') if args.split == 'all' \
            else (args.split, )
        reports, seen = [], {}
        for split in splits:
            data = cfg.get(f'{split}_dataloader', {}).get('dataset')
            if data in seen.values():  # e.g. test_dataloader = val_dataloader
                same = next(s for s, d in seen.items() if d == data)
                print(f'[{split}] same data as {same}')
                continue
            seen[split] = data
            reports.append(check_dataset(cfg, split, deep=args.deep))
    for report in reports:
        print(report.format(args.max_lines))
    problems = sum(len(r.problems) for r in reports)
    print(f'{problems} problem(s) found' if problems else 'dataset is clean')
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()

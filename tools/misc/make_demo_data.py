"""Generate the deterministic synthetic demo datasets (COCO + ADE20K layout).

Example (from the repository root)::

    python tools/misc/make_demo_data.py --out data/demo
    python tools/misc/make_demo_data.py --num-train 20 --num-val 5 --overwrite
"""
import argparse
import sys
from pathlib import Path
from typing import List, Optional

# Make ``import mmplug`` work from a checkout without installing the package.
_REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(_REPO_ROOT))

from mmplug.datasets import make_demo_data  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse command line arguments."""
    parser = argparse.ArgumentParser(
        description='Generate synthetic demo data: a COCO-style instance '
        'dataset of shapes (<out>/coco) and an ADE20K-style semantic dataset '
        '(<out>/ade/ADEChallengeData2016). Same arguments give identical '
        'files.')
    parser.add_argument(
        '--out',
        default='data/demo',
        help='output folder (default: %(default)s)')
    parser.add_argument(
        '--num-train',
        type=int,
        default=160,
        help='training images per dataset (default: %(default)s)')
    parser.add_argument(
        '--num-val',
        type=int,
        default=40,
        help='validation images per dataset (default: %(default)s)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='random seed (default: %(default)s)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(256, 320),
        metavar=('MIN', 'MAX'),
        help='range of image height and width (default: 256 320)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='delete and regenerate existing demo data in --out')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the generator and print a summary."""
    args = parse_args(argv)
    try:
        summary = make_demo_data(
            args.out,
            num_train=args.num_train,
            num_val=args.num_val,
            img_size=tuple(args.size),
            seed=args.seed,
            overwrite=args.overwrite)
    except (FileExistsError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1

    state = 'already up to date, nothing written' if summary['skipped'] \
        else 'generated'
    print(f'Demo data in {summary["root"]} ({state})')
    coco, ade = summary['coco'], summary['ade']
    print(f'COCO instances ({", ".join(coco["classes"])}): '
          f'data_root={coco["data_root"]}')
    for split in ('train', 'val'):
        info = coco[split]
        print(f'  {split}: {info["num_images"]} images, '
              f'{info["num_instances"]} instances '
              f'({info["num_polygon"]} polygon, {info["num_rle"]} RLE masks)'
              f'\n    images: {info["img_dir"]}'
              f'\n    ann_file: {info["ann_file"]}')
    print(f'ADE20K semantic ({", ".join(ade["classes"])}; label ids '
          f'{ade["label_ids"]}): data_root={ade["data_root"]}')
    for split in ('train', 'val'):
        info = ade[split]
        print(f'  {split}: {info["num_images"]} images, '
              f'{info["num_objects"]} objects'
              f'\n    images: {info["img_dir"]}'
              f'\n    labels: {info["ann_dir"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

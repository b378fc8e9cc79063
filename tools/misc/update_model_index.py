#!/usr/bin/env python
"""Bring the generated parts of the model index up to date: the Metadata of
every entry of configs/*/metafile.yml and configs/demo/results.yml (from the
configs and get_flops), model-index.yml and each family's README.md. The
papers' numbers and their sources are written by hand in the metafiles and
kept as they are. Run it after adding, renaming or changing configs, or
editing a metafile."""
import argparse
import os.path as osp
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from mmplug.apis.cli import exit_on_user_error  # noqa: E402
from mmplug.apis.model_index import (index_files,  # noqa: E402
                                     previous_measurements, update_metafiles,
                                     write_index)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        '--reuse', action='store_true',
        help='keep the parameters and FLOPs the metafiles already give for '
        'configs whose path is unchanged (only when those models did not '
        'change); others are measured (about half an hour for all on 2 CPU '
        'cores)')
    parser.add_argument(
        '--remeasure', default='', metavar='PATTERN',
        help='with --reuse, measure the configs matching this shell pattern '
        'anyway, e.g. "configs/fpt/*"')
    parser.add_argument('--repo', default=REPO, help='repository root')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmplug.testing import import_mmpretrain_models
    import_mmpretrain_models()  # the ConvNeXt baselines' custom_imports
    start = time.time()
    with exit_on_user_error('update_model_index.py'):
        reuse = previous_measurements(args.repo) if args.reuse else None
        metafiles = update_metafiles(
            args.repo, reuse=reuse, remeasure=args.remeasure,
            log=lambda msg: print(f'[{time.time() - start:6.0f} s] {msg}',
                                  flush=True))
        for path in write_index(args.repo, index_files(args.repo,
                                                       metafiles)):
            print(f'wrote {path}')


if __name__ == '__main__':
    main()

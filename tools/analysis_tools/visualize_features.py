#!/usr/bin/env python
"""Draw the feature maps of each backbone stage of a config on an image,
and SMT's modulation and attention maps."""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import argparse  # noqa: E402
from typing import List, Optional  # noqa: E402

from mmplug.apis.cli import CfgOptionsAction, exit_on_user_error  # noqa: E402

DESCRIPTION = """\
Feature maps of each output stage of a config's backbone on one image: each
pixel's feature norm overlaid on the image, and the channels with the
largest activation (features.png). For an SMT backbone also smt_maps.png: each
scale-aware modulation's modulator (mean over channels) and each global
attention's weights for the central query (mean over heads). Without a
checkpoint the backbone is at its random initialisation."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='detection or segmentation config')
    parser.add_argument('checkpoint', nargs='?',
                        help='weights (default: random initialisation)')
    parser.add_argument('--image', required=True, help='image file')
    parser.add_argument('--size', type=int, default=320,
                        help='square input side in pixels (default: '
                        '%(default)s)')
    parser.add_argument('--topk', type=int, default=4,
                        help='channels shown per stage (default: '
                        '%(default)s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of a random initialisation')
    parser.add_argument('--out-dir', default='features',
                        help='folder of the PNGs (default: %(default)s)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='config overrides, key=value')
    args = parser.parse_args(argv)
    if args.size < 32 or args.topk < 0:
        parser.error('--size must be >= 32 and --topk >= 0')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    with exit_on_user_error('visualize_features.py'):
        from mmplug.apis.visualize import (build_model, load_images,
                                           plot_features, plot_smt_maps,
                                           smt_maps, stage_features)
        from mmplug.models.layers.smt_mixers import (GlobalAttention,
                                                     ScaleAwareModulation)
        if not osp.isfile(args.image):
            raise FileNotFoundError(f'image not found: {args.image}')
        model = build_model(args.config, args.checkpoint, args.cfg_options,
                            seed=args.seed)
        images, rgb = load_images([args.image], args.size, model)
        name = osp.splitext(osp.basename(args.config))[0]
        state = osp.basename(args.checkpoint) if args.checkpoint \
            else 'random init'
        out = osp.join(args.out_dir, 'features.png')
        plot_features(stage_features(model.backbone, images[0]), rgb[0], out,
                      topk=args.topk, title=f'{name} ({state})')
        print(f'written: {out}')
        if any(isinstance(m, (ScaleAwareModulation, GlobalAttention))
               for m in model.backbone.modules()):
            out = osp.join(args.out_dir, 'smt_maps.png')
            plot_smt_maps(smt_maps(model.backbone, images[0]), rgb[0], out,
                          title=f'{name} ({state}): SMT modulation and '
                          'attention')
            print(f'written: {out}')


if __name__ == '__main__':
    main()

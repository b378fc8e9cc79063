#!/usr/bin/env python
"""Draw the effective receptive field of each backbone stage of a config."""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import argparse  # noqa: E402
from typing import List, Optional  # noqa: E402

from mmplug.apis.cli import (CfgOptionsAction,  # noqa: E402
                             exit_on_user_error, parse_option_value)

DESCRIPTION = """\
The effective receptive field (ERF) of each output stage of a config's
backbone, as in RepLKNet: the gradient of the stage's central output pixel
(ReLU, summed over channels) with respect to the input, absolute, summed
over colour channels, averaged over images; drawn on a log scale (three
decades below the maximum) with the share of the image that holds half of
it. Without a checkpoint the backbone is at its random initialisation.
Prints, per stage, the area ratios that hold 20/30/50/99 % of the ERF."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='detection or segmentation config')
    parser.add_argument('checkpoint', nargs='?',
                        help='weights (default: random initialisation)')
    parser.add_argument(
        '--compare', nargs='+', action='append', default=[],
        metavar='CONFIG [CHECKPOINT] [KEY=VALUE ...]',
        help='another model, drawn as a further row (repeatable); KEY=VALUE '
        'items override its config (after --cfg-options), e.g. '
        '--compare CONFIG model.backbone.parc_stages=[]')
    parser.add_argument(
        '--images', default='data/demo/coco/val2017',
        help='image file or folder (default: %(default)s)')
    parser.add_argument('--num-images', type=int, default=8,
                        help='images averaged (default: %(default)s)')
    parser.add_argument('--size', type=int, default=320,
                        help='square input side in pixels (default: '
                        '%(default)s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of a random initialisation')
    parser.add_argument('--out', default='erf.png',
                        help='PNG to write (default: %(default)s)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='config overrides (every model), key=value')
    args = parser.parse_args(argv)
    args.models = [(args.config, args.checkpoint, {}, '')]
    for items in args.compare:
        paths = [i for i in items if '=' not in i]
        options = [i for i in items if '=' in i]
        if len(paths) not in (1, 2) or items[0] != paths[0]:
            parser.error('--compare takes CONFIG [CHECKPOINT] [KEY=VALUE '
                         f'...], got {" ".join(items)}')
        overrides = {}
        for option in options:
            key, value = option.split('=', 1)
            overrides[key] = parse_option_value(value)
        args.models.append((paths[0], paths[1] if len(paths) > 1 else None,
                            overrides, ' '.join(options)))
    if args.num_images < 1 or args.size < 32:
        parser.error('--num-images must be >= 1 and --size >= 32')
    return args


def label(config: str, checkpoint: Optional[str], options: str) -> str:
    """A row's name: the config's, the weights, the overrides."""
    name = osp.splitext(osp.basename(config))[0]
    state = osp.basename(checkpoint) if checkpoint else 'random init'
    return f'{name}\n{state}' + (f'\n{options}' if options else '')


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    with exit_on_user_error('visualize_erf.py'):
        from mmplug.apis.visualize import (ERF_THRESHOLDS, build_model,
                                           effective_receptive_fields,
                                           erf_area_ratios, find_images,
                                           load_images, plot_erfs)
        paths = find_images(args.images, args.num_images)
        fields = {}
        for config, checkpoint, overrides, options in args.models:
            model = build_model(config, checkpoint,
                                dict(args.cfg_options or {}, **overrides),
                                seed=args.seed)
            images, _ = load_images(paths, args.size, model)
            name = label(config, checkpoint, options)
            fields[name] = effective_receptive_fields(model.backbone, images)
            print(name.replace('\n', ', '))
            print('  stage  ' + '  '.join(f'{int(100 * t):>3d} %'
                                          for t in ERF_THRESHOLDS)
                  + '   (share of the image holding that much of the ERF)')
            for i, erf in enumerate(fields[name]):
                ratios = erf_area_ratios(erf)
                print(f'  {i + 1:>5d}  ' + '  '.join(
                    f'{ratios[t]:5.3f}' for t in ERF_THRESHOLDS))
        plot_erfs(fields, args.out, title=f'ERF, {len(paths)} images at '
                  f'{args.size}x{args.size}')
        print(f'written: {args.out}')


if __name__ == '__main__':
    main()

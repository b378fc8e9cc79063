"""Print the parameters and FLOPs of a detection or segmentation config."""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import argparse  # noqa: E402
import textwrap  # noqa: E402
from typing import List, Optional  # noqa: E402

from mmplug.apis.analysis import get_flops  # noqa: E402
from mmplug.apis.cli import (add_config_args, add_shape_arg,  # noqa: E402
                             exit_on_user_error, parse_tool_args)
from mmplug.apis.config import load_config  # noqa: E402

DESCRIPTION = """\
Count the parameters and FLOPs of a config's model on one random image,
tracing model(inputs, data_samples, mode='tensor') with mmengine.analysis
(two-stage detectors: backbone, neck, RPN and the RoI heads on its
proposals; segmentors: backbone, neck, decode head; the auxiliary head is
dropped). 1 multiply-add = 1 FLOP. Products between two activations
(attention matrices) are counted and also shown on their own line; ops that
are traced but not counted (RoIAlign, NMS, elementwise...) are listed. The
last figure is the papers' convention (the model index's FLOPs): without
attention products, and two-stage detectors with 1000 proposals through the
box heads and 100 through the mask heads, as mmdet 2.x counted."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser)
    add_shape_arg(parser)
    return parse_tool_args(parser, argv)


def format_result(result: dict) -> str:
    """A readable table of :func:`mmplug.apis.analysis.get_flops`'s dict."""
    _, _, h, w = result['input_shape']
    rows = [('module', 'params (M)', 'FLOPs (G)')]
    for name, params in result['params_by_module'].items():
        rows.append((name, f'{params / 1e6:.2f}',
                     f"{result['flops_by_module'][name] / 1e9:.2f}"))
    other = result['flops'] - sum(result['flops_by_module'].values())
    if other:
        rows.append(('(outside children)', '', f'{other / 1e9:.2f}'))
    rows.append(('total', f"{result['params'] / 1e6:.2f}",
                 f"{result['flops'] / 1e9:.2f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    table = [
        f'{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}'
        for r in rows
    ]
    table.insert(1, '-' * len(table[0]))
    table.insert(-1, '-' * len(table[0]))
    uncounted = textwrap.fill(
        ', '.join(f'{op} x{n}' for op, n in result['uncounted_ops'].items())
        or 'none',
        initial_indent='  ',
        subsequent_indent='  ')
    lines = [
        f"Task: {result['task']}    input: 1x3x{h}x{w} (H x W = {h} x {w})",
        'FLOPs convention: 1 multiply-add = 1 FLOP', '', *table, '',
        f"Trainable params (requires_grad): "
        f"{result['params_trainable'] / 1e6:.2f} M",
        f"Attention-matrix products (included in total): "
        f"{result['attention_flops'] / 1e9:.2f} G",
        f"FLOPs without attention-matrix products: "
        f"{result['flops_without_attention'] / 1e9:.2f} G",
        *([f"FLOPs in the papers' convention (no attention products; "
           f"two-stage: 1000 box / 100 mask proposals): "
           f"{result['flops_papers'] / 1e9:.2f} G"]
          if 'flops_papers' in result else []),
        'Uncounted ops (not in the FLOPs), x occurrences:', uncounted
    ]
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    with exit_on_user_error('get_flops.py'):
        cfg = load_config(args.config, args.cfg_options)
        result = get_flops(cfg, args.shape, papers=True)
    print(f'Config: {args.config}')
    print(format_result(result))


if __name__ == '__main__':
    main()

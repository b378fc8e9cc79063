"""Export a config's backbone (and neck) to ONNX, checked with onnxruntime."""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import argparse  # noqa: E402
from typing import List, Optional  # noqa: E402

from mmplug.apis.cli import (add_config_args, add_shape_arg,  # noqa: E402
                             exit_on_user_error, parse_tool_args)
from mmplug.apis.config import load_config  # noqa: E402
from mmplug.apis.deploy import (ONNX_TOLERANCE, PARTS,  # noqa: E402
                                export_onnx)

DESCRIPTION = """\
Export the backbone, or backbone and neck, of a detection or segmentation
config to ONNX at a fixed input size (batch 1; every ParC baked for that
size), run the file with onnxruntime on a random image and compare with
PyTorch (largest difference relative to each output's largest magnitude, at
most 1e-4), then time both (median of --num-runs after one warm-up).
Without CHECKPOINT the weights are random."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser)
    parser.add_argument(
        'checkpoint', nargs='?',
        help="a checkpoint of the config's model (tools/train.py); every "
        'backbone (and neck) key must be in it')
    add_shape_arg(parser)
    parser.add_argument('--part', choices=PARTS, default='backbone',
                        help='what to export (default: backbone)')
    parser.add_argument(
        '--out', help='the .onnx file (default: <config name>_<part>_'
        '<H>x<W>.onnx in the current folder)')
    parser.add_argument('--no-check', action='store_true',
                        help='export only: no onnxruntime run')
    parser.add_argument('--num-runs', type=int, default=5,
                        help='timed runs of each (default 5)')
    parser.add_argument(
        '--threads', type=int,
        help='threads of PyTorch and onnxruntime for the timing (default: '
        'each one\'s default)')
    return parse_tool_args(parser, argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    with exit_on_user_error('export_onnx.py'):
        cfg = load_config(args.config, args.cfg_options)
        out = args.out
        if out is None:
            from mmplug.apis.analysis import resolve_shape
            h, w = resolve_shape(cfg, args.shape)
            name = osp.splitext(osp.basename(args.config))[0]
            out = f'{name}_{args.part.replace("+", "_")}_{h}x{w}.onnx'
        result = export_onnx(cfg, out, part=args.part, shape=args.shape,
                             checkpoint=args.checkpoint,
                             check=not args.no_check,
                             num_runs=args.num_runs, threads=args.threads)
    _, _, h, w = result['input_shape']
    shapes = ', '.join('x'.join(map(str, s)) for s in result['output_shapes'])
    print(f'Config: {args.config}')
    print(f"Part: {result['part']}    input: 1x3x{h}x{w}    outputs: {shapes}")
    print(f"Wrote {out} ({osp.getsize(out) / 2**20:.1f} MiB)")
    if args.no_check:
        return
    verdict = 'ok' if result['ok'] else 'FAILED'
    print(f"onnxruntime vs PyTorch: max abs diff {result['max_abs_diff']:.2e}"
          f", relative {result['max_rel_diff']:.2e} (limit "
          f'{ONNX_TOLERANCE:.0e}): {verdict}')
    print(f"Latency (median of {args.num_runs}): PyTorch eager "
          f"{result['eager_ms']:.2f} ms, onnxruntime {result['ort_ms']:.2f} "
          f"ms, onnxruntime / eager {result['ort_over_eager']:.2f}")
    if not result['ok']:
        sys.exit(1)


if __name__ == '__main__':
    main()

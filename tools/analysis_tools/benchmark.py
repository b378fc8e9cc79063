"""Time the inference of a detection or segmentation config's model."""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import argparse  # noqa: E402
from typing import List, Optional  # noqa: E402

from mmplug.apis.analysis import PARTS, benchmark  # noqa: E402
from mmplug.apis.cli import (add_config_args, add_shape_arg,  # noqa: E402
                             exit_on_user_error, parse_tool_args)
from mmplug.apis.config import load_config  # noqa: E402

DESCRIPTION = """\
Measure the inference latency (median and interquartile range over the
timed runs, after warm-up), throughput and peak memory of a config's model
on one random image (batch size 1, random weights, torch.no_grad()). Runs on
CUDA when available, else on the CPU. Peak memory: CUDA
max_memory_allocated; CPU: the peak resident-set size during the timed runs
minus the RSS right before them, read from /proc/self/statm every ~1 ms."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser)
    add_shape_arg(parser)
    parser.add_argument(
        '--part',
        choices=PARTS,
        default='model',
        help="what to time: 'model' (mode='tensor' forward: for two-stage "
        "detectors up to the RoI heads), 'backbone', or 'neck' (backbone + "
        'neck). Default: model')
    parser.add_argument(
        '--num-warmup', type=int, default=3, help='untimed runs (default 3)')
    parser.add_argument(
        '--num-runs', type=int, default=10, help='timed runs (default 10)')
    parser.add_argument(
        '--threads',
        type=int,
        help='torch.set_num_threads for the runs (default: torch default)')
    return parse_tool_args(parser, argv)


def format_result(result: dict) -> str:
    """Readable lines for :func:`mmplug.apis.analysis.benchmark`'s dict."""
    _, _, h, w = result['input_shape']
    peak = result['peak_memory_mib']
    peak = 'n/a' if peak is None else f'{peak:.1f} MiB'
    return '\n'.join([
        f"Part: {result['part']}    input: 1x3x{h}x{w}    "
        f"device: {result['device']}    threads: {result['threads']}",
        f"Runs: {result['num_runs']} timed after {result['num_warmup']} "
        'warm-up',
        f"Latency: {result['latency_ms']:.2f} ms median "
        f"(IQR {result['latency_iqr_ms']:.2f} ms)",
        f"Throughput: {result['images_per_s']:.2f} img/s",
        f"Peak memory: {peak} ({result['memory_measure']})",
    ])


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    with exit_on_user_error('benchmark.py'):
        cfg = load_config(args.config, args.cfg_options)
        result = benchmark(
            cfg,
            shape=args.shape,
            part=args.part,
            num_warmup=args.num_warmup,
            num_runs=args.num_runs,
            threads=args.threads)
    print(f'Config: {args.config}')
    print(format_result(result))


if __name__ == '__main__':
    main()

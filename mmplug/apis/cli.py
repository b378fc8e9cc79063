"""Helpers for the command-line tools: shared arguments and errors."""
import argparse
import contextlib
import os
import sys
import warnings
from typing import Iterator, List, Optional

from mmengine.config import DictAction

from mmplug.apis.config import ConfigError
from mmplug.checkpoint import CheckpointMismatchError, UnsafeCheckpointError

# mmengine 0.10.7 resolves `mmdet::`/`mmseg::` bases through pkg_resources,
# whose deprecation warning would open every tool's output.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

#: Errors caused by the user's input, shown as one clear line, no traceback.
USER_ERRORS = (ConfigError, FileNotFoundError, UnsafeCheckpointError,
               CheckpointMismatchError)


@contextlib.contextmanager
def exit_on_user_error(tool: str) -> Iterator[None]:
    """Turn the errors in :data:`USER_ERRORS` into ``tool: error: ...`` on
    stderr and exit status 2. Set ``MMPLUG_DEBUG=1`` for the traceback."""
    try:
        yield
    except USER_ERRORS as err:
        if os.environ.get('MMPLUG_DEBUG'):
            raise
        print(f'{tool}: error: {err}', file=sys.stderr)
        sys.exit(2)


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """``CONFIG`` and ``--cfg-options``, which every tool takes."""
    parser.add_argument('config', help='config file (.py)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (lists as key="[a,b]", '
        'no spaces), e.g. model.backbone.depth=101')


def add_run_args(parser: argparse.ArgumentParser) -> None:
    """What ``train.py`` and ``test.py`` share besides the config."""
    parser.add_argument(
        '--trust-checkpoint', action='append', default=[], metavar='PATH',
        help='unpickle this checkpoint without the mmengine allow-list '
        '(only for files you trust: unpickling can run code)')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def add_shape_arg(parser: argparse.ArgumentParser) -> None:
    """``--shape H W`` of the analysis tools."""
    parser.add_argument(
        '--shape', type=int, nargs='+', metavar='H W',
        help='input height and width (one value: square); default 800 1280 '
        'for detection (padded to a multiple of 32), 512 2048 for '
        'segmentation')


def parse_tool_args(parser: argparse.ArgumentParser,
                    argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse, check ``--shape`` and export ``LOCAL_RANK`` where relevant."""
    args = parser.parse_args(argv)
    if getattr(args, 'shape', None) is not None and len(args.shape) > 2:
        parser.error('--shape takes H W (or one value for a square)')
    if hasattr(args, 'local_rank'):
        os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args

"""Helpers for the command-line tools: shared arguments and errors."""
import argparse
import contextlib
import errno
import os
import sys
import warnings
from typing import Any, Iterator, List, Optional

from mmplug.errors import ConfigError, UserError

# mmengine 0.10.7 resolves `mmdet::`/`mmseg::` bases through pkg_resources,
# whose deprecation warning would open every tool's output.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

#: OS errors that mean "this path cannot be written / read as asked".
FILE_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC,
               errno.EFBIG, errno.EDQUOT, errno.EISDIR, errno.ENOTDIR,
               errno.EEXIST)


def _config_build_error(err: BaseException) -> Optional[str]:
    """The class a config named whose building raised ``err`` because of
    the config's arguments, or ``None``.

    mmengine's ``build_from_cfg`` calls ``cls(**args)``: a ``TypeError``
    raised by that call itself (an unknown or missing argument) or a
    ``KeyError`` from the registry lookup (an unknown ``type``) is the
    config's; so is a ``ValueError`` or ``AssertionError`` a constructor
    raises to reject an argument.
    """
    frames, tb = [], err.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    builds = [i for i, f in enumerate(frames)
              if f.f_code.co_name == 'build_from_cfg'
              and 'mmengine' in f.f_code.co_filename]
    if not builds:
        return None
    frame = frames[builds[-1]]
    raised_here = builds[-1] == len(frames) - 1
    if not (isinstance(err, (TypeError, KeyError)) and raised_here
            or isinstance(err, (ValueError, AssertionError))):
        return None
    cls = frame.f_locals.get('obj_cls') or frame.f_locals.get('obj_type')
    return getattr(cls, '__name__', None) or str(cls)


def user_error_message(err: BaseException) -> Optional[str]:
    """The one-line message for an error the user caused, or ``None`` for
    anything else (a bug, which keeps its traceback).

    - :class:`~mmplug.errors.UserError` (mmplug's own checks), also when a
      dataloader worker raised it;
    - ``FileNotFoundError``, and ``OSError`` writing or reading a path
      (read-only or full work directory, a file size limit);
    - an error raised while building a class from the config's arguments
      (an unknown argument such as ``depthh=``, an unknown ``type``, a
      value the class rejects): see :func:`_config_build_error`.
    """
    text = str(err)
    if 'Original Traceback' in text:  # re-raised from a dataloader worker
        last = text.rstrip().splitlines()[-1]
        text = last.split(': ', 1)[1] if ': ' in last else last
    if isinstance(err, UserError):
        return text
    if isinstance(err, FileNotFoundError):
        return text
    if isinstance(err, OSError) and err.errno in FILE_ERRNOS:
        where = f' {err.filename}' if err.filename else ''
        return f'cannot write{where}: {err.strerror or text}'
    built = _config_build_error(err)
    if built is not None:
        reason = text.strip('"\'') if isinstance(err, KeyError) else text
        reason = reason.split(' Please check whether')[0]
        return f'cannot build {built} from the config: {reason}'
    return None


@contextlib.contextmanager
def exit_on_user_error(tool: str) -> Iterator[None]:
    """Turn errors the user caused (:func:`user_error_message`) into
    ``tool: error: ...`` on stderr and exit status 2; anything else keeps
    its traceback. Set ``MMPLUG_DEBUG=1`` for the traceback always."""
    try:
        yield
    except Exception as err:
        message = user_error_message(err)
        if message is None or os.environ.get('MMPLUG_DEBUG'):
            raise
        print(f'{tool}: error: {message}', file=sys.stderr)
        sys.exit(2)


def _top_level_parts(text: str) -> List[str]:
    """``text`` split at the commas outside brackets and outside quotes
    that open a part (an apostrophe inside a word is a letter)."""
    parts, depth, quote, start = [], 0, None, 0
    for i, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in '"\'' and not text[start:i].strip(' ([') and \
                text.find(char, i + 1) > 0:
            quote = char
        elif char in '([':
            depth += 1
        elif char in ')]':
            depth -= 1
            if depth < 0:
                raise ValueError(f'unbalanced brackets in {text!r}')
        elif char == ',' and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise ValueError(f'unbalanced brackets in {text!r}')
    return parts + [text[start:]]


def parse_option_value(text: str) -> Any:
    """A ``--cfg-options`` value, read as mmengine's ``DictAction`` reads it
    (numbers, ``True``/``False``/``None``, ``a,b`` and ``[a,b]`` lists,
    ``(a,b)`` tuples, nested) except that spaces inside a value are kept
    (``data_root=/data/my set/``) and a quoted value is one text, commas
    and brackets included (``data_root="'/data/a,b/'"``)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in '"\'':
        return text[1:-1]
    brackets = text[:1] + text[-1:]
    if brackets in ('()', '[]'):
        inner = text[1:-1].strip()
        items = [] if not inner else [
            parse_option_value(p) for p in _top_level_parts(inner)]
        return tuple(items) if brackets == '()' else items
    parts = _top_level_parts(text)
    if len(parts) > 1:
        return [parse_option_value(p) for p in parts]
    return _scalar(text)


def _scalar(text: str) -> Any:
    """An int, a float, ``True``/``False`` (any case), ``None``, or the
    text itself, as mmengine's ``DictAction`` reads a single value."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.lower() in ('true', 'false'):
        return text.lower() == 'true'
    return None if text == 'None' else text


class CfgOptionsAction(argparse.Action):
    """``--cfg-options key=value ...`` into a dict, as mmengine's
    ``DictAction`` does, with values read by :func:`parse_option_value`
    (spaces kept, quoted texts literal) and an option without ``=`` a
    usage error instead of a traceback."""

    def __call__(self, parser, namespace, values, option_string=None):
        bad = [v for v in values if '=' not in v]
        if bad:
            parser.error(f'{option_string} takes key=value pairs; got '
                         f'{" ".join(bad)!r} (e.g. train_cfg.max_epochs=2)')
        options = dict(getattr(namespace, self.dest, None) or {})
        for pair in values:
            key, value = pair.split('=', maxsplit=1)
            try:
                options[key] = parse_option_value(value)
            except ValueError as err:
                parser.error(f'{option_string}: {err}')
        setattr(namespace, self.dest, options)


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """``CONFIG`` and ``--cfg-options``, which every tool takes."""
    parser.add_argument('config', help='config file (.py)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help='override config settings, key=value (lists as key="[a,b]"; '
        'a text with commas quoted twice, key="\'a,b\'"), e.g. '
        'model.backbone.depth=101')


def add_run_args(parser: argparse.ArgumentParser) -> None:
    """What ``train.py`` and ``test.py`` share besides the config."""
    parser.add_argument(
        '--trust-checkpoint', action='append', default=[], metavar='PATH',
        help='unpickle this checkpoint without the mmengine allow-list '
        '(only for files you trust: unpickling can run code)')
    parser.add_argument(
        '--partial-load', action='store_true',
        help='load what fits of a checkpoint (load_from, test) whose keys '
        'do not all fit the model; without it such a checkpoint is refused '
        'with a report')
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


__all__ = [
    'ConfigError', 'CfgOptionsAction', 'add_config_args', 'add_run_args',
    'add_shape_arg', 'exit_on_user_error', 'parse_option_value',
    'parse_tool_args', 'user_error_message'
]

"""Config loading shared by the tools: det/seg dispatch, ``--cfg-options``
checks, dataset and pretrained-weight checks."""
import ast
import inspect
import os.path as osp
from difflib import get_close_matches
from typing import Any, Iterable, List, Optional

from mmengine.config import Config
from mmengine.runner import Runner

from mmplug.checkpoint import WEIGHTS_DOCS, check_pretrained
from mmplug.datasets.check import (DATASET_DOCS, check_config_data,
                                   dataset_paths)
from mmplug.errors import (ConfigError, DatasetNotFoundError,
                           PretrainedNotFoundError)
from mmplug.mim import find_config, register_config_prefix

__all__ = [
    'ConfigError', 'DATASET_DOCS', 'DatasetNotFoundError',
    'PretrainedNotFoundError', 'RUNNER_KEYS', 'TASKS', 'TUPLE_KEYS',
    'TUPLE_LIST_KEYS', 'WEIGHTS_DOCS', 'check_datasets', 'check_options',
    'check_pretrained', 'dataset_paths', 'load_config', 'restore_tuples',
    'task_of'
]

TASKS = {'mmdet': 'det', 'mmseg': 'seg'}

#: Top-level keys that mean something to a run (mmengine's Runner, the
#: tools, mmdet/mmseg TTA, mmplug), as opposed to the config's own
#: variables, which are read once when the config file is loaded.
RUNNER_KEYS = frozenset(
    set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'}
    | {
        'runner_type', 'custom_imports', 'model_wrapper_cfg',
        'find_unused_parameters', 'compile', 'strategy', 'gpu_ids',
        'tta_model', 'tta_pipeline', 'partial_load', 'backend_args',
        'work_dir', 'launcher'
    })


def _syntax_error(path: str, seen: Optional[set] = None
                  ) -> Optional[SyntaxError]:
    """The first syntax error in ``path`` or the local ``_base_`` files it
    inherits (mmengine reports it against a temporary copy)."""
    seen = set() if seen is None else seen
    if path in seen or not osp.isfile(path):
        return None
    seen.add(path)
    with open(path, encoding='utf-8') as f:
        source = f.read()
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as err:
        return err
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                continue
            for base in [bases] if isinstance(bases, str) else bases:
                if isinstance(base, str) and '::' not in base:
                    found = _syntax_error(
                        osp.join(osp.dirname(path), base), seen)
                    if found is not None:
                        return found
    return None


def _read(path: str) -> Config:
    try:
        return Config.fromfile(path)
    except SyntaxError as err:
        found = _syntax_error(path) or err
        raise ConfigError(
            f'syntax error in config {found.filename or path}, line '
            f'{found.lineno}: {found.msg}') from None
    except FileNotFoundError as err:
        raise ConfigError(f'config {path}: {err}') from None
    except (ImportError, NameError, KeyError, TypeError, ValueError,
            AttributeError) as err:
        raise ConfigError(f'cannot read config {path}: '
                          f'{type(err).__name__}: {err}') from None


_MISSING = object()


def _lookup(node: Any, key: str) -> Any:
    if isinstance(node, Config):
        node = node.to_dict()
    for part in key.split('.'):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and \
                int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _places(node: Any, value: Any, prefix: str = '') -> List[str]:
    """Dotted keys under ``node`` whose value is (or, for a string, starts
    with) ``value``."""
    found = []
    items = node.items() if isinstance(node, dict) else \
        enumerate(node) if isinstance(node, (list, tuple)) else ()
    for k, v in items:
        key = f'{prefix}{k}'
        if isinstance(v, (dict, list, tuple)) and not (
                isinstance(v, tuple) and v == value):
            found += _places(v, value, key + '.')
        elif type(v) is type(value) and (
                v == value or isinstance(v, str) and value
                and v.startswith(value)):
            found.append(key)
    return found


def _leaves(node: Any, prefix: str = '') -> List[str]:
    items = node.items() if isinstance(node, dict) else ()
    found = []
    for k, v in items:
        found += _leaves(v, f'{prefix}{k}.') if isinstance(v, dict) \
            else [f'{prefix}{k}']
    return found


def _uses(cfg: Config, key: str) -> List[str]:
    """Where a config variable's value went: keys of the same name, then
    (for a text) keys whose value starts with it, elsewhere in the
    config."""
    top, name = key.split('.')[0], key.split('.')[-1]
    tree = cfg.to_dict()
    named = [p for p in _leaves(tree)
             if p.split('.')[-1] == name and p.split('.')[0] != top]
    old = _lookup(cfg, key)
    valued = [] if not isinstance(old, str) else [
        p for p in _places(tree, old) if p.split('.')[0] != top]
    return named + [p for p in valued if p not in named]


def check_options(cfg: Config, options: dict) -> None:
    """Refuse ``--cfg-options`` that would be silently ignored or break
    later: a config variable set at the top level (its value was copied
    where it is used when the file was read), an unknown top-level key, a
    text where the config has a number.

    Args:
        cfg (Config): the config before the options are merged.
        options (dict): ``key=value`` overrides.

    Raises:
        ConfigError: naming the option and what to set instead.
    """
    for key, value in options.items():
        top = key.split('.')[0]
        if top not in RUNNER_KEYS:
            if top not in cfg:
                close = get_close_matches(top, sorted(set(cfg) | RUNNER_KEYS),
                                          n=3)
                raise ConfigError(
                    f'--cfg-options {key}: the config has no key {top!r}'
                    + (f' (did you mean {", ".join(close)}?)' if close
                       else '') + '; nothing would use it')
            places = _uses(cfg, key)
            raise ConfigError(
                f'--cfg-options {key}: {top!r} is a variable of the '
                'config, whose value was copied where it is used when '
                'the file was read; setting it now changes nothing. '
                + (f'Set instead: {", ".join(places[:8])}'
                   + (' ...' if len(places) > 8 else '')
                   if places else 'No key of the config uses it.'))
        parts = key.split('.')
        for i in range(1, len(parts)):
            parent = '.'.join(parts[:i])
            held = _lookup(cfg, parent)
            if held is _MISSING or isinstance(held, (dict, list, tuple)):
                continue
            if parent == 'compile' and held is True:
                break  # compile=True: default arguments, then this one
            raise ConfigError(
                f'--cfg-options {key}={value!r}: {parent} is {held!r} in '
                f'the config, not a dict, so it has no key {parts[i]!r}; '
                f'set {parent} itself')
        old = _lookup(cfg, key)
        if old is _MISSING or old is None:
            continue
        if isinstance(old, (int, float)) and not isinstance(old, bool) \
                and isinstance(value, str):
            raise ConfigError(
                f'--cfg-options {key}={value}: expected a number (the '
                f'config has {old!r})')
        if isinstance(old, dict) and value is not None and \
                not isinstance(value, dict):
            raise ConfigError(
                f'--cfg-options {key}={value!r}: {key} is a dict in the '
                f'config; set one of its keys ({", ".join(list(old)[:6])})')
        if isinstance(old, str) and isinstance(value, (list, tuple)):
            raise ConfigError(
                f'--cfg-options {key}: the config has a text here '
                f'({old!r}), and the comma made the value a list '
                f'{list(value)!r}; quote it to keep one text: '
                f'{key}="\'{",".join(map(str, value))}\'"')


#: Arguments of mmcv's, mmdet's and mmseg's transforms (and of the data
#: preprocessors) that must be tuples: a list there fails only at the first
#: image ("Scale must be a number or tuple of int"). A config saved as JSON
#: or YAML, or a list given in ``--cfg-options``, has lists.
TUPLE_KEYS = frozenset({'scale', 'img_scale', 'crop_size', 'ratio_range',
                        'size'})
#: Arguments that are lists of such tuples (``RandomChoiceResize``, TTA).
TUPLE_LIST_KEYS = frozenset({'scales', 'img_scales'})


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool)
        for v in value)


def restore_tuples(node: Any) -> None:
    """Make the lists of numbers under :data:`TUPLE_KEYS` tuples again, in
    place, and the lists of such lists under them and
    :data:`TUPLE_LIST_KEYS` lists of tuples (``RandomResize``'s range of
    scales, ``RandomChoiceResize``'s ``scales``)."""
    items = node.items() if isinstance(node, (dict, Config)) else \
        enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        if key in TUPLE_KEYS | TUPLE_LIST_KEYS and isinstance(value, list):
            if key in TUPLE_KEYS and _numbers(value):
                node[key] = tuple(value)
                continue
            if value and all(_numbers(v) for v in value):
                node[key] = [tuple(v) for v in value]
                continue
        restore_tuples(value)


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a config file and apply ``--cfg-options`` overrides.

    Args:
        path (str): config file (``.py``), or the name of one of mmplug's
            configs (see :func:`mmplug.mim.find_config`).
        cfg_options (dict, optional): ``key=value`` overrides, as given by
            mmengine's ``DictAction``; checked by :func:`check_options`.

    Returns:
        Config: the merged config; the transforms' sizes and ranges given
        as lists (a config saved as JSON or YAML) are made tuples again
        (:func:`restore_tuples`).

    Raises:
        ConfigError: the file cannot be read (a syntax error names the file
            and line) or an option cannot work.
    """
    register_config_prefix()  # `_base_ = 'mmplug::...'`
    if not osp.isfile(path):
        packaged = find_config(path)
        if packaged is None:
            raise FileNotFoundError(f'config file not found: {path}')
        path = packaged
    cfg = _read(path)
    if cfg_options:
        check_options(cfg, cfg_options)
        if cfg.get('compile') is True and any(
                k.startswith('compile.') for k in cfg_options):
            cfg.compile = {}  # compile=True is torch.compile's defaults
        cfg.merge_from_dict(cfg_options)
    restore_tuples(cfg)
    task_of(cfg)  # fail early on configs that are neither det nor seg
    return cfg


def task_of(cfg: Config) -> str:
    """``'det'`` or ``'seg'``, from the config's ``default_scope``."""
    scope = cfg.get('default_scope')
    if scope not in TASKS:
        raise ConfigError(
            f"config has default_scope={scope!r}: mmplug's tools run "
            "detection ('mmdet') and segmentation ('mmseg') configs; "
            'inherit configs/_base_/default_runtime_det.py or '
            'default_runtime_seg.py')
    return TASKS[scope]


def check_datasets(cfg: Config,
                   splits: Iterable[str] = ('train', 'val')) -> None:
    """The cheap data checks of the splits a run reads: every path exists
    and the class names are the dataset's (see
    :func:`mmplug.datasets.check.check_config_data`)."""
    check_config_data(cfg, splits)

"""Safe checkpoint loading for torch >= 2.6, and pretrained-weight loading
with a report of the keys that did not match.

torch >= 2.6 unpickles checkpoints with ``weights_only=True``: only tensors,
containers and an allow-list of globals. mmengine 0.10.7 calls ``torch.load``
without adapting, so its own checkpoints (which pickle a ``HistoryBuffer``,
numpy scalars and arrays in the message hub) fail to load in ``--resume``,
``load_from``, ``tools/test.py`` and ``init_cfg=dict(type='Pretrained')``.

:func:`install_checkpoint_loader` wraps mmengine's local and http(s) loaders
so that they unpickle with ``weights_only=True`` plus exactly the globals an
mmengine checkpoint contains (:func:`mmengine_safe_globals`). Anything else is
refused with :class:`UnsafeCheckpointError`, which names the refused objects
and says how to trust the file on purpose:

- ``--trust-checkpoint PATH`` of ``tools/train.py`` / ``tools/test.py``, or
- the environment variable ``MMPLUG_TRUSTED_CHECKPOINTS`` (paths separated by
  ``os.pathsep``), or :func:`trust_checkpoint` from Python.

:func:`install_atomic_saving` makes mmengine's local file writes (checkpoints
included) go to a temporary file that replaces the target only once complete,
so a run that dies while saving never leaves a truncated checkpoint in place
of a good one.

Importing ``mmplug.models`` (which every mmplug config does through
``custom_imports``) installs both, so mmdet's and mmseg's own tools get them
too.
"""
import os
import os.path as osp
import pickle
from typing import (Any, Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import HistoryBuffer, print_log
from mmengine.utils import mkdir_or_exist
from mmengine.runner import checkpoint as mme_ckpt

TRUST_ENV = 'MMPLUG_TRUSTED_CHECKPOINTS'

SafeGlobal = Union[Callable, Tuple[Callable, str]]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint pickles objects that an mmengine checkpoint never has."""


class CheckpointMismatchError(ValueError):
    """Pretrained weights of which no key fits the model."""


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to what a pickled ``HistoryBuffer`` needs.

    A ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``; nothing else may use ``getattr``.
    """
    if obj is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(obj, name)
    raise UnsafeCheckpointError(
        f'refused getattr({obj!r}, {name!r}) while unpickling: only '
        'HistoryBuffer statistics methods may be looked up')


def _numpy_globals() -> List[SafeGlobal]:
    """numpy objects that mmengine's message hub pickles (scalars, arrays)."""
    # numpy >= 2 pickles under numpy._core, numpy 1.x under numpy.core.
    core = 'numpy._core' if hasattr(np, '_core') else 'numpy.core'
    multiarray = np.core.multiarray if core == 'numpy.core' else \
        np._core.multiarray  # type: ignore[attr-defined]
    found: List[SafeGlobal] = [
        np.ndarray, np.dtype,
        (multiarray.scalar, f'{core}.multiarray.scalar'),
        (multiarray._reconstruct, f'{core}.multiarray._reconstruct'),
    ]
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25 pickles dtype classes
    if dtypes is not None:
        found += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    return found


def mmengine_safe_globals() -> List[SafeGlobal]:
    """Globals beyond torch's defaults that mmengine checkpoints contain.

    Returns:
        list: entries for :func:`torch.serialization.safe_globals`.
    """
    return [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')
            ] + _numpy_globals()


def _allowed_names() -> set:
    names = set()
    for g in mmengine_safe_globals():
        names.add(g[1] if isinstance(g, tuple) else
                  f'{g.__module__}.{g.__qualname__}')
    return names


def trusted_checkpoints() -> List[str]:
    """Real paths of the checkpoints the user chose to trust."""
    paths = os.environ.get(TRUST_ENV, '')
    return [osp.realpath(p) for p in paths.split(os.pathsep) if p]


def trust_checkpoint(path: str) -> None:
    """Trust ``path`` on purpose: it will be unpickled without restriction.

    Only do this for files you made or whose source you trust: unpickling can
    run arbitrary code. The choice is stored in ``MMPLUG_TRUSTED_CHECKPOINTS``
    so that subprocesses (dataloader workers, distributed ranks) share it.
    """
    paths = [p for p in os.environ.get(TRUST_ENV, '').split(os.pathsep) if p]
    if osp.realpath(path) not in trusted_checkpoints():
        paths.append(osp.abspath(path))
    os.environ[TRUST_ENV] = os.pathsep.join(paths)


def _refusal(filename: str, err: Exception) -> UnsafeCheckpointError:
    refused: Iterable[str] = []
    if osp.isfile(filename):
        try:
            allowed = _allowed_names()
            refused = [
                n for n in torch.serialization.
                get_unsafe_globals_in_checkpoint(filename)
                if n not in allowed
            ]
        except Exception:  # not a zip checkpoint: fall back to torch's text
            refused = []
    what = ', '.join(f'`{n}`' for n in refused) or f'an object ({err})'
    return UnsafeCheckpointError(
        f'Refused to load checkpoint {filename!r}: it contains {what}, which '
        'an mmengine checkpoint never contains, and unpickling it could run '
        'arbitrary code. If you made this file or trust its source, allow it '
        f'on purpose with `--trust-checkpoint {filename}` (tools/train.py, '
        f'tools/test.py) or `{TRUST_ENV}={filename}` in the environment, or '
        'save its state_dict alone with torch.save and load that.')


def safe_torch_load(filename: str,
                    map_location: Optional[Union[str, Callable]] = None,
                    loader: Optional[Callable] = None) -> Any:
    """``torch.load`` that accepts mmengine checkpoints and nothing unsafe.

    Args:
        filename (str): local path (or URL when ``loader`` downloads).
        map_location: as for :func:`torch.load`.
        loader (callable, optional): ``loader(filename, map_location)`` that
            calls ``torch.load`` itself (mmengine's scheme loaders). Defaults
            to ``torch.load(filename, map_location=map_location)``.

    Returns:
        The unpickled object (usually a dict with ``state_dict``/``meta``).

    Raises:
        UnsafeCheckpointError: the file pickles other objects and was not
            trusted on purpose.
    """
    if osp.realpath(filename) in trusted_checkpoints():
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    if loader is None:
        def loader(f, map_location):  # noqa: E306
            return torch.load(f, map_location=map_location, weights_only=True)
    with torch.serialization.safe_globals(mmengine_safe_globals()):
        try:
            return loader(filename, map_location)
        except pickle.UnpicklingError as err:
            raise _refusal(filename, err) from None


_ORIGINAL_LOADERS: Dict[str, Callable] = {}


def install_checkpoint_loader() -> None:
    """Make mmengine load local and http(s) checkpoints via
    :func:`safe_torch_load`. Idempotent."""
    schemes = {'': mme_ckpt.load_from_local,
               ('http://', 'https://'): mme_ckpt.load_from_http}
    for prefixes, original in schemes.items():
        key = str(prefixes)
        if key in _ORIGINAL_LOADERS:
            continue
        _ORIGINAL_LOADERS[key] = original

        def wrapped(filename, map_location=None, _original=original, **kw):
            return safe_torch_load(
                filename, map_location,
                loader=lambda f, m: _original(f, map_location=m, **kw))

        mme_ckpt.CheckpointLoader.register_scheme(
            prefixes=prefixes, loader=wrapped, force=True)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local backend whose ``put`` never leaves a partial file.

    The bytes go to ``<filepath>.tmp<pid>``, which then replaces
    ``filepath`` in one ``os.replace``: the old file stays intact until the
    new one is complete.
    """

    def put(self, obj: bytes, filepath) -> None:
        filepath = str(filepath)
        mkdir_or_exist(osp.dirname(filepath) or '.')
        tmp = f'{filepath}.tmp{os.getpid()}'
        try:
            with open(tmp, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        finally:
            if osp.exists(tmp):
                os.remove(tmp)


def install_atomic_saving() -> None:
    """Make :class:`AtomicLocalBackend` mmengine's backend for local paths."""
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')


def install() -> None:
    """Install both: safe loading and atomic saving (idempotent)."""
    install_checkpoint_loader()
    install_atomic_saving()


#: wrapper prefixes removed from checkpoint keys before a model's own key
#: converter: DistributedDataParallel's ``module.`` (e.g. the official DCANet
#: releases) and a detector's or segmentor's ``backbone.``
WRAPPER_PREFIXES = ('module.', 'backbone.')


def unwrap_checkpoint(ckpt: Any) -> Tuple[Optional[str], Dict]:
    """The state dict inside a loaded checkpoint.

    Args:
        ckpt: what ``torch.load`` returned: an mmengine checkpoint (weights
            under ``state_dict``), an official release (under ``model``, as
            Swin/SMT/ConvNeXt publish) or a bare state dict.

    Returns:
        tuple: the key the weights were under (``'state_dict'``,
        ``'model'`` or None for a bare state dict) and the state dict.
    """
    for key in ('state_dict', 'model'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            return key, ckpt[key]
    return None, ckpt


def split_prefix(state_dict: Dict, prefix: str) -> Tuple[Dict, Dict]:
    """The keys under ``prefix`` (with it removed) and the other keys (as
    they are)."""
    inside = {k[len(prefix):]: v for k, v in state_dict.items()
              if k.startswith(prefix)}
    others = {k: v for k, v in state_dict.items() if not k.startswith(prefix)}
    return inside, others


def remove_prefixes(state_dict: Dict,
                    prefixes: Sequence[str] = WRAPPER_PREFIXES) -> Dict:
    """A new dict whose keys lose each leading prefix of ``prefixes`` (in
    that order): ``module.backbone.conv1.weight`` -> ``conv1.weight``."""
    result = {}
    for key, value in state_dict.items():
        for prefix in prefixes:
            if key.startswith(prefix):
                key = key[len(prefix):]
        result[key] = value
    return result


def _summarise(keys: List[str], limit: int = 12) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys) - limit} more)'
                    if len(keys) > limit else '')


def load_pretrained(model: torch.nn.Module,
                    checkpoint: str,
                    prefix: Optional[str] = None,
                    convert: Optional[Callable[[Dict], Dict]] = None,
                    ignore: Iterable[str] = (),
                    map_location: str = 'cpu',
                    strip: Sequence[str] = WRAPPER_PREFIXES
                    ) -> Tuple[List[str], List[str]]:
    """Load pretrained weights into ``model`` and report what did not match.

    The checkpoint may be an mmengine checkpoint (``state_dict``), an
    official release (``model``, as Swin/SMT/ConvNeXt publish) or a bare
    state dict. Keys that match no parameter, parameters the checkpoint
    lacks and shape mismatches are logged as one clear warning; a
    checkpoint of which no key matches is an error.

    Args:
        model (nn.Module): the module to fill.
        checkpoint (str): path or URL (loaded through mmengine, hence with
            :func:`safe_torch_load`).
        prefix (str, optional): keep only keys under this prefix (e.g.
            ``'backbone.'`` for a detector checkpoint), with it stripped.
        convert (callable, optional): maps checkpoint keys to the model's
            (e.g. an official layout to ours), after ``strip``.
        ignore (Iterable[str]): key prefixes expected not to be used (e.g.
            a classifier ``head.``): dropped and reported as ignored.
        map_location (str): where tensors are loaded.
        strip (Sequence[str]): leading key prefixes removed (after
            ``prefix``): :data:`WRAPPER_PREFIXES` by default.

    Returns:
        tuple[list[str], list[str]]: missing and unexpected keys.
    """
    ckpt = mme_ckpt.CheckpointLoader.load_checkpoint(checkpoint, map_location)
    _, state_dict = unwrap_checkpoint(ckpt)
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state_dict, _ = split_prefix(state_dict, prefix)
        if not state_dict:
            raise KeyError(f'no key of checkpoint {checkpoint!r} starts with '
                           f'prefix {prefix!r}')
    state_dict = remove_prefixes(state_dict, strip)
    if convert is not None:
        state_dict = convert(dict(state_dict))
    ignore = tuple(ignore)
    ignored = sorted(k for k in state_dict if ignore and k.startswith(ignore))
    own = model.state_dict()
    mismatched = [
        f'{k} (checkpoint {tuple(state_dict[k].shape)}, model '
        f'{tuple(own[k].shape)})' for k in sorted(state_dict)
        if k in own and tuple(own[k].shape) != tuple(state_dict[k].shape)
    ]
    skip = set(ignored) | {m.split(' ')[0] for m in mismatched}
    state_dict = {k: v for k, v in state_dict.items() if k not in skip}
    if own and not set(state_dict) & set(own):
        raise CheckpointMismatchError(
            f'checkpoint {checkpoint!r} does not fit {type(model).__name__}: '
            f'none of its keys match (checkpoint: '
            f'{_summarise(sorted(state_dict), 5)}; model: '
            f'{_summarise(sorted(own), 5)})')
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    missing = sorted(k for k in missing if k not in skip)
    name = f'{type(model).__name__} <- {checkpoint}'
    lines = []
    if missing:
        lines.append(f'missing in checkpoint ({len(missing)}): '
                     + _summarise(missing))
    if unexpected:
        lines.append(f'unexpected in checkpoint ({len(unexpected)}): '
                     + _summarise(sorted(unexpected)))
    if mismatched:
        lines.append(f'shape mismatch, not loaded ({len(mismatched)}): '
                     + _summarise(mismatched))
    if ignored:
        print_log(f'{name}: ignored {len(ignored)} keys this model does not '
                  f'use ({_summarise(ignored, 4)})', logger='current')
    if lines:
        print_log(f'{name}: keys do not match the model:\n  '
                  + '\n  '.join(lines), logger='current', level=30)
    else:
        print_log(f'{name}: all {len(own)} keys loaded', logger='current')
    return missing, sorted(unexpected)

"""Safe checkpoint loading for torch >= 2.6, and pretrained-weight loading
with a report of the keys that did not match.

torch >= 2.6 unpickles checkpoints with ``weights_only=True``: only tensors,
containers and an allow-list of globals. mmengine 0.10.7 calls ``torch.load``
without adapting, so its own checkpoints (which pickle a ``HistoryBuffer``,
numpy scalars and arrays in the message hub) fail to load in ``--resume``,
``load_from``, ``tools/test.py`` and ``init_cfg=dict(type='Pretrained')``.

:func:`install_checkpoint_loader` makes mmengine's local and http(s)
loaders unpickle with ``weights_only=True`` plus exactly the globals an
mmengine checkpoint contains (:func:`mmengine_safe_globals`). Anything else is
refused with :class:`UnsafeCheckpointError`, which names the refused objects
and says how to trust the file on purpose:

- ``--trust-checkpoint PATH`` of ``tools/train.py`` / ``tools/test.py``, or
- the environment variable ``MMPLUG_TRUSTED_CHECKPOINTS`` (paths separated by
  ``os.pathsep``), or :func:`trust_checkpoint` from Python.

:class:`AtomicLocalBackend` (registered as the file backend
``'mmplug_atomic'`` by :func:`register_atomic_backend`) writes a file to a
temporary name that replaces the target only once complete, so a run that
dies while saving never leaves a truncated checkpoint in place of a good one.

Importing this module changes nothing. mmplug's runtime opts in:
:class:`mmplug.engine.MMPlugRunner` (``runner_type = 'mmplug.MMPlugRunner'``,
set by mmplug's configs) calls :func:`install` when it is built, and its
:class:`~mmplug.engine.SafeCheckpointHook` saves through the atomic backend.
The same holds on the maintained fork of mmengine, whose own loader falls
back to an unrestricted unpickle when the safe load fails.
"""
import functools
import glob
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import (Any, Callable, Dict, Iterable, List, NamedTuple,
                    Optional, Sequence, Tuple, Union)

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import HistoryBuffer, print_log
from mmengine.utils import mkdir_or_exist
from mmengine.runner import checkpoint as mme_ckpt

from mmplug.errors import (CheckpointError, CheckpointMismatchError,
                           CheckpointNotFoundError, PretrainedNotFoundError,
                           UnsafeCheckpointError, WorkDirError)

__all__ = [
    'CheckpointError', 'CheckpointMismatchError', 'UnsafeCheckpointError',
    'KeyReport', 'check_pretrained', 'compare_keys', 'extract_state_dict',
    'inspect_checkpoint_file', 'install',
    'load_pretrained', 'safe_torch_load', 'trust_checkpoint'
]

TRUST_ENV = 'MMPLUG_TRUSTED_CHECKPOINTS'

SafeGlobal = Union[Callable, Tuple[Callable, str]]


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
        found += [getattr(dtypes, n) for n in dir(dtypes)
                  if n.endswith('DType')]
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
    """The one-line refusal of an unsafe checkpoint, naming what it holds
    (never torch's advice to load it unrestricted)."""
    refused: List[str] = []
    if osp.isfile(filename):
        try:
            allowed = _allowed_names()
            refused = [
                n for n in torch.serialization.
                get_unsafe_globals_in_checkpoint(filename)
                if n not in allowed
            ]
        except Exception:  # not a zip checkpoint: torch's message names it
            refused = []
    if not refused:  # legacy and plain pickles: "... GLOBAL posix.system ..."
        refused = sorted(set(re.findall(r'GLOBAL ([\w.]+)', str(err))))
    what = ', '.join(f'`{n}`' for n in refused) or 'objects other than ' \
        'tensors and containers'
    return UnsafeCheckpointError(
        f'Refused to load checkpoint {filename!r}: it contains {what}, which '
        'an mmengine checkpoint never contains, and unpickling it could run '
        'arbitrary code. If you made this file or trust its source, allow it '
        f'on purpose with `--trust-checkpoint {filename}` (tools/train.py, '
        f'tools/test.py) or `{TRUST_ENV}={filename}` in the environment, or '
        'save its state_dict alone with torch.save and load that.')


#: Leading bytes of files users mistake for checkpoints, and what they are.
_MAGIC = ((b'\xff\xd8\xff', 'a JPEG image'), (b'\x89PNG', 'a PNG image'),
          (b'GIF8', 'a GIF image'), (b'%PDF', 'a PDF document'),
          (b'\x1f\x8b', 'a gzip archive'), (b'BZh', 'a bzip2 archive'),
          (b'\x7fELF', 'an executable'), (b'\x93NUMPY', 'a NumPy array'),
          (b'\x89HDF', 'an HDF5 file'))


#: What torch's zip reader says of a damaged archive.
_CORRUPT_MESSAGES = ('PytorchStreamReader', 'central directory',
                     'unexpected EOF', 'file not found', 'invalid header')


def inspect_checkpoint_file(filename: str) -> Optional[str]:
    """Why a local file cannot be a PyTorch checkpoint, or ``None``.

    Reads only the file's head (and, for a zip checkpoint, its directory):
    tells a missing, empty, truncated or foreign file (an image, a text
    file, another archive) from one ``torch.load`` may read.

    Args:
        filename (str): local path.

    Returns:
        str | None: the problem, as the end of a sentence that starts with
        the file name; ``None`` when the file looks like a checkpoint.
    """
    if not osp.exists(filename):
        return 'does not exist'
    if osp.isdir(filename):
        return 'is a directory, not a checkpoint file'
    size = osp.getsize(filename)
    if size == 0:
        return 'is empty (0 bytes): not a checkpoint'
    with open(filename, 'rb') as f:
        head = f.read(512)
    if head.startswith(b'PK\x03\x04'):  # torch >= 1.6: a zip archive
        if not zipfile.is_zipfile(filename):
            return (f'is truncated or corrupt: a zip checkpoint of {size} '
                    'bytes without its central directory (was it copied or '
                    'saved completely?)')
        try:
            with zipfile.ZipFile(filename) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError) as err:
            return f'is truncated or corrupt ({err})'
        if not any(n.endswith('data.pkl') for n in names):
            return 'is a zip archive, but not a PyTorch checkpoint'
        return None
    if head[:1] == b'\x80' and head[1:2] in (b'\x02', b'\x03', b'\x04',
                                            b'\x05'):
        return None  # a pickle: torch's legacy format
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f'is not a PyTorch checkpoint: it is {what}'
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c.isspace()
                                for c in text):
        return 'is not a PyTorch checkpoint: it is a text file'
    return 'is not a PyTorch checkpoint (unrecognised content)'


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
        CheckpointError: a local file that is not a checkpoint, or a
            truncated one, or one without model weights (a bare tensor).
        UnsafeCheckpointError: the file pickles other objects and was not
            trusted on purpose.
    """
    if '://' not in str(filename):
        if not osp.exists(filename):
            raise CheckpointNotFoundError(f'checkpoint not found: {filename}')
        problem = inspect_checkpoint_file(filename)
        if problem is not None:
            raise CheckpointError(f'checkpoint {filename!r} {problem}')
    if osp.realpath(filename) in trusted_checkpoints():
        loaded = torch.load(filename, map_location=map_location,
                            weights_only=False)
    else:
        loaded = _restricted_load(filename, map_location, loader)
    extract_state_dict(loaded, filename)  # raises without model weights
    return loaded


def _restricted_load(filename: str, map_location: Any,
                     loader: Optional[Callable]) -> Any:
    """Unpickle with ``weights_only=True`` and the mmengine allow-list."""
    if loader is None:
        def loader(f, map_location):  # noqa: E306
            return torch.load(f, map_location=map_location, weights_only=True)
    with torch.serialization.safe_globals(mmengine_safe_globals()):
        try:
            return loader(filename, map_location)
        except (EOFError, RuntimeError) as err:
            # a legacy pickle cut short, or a zip member that is
            if isinstance(err, RuntimeError) and not any(
                    m in str(err) for m in _CORRUPT_MESSAGES):
                raise
            raise CheckpointError(
                f'checkpoint {filename!r} is truncated or corrupt '
                f'({type(err).__name__}: {str(err).splitlines()[0]})'
            ) from None
        except pickle.UnpicklingError as err:
            if 'Weights only load failed' not in str(err):
                raise CheckpointError(
                    f'checkpoint {filename!r} is truncated or corrupt '
                    f'({str(err).splitlines()[0]})') from None
            raise _refusal(filename, err) from None


def extract_state_dict(ckpt: Any, source: str = 'checkpoint') -> Dict:
    """The model weights of a loaded checkpoint.

    Accepts an mmengine checkpoint (``state_dict``), an official release
    (``model``, as Swin/SMT/ConvNeXt publish) or a bare state dict.

    Args:
        ckpt: what :func:`safe_torch_load` returned.
        source (str): the file, for the error message.

    Returns:
        dict: parameter name -> tensor.

    Raises:
        CheckpointError: there are no model weights in it (a bare tensor, a
            list, a dict without tensors).
    """
    key, state_dict = unwrap_checkpoint(ckpt)
    if key is None and isinstance(ckpt, dict):
        key = next((k for k in ('state_dict', 'model') if k in ckpt), None)
        if key is not None:
            raise CheckpointError(
                f'checkpoint {source!r} has no usable model weights: its '
                f'{key!r} is a {type(ckpt[key]).__name__}, not a dict of '
                'parameter names -> tensors')
    if key is not None:  # weights under 'state_dict' / 'model'
        if not state_dict:
            raise CheckpointError(f'checkpoint {source!r} has no model '
                                  f'weights: its {key!r} is empty')
        others = [f'{k!r} ({type(v).__name__})' for k, v in state_dict.items()
                  if not isinstance(v, torch.Tensor)]
        if others:
            raise CheckpointError(
                f'checkpoint {source!r} has no usable model weights: its '
                f'{key!r} holds values that are not tensors: '
                f'{_summarise(others, 4)}')
    if not isinstance(state_dict, dict) or not any(
            isinstance(v, torch.Tensor) for v in state_dict.values()):
        what = type(ckpt).__name__
        if isinstance(ckpt, dict):
            what = f'a dict with keys {_summarise(sorted(map(str, ckpt)), 6)}'
        raise CheckpointError(
            f'checkpoint {source!r} has no model weights in it: it holds '
            f'{what}, not a state dict (parameter names -> tensors) or a '
            "dict with 'state_dict' / 'model'")
    return state_dict


class KeyReport(NamedTuple):
    """How a state dict's keys fit a model's (see :func:`compare_keys`)."""
    matched: List[str]      #: same name and shape (``num_batches_tracked``
    #: counters excluded: they fit any BatchNorm and prove nothing)
    missing: List[str]      #: in the model, not in the checkpoint
    unexpected: List[str]   #: in the checkpoint, not in the model
    mismatched: List[str]   #: same name, other shape: ``name (ckpt, model)``

    def fits(self) -> bool:
        """Every key of both sides matched."""
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self, limit: int = 8) -> str:
        """Counts and the first keys of each kind, on several lines."""
        lines = [f'matched: {len(self.matched)}']
        for name, keys in (('missing in checkpoint', self.missing),
                           ('unexpected in checkpoint', self.unexpected),
                           ('shape mismatch, not loaded', self.mismatched)):
            if keys:
                lines.append(f'{name} ({len(keys)}): '
                             + _summarise(keys, limit))
        return '\n  '.join(lines)


def _counter(key: str) -> bool:
    return key.endswith('num_batches_tracked')


def compare_keys(model_sd: Dict, ckpt_sd: Dict) -> KeyReport:
    """Compare a checkpoint's state dict with a model's.

    Args:
        model_sd (dict): the model's ``state_dict()``.
        ckpt_sd (dict): the checkpoint's.

    Returns:
        KeyReport: matched, missing, unexpected and mismatched keys.
    """
    matched, mismatched = [], []
    for key in sorted(set(model_sd) & set(ckpt_sd)):
        ours, theirs = model_sd[key], ckpt_sd[key]
        shape = tuple(getattr(theirs, 'shape', ()))
        if tuple(ours.shape) != shape:
            mismatched.append(f'{key} (checkpoint {shape}, model '
                              f'{tuple(ours.shape)})')
        elif not _counter(key):
            matched.append(key)
    return KeyReport(matched, sorted(set(model_sd) - set(ckpt_sd)),
                     sorted(set(ckpt_sd) - set(model_sd)), mismatched)


_ORIGINAL_LOADERS: Dict[str, Callable] = {}


def install_checkpoint_loader() -> None:
    """Make mmengine load local and http(s) checkpoints via
    :func:`safe_torch_load`. Idempotent.

    A local file is read by :func:`safe_torch_load` itself, not through
    mmengine's ``load_from_local``: the maintained fork's version of it
    retries a refused file with ``weights_only=False`` (an unrestricted
    unpickle), which would undo the refusal.
    """
    if 'local' not in _ORIGINAL_LOADERS:
        original = _ORIGINAL_LOADERS['local'] = mme_ckpt.load_from_local

        # mmengine logs `Loads checkpoint by <__name__[10:]> backend`
        @functools.wraps(original)
        def load_from_local(filename, map_location=None):
            return safe_torch_load(osp.expanduser(filename), map_location)

        mme_ckpt.CheckpointLoader.register_scheme(
            prefixes='', loader=load_from_local, force=True)
    if 'http' not in _ORIGINAL_LOADERS:
        original = _ORIGINAL_LOADERS['http'] = mme_ckpt.load_from_http

        @functools.wraps(original)
        def load_from_http(filename, map_location=None, _original=original,
                           **kw):
            return safe_torch_load(
                filename, map_location,
                loader=lambda f, m: _original(f, map_location=m, **kw))

        mme_ckpt.CheckpointLoader.register_scheme(
            prefixes=('http://', 'https://'), loader=load_from_http,
            force=True)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local backend whose ``put`` never leaves a partial file.

    The bytes go to ``<filepath>.tmp<pid>``, which then replaces
    ``filepath`` in one ``os.replace``: the old file stays intact until the
    new one is complete. A write that fails (a read-only folder, a full
    disk, a file size limit) raises :class:`~mmplug.errors.WorkDirError`
    naming the file; a process killed while writing leaves only the
    temporary file, which :func:`remove_stale_temporaries` clears.
    """

    def put(self, obj: bytes, filepath) -> None:
        filepath = str(filepath)
        tmp = temporary_name(filepath)
        try:
            mkdir_or_exist(osp.dirname(filepath) or '.')
            with open(tmp, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except OSError as err:
            raise WorkDirError(
                f'cannot write {filepath}: {err.strerror or err} (a full '
                'disk, a file size limit or a read-only folder?); no '
                'existing file was changed') from None
        finally:
            if osp.exists(tmp):
                os.remove(tmp)


def temporary_name(filepath: str, pid: Optional[int] = None) -> str:
    """Where :class:`AtomicLocalBackend` writes ``filepath`` first."""
    return f'{filepath}.tmp{os.getpid() if pid is None else pid}'


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: str) -> List[str]:
    """Delete the temporary files of writes killed before they finished.

    Args:
        folder (str): a folder :class:`AtomicLocalBackend` wrote to.

    Returns:
        list[str]: the removed files (``<name>.tmp<pid>`` of dead
        processes; those of live processes are being written).
    """
    removed = []
    for path in glob.glob(osp.join(glob.escape(folder), '*.tmp[0-9]*')):
        pid = path.rsplit('.tmp', 1)[1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(
                int(pid)):
            try:
                os.remove(path)
            except OSError:
                continue
            removed.append(path)
    return removed


#: the name of :class:`AtomicLocalBackend` among mmengine's file backends
#: (``backend_args=dict(backend='mmplug_atomic')``)
ATOMIC_BACKEND = 'mmplug_atomic'


def register_atomic_backend() -> None:
    """Add :class:`AtomicLocalBackend` to mmengine's file backends under
    :data:`ATOMIC_BACKEND` (a new name: no existing backend changes)."""
    register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)


def install() -> None:
    """mmplug's runtime: safe loading for mmengine's loaders, and the
    atomic backend registered (idempotent)."""
    install_checkpoint_loader()
    register_atomic_backend()


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
        checkpoint (str): path (read with :func:`safe_torch_load`, on any
            mmengine) or URL (through mmengine's loaders).
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
    if '://' in checkpoint:  # mmengine's schemes (http, torchvision, ...)
        ckpt = mme_ckpt.CheckpointLoader.load_checkpoint(checkpoint,
                                                         map_location)
    else:  # never through a loader that may retry without restrictions
        ckpt = safe_torch_load(osp.expanduser(checkpoint), map_location)
    state_dict = extract_state_dict(ckpt, checkpoint)
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state_dict, _ = split_prefix(state_dict, prefix)
        if not state_dict:
            raise CheckpointMismatchError(
                f'no key of checkpoint {checkpoint!r} starts with prefix '
                f'{prefix!r} (init_cfg prefix)')
    state_dict = remove_prefixes(state_dict, strip)
    if convert is not None:
        state_dict = convert(dict(state_dict))
    ignore = tuple(ignore)
    ignored = sorted(k for k in state_dict if ignore and k.startswith(ignore))
    state_dict = {k: v for k, v in state_dict.items() if k not in ignored}
    own = model.state_dict()
    report = compare_keys(own, state_dict)
    if own and not report.matched:
        raise CheckpointMismatchError(
            f'checkpoint {checkpoint!r} does not fit {type(model).__name__}: '
            'none of its keys match (BatchNorm counters aside; checkpoint: '
            f'{_summarise(sorted(state_dict), 5)}; model: '
            f'{_summarise(sorted(own), 5)})')
    skip = {m.split(' ')[0] for m in report.mismatched}
    loaded = model.load_state_dict(
        {k: v for k, v in state_dict.items() if k not in skip}, strict=False)
    # what the modules' own loading hooks accept is not missing (DO-Conv's D)
    report = report._replace(
        missing=sorted(k for k in loaded.missing_keys if k not in skip),
        unexpected=sorted(loaded.unexpected_keys))
    name = f'{type(model).__name__} <- {checkpoint}'
    if ignored:
        print_log(f'{name}: ignored {len(ignored)} keys this model does not '
                  f'use ({_summarise(ignored, 4)})', logger='current')
    if report.fits():
        print_log(f'{name}: all {len(own)} keys loaded', logger='current')
    else:
        print_log(f'{name}: keys do not match the model (not loaded where '
                  f'they differ):\n  {report.describe(12)}',
                  logger='current', level=30)
    return report.missing, report.unexpected


#: Where the README lists the official checkpoints the configs expect.
WEIGHTS_DOCS = "README.md, section 'Pretrained weights'"


def _pretrained_inits(node) -> Iterable[dict]:
    """Every ``dict(type='Pretrained', ...)`` inside a (model) config."""
    if isinstance(node, dict):
        if node.get('type') == 'Pretrained' and node.get('checkpoint'):
            yield node
        for value in node.values():
            yield from _pretrained_inits(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _pretrained_inits(value)


def check_pretrained(cfg) -> None:
    """Raise :class:`~mmplug.errors.PretrainedNotFoundError` for a missing
    local ``Pretrained`` checkpoint of ``cfg.model`` (URLs are not checked)
    and :class:`~mmplug.errors.CheckpointError` for a local file that is no
    checkpoint (empty, truncated, an image...), before any model is built.
    """
    for init in _pretrained_inits(cfg.get('model') or {}):
        path = init['checkpoint']
        if '://' in path:
            continue
        if not osp.isfile(path):
            raise PretrainedNotFoundError(
                f'pretrained weights not found: {path!r} (an init_cfg of the '
                f'model). Get them as described in {WEIGHTS_DOCS}, or train '
                'from scratch with --cfg-options '
                'model.backbone.init_cfg=None.')
        problem = inspect_checkpoint_file(path)
        if problem is not None:
            raise CheckpointError(f'pretrained weights {path!r} (an init_cfg '
                                  f'of the model) {problem}')

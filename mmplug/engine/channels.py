"""Check, before anything trains, that the parts of a config's model agree
on their channels: the neck's ``in_channels`` against what the backbone
gives, the heads' ``in_channels`` against the neck (or backbone).

A neck whose ``in_channels`` do not fit the backbone is the most common
mistake in a detection or segmentation config; mmdet's own FPN reports it
as a bare ``AssertionError``, or as ``expected input[2, 16, 24, 24] to have
256 channels`` at the first iteration, after the data has loaded.
:func:`check_channels` finds it when the config is read and names the key
to set, with its right value.

How: each part is built with its parameters on PyTorch's ``meta`` device
(shapes without memory or initialisation) and run on meta tensors, which
costs no memory and a fraction of a second for a large backbone. A part
that fails on its inputs is rebuilt with the ``in_channels`` they call for;
only when the config's values fail and those values work is the config
refused, so a part the check cannot run (an mmcv op without a meta kernel,
a head whose forward takes more than the features) is never refused, only
left to the run itself. Two rules are applied without running the part: an
RoI extractor's ``out_channels`` must be the channels of the maps it pools
(mmdet allocates the pooled features with it; RoIAlign has no meta
kernel), and an mmseg head's ``in_index`` must select a map that exists.
"""
import contextlib
import inspect
import json
import warnings
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from mmplug.errors import ChannelMismatchError

__all__ = ['ChannelMismatchError', 'check_channels']

#: Input size (H, W) of the meta forward of the backbone.
META_INPUT = (256, 256)

#: Top-level detector parts that run on the multi-level features (mmdet's
#: dense heads and the semantic heads of panoptic / HTC models).
DENSE_HEADS = ('rpn_head', 'bbox_head', 'mask_head', 'semantic_head')

#: Model configs already checked in this process (a run checks once).
_CHECKED = set()

Feats = List[Tensor]


@contextlib.contextmanager
def params_on_meta() -> Iterator[None]:
    """Give every parameter registered in the block PyTorch's ``meta``
    device: modules are built with the shapes of their weights but no
    memory and no initialisation (``reset_parameters`` runs on meta
    tensors). Unlike ``with torch.device('meta')`` it leaves the tensors a
    constructor computes with (``torch.linspace(...).item()`` for drop-path
    rates, position indices) on the CPU. Not thread-safe: it replaces
    ``nn.Module.register_parameter`` for the block."""
    original = nn.Module.register_parameter

    def register_parameter(module: nn.Module, name: str,
                           param: Optional[nn.Parameter]) -> None:
        if param is not None and param.device.type != 'meta' and not \
                isinstance(param, nn.parameter.UninitializedParameter):
            param = nn.Parameter(param.to('meta'),
                                 requires_grad=param.requires_grad)
        original(module, name, param)

    nn.Module.register_parameter = register_parameter
    try:
        yield
    finally:
        nn.Module.register_parameter = original


def build_on_meta(cfg: dict) -> nn.Module:
    """A model part built from its config with every tensor on ``meta``, in
    eval mode (batch statistics of 1x1 maps would raise in training mode).

    Args:
        cfg (dict): the part's config, resolved in the current default
            scope (``type='FPN'``, ``type='mmplug.FPT'``).
    """
    from mmengine.registry import MODELS
    with params_on_meta():
        module = MODELS.build(_plain(cfg))
    module.to('meta')
    module.eval()  # not chained: some train() overrides return None
    return module


def _plain(cfg: Any) -> Any:
    """A deep copy of a config as plain dicts and lists (a ``ConfigDict``
    copied, as built parts modify their arguments)."""
    if isinstance(cfg, dict):
        return {k: _plain(v) for k, v in cfg.items()}
    if isinstance(cfg, list):
        return [_plain(v) for v in cfg]
    return cfg


def _maps(out: Any) -> Optional[Feats]:
    """The 4-D maps a part returned (a tensor, or a tuple/list of them)."""
    outs = [out] if isinstance(out, Tensor) else out
    if not isinstance(outs, (list, tuple)) or not outs or not all(
            isinstance(o, Tensor) and o.dim() == 4 for o in outs):
        return None
    return list(outs)


def _run(cfg: dict, call: Callable[[nn.Module], Any]) -> Tuple[str, Any]:
    """Build ``cfg`` on meta and apply ``call``: ``('ok', result)``,
    ``('build', error)`` when it cannot even be built (the run will say
    why), or ``('call', error)`` when its forward fails."""
    try:
        module = build_on_meta(cfg)
    except Exception as err:  # anything: the run's own build reports it
        return 'build', err
    try:
        with torch.no_grad():
            return 'ok', call(module)
    except Exception as err:  # a mismatch, or an op without meta kernel
        return 'call', err


def _settle(cfg: dict, key: str, call: Callable[[nn.Module], Any],
            candidates: Sequence[Any]) -> Tuple[bool, Any, Any]:
    """Run ``cfg``; if it builds but fails, try it with each candidate value
    of ``key``.

    Returns:
        tuple: ``(fits, result, fix)``: ``fits`` and the result when the
        config's own values run; otherwise ``fix`` is the first candidate
        that runs (``None``: no candidate does, the check cannot tell).
    """
    status, result = _run(cfg, call)
    if status == 'ok':
        return True, result, None
    if status == 'build':
        return False, None, None
    for value in candidates:
        if value == cfg.get(key):
            continue
        if _run({**cfg, key: value}, call)[0] == 'ok':
            return False, None, value
    return False, None, None


def _describe(feats: Feats) -> str:
    """'5 maps of 256 channels', '4 maps of [64, 128, 256, 512] channels'."""
    channels = [f.shape[1] for f in feats]
    maps = f'{len(channels)} map' + ('s' if len(channels) > 1 else '')
    if len(set(channels)) == 1:
        return f'{maps} of {channels[0]} channels'
    return f'{maps} of {channels} channels'


def _same(feats: Feats) -> Optional[int]:
    """The channels of every map, when they are all the same."""
    channels = {f.shape[1] for f in feats}
    return channels.pop() if len(channels) == 1 else None


def _list_like(value: Any, channels: List[int]) -> Any:
    return tuple(channels) if isinstance(value, tuple) else list(channels)


class _Checker:
    """Walks a model config part by part (see :func:`check_channels`)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix  # where the model config is: 'model.'

    def refuse(self, key: str, value: Any, what: str, fix: Any,
               extra: str = '') -> None:
        raise ChannelMismatchError(
            f'{self.prefix}{key}={value!r} does not fit {what}; set '
            f'{self.prefix}{key}={fix!r}{extra}')

    # ------------------------------------------------------------ parts
    def backbone(self, cfg: dict) -> Optional[Feats]:
        """Meta maps of the backbone's outputs, or None."""
        in_channels = cfg.get('in_channels', 3)
        if not isinstance(in_channels, int):
            in_channels = 3
        x = torch.empty(1, in_channels, *META_INPUT, device='meta')
        status, result = _run(cfg, lambda m: self._backbone_maps(m, x))
        return result if status == 'ok' else None

    @staticmethod
    def _backbone_maps(backbone: nn.Module, x: Tensor) -> Optional[Feats]:
        channels = getattr(backbone, 'out_channels', None)
        strides = getattr(backbone, 'out_strides', None)
        if isinstance(channels, (list, tuple)) and isinstance(
                strides, (list, tuple)) and len(channels) == len(strides):
            # mmplug's backbones declare their outputs: no forward needed
            return [torch.empty(1, c, -(-x.shape[2] // s), -(-x.shape[3] // s),
                                device='meta')
                    for c, s in zip(channels, strides)]
        return _maps(backbone(x))

    def neck(self, cfg: dict, feats: Feats, key: str,
             source: str) -> Optional[Feats]:
        """The neck's meta outputs; refuses ``in_channels`` that do not fit
        ``feats``."""
        channels = [f.shape[1] for f in feats]
        value = cfg.get('in_channels')
        if isinstance(value, (list, tuple)):
            candidates = [_list_like(value, channels),
                          _list_like(value, channels[::-1])]
        elif isinstance(value, int):
            candidates = list(dict.fromkeys(channels[::-1]))
        else:
            status, result = _run(cfg, lambda m: _maps(m(tuple(feats))))
            return result if status == 'ok' else None
        fits, outs, fix = _settle(cfg, 'in_channels',
                                  lambda m: _maps(m(tuple(feats))),
                                  candidates)
        if fix is not None:
            extra = ''
            if isinstance(value, (list, tuple)) and len(value) != len(fix):
                extra = (f' (or give the backbone out_indices that select '
                         f'{len(value)} levels)')
            self.refuse(f'{key}.in_channels', value,
                        f'{source}: {_describe(feats)}', fix, extra)
        return outs if fits else None

    def dense_head(self, cfg: dict, feats: Feats, key: str,
                   source: str) -> None:
        """A head on the multi-level features (RPN, RetinaNet, ...)."""
        value = cfg.get('in_channels')
        same = _same(feats)
        if isinstance(value, int) and same is not None:
            candidates = [same]
        elif isinstance(value, (list, tuple)):
            candidates = [_list_like(value, [f.shape[1] for f in feats])]
        else:
            return
        _, _, fix = _settle(cfg, 'in_channels', lambda m: m(tuple(feats)),
                            candidates)
        if fix is not None:
            self.refuse(f'{key}.in_channels', value,
                        f'{source}: {_describe(feats)}', fix)

    def roi_head(self, cfg: dict, feats: Feats, source: str) -> None:
        """RoI extractors against the features, RoI heads against their
        extractors (cascades: one head, or extractor, per stage)."""
        if cfg.get('shared_head') is not None:
            return
        same = _same(feats)
        for kind in ('bbox', 'mask'):
            extractors = cfg.get(f'{kind}_roi_extractor')
            heads = cfg.get(f'{kind}_head')
            if heads is None:
                continue
            if extractors is None and kind == 'mask':
                extractors = cfg.get('bbox_roi_extractor')  # shared
                ext_key = 'roi_head.bbox_roi_extractor'
            else:
                ext_key = f'roi_head.{kind}_roi_extractor'
            extractors = extractors if isinstance(extractors, list) \
                else [extractors]
            for i, ext in enumerate(extractors):
                if not isinstance(ext, dict):
                    continue
                out = ext.get('out_channels')
                where = ext_key + (f'.{i}' if len(extractors) > 1 else '')
                if isinstance(out, int) and same is not None and out != same:
                    raise ChannelMismatchError(
                        f'{self.prefix}{where}.out_channels={out} does not '
                        f'fit {source}: {_describe(feats)} (an RoI '
                        'extractor\'s out_channels are the channels of the '
                        f'maps it pools); set {self.prefix}{where}.'
                        f'out_channels={same}')
            head_list = heads if isinstance(heads, list) else [heads]
            for i, head in enumerate(head_list):
                ext = extractors[min(i, len(extractors) - 1)]
                out = ext.get('out_channels') if isinstance(ext, dict) \
                    else None
                if not isinstance(head, dict) or not isinstance(out, int):
                    continue
                where = f'roi_head.{kind}_head' + (
                    f'.{i}' if isinstance(heads, list) else '')
                self._roi_head(head, out, where, ext_key)

    def _roi_head(self, cfg: dict, channels: int, key: str,
                  ext_key: str) -> None:
        value = cfg.get('in_channels')
        if not isinstance(value, int):
            return

        def call(head: nn.Module) -> Any:
            size = getattr(head, 'roi_feat_size', 7)
            size = size if isinstance(size, (tuple, list)) else (size, size)
            return head(torch.empty(2, channels, *size, device='meta'))

        _, _, fix = _settle(cfg, 'in_channels', call, [channels])
        if fix is not None:
            self.refuse(f'{key}.in_channels', value,
                        f'{self.prefix}{ext_key}.out_channels={channels} '
                        '(the channels of the RoI features)', fix)

    def decode_head(self, cfg: dict, feats: Feats, key: str,
                    source: str) -> None:
        """An mmseg decode head: ``in_channels`` are the channels of the
        maps ``in_index`` selects."""
        cls = _class_of(cfg)
        if cls is None or not any(c.__name__ == 'BaseDecodeHead'
                                  for c in cls.__mro__):
            return
        value = cfg.get('in_channels')
        index = cfg.get('in_index', _default(cls, 'in_index', -1))
        channels = [f.shape[1] for f in feats]
        indices = list(index) if isinstance(index, (list, tuple)) \
            else [index]
        if not all(isinstance(i, int) for i in indices):
            return
        bad = [i for i in indices if not -len(feats) <= i < len(feats)]
        if bad and _run(cfg, lambda m: m(list(feats)))[0] == 'call':
            raise ChannelMismatchError(
                f'{self.prefix}{key}.in_index={index!r} is out of range for '
                f'{source}: {_describe(feats)}, in_index 0-'
                f'{len(feats) - 1}')
        if bad:
            return
        if isinstance(index, (list, tuple)):
            fix = _list_like(value, [channels[i] for i in indices]) \
                if isinstance(value, (list, tuple)) else \
                [channels[i] for i in indices]
        else:
            fix = channels[index]
        if value == fix or (isinstance(value, (list, tuple)) and isinstance(
                fix, (list, tuple)) and list(value) == list(fix)):
            return
        fits, _, works = _settle(cfg, 'in_channels',
                                 lambda m: m(list(feats)), [fix])
        if fits or works is None:
            return
        extra = ''
        if isinstance(index, int) and isinstance(value, int) and \
                value in channels:
            extra = (f' (or {self.prefix}{key}.in_index='
                     f'{channels.index(value)}, the map with {value} '
                     'channels)')
        self.refuse(f'{key}.in_channels', value,
                    f'{source}: {_describe(feats)}, of which in_index='
                    f'{index!r} selects {fix!r}', fix, extra)


def _class_of(cfg: dict) -> Optional[type]:
    """The class a part's config builds, in the current default scope."""
    from mmengine.registry import MODELS
    kind = cfg.get('type')
    if isinstance(kind, type):
        return kind
    try:
        with MODELS.switch_scope_and_registry(None) as registry:
            return registry.get(kind)
    except Exception:  # an unknown type: the run's build says so
        return None


def _default(cls: type, name: str, fallback: Any) -> Any:
    """The default of argument ``name`` of ``cls`` (or a base class)."""
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        param = inspect.signature(init).parameters.get(name)
        if param is not None and param.default is not param.empty:
            return param.default
    return fallback


def _parts(value: Any) -> List[Tuple[str, dict]]:
    """``[('', cfg)]`` for a part given as a dict, ``[('.i', cfg_i)]`` for
    one given as a list (mmdet's neck lists, mmseg's cascaded heads)."""
    if isinstance(value, dict):
        return [('', value)]
    if isinstance(value, (list, tuple)):
        return [(f'.{i}', v) for i, v in enumerate(value)
                if isinstance(v, dict)]
    return []


def _model_of(cfg: Any) -> Tuple[Optional[dict], str]:
    """The model config with a backbone, under TTA wrappers, and its key."""
    model, prefix = cfg.get('model'), 'model.'
    while isinstance(model, dict) and 'backbone' not in model and \
            isinstance(model.get('module'), dict):
        model, prefix = model['module'], prefix + 'module.'
    if not isinstance(model, dict) or not isinstance(model.get('backbone'),
                                                     dict):
        return None, prefix
    return model, prefix


def _check_model(model: dict, prefix: str) -> None:
    checker = _Checker(prefix)
    backbone = model['backbone']
    feats = checker.backbone(backbone)
    if feats is None:
        return
    source = f'the backbone\'s outputs ({backbone.get("type")})'
    necks = _parts(model.get('neck'))
    for suffix, neck in necks:
        feats = checker.neck(neck, feats, 'neck' + suffix, source)
        if feats is None:
            return
        source = f'the neck\'s outputs ({neck.get("type")})'
    for key in DENSE_HEADS:
        for suffix, head in _parts(model.get(key)):
            checker.dense_head(head, feats, key + suffix, source)
    roi = model.get('roi_head')
    if isinstance(roi, dict):
        checker.roi_head(roi, feats, source)
    for key in ('decode_head', 'auxiliary_head'):
        for suffix, head in _parts(model.get(key)):
            checker.decode_head(head, feats, key + suffix, source)


def check_channels(cfg: Any) -> None:
    """Refuse a model config whose parts disagree on their channels.

    Checks the neck's ``in_channels`` against the backbone's outputs (each
    neck of a list against the one before), and against the neck's (or
    the backbone's) outputs: the ``in_channels`` of mmdet's dense heads
    (``rpn_head``, ``bbox_head``, ...), the ``out_channels`` of the RoI
    extractors and the ``in_channels`` of the RoI heads behind them, and
    the ``in_channels`` of mmseg's ``decode_head`` / ``auxiliary_head``
    with the maps their ``in_index`` selects. mmplug's backbones give their
    ``out_channels``; other backbones (mmdet's ResNet and Swin, mmseg's,
    mmpretrain's) run on a meta tensor. Everything is built on the meta
    device: no memory, and a few tenths of a second for a Mask R-CNN with
    SMT-L (80M parameters), after the first check of a process (about 2 s,
    most of it importing mmdet's models, which the run imports anyway). A
    model is checked once per process.

    A part the check cannot build or run is left to the run itself: the
    check refuses only values that fail where the values it proposes work.

    Args:
        cfg (Config): the whole config (``default_scope``, ``model``,
            ``custom_imports``).

    Raises:
        ChannelMismatchError: naming the key to set and its right value,
            e.g. ``model.neck.in_channels=[256, 512, 1024, 2048] does not
            fit the backbone's outputs (ResNet): 4 maps of [64, 128, 256,
            512] channels; set model.neck.in_channels=[64, 128, 256, 512]``.
    """
    from mmengine.registry import DefaultScope
    model, prefix = _model_of(cfg)
    if model is None:
        return
    try:
        key = json.dumps(_plain(model), sort_keys=True, default=repr)
    except (TypeError, ValueError):
        key = None
    if key is not None and (cfg.get('default_scope'), key) in _CHECKED:
        return
    imports = cfg.get('custom_imports')
    if imports:
        from mmengine.utils import import_modules_from_strings
        try:
            import_modules_from_strings(**imports)
        except Exception:  # the run reports a failing import itself
            return
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')), \
            warnings.catch_warnings():
        warnings.simplefilter('ignore')
        _check_model(model, prefix)
    if key is not None:
        _CHECKED.add((cfg.get('default_scope'), key))

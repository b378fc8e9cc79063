"""``compile`` in a config: the backbone and the neck compiled in place."""
import inspect
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.hooks import Hook
from mmengine.model import BaseTTAModel, is_model_wrapper

from mmplug.errors import ConfigError
from mmplug.registry import HOOKS

#: what ``compile`` compiles by default: the parts of a detector or
#: segmentor that mmplug keeps free of graph breaks (tested for every
#: backbone and neck)
COMPILE_PARTS = ('backbone', 'neck')


def compile_options(value) -> Optional[Tuple[Optional[Tuple[str, ...]],
                                              Dict]]:
    """A config's ``compile`` as ``(parts, torch.compile arguments)``, or
    None when it is off.

    ``compile = True`` or ``compile = dict(backend=..., mode=..., ...)``
    (any ``torch.compile`` argument) as in mmengine, plus ``parts``: the
    children of the model to compile (default :data:`COMPILE_PARTS`, those
    the model has).

    Raises:
        ConfigError: ``compile`` is neither a bool nor a dict, names an
            argument ``torch.compile`` does not take, or a backend torch
            does not have.
    """
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, dict):
        raise ConfigError(
            f'compile must be True, False or a dict of torch.compile '
            f'arguments, got {value!r} (e.g. --cfg-options '
            'compile.backend=inductor)')
    options = dict(value)
    parts = options.pop('parts', None)
    if isinstance(parts, str):
        parts = (parts, )
    known = set(inspect.signature(torch.compile).parameters) - {'model'}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(
            f'compile: torch.compile takes no {", ".join(unknown)}; its '
            f'arguments are {", ".join(sorted(known))}, and mmplug adds '
            '`parts` (the model children to compile)')
    backend = options.get('backend')
    if isinstance(backend, str):
        backends = torch.compiler.list_backends(exclude_tags=())
        if backend not in backends:
            raise ConfigError(
                f'compile.backend={backend!r}: torch has no such backend; '
                f'choose one of {", ".join(sorted(backends))}')
    return (tuple(parts) if parts is not None else None), options


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def resolve_parts(model: torch.nn.Module,
                  parts: Optional[Sequence[str]]) -> List[str]:
    """The names of the children of ``model`` (unwrapped) to compile.

    Raises:
        ConfigError: ``parts`` names a child the model does not have.
    """
    model = _unwrap(model)
    if parts is None:
        return [p for p in COMPILE_PARTS
                if isinstance(getattr(model, p, None), torch.nn.Module)]
    for part in parts:
        if not isinstance(getattr(model, part, None), torch.nn.Module):
            raise ConfigError(
                f'compile.parts: {type(model).__name__} has no part '
                f'{part!r}; its children are '
                f'{", ".join(n for n, _ in model.named_children())}')
    return list(parts)


def compile_parts(model: torch.nn.Module, parts: Optional[Sequence[str]],
                  options: Dict) -> List[str]:
    """Compile children of ``model`` in place.

    Each part is compiled with ``nn.Module.compile`` (the module itself is
    kept, so its state-dict keys and checkpoints do not change); a part
    compiled already is left as it is. mmengine's own runner compiles
    ``train_step`` instead, the whole training step, which for a detector
    breaks the graph at every mmcv op (NMS, RoIAlign, the data
    preprocessor's padding) and recompiles at every new number of boxes
    (measured: 12-52 s per iteration of the tiny demo detector with
    ``backend='aot_eager'``, against 0.3 s eager).

    Args:
        model (nn.Module): the model, possibly in a wrapper (DDP, TTA).
        parts (Sequence[str], optional): children to compile (None:
            :data:`COMPILE_PARTS` that the model has).
        options (dict): ``torch.compile`` arguments.

    Returns:
        list[str]: the names of the parts compiled.
    """
    names = resolve_parts(model, parts)
    model = _unwrap(model)
    for name in names:
        module = getattr(model, name)
        if not is_compiled(module):
            module.compile(**options)
    return names


def is_compiled(module: torch.nn.Module) -> bool:
    """Whether ``nn.Module.compile`` was called on ``module`` (torch keeps
    the compiled call there)."""
    return getattr(module, '_compiled_call_impl', None) is not None


@HOOKS.register_module()
class CompileHook(Hook):
    """Compile parts of the model (the backbone and the neck by default) in
    place, before training, validation and testing.

    :class:`~mmplug.engine.MMPlugRunner` turns a config's ``compile`` into
    this hook; elsewhere::

        custom_hooks = [dict(type='mmplug.CompileHook', backend='inductor')]

    Args:
        parts (str | Sequence[str], optional): the model's children to
            compile (default: ``backbone`` and ``neck``, those it has).
        **options: ``torch.compile`` arguments (``backend``, ``mode``,
            ``dynamic``, ...).
    """
    priority = 'LOW'

    def __init__(self, parts: Union[str, Sequence[str], None] = None,
                 **options) -> None:
        found = compile_options(dict(options, parts=parts)
                                if parts is not None else dict(options))
        self.parts, self.options = found

    def _compile(self, runner) -> None:
        names = compile_parts(runner.model, self.parts, self.options)
        if names and not getattr(self, 'logged', False):
            self.logged = True
            runner.logger.info(
                f'compile: {", ".join(names)} compiled with '
                f'{self.options or "default arguments"}; the first '
                'iterations (and each new input size) are slow')

    def before_train(self, runner) -> None:
        self._compile(runner)

    def before_val(self, runner) -> None:
        self._compile(runner)

    def before_test(self, runner) -> None:
        self._compile(runner)

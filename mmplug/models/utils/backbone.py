"""The backbone contract: what every mmplug backbone declares and shares.

A backbone subclasses :class:`BaseBackbone`: it takes its own arguments
and ``**kwargs`` (the contract's, passed to ``super().__init__`` first),
declares its stages (``_set_stages``), ``stage_channels`` and
``stage_strides`` (one entry per stage), adds its output norms
(``_add_out_norms``) and head (``_build_classifier``), calls
``_setup_freezing`` last (which checks the declarations) and implements the
abstract ``stage_outputs`` and ``_frozen_modules``.
"""
import warnings
from abc import ABCMeta, abstractmethod
from typing import (Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import torch
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmplug.errors import ConfigError
from mmplug.models.utils.init import DefaultInitMixin


def normalize_out_indices(out_indices: Union[int, Sequence[int]],
                          num_stages: int) -> Tuple[int, ...]:
    """A new sorted tuple of stage indices in ``[0, num_stages)`` (negative
    ones count from the last stage); ValueError if empty, out of range or
    repeated."""
    if isinstance(out_indices, int):
        out_indices = [out_indices]
    if len(out_indices) == 0:
        raise ValueError('out_indices is empty: the backbone would return '
                         f'nothing (give stages in [0, {num_stages}))')
    result = []
    for index in out_indices:
        if not -num_stages <= index < num_stages:
            raise ValueError(f'out_indices entry {index} is out of range for '
                             f'{num_stages} stages')
        result.append(index % num_stages)
    if len(set(result)) != len(result):
        raise ValueError(f'out_indices {tuple(out_indices)} repeat a stage')
    return tuple(sorted(result))


def pretrained_to_init_cfg(pretrained: Optional[str], init_cfg: Optional[dict],
                           model: str) -> Optional[dict]:
    """mmdet's/mmseg's deprecated ``pretrained=PATH`` as
    ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``, with a warning;
    an error if both are given."""
    if pretrained is None:
        return init_cfg
    if not isinstance(pretrained, str):
        raise TypeError(f'{model}: pretrained must be a checkpoint path (str) '
                        f'or None, got {type(pretrained).__name__}')
    if init_cfg is not None:
        raise ValueError(
            f'{model}: give pretrained or init_cfg, not both (pretrained='
            f'{pretrained!r}, init_cfg={init_cfg!r}); pretrained is '
            "deprecated: use init_cfg=dict(type='Pretrained', checkpoint=...)")
    warnings.warn(f'DeprecationWarning: {model}: pretrained is deprecated, '
                  "use init_cfg=dict(type='Pretrained', checkpoint=...) "
                  'instead')
    return dict(type='Pretrained', checkpoint=pretrained)


def checkpoint_if(enabled: bool, fn: Callable, *args) -> Tensor:
    """``fn(*args)``, through activation checkpointing (non-reentrant) when
    ``enabled`` and the first argument requires grad (``with_cp``)."""
    if enabled and args[0].requires_grad:
        return cp.checkpoint(fn, *args, use_reentrant=False)
    return fn(*args)


class BaseBackbone(DefaultInitMixin, BaseModule, metaclass=ABCMeta):
    """Base of mmplug backbones (the mmdet contract; see the module
    docstring for what a subclass declares).

    :meth:`forward` returns, for each of ``out_indices``, the stage's map
    through its output norm if ``out_norm_names`` names one (official
    names).

    ``init_weights`` (:class:`~mmplug.models.utils.init.DefaultInitMixin`):
    the model's default initialisation (:meth:`init_from_scratch`) unless
    ``init_cfg`` has a ``Pretrained`` entry, then the other ``init_cfg``
    entries, then the ``Pretrained`` ones, through
    :func:`mmplug.checkpoint.load_pretrained` with :meth:`convert_state_dict`
    (official key layouts) and a report of the keys that did not match.

    Args:
        in_channels (int): channels of the input images; other inputs are
            refused with a ValueError. Defaults to 3.
        out_indices (int | Sequence[int]): stages to output (negative:
            from the last). Defaults to (0, 1, 2, 3).
        frozen_stages (int): ``-1`` (default) freezes nothing, ``0`` the
            stem, ``k`` the stem and the first ``k`` stages (parameters stop
            requiring grad, norms stay in eval mode; re-applied by
            :meth:`train`).
        norm_eval (bool): every ``_BatchNorm`` in eval mode in training.
        with_cp (bool): activation checkpointing in every block.
        num_classes (int): classes of the ImageNet head; 0 (default): none.
        pretrained (str, optional): deprecated, a checkpoint path.
        init_cfg (dict | list[dict], optional): mmengine's initialisation
            config (see above).
    """

    def __init__(self,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 num_classes: int = 0,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=pretrained_to_init_cfg(
            pretrained, init_cfg, type(self).__name__))
        self.in_channels, self.with_cp = in_channels, with_cp
        self.num_classes = num_classes
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self._out_indices = out_indices
        #: stage index -> name of its output norm module (official names)
        self.out_norm_names: Dict[int, str] = {}

    def _set_stages(self, num_stages: int) -> None:
        """Declare the stage count; ``out_indices`` are checked against
        it."""
        self.num_stages = num_stages
        self.out_indices = normalize_out_indices(self._out_indices,
                                                 num_stages)

    @abstractmethod
    def stage_outputs(self, x: Tensor) -> Iterator[Tensor]:
        """Yield each stage's map (N, C_i, H_i, W_i), before any output
        norm."""

    @abstractmethod
    def _frozen_modules(self, frozen_stages: int) -> List[nn.Module]:
        """The modules that ``frozen_stages`` (>= 0) freezes."""

    @property
    def out_channels(self) -> List[int]:
        """Channels of the returned maps."""
        return [self.stage_channels[i] for i in self.out_indices]

    @property
    def out_strides(self) -> List[int]:
        """Strides of the returned maps (about (H / s, W / s))."""
        return [self.stage_strides[i] for i in self.out_indices]

    def _add_out_norms(self, make_norm: Callable[[int], nn.Module],
                       name: str = 'norm{}') -> None:
        """Add an output norm ``make_norm(C_i)`` for each stage ``i`` of
        ``out_indices``, named ``name.format(i)``."""
        for i in self.out_indices:
            self.out_norm_names[i] = name.format(i)
            self.add_module(name.format(i), make_norm(self.stage_channels[i]))

    def _build_classifier(self, channels: int, name: str = 'fc',
                          norm: Optional[Callable[[int], nn.Module]] = None,
                          norm_before_pool: bool = False,
                          dropout: float = 0.,
                          head: Optional[Callable[[int, int], nn.Module]]
                          = None) -> None:
        """The ImageNet head under the official names: ``norm(channels)``
        (before or after the pooling), ``dropout``, then ``name`` =
        ``head(channels, num_classes)`` (default ``nn.Linear``). Without
        classes, nothing; a checkpoint's head keys are then ignored."""
        num_classes = self.num_classes
        self._head_name, self._norm_before_pool = name, norm_before_pool
        if num_classes <= 0:
            ignored = (f'{name}.', ) + (('norm.', ) if norm else ())
            self.ignored_pretrained_keys = \
                tuple(self.ignored_pretrained_keys) + ignored
            return
        if norm is not None:
            self.norm = norm(channels)
        if dropout > 0:
            self.dropout = nn.Dropout(dropout)
        self.add_module(name, (head or nn.Linear)(channels, num_classes))

    def _setup_freezing(self) -> None:
        """Check the declarations, then freeze (the end of ``__init__``)."""
        if not len(self.stage_channels) == len(self.stage_strides) == \
                self.num_stages or not hasattr(self, 'out_indices'):
            raise TypeError(f'{type(self).__name__} must declare out_indices '
                            'and one stage_channels and stage_strides entry '
                            'per stage (num_stages)')
        if not -1 <= self.frozen_stages <= self.num_stages:
            raise ValueError(f'frozen_stages must be in [-1, '
                             f'{self.num_stages}], got {self.frozen_stages}')
        self._freeze_stages()

    def _check_input(self, x: Tensor) -> None:
        # a ConfigError (a ValueError) the tools print as one line
        if not torch.jit.is_tracing() and x.shape[1] != self.in_channels:
            raise ConfigError(
                f'{type(self).__name__} was built for in_channels='
                f'{self.in_channels}, got an input with {x.shape[1]} '
                f'channels (shape {tuple(x.shape)})')

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Images (N, in_channels, H, W), any H and W -> for each of
        ``out_indices``, (N, C_i, H_i, W_i) (``out_channels``,
        ``out_strides``)."""
        self._check_input(x)
        outs = []
        for i, feat in enumerate(self.stage_outputs(x)):
            if i in self.out_indices:
                norm = self.out_norm_names.get(i)
                outs.append(feat if norm is None else
                            getattr(self, norm)(feat))
        return tuple(outs)

    def forward_classifier(self, x: Tensor) -> Tensor:
        """Images (N, in_channels, H, W) -> ImageNet logits (N,
        num_classes), as the official classification model."""
        if self.num_classes <= 0:
            raise RuntimeError(f'{type(self).__name__} was built without a '
                               'head (num_classes=0)')
        self._check_input(x)
        *_, last = self.stage_outputs(x)
        return self._classify(last)

    def _classify(self, last: Tensor) -> Tensor:
        """Logits from the last stage's map (N, C, H, W): the head of
        :meth:`_build_classifier` on its global average."""
        norm = getattr(self, 'norm', None)
        if norm is not None and self._norm_before_pool:
            x = norm(last.permute(0, 2, 3, 1)).mean(dim=(1, 2))
        else:
            x = last.mean(dim=(2, 3))
            if norm is not None:
                x = norm(x)
        dropout = getattr(self, 'dropout', None)
        if dropout is not None:
            x = dropout(x)
        return getattr(self, self._head_name)(x)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        for module in self._frozen_modules(self.frozen_stages):
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'BaseBackbone':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def get_layer_depth(self, param_name: str,
                        prefix: str = '') -> Tuple[int, int]:
        """(depth, number of depths) of a parameter for layer-wise lr
        decay (mmpretrain's protocol; ``prefix`` is the backbone's, e.g.
        ``'backbone.'``): the stem 0, stage ``i`` ``i + 1`` (as
        :meth:`_frozen_modules` adds them), the rest ``num_stages + 1``."""
        num_layers = self.num_stages + 2
        if not param_name.startswith(prefix):
            return num_layers - 1, num_layers
        depths = getattr(self, '_param_depths', None)
        if depths is None:
            owner = {}
            for depth in range(self.num_stages, -1, -1):
                for module in self._frozen_modules(depth):
                    for p in module.parameters():
                        owner[id(p)] = depth
            depths = self._param_depths = {
                name: owner.get(id(p), num_layers - 1)
                for name, p in self.named_parameters()}
        return depths.get(param_name[len(prefix):], num_layers - 1), \
            num_layers

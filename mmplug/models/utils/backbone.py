"""What every mmplug backbone shares: ``out_indices``, ``frozen_stages``,
``norm_eval`` and pretrained loading with a key report."""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmplug.checkpoint import load_pretrained


def normalize_out_indices(out_indices: Union[int, Sequence[int]],
                          num_stages: int) -> Tuple[int, ...]:
    """A new sorted tuple of stage indices in ``[0, num_stages)``.

    Args:
        out_indices (int | Sequence[int]): indices; negative ones count from
            the last stage.
        num_stages (int): number of stages.

    Returns:
        tuple[int]: the normalised indices.
    """
    if isinstance(out_indices, int):
        out_indices = [out_indices]
    result = []
    for index in out_indices:
        if not -num_stages <= index < num_stages:
            raise ValueError(f'out_indices entry {index} is out of range for '
                             f'{num_stages} stages')
        result.append(index % num_stages)
    if len(set(result)) != len(result):
        raise ValueError(f'out_indices {tuple(out_indices)} repeat a stage')
    return tuple(sorted(result))


class BaseBackbone(BaseModule):
    """Base of mmplug backbones (the mmdet contract).

    Subclasses call :meth:`_setup_freezing` at the end of ``__init__`` and
    implement :meth:`_frozen_modules`. Those that implement
    :meth:`stage_outputs` get :meth:`forward` (the ``out_indices`` maps,
    through an output norm ``norm{i}`` where the model has one) and
    :meth:`forward_classifier` (``num_classes > 0``; :meth:`_classify` on
    the last map).

    - ``frozen_stages``: ``-1`` freezes nothing, ``0`` the stem, ``k`` the
      stem plus the first ``k`` stages (their parameters stop requiring
      grad, their norms stay in eval mode), re-applied by :meth:`train`.
    - ``norm_eval``: every ``_BatchNorm`` stays in eval mode in training.
    - ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)`` loads
      through :func:`mmplug.checkpoint.load_pretrained` with the subclass's
      :meth:`convert_state_dict` and reports unmatched keys.
    """

    #: checkpoint key prefixes this model does not use (e.g. a classifier)
    ignored_pretrained_keys: Tuple[str, ...] = ()

    @property
    def out_channels(self) -> List[int]:
        """Channels of the returned maps."""
        return [self.embed_dims[i] for i in self.out_indices]

    def stage_outputs(self, x: Tensor) -> Iterator[Tensor]:
        """Yield each stage's raw output map (N, C_i, H_i, W_i)."""
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """
        Args:
            x (Tensor): images (N, C_in, H, W), any H and W.

        Returns:
            tuple[Tensor]: for each of ``out_indices``, the stage's map
            (N, C_i, H_i, W_i), through ``norm{i}`` if the model has one.
        """
        outs = []
        for i, feat in enumerate(self.stage_outputs(x)):
            if i in self.out_indices:
                norm = getattr(self, f'norm{i}', None)
                outs.append(feat if norm is None else norm(feat))
        return tuple(outs)

    def forward_classifier(self, x: Tensor) -> Tensor:
        """ImageNet logits, as the official classification model.

        Args:
            x (Tensor): images (N, C_in, H, W).

        Returns:
            Tensor: (N, num_classes).
        """
        if getattr(self, 'num_classes', 0) <= 0:
            raise RuntimeError(f'{type(self).__name__} was built without a '
                               'head (num_classes=0)')
        *_, last = self.stage_outputs(x)
        return self._classify(last)

    def _build_classifier(self, channels: int, num_classes: int,
                          fc: Optional[nn.Module] = None) -> None:
        """The ImageNet head: ``num_classes > 0`` builds ``fc`` (default
        ``Linear(channels, num_classes)``); otherwise there is none and a
        checkpoint's ``fc.`` keys are ignored when loading."""
        self.num_classes = num_classes
        if num_classes > 0:
            self.fc = fc if fc is not None else nn.Linear(channels,
                                                           num_classes)
        else:
            self.ignored_pretrained_keys = \
                tuple(self.ignored_pretrained_keys) + ('fc.', )

    def _classify(self, last: Tensor) -> Tensor:
        """Logits from the last raw map: ``fc`` on its global average (the
        ResNet head); models with another head override this."""
        return self.fc(last.mean(dim=(2, 3)))

    def _setup_freezing(self, frozen_stages: int, norm_eval: bool,
                        num_stages: int) -> None:
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'frozen_stages must be in [-1, {num_stages}], '
                             f'got {frozen_stages}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._freeze_stages()

    def _frozen_modules(self, frozen_stages: int) -> List[nn.Module]:
        """The modules that ``frozen_stages`` (>= 0) freezes."""
        raise NotImplementedError

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

    def convert_state_dict(self, state_dict: Dict) -> Dict:
        """Map a checkpoint's keys to this model's. By default only a
        ``backbone.`` prefix (a detector or segmentor checkpoint) is
        removed."""
        return {k[len('backbone.'):] if k.startswith('backbone.') else k: v
                for k, v in state_dict.items()}

    def init_weights(self) -> None:
        init_cfg = self.init_cfg if isinstance(self.init_cfg, dict) else None
        if init_cfg is not None and init_cfg.get('type') == 'Pretrained':
            load_pretrained(
                self, init_cfg['checkpoint'], prefix=init_cfg.get('prefix'),
                convert=self.convert_state_dict,
                ignore=self.ignored_pretrained_keys)
            self._is_init = True
            return
        super().init_weights()
        self.init_from_scratch()

    def init_from_scratch(self) -> None:
        """Model-specific initialisation when no checkpoint is loaded."""


class ResNetFamilyBackbone(BaseBackbone):
    """Base of backbones with a ResNet layout: stem ``conv1``/``bn1``,
    stages ``layer1``... and an ``fc`` classifier.

    ``frozen_stages=k`` freezes the stem and ``layer1..k``;
    :meth:`init_from_scratch` is torchvision's initialisation (Kaiming
    normal, fan out, for every conv; BatchNorm 1/0), which subclasses
    extend.
    """

    #: the model's name in error messages
    arch_name = 'ResNet'

    def _stage_depths(self, depth: int,
                      depths: Optional[Sequence[int]]) -> Tuple[int, ...]:
        """Blocks per stage: ``depths`` if given, else
        ``arch_settings[depth]``; four stages."""
        if depths is None:
            if depth not in self.arch_settings:
                raise ValueError(
                    f'unknown {self.arch_name} depth {depth}; choose one of '
                    f'{sorted(self.arch_settings)} or give depths')
            depths = self.arch_settings[depth]
        if len(depths) != 4:
            raise ValueError(f'{self.arch_name} needs 4 depths, got '
                             f'{tuple(depths)}')
        return tuple(depths)

    def _frozen_modules(self, frozen_stages: int) -> List[nn.Module]:
        return [self.conv1, self.bn1] + [
            getattr(self, f'layer{i + 1}') for i in range(frozen_stages)
        ]

    def init_from_scratch(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
            elif isinstance(m, _BatchNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


class BottleneckBase(nn.Module):
    """The forward of a ResNet bottleneck: ``conv1``/``bn1``, ReLU,
    ``conv2``/``bn2``, ReLU, ``conv3``/``bn3``, plus the shortcut
    (``downsample`` or identity), ReLU; ``with_cp`` checkpoints all but the
    last ReLU. Subclasses build those layers (and set ``relu``,
    ``downsample`` and ``with_cp``)."""

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, C_out, H / stride, W / stride)."""

        def inner(x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            identity = x if self.downsample is None else self.downsample(x)
            return out + identity

        out = cp.checkpoint(inner, x, use_reentrant=False) \
            if self.with_cp and x.requires_grad else inner(x)
        return self.relu(out)


"""What our FPN-style necks share with mmdet's FPN: the arguments, checked
when the neck is built, the laterals and the extra levels."""
from abc import ABCMeta, abstractmethod
from typing import List, Optional, Sequence, Tuple, Union

import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmplug.errors import ConfigError
from mmplug.models.utils.init import DefaultInitMixin

EXTRA_CONVS = (False, 'on_input', 'on_lateral', 'on_output')


class PyramidNeck(DefaultInitMixin, BaseModule, metaclass=ABCMeta):
    """Base of FPN-style necks with mmdet FPN's interface.

    A subclass builds ``lateral_convs`` (one per used level) and implements
    :meth:`fuse` (laterals -> outputs of the used levels) and
    :attr:`extra_level_convs`; :meth:`forward` adds the extra levels.

    Args:
        in_channels (list[int]): channels of each backbone level.
        out_channels (int): channels of every output.
        num_outs (int): number of outputs.
        start_level (int): first backbone level used. Defaults to 0.
        end_level (int): last backbone level used (-1: the last; otherwise
            ``num_outs = end_level - start_level + 1``).
        add_extra_convs (bool | str): the extra levels: False (max-pool),
            True/'on_input', 'on_lateral' or 'on_output' (stride-2 3x3 convs
            on the last input, lateral or output).
        relu_before_extra_convs (bool): ReLU before the extra convs but the
            first.
        init_cfg (dict | list[dict], optional): mmengine's initialisation
            config, applied after the neck's default initialisation
            (:meth:`init_from_scratch`; skipped when it has a ``Pretrained``
            entry), ``Pretrained`` entries last (see
            :mod:`mmplug.models.utils.init`).

    Bad arguments raise a ValueError naming them when the neck is built.
    """

    def __init__(self, in_channels: List[int], out_channels: int,
                 num_outs: int, start_level: int = 0, end_level: int = -1,
                 add_extra_convs: Union[bool, str] = False,
                 relu_before_extra_convs: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(in_channels, (list, tuple)):
            raise TypeError(f'in_channels must be a list, got {in_channels!r}')
        num_ins = len(in_channels)
        if num_ins == 0:
            raise ValueError('in_channels is empty: the neck needs at least '
                             'one input level')
        if not 0 <= start_level < num_ins:
            raise ValueError(f'start_level={start_level} is out of range for '
                             f'{num_ins} input levels (in_channels)')
        if end_level in (-1, num_ins - 1):
            self.backbone_end_level = num_ins
            if num_outs < num_ins - start_level:
                raise ValueError(f'num_outs={num_outs} is fewer than the '
                                 f'{num_ins - start_level} used levels')
        elif not start_level <= end_level < num_ins:
            raise ValueError(f'end_level={end_level} is out of range: -1 or '
                             f'a level in [start_level={start_level}, '
                             f'{num_ins}) (in_channels)')
        elif num_outs != end_level - start_level + 1:
            raise ValueError(
                f'num_outs={num_outs} must be end_level - start_level + 1 = '
                f'{end_level - start_level + 1}')
        else:
            self.backbone_end_level = end_level + 1
        if add_extra_convs is True:
            add_extra_convs = 'on_input'
        if add_extra_convs not in EXTRA_CONVS:
            raise ValueError(f'add_extra_convs must be one of {EXTRA_CONVS} '
                             f'or True, got {add_extra_convs!r}')
        self.in_channels, self.num_ins = list(in_channels), num_ins
        self.out_channels, self.num_outs = out_channels, num_outs
        self.start_level, self.end_level = start_level, end_level
        self.add_extra_convs = add_extra_convs
        self.relu_before_extra_convs = relu_before_extra_convs

    @property
    def num_levels(self) -> int:
        """The backbone levels used."""
        return self.backbone_end_level - self.start_level

    def _build_extra_convs(self, **cfg) -> List[nn.Module]:
        """The stride-2 3x3 ``ConvModule``s of the extra levels (none when
        they are max-pooled)."""
        if not self.add_extra_convs:
            return []
        first = self.in_channels[self.backbone_end_level - 1] \
            if self.add_extra_convs == 'on_input' else self.out_channels
        return [ConvModule(first if i == 0 else self.out_channels,
                           self.out_channels, 3, stride=2, padding=1,
                           inplace=False, **cfg)
                for i in range(self.num_outs - self.num_levels)]

    @property
    @abstractmethod
    def extra_level_convs(self) -> Sequence[nn.Module]:
        """The convs of :meth:`_build_extra_convs`."""

    @abstractmethod
    def fuse(self, laterals: List[Tensor]) -> List[Tensor]:
        """The outputs of the used levels from their laterals."""

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """
        Args:
            inputs (Sequence[Tensor]): backbone maps (N, C_i, H_i, W_i).

        Returns:
            tuple[Tensor]: ``num_outs`` maps of ``out_channels``, from the
            finest used level on, each extra level half the previous size.
        """
        name = type(self).__name__
        # ConfigErrors (ValueErrors) the tools print as one line
        if len(inputs) != self.num_ins:
            raise ConfigError(f'{name} got {len(inputs)} inputs, built for '
                             f'{self.num_ins} (in_channels)')
        for i, (x, c) in enumerate(zip(inputs, self.in_channels)):
            if x.shape[1] != c:
                raise ConfigError(f'{name} input {i} has {x.shape[1]} '
                                 f'channels, in_channels says {c}')
        laterals = [conv(inputs[self.start_level + i])
                    for i, conv in enumerate(self.lateral_convs)]
        outs = self.fuse(laterals)
        if not self.add_extra_convs:
            while len(outs) < self.num_outs:
                outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            return tuple(outs)
        convs = self.extra_level_convs
        if convs:
            outs.append(convs[0]({
                'on_input': inputs[self.backbone_end_level - 1],
                'on_lateral': laterals[-1],
                'on_output': outs[-1]}[self.add_extra_convs]))
        for conv in convs[1:]:
            outs.append(conv(F.relu(outs[-1]) if self.relu_before_extra_convs
                             else outs[-1]))
        return tuple(outs)

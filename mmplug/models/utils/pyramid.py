"""What our FPN-style necks share with mmdet's FPN: the arguments and their
checks (``in_channels``, ``start_level``, ``end_level``, ``num_outs``), the
laterals and the extra levels (``add_extra_convs``), in
:class:`PyramidNeck`."""
from abc import ABCMeta, abstractmethod
from typing import List, Optional, Sequence, Tuple, Union

import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

EXTRA_CONVS = (False, 'on_input', 'on_lateral', 'on_output')


def check_inputs(neck: str, inputs: Sequence[Tensor],
                 in_channels: Sequence[int]) -> None:
    """Raise a clear error for a wrong number of maps or channels."""
    if len(inputs) != len(in_channels):
        raise ValueError(f'{neck} got {len(inputs)} inputs, built for '
                         f'{len(in_channels)} (in_channels)')
    for i, (x, c) in enumerate(zip(inputs, in_channels)):
        if x.shape[1] != c:
            raise ValueError(f'{neck} input {i} has {x.shape[1]} channels, '
                             f'in_channels says {c}')


def backbone_end_level(num_ins: int, num_outs: int, start_level: int,
                       end_level: int) -> int:
    """One past the last backbone level used, validated as mmdet's FPN.

    Raises:
        ValueError: naming ``in_channels``, ``start_level``, ``end_level``
            or ``num_outs``.
    """
    if num_ins == 0:
        raise ValueError('in_channels is empty: the neck needs at least one '
                         'input level')
    if not 0 <= start_level < num_ins:
        raise ValueError(f'start_level={start_level} is out of range for '
                         f'{num_ins} input levels (in_channels)')
    if end_level in (-1, num_ins - 1):
        if num_outs < num_ins - start_level:
            raise ValueError(f'num_outs={num_outs} is fewer than the '
                             f'{num_ins - start_level} used levels')
        return num_ins
    if not start_level <= end_level < num_ins:
        raise ValueError(f'end_level={end_level} is out of range: -1 or a '
                         f'level in [start_level={start_level}, {num_ins}) '
                         '(in_channels)')
    if num_outs != end_level - start_level + 1:
        raise ValueError(f'num_outs={num_outs} must be end_level - '
                         f'start_level + 1 = {end_level - start_level + 1}')
    return end_level + 1


def extra_convs_mode(add_extra_convs: Union[bool, str]) -> Union[bool, str]:
    """mmdet's ``add_extra_convs``: True means ``'on_input'``."""
    if add_extra_convs is True:
        add_extra_convs = 'on_input'
    if add_extra_convs not in EXTRA_CONVS:
        raise ValueError(f'add_extra_convs must be one of {EXTRA_CONVS} or '
                         f'True, got {add_extra_convs!r}')
    return add_extra_convs


def build_extra_convs(num_extra: int, mode: Union[bool, str],
                      last_in_channels: int, out_channels: int,
                      **cfg) -> List[nn.Module]:
    """The stride-2 3x3 ``ConvModule``s of ``num_extra`` extra levels (none
    when ``mode`` is False: those levels are max-pooled)."""
    if not mode:
        return []
    return [ConvModule(last_in_channels if i == 0 and mode == 'on_input'
                       else out_channels, out_channels, 3, stride=2,
                       padding=1, inplace=False, **cfg)
            for i in range(num_extra)]


def add_extra_levels(outs: List[Tensor], num_outs: int,
                     mode: Union[bool, str], convs: Sequence[nn.Module],
                     last_input: Tensor, last_lateral: Tensor,
                     relu_before_extra_convs: bool = False) -> List[Tensor]:
    """Append levels to ``outs`` until there are ``num_outs``, each half
    the size of the previous: max-pool (``mode=False``) or the stride-2
    ``convs`` on the last input, lateral or output, as mmdet's FPN."""
    used = len(outs)
    if num_outs <= used:
        return outs
    if not mode:
        for _ in range(num_outs - used):
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return outs
    source: Optional[Tensor] = {'on_input': last_input,
                                'on_lateral': last_lateral,
                                'on_output': outs[-1]}[mode]
    outs.append(convs[0](source))
    for conv in convs[1:]:
        x = F.relu(outs[-1]) if relu_before_extra_convs else outs[-1]
        outs.append(conv(x))
    return outs


class PyramidNeck(BaseModule, metaclass=ABCMeta):
    """Base of FPN-style necks with mmdet FPN's interface.

    Checks the arguments when the neck is built, and gives :meth:`forward`:
    the inputs checked, the laterals ``lateral_convs`` (built by the
    subclass) of the used levels, the subclass's :meth:`fuse`, then the
    extra levels (:func:`add_extra_levels` with :attr:`extra_level_convs`).

    Args:
        in_channels (list[int]): channels of each backbone level.
        out_channels (int): channels of every output.
        num_outs (int): number of outputs.
        start_level (int): first backbone level used.
        end_level (int): last backbone level used (-1: the last).
        add_extra_convs (bool | str): as mmdet's FPN: False (max-pool),
            True/'on_input', 'on_lateral' or 'on_output'.
        relu_before_extra_convs (bool): ReLU before the extra convs.
        init_cfg (dict, optional): mmengine's initialisation config.
    """

    def __init__(self, in_channels: List[int], out_channels: int,
                 num_outs: int, start_level: int = 0, end_level: int = -1,
                 add_extra_convs: Union[bool, str] = False,
                 relu_before_extra_convs: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(in_channels, (list, tuple)):
            raise TypeError(f'in_channels must be a list, got {in_channels!r}')
        self.in_channels = list(in_channels)
        self.out_channels, self.num_outs = out_channels, num_outs
        self.num_ins = len(in_channels)
        self.backbone_end_level = backbone_end_level(
            self.num_ins, num_outs, start_level, end_level)
        self.start_level, self.end_level = start_level, end_level
        self.add_extra_convs = extra_convs_mode(add_extra_convs)
        self.relu_before_extra_convs = relu_before_extra_convs

    @property
    def num_levels(self) -> int:
        """The backbone levels used."""
        return self.backbone_end_level - self.start_level

    @property
    @abstractmethod
    def extra_level_convs(self) -> Sequence[nn.Module]:
        """The convs of the extra levels (empty: max-pooled)."""

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
        check_inputs(type(self).__name__, inputs, self.in_channels)
        laterals = [conv(inputs[self.start_level + i])
                    for i, conv in enumerate(self.lateral_convs)]
        return tuple(add_extra_levels(
            self.fuse(laterals), self.num_outs, self.add_extra_convs,
            self.extra_level_convs, inputs[self.backbone_end_level - 1],
            laterals[-1], self.relu_before_extra_convs))

"""What our FPN-style necks share with mmdet's FPN: the level bookkeeping
(``start_level``, ``end_level``, ``num_outs``) and the extra levels
(``add_extra_convs``)."""
from typing import List, Optional, Sequence, Union

import torch.nn.functional as F
from mmcv.cnn import ConvModule
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
    """One past the last backbone level used, validated as mmdet's FPN."""
    if end_level in (-1, num_ins - 1):
        if num_outs < num_ins - start_level:
            raise ValueError(f'num_outs={num_outs} is fewer than the '
                             f'{num_ins - start_level} used levels')
        return num_ins
    if end_level >= num_ins or num_outs != end_level - start_level + 1:
        raise ValueError('end_level must be a backbone level and '
                         'num_outs = end_level - start_level + 1')
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

"""MobileNeXt: the sandglass block and its network.

Paper: Zhou et al., "Rethinking Bottleneck Structure for Efficient Mobile
Network Design", ECCV 2020 (https://arxiv.org/abs/2007.02269). Written from
the paper and our notes on the official code (zhoudaquan/
rethinking_bottleneck_design, yitu-opensource/MobileNeXt): the sandglass
block puts the shortcut between the wide ends (depthwise 3x3, linear 1x1
reduction, 1x1 expansion, depthwise 3x3) instead of the thin middle of an
inverted residual.
"""
import math
from typing import Iterator, List, Optional, Sequence, Union

import torch
from mmcv.cnn import ConvModule
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmplug.models.utils.arch import parse_arch
from mmplug.models.utils.backbone import BaseBackbone, checkpoint_if
from mmplug.registry import MODELS

#: the paper's stages ``(t, c, n, s)``: expansion (reduction) ratio, width,
#: blocks, stride of the first block
MOBILENEXT_STAGES = ((2, 96, 1, 2), (6, 144, 1, 1), (6, 192, 3, 2),
                     (6, 288, 3, 2), (6, 384, 4, 1), (6, 576, 4, 2),
                     (6, 960, 3, 1), (6, 1280, 1, 1))


def make_divisible(value: float, divisor: int) -> int:
    """The nearest multiple of ``divisor`` (at least ``divisor``), never
    below 90% of ``value`` (MobileNet's channel rounding)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class SandGlass(nn.Module):
    """Sandglass block: ``dw3x3 -> 1x1 reduce (linear) -> 1x1 expand ->
    dw3x3 (linear, with the stride)``, shortcut between the wide ends.

    As the official block: the first depthwise conv is kept when
    ``reduction == 2``, ``in == out`` or ``keep_3x3``; the last one also
    when the block strides. The middle width is ``in // reduction``, raised
    to ``ceil(out / 6)`` rounded to a multiple of 16 when smaller.

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        stride (int): 1 or 2 (on the last depthwise conv).
        reduction (int): the middle width's reduction ratio t.
        identity_ratio (float): share of the channels the shortcut adds to
            (the paper's identity tensor multiplier; 1: all).
        keep_3x3 (bool): keep both depthwise convs in every case.
        norm_cfg, act_cfg (dict): norm and (non-linear) activation.
        with_cp (bool): activation checkpointing.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int,
                 reduction: int,
                 identity_ratio: float = 1.0,
                 keep_3x3: bool = False,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU6'),
                 with_cp: bool = False):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f'stride must be 1 or 2, got {stride}')
        hidden = in_channels // reduction
        if hidden < out_channels / 6:
            hidden = make_divisible(math.ceil(out_channels / 6), 16)
        cfg = dict(norm_cfg=norm_cfg)
        full = reduction == 2 or in_channels == out_channels or keep_3x3
        layers = []
        if full:
            layers.append(ConvModule(in_channels, in_channels, 3, padding=1,
                                     groups=in_channels, act_cfg=act_cfg,
                                     **cfg))
        if reduction != 1:
            layers.append(ConvModule(in_channels, hidden, 1, act_cfg=None,
                                     **cfg))
        else:
            hidden = in_channels
        layers.append(ConvModule(hidden, out_channels, 1, act_cfg=act_cfg,
                                 **cfg))
        if full or stride == 2:
            layers.append(ConvModule(out_channels, out_channels, 3, stride,
                                     padding=1, groups=out_channels,
                                     act_cfg=None, **cfg))
        self.conv = nn.Sequential(*layers)
        self.use_residual = stride == 1 and in_channels == out_channels
        self.identity_channels = round(out_channels * identity_ratio)
        self.with_cp = with_cp

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, C_out, H / stride, W / stride)."""

        def inner(x):
            out = self.conv(x)
            if not self.use_residual:
                return out
            k = self.identity_channels
            if k == out.shape[1]:
                return out + x
            return torch.cat([out[:, :k] + x[:, :k], out[:, k:]], dim=1)

        return checkpoint_if(self.with_cp, inner, x)


@MODELS.register_module()
class MobileNeXt(BaseBackbone):
    """MobileNeXt backbone (and ImageNet classifier).

    A 3x3/2 stem to 32 channels, then the 8 stages of sandglass blocks of
    :data:`MOBILENEXT_STAGES`; no final 1x1 conv. The head is global
    pooling, dropout 0.2 and a linear layer. MobileNeXt-1.0:
    3.5M parameters and 300M multiply-adds at 224x224 with the head
    (asserted in the tests).

    Args:
        arch (str | dict): the width multiplier of the paper's variants,
            ``'1.4'``, ``'1.0'`` (default), ``'0.75'``, ``'0.5'`` or
            ``'0.35'``, or a dict with ``stages`` (a ``(t, c, n, s)`` per
            stage) and ``widen_factor``.
        widen_factor (float, optional): channel multiplier (channels
            rounded to multiples of 8); overrides the arch's.
        identity_ratio (float): see :class:`SandGlass`.
        norm_cfg, act_cfg (dict): norms and activations.
        **kwargs: the backbone contract (``in_channels``, ``out_indices``,
            ``frozen_stages``, ``norm_eval``, ``with_cp``, ``num_classes``,
            ``pretrained``, ``init_cfg``: :class:`BaseBackbone`). The default
            ``out_indices`` (1, 2, 4, 7) gives strides 4/8/16/32.

    Example:
        >>> import torch
        >>> from mmplug.models import MobileNeXt
        >>> model = MobileNeXt().eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 96))]
        [(1, 144, 16, 24), (1, 192, 8, 12), (1, 384, 4, 6), (1, 1280, 2, 3)]
    """
    arch_zoo = {width: dict(stages=MOBILENEXT_STAGES,
                            widen_factor=float(width))
                for width in ('1.4', '1.0', '0.75', '0.5', '0.35')}
    essential_keys = {'stages', 'widen_factor'}

    def __init__(self,
                 arch: Union[str, dict] = '1.0',
                 widen_factor: Optional[float] = None,
                 identity_ratio: float = 1.0,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU6'),
                 out_indices: Union[int, Sequence[int]] = (1, 2, 4, 7),
                 **kwargs):
        super().__init__(out_indices=out_indices, **kwargs)
        self.arch = parse_arch(arch, self.arch_zoo, self.essential_keys,
                               'MobileNeXt')
        if widen_factor is not None:
            self.arch['widen_factor'] = widen_factor
        widen = self.arch['widen_factor']
        self._set_stages(len(self.arch['stages']))
        channels = make_divisible(32 * widen, 8)
        self.stem = ConvModule(self.in_channels, channels, 3, stride=2,
                               padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.stage_channels: List[int] = []
        self.stage_strides: List[int] = []
        stride = 2
        self.stages = nn.ModuleList()
        for t, c, n, s in self.arch['stages']:
            out = make_divisible(c * widen, 8)
            self.stages.append(nn.Sequential(*(
                SandGlass(channels if i == 0 else out, out,
                          s if i == 0 else 1, t, identity_ratio,
                          norm_cfg=norm_cfg, act_cfg=act_cfg,
                          with_cp=self.with_cp) for i in range(n))))
            stride *= s
            self.stage_channels.append(out)
            self.stage_strides.append(stride)
            channels = out
        self._build_classifier(channels, dropout=0.2)
        self._setup_freezing()

    def stage_outputs(self, x: Tensor) -> Iterator[Tensor]:
        """Yield each stage's map (N, C_i, ceil(H / s_i), ceil(W / s_i))."""
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
            yield x

    def _frozen_modules(self, frozen_stages: int) -> List[nn.Module]:
        return [self.stem] + list(self.stages[:frozen_stages])

    def init_from_scratch(self) -> None:
        """Kaiming (fan out) convs, BN 1/0, N(0, 0.01) classifier."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
            elif isinstance(m, _BatchNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

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
from typing import List, Optional, Sequence, Union

import torch
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmplug.models.utils.backbone import BaseBackbone, normalize_out_indices
from mmplug.registry import MODELS


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

        if self.with_cp and x.requires_grad:
            return cp.checkpoint(inner, x, use_reentrant=False)
        return inner(x)


@MODELS.register_module()
class MobileNeXt(BaseBackbone):
    """MobileNeXt backbone (and ImageNet classifier).

    A 3x3/2 stem to 32 channels, then 8 stages of sandglass blocks
    ``(t, c, n, s)``: (2, 96, 1, 2), (6, 144, 1, 1), (6, 192, 3, 2),
    (6, 288, 3, 2), (6, 384, 4, 1), (6, 576, 4, 2), (6, 960, 3, 1),
    (6, 1280, 1, 1); no final 1x1 conv. The head is global pooling, dropout
    0.2 and a linear layer. MobileNeXt-1.0: 3.5M parameters and 300M
    multiply-adds at 224x224 with the head (asserted in the tests).

    Args:
        widen_factor (float): channel multiplier (channels rounded to
            multiples of 8).
        out_indices (int | Sequence[int]): stages to output (0-7); the
            default (1, 2, 4, 7) gives strides 4/8/16/32.
        frozen_stages (int): -1 none, 0 the stem, k the stem + stages 0..k-1.
        norm_eval (bool): keep BatchNorms in eval mode while training.
        identity_ratio (float): see :class:`SandGlass`.
        norm_cfg, act_cfg (dict): norms and activations.
        with_cp (bool): activation checkpointing in every block.
        num_classes (int): classifier classes; 0 for none.
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained',
            checkpoint=...)``.

    Example:
        >>> import torch
        >>> from mmplug.models import MobileNeXt
        >>> model = MobileNeXt().eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 96))]
        [(1, 144, 16, 24), (1, 192, 8, 12), (1, 384, 4, 6), (1, 1280, 2, 3)]
    """
    arch_setting = [[2, 96, 1, 2], [6, 144, 1, 1], [6, 192, 3, 2],
                    [6, 288, 3, 2], [6, 384, 4, 1], [6, 576, 4, 2],
                    [6, 960, 3, 1], [6, 1280, 1, 1]]

    def __init__(self,
                 widen_factor: float = 1.0,
                 out_indices: Union[int, Sequence[int]] = (1, 2, 4, 7),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 identity_ratio: float = 1.0,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU6'),
                 with_cp: bool = False,
                 num_classes: int = 0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        num_stages = len(self.arch_setting)
        self.out_indices = normalize_out_indices(out_indices, num_stages)
        channels = make_divisible(32 * widen_factor, 8)
        self.stem = ConvModule(3, channels, 3, stride=2, padding=1,
                               norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.embed_dims: List[int] = []
        self.stages = nn.ModuleList()
        for t, c, n, s in self.arch_setting:
            out = make_divisible(c * widen_factor, 8)
            self.stages.append(nn.Sequential(*(
                SandGlass(channels if i == 0 else out, out,
                          s if i == 0 else 1, t, identity_ratio,
                          norm_cfg=norm_cfg, act_cfg=act_cfg,
                          with_cp=with_cp) for i in range(n))))
            self.embed_dims.append(out)
            channels = out
        if num_classes > 0:
            self.dropout = nn.Dropout(0.2)
        self._build_classifier(channels, num_classes)
        self._setup_freezing(frozen_stages, norm_eval, num_stages)

    def stage_outputs(self, x: Tensor):
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
            yield x

    def _classify(self, last: Tensor) -> Tensor:
        return self.fc(self.dropout(last.mean(dim=(2, 3))))

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

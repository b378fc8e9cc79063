"""SCSC-ResNet: the official "CBTNet", a ResNet of SCSC residual units.

Paper: Wang et al., SCSC (ICCV 2023 Workshops,
https://arxiv.org/abs/2308.07110). Written from the paper and notes on the
official ``cbtnet.py`` (megvii-research/SCSC); parameter names and shapes
equal the official ``cbtnet50``/``cbtnet101`` state dicts. The official
forward cannot run (it loops over ``self.patch_sizes``, never set); this one
does, at any input size.
"""
from typing import Iterator, Optional, Sequence, Union

import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath
from torch import Tensor, nn

from mmplug.models.layers.scsc import SCSC
from mmplug.models.utils.backbone import (ResNetFamilyBackbone,
                                          normalize_out_indices)
from mmplug.registry import MODELS


class SCSCUnit(SCSC):
    """SCSC residual unit: ``SCSC(x) + shortcut(x)``, no activation after
    the sum (as the official ``CNN_Trans_block``). The SCSC parameters sit
    directly in the unit (``layer1.0.reduction_c.weight`` ...), the branch
    convs nested (``layers.{i}.0``); a projection shortcut is
    ``downsample.0/1`` (conv 1x1 strided + BN).

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        kernel_sizes (Sequence[int]): the SCSC branches.
        stride (int): 1 or 2.
        norm_cfg (dict): the BatchNorms.
        drop_path (float): stochastic depth of the SCSC branch.
        with_cp (bool): activation checkpointing.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_sizes: Sequence[int],
                 stride: int = 1,
                 norm_cfg: Optional[dict] = None,
                 drop_path: float = 0.,
                 with_cp: bool = False):
        super().__init__(in_channels, out_channels, kernel_sizes, stride,
                         nested_branches=True, norm_cfg=norm_cfg)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                build_norm_layer(norm_cfg or dict(type='BN'),
                                 out_channels)[1])
        self.drop_path = DropPath(drop_path) if drop_path > 0 else \
            nn.Identity()
        self.with_cp = with_cp

    def _inner_forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return identity + self.drop_path(super().forward(x))

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s))."""
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._inner_forward, x, use_reentrant=False)
        return self._inner_forward(x)


@MODELS.register_module()
class SCSCResNet(ResNetFamilyBackbone):
    """SCSC-ResNet backbone (the official CBTNet).

    Stem: conv 3x3 stride 2 to 96 channels, BN, ReLU, no max-pool. Four
    stages of :class:`SCSCUnit`, each starting with stride 2 (strides 4, 8,
    16, 32), widths 96/192/384/512 x expansion 3 = 288/576/1152/1536
    channels, SCSC kernel sets (3, 9, 13), (3, 7, 11), (3, 5, 7), (3, 5).

    Args:
        depth (int): 50 (depths 3/5/12/3) or 101 (3/4/23/3).
        in_channels (int): input channels. Defaults to 3.
        out_indices (int | Sequence[int]): stages to output.
        drop_path_rate (float): stochastic depth over all units (the official
            model has none: default 0).
        frozen_stages (int): -1 none, 0 the stem, k the stem + stages 1..k.
        norm_cfg (dict): the BatchNorms (``SyncBN`` in detection configs).
        norm_eval (bool): keep BatchNorms in eval mode while training.
        with_cp (bool): activation checkpointing in every unit.
        zero_init_residual (bool): zero each unit's ``bn3`` weight in
            :meth:`init_from_scratch` (official default: False).
        num_classes (int): classifier classes (``fc``); 0 for none.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=...)``;
            official ``cbtnet50``/``cbtnet101`` state dicts load as they are.

    Example:
        >>> import torch
        >>> from mmplug.models import SCSCResNet
        >>> model = SCSCResNet(depth=50).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 97, 131))]
        [(1, 288, 25, 33), (1, 576, 13, 17), (1, 1152, 7, 9), (1, 1536, 4, 5)]
    """
    arch_settings = {50: (3, 5, 12, 3), 101: (3, 4, 23, 3)}
    arch_name = 'SCSC-ResNet'
    widths = (96, 192, 384, 512)
    expansion = 3
    kernel_sizes = ((3, 9, 13), (3, 7, 11), (3, 5, 7), (3, 5))
    out_strides = (4, 8, 16, 32)
    num_stages = 4

    def __init__(self,
                 depth: int = 50,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_cfg: Optional[dict] = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = False,
                 num_classes: int = 0,
                 depths: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.depths = depths = self._stage_depths(depth, depths)
        self.out_indices = normalize_out_indices(out_indices, self.num_stages)
        self.zero_init_residual = zero_init_residual
        norm_cfg = dict(norm_cfg or dict(type='BN'))
        self.conv1 = nn.Conv2d(in_channels, 96, 3, 2, 1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, 96)[1]
        self.relu = nn.ReLU(inplace=True)
        dpr = [drop_path_rate * i / max(sum(depths) - 1, 1)
               for i in range(sum(depths))]
        channels, self.embed_dims = 96, []
        for i, depth_i in enumerate(self.depths):
            out = self.widths[i] * self.expansion
            units = []
            for j in range(depth_i):
                units.append(SCSCUnit(
                    channels, out, self.kernel_sizes[i], 2 if j == 0 else 1,
                    norm_cfg, dpr[sum(self.depths[:i]) + j], with_cp))
                channels = out
            self.add_module(f'layer{i + 1}', nn.Sequential(*units))
            self.embed_dims.append(out)
        self._build_classifier(channels, num_classes)
        self._setup_freezing(frozen_stages, norm_eval, self.num_stages)

    def init_from_scratch(self) -> None:
        """The official initialisation: torchvision's, PyTorch defaults for
        linear layers; optionally zero ``bn3`` weights."""
        super().init_from_scratch()
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()
            elif isinstance(m, SCSCUnit) and self.zero_init_residual:
                nn.init.zeros_(m.bn3.weight)

    def stage_outputs(self, x: Tensor) -> Iterator[Tensor]:
        """Yield the outputs of ``layer1..4``: C_i = 288, 576, 1152, 1536,
        H_i = ceil(H / stride_i)."""
        x = self.relu(self.bn1(self.conv1(x)))
        for i in range(self.num_stages):
            x = getattr(self, f'layer{i + 1}')(x)
            yield x

"""SCSC-ResNet: the official "CBTNet", a ResNet of SCSC residual units.

Paper: Wang et al., SCSC (ICCV 2023 Workshops,
https://arxiv.org/abs/2308.07110). Written from the paper and notes on the
official ``cbtnet.py`` (megvii-research/SCSC); parameter names and shapes
equal the official ``cbtnet50``/``cbtnet101`` state dicts. The official
forward cannot run (it loops over ``self.patch_sizes``, never set); this one
does, at any input size.
"""
from typing import Optional, Sequence, Tuple, Union

from mmcv.cnn.bricks import DropPath
from torch import Tensor, nn

from mmplug.models.layers.scsc import SCSC
from mmplug.models.utils.backbone import checkpoint_if
from mmplug.models.utils.resnet import ResNetBackbone, make_shortcut
from mmplug.registry import MODELS


class SCSCUnit(SCSC):
    """SCSC residual unit: ``SCSC(x) + shortcut(x)``, no activation after
    the sum (as the official ``CNN_Trans_block``). The SCSC parameters sit
    directly in the unit (``layer1.0.reduction_c.weight`` ...), the branch
    convs nested (``layers.{i}.0``); a projection shortcut is
    ``downsample.0/1`` (conv 1x1 strided + BN).

    Args:
        in_channels, out_channels (int): channels.
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
        norm_cfg = norm_cfg or dict(type='BN')
        super().__init__(in_channels, out_channels, kernel_sizes, stride,
                         nested_branches=True, norm_cfg=norm_cfg)
        self.downsample = make_shortcut('conv', in_channels, out_channels,
                                        stride, norm_cfg)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else \
            nn.Identity()
        self.with_cp = with_cp

    def _inner_forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return identity + self.drop_path(super().forward(x))

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s))."""
        return checkpoint_if(self.with_cp, self._inner_forward, x)


@MODELS.register_module()
class SCSCResNet(ResNetBackbone):
    """SCSC-ResNet backbone (the official CBTNet).

    Stem: conv 3x3 stride 2 to 96 channels, BN, ReLU, no max-pool. Four
    stages of :class:`SCSCUnit`, each starting with stride 2 (strides 4, 8,
    16, 32), widths 96/192/384/512 x expansion 3 = 288/576/1152/1536
    channels, SCSC kernel sets (3, 9, 13), (3, 7, 11), (3, 5, 7), (3, 5).

    Args:
        arch (str | int | dict, optional): ``50`` (default; depths
            3/5/12/3) or ``101`` (3/4/23/3), or a dict with ``depths`` (and
            optionally ``widths`` and ``kernel_sizes`` per stage);
            ``depth``/``depths`` are accepted too.
        drop_path_rate (float): stochastic depth over all units (the official
            model has none: default 0).
        zero_init_residual (bool): zero each unit's ``bn3`` weight in
            :meth:`init_from_scratch` (official default: False).
        **kwargs: :class:`ResNetBackbone`'s arguments (``norm_cfg`` is
            ``SyncBN`` in detection configs). With ``init_cfg=dict(
            type='Pretrained', checkpoint=...)`` official
            ``cbtnet50``/``cbtnet101`` state dicts load as they are.

    Example:
        >>> import torch
        >>> from mmplug.models import SCSCResNet
        >>> model = SCSCResNet(depth=50).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 97, 131))]
        [(1, 288, 25, 33), (1, 576, 13, 17), (1, 1152, 7, 9), (1, 1536, 4, 5)]
    """
    arch_zoo = {'50': dict(depths=(3, 5, 12, 3)),
                '101': dict(depths=(3, 4, 23, 3))}
    arch_defaults = dict(widths=(96, 192, 384, 512),
                         kernel_sizes=((3, 9, 13), (3, 7, 11), (3, 5, 7),
                                       (3, 5)))
    stage_keys = ('depths', 'widths', 'kernel_sizes')
    arch_name = 'SCSC-ResNet'
    stem_channels = 96
    stem_kernel = 3
    stem_pool = False
    expansion = 3

    def __init__(self,
                 arch: Union[str, int, dict, None] = None,
                 drop_path_rate: float = 0.,
                 zero_init_residual: bool = False,
                 **kwargs):
        super().__init__(arch, **kwargs)
        self.zero_init_residual = zero_init_residual
        total = sum(self.arch['depths'])
        self.drop_path_rates = [drop_path_rate * i / max(total - 1, 1)
                                for i in range(total)]
        self._build()

    def stage_widths(self, stage: int) -> Tuple[int, int]:
        """The SCSC units have no middle width: (output, output)."""
        out = self.arch['widths'][stage] * self.expansion
        return out, out

    def make_block(self, stage: int, index: int, in_channels: int,
                   mid_channels: int, out_channels: int,
                   stride: int) -> nn.Module:
        return SCSCUnit(
            in_channels, out_channels, self.arch['kernel_sizes'][stage],
            stride, self.norm_cfg,
            self.drop_path_rates[sum(self.arch['depths'][:stage]) + index],
            self.with_cp)

    def init_from_scratch(self) -> None:
        """The official initialisation: torchvision's, PyTorch defaults for
        linear layers; optionally zero ``bn3`` weights."""
        super().init_from_scratch()
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()
            elif isinstance(m, SCSCUnit) and self.zero_init_residual:
                nn.init.zeros_(m.bn3.weight)

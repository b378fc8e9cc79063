"""SCSC-Swin: Swin-T's layout with the window attention replaced by SCSC.

Paper: Wang et al., SCSC (ICCV 2023 Workshops,
https://arxiv.org/abs/2308.07110). Written from the paper and notes on the
official ``scsc_swin.py`` (megvii-research/SCSC); parameter names equal the
official ``SCSC_Swin``'s, so its state dicts load. Unlike the official model
(which asserts 224x224 inputs) H and W are taken at run time.
"""
from functools import partial
from typing import Iterator, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmengine.model.weight_init import trunc_normal_
from torch import Tensor, nn

from mmplug.models.layers.norm import build_norm2d
from mmplug.models.layers.scsc import SCSC
from mmplug.models.utils.arch import parse_arch
from mmplug.models.utils.backbone import BaseBackbone, checkpoint_if
from mmplug.registry import MODELS


class Mlp(nn.Module):
    """``fc2(GELU(fc1(x)))`` on channels-last tokens."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        """(..., C) -> (..., C)."""
        return self.fc2(self.act(self.fc1(x)))


class SpatialBlock(nn.Module):
    """``x + dp(SCSC(x))``, then ``x + dp(MLP(BN(x)))``: no norm before the
    SCSC, BatchNorm (``bn``) before the MLP, as the official block.

    Args:
        dim (int): channels.
        kernel_sizes (Sequence[int]): the SCSC branches.
        mlp_ratio (float): MLP hidden width over ``dim``.
        drop_path (float): stochastic depth rate.
        norm_cfg (dict): the BatchNorms.
        with_cp (bool): activation checkpointing.
    """

    def __init__(self, dim: int, kernel_sizes: Sequence[int],
                 mlp_ratio: float = 4., drop_path: float = 0.,
                 norm_cfg: Optional[dict] = None, with_cp: bool = False):
        super().__init__()
        self.attn2conv = SCSC(dim, dim, kernel_sizes, recover_act=False,
                              norm_cfg=norm_cfg)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else \
            nn.Identity()
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.bn = build_norm_layer(norm_cfg or dict(type='BN'), dim)[1]
        self.with_cp = with_cp

    def _inner_forward(self, x: Tensor) -> Tensor:
        x = x + self.drop_path(self.attn2conv(x))
        y = self.mlp(self.bn(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return x + self.drop_path(y)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        return checkpoint_if(self.with_cp, self._inner_forward, x)


class PatchEmbed(nn.Module):
    """Conv 4x4 stride 4 + norm (a LayerNorm over channels by default); the
    input is zero-padded bottom/right to a multiple of 4."""

    def __init__(self, in_channels: int, dim: int,
                 norm_cfg: dict = dict(type='LN2d')):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, 4, 4)
        self.norm = build_norm2d(norm_cfg, dim)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, C, ceil(H / 4), ceil(W / 4))."""
        x = self.proj(F.pad(x, (0, -x.shape[-1] % 4, 0, -x.shape[-2] % 4)))
        return self.norm(x)


class PatchMerging(nn.Module):
    """Swin's 2x2 merging: gather (0,0), (1,0), (0,1), (1,1), norm(4C) (a
    LayerNorm over channels by default), Linear 4C -> 2C (no bias); odd
    sizes are zero-padded first."""

    def __init__(self, dim: int, norm_cfg: dict = dict(type='LN2d')):
        super().__init__()
        self.norm = build_norm2d(norm_cfg, 4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, 2C, ceil(H / 2), ceil(W / 2))."""
        x = F.pad(x, (0, x.shape[-1] % 2, 0, x.shape[-2] % 2))
        x = torch.cat([x[..., 0::2, 0::2], x[..., 1::2, 0::2],
                       x[..., 0::2, 1::2], x[..., 1::2, 1::2]], dim=1)
        x = self.norm(x).permute(0, 2, 3, 1)
        return self.reduction(x).permute(0, 3, 1, 2)


class Stage(nn.Module):
    """``blocks`` then, except for the last stage, ``downsample``."""

    def __init__(self, blocks: List[nn.Module],
                 downsample: Optional[nn.Module]):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = downsample


@MODELS.register_module()
class SCSCSwin(BaseBackbone):
    """SCSC-Swin backbone.

    Swin-T's layout (patch embedding 4x4, widths 96/192/384/768, depths
    2/2/6/2, patch merging between stages) with :class:`SpatialBlock`: SCSC
    (kernel sets (3, 9, 13), (3, 7, 11), (3, 5, 7), (3, 5)) instead of
    window attention, BatchNorm before the MLP. Each output stage ``i`` has a
    LayerNorm ``norm{i}`` (as mmdet's Swin), applied to the stage's blocks'
    output before its patch merging. The LayerNorms on the identity path
    (patch embedding, patch mergings, outputs) can be BatchNorms instead
    (``embed_norm_cfg``): the demo configs train that way from scratch on
    the small synthetic demo data, where the LayerNorm model learns in the
    demo UPerNet but not in the demo Mask R-CNN.

    Args:
        arch (str | dict): ``'t'``/``'tiny'`` (default) or a dict with
            ``embed_dims`` (stage-1 width), ``depths`` and ``kernel_sizes``
            (per stage), optionally ``mlp_ratio`` (default 4).
        embed_dims, depths, kernel_sizes, mlp_ratio (optional): override
            the arch's.
        drop_path_rate (float): stochastic depth, linearly increasing.
            Defaults to 0.1 (official).
        norm_cfg (dict): the blocks' BatchNorms (``SyncBN`` in detection
            configs).
        embed_norm_cfg (dict): the norms of the patch embedding, the patch
            mergings and the outputs: the official LayerNorms over channels
            (default, ``dict(type='LN2d')``, eps 1e-5), or for example
            ``dict(type='BN')``; the classifier head keeps its LayerNorm.
        **kwargs: the backbone contract (``in_channels``, ``out_indices``,
            ``frozen_stages``, ``norm_eval``, ``with_cp``, ``num_classes``,
            ``pretrained``, ``init_cfg``: :class:`BaseBackbone`); the head
            is ``norm`` + ``head``; official ``SCSC_Swin`` state dicts load
            as they are.

    Example:
        >>> import torch
        >>> from mmplug.models import SCSCSwin
        >>> model = SCSCSwin().eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 97, 131))]
        [(1, 96, 25, 33), (1, 192, 13, 17), (1, 384, 7, 9), (1, 768, 4, 5)]
    """
    arch_zoo = {
        **dict.fromkeys(['t', 'tiny'], dict(
            embed_dims=96, depths=(2, 2, 6, 2),
            kernel_sizes=((3, 9, 13), (3, 7, 11), (3, 5, 7), (3, 5)))),
    }
    essential_keys = {'embed_dims', 'depths', 'kernel_sizes'}

    def __init__(self,
                 arch: Union[str, dict] = 'tiny',
                 embed_dims: Optional[int] = None,
                 depths: Optional[Sequence[int]] = None,
                 kernel_sizes: Optional[Sequence[Sequence[int]]] = None,
                 mlp_ratio: Optional[float] = None,
                 drop_path_rate: float = 0.1,
                 norm_cfg: Optional[dict] = None,
                 embed_norm_cfg: dict = dict(type='LN2d'),
                 **kwargs):
        super().__init__(**kwargs)
        overrides = dict(embed_dims=embed_dims, depths=depths,
                         kernel_sizes=kernel_sizes, mlp_ratio=mlp_ratio)
        if isinstance(arch, str):
            arch = dict(parse_arch(arch, self.arch_zoo, self.essential_keys,
                                   'SCSC-Swin'))
        arch = dict(arch, **{k: v for k, v in overrides.items()
                             if v is not None})
        self.arch = parse_arch(arch, self.arch_zoo, self.essential_keys,
                               'SCSC-Swin', dict(mlp_ratio=4.),
                               ('depths', 'kernel_sizes'))
        depths, kernel_sizes = self.arch['depths'], self.arch['kernel_sizes']
        self._set_stages(len(depths))
        self.stage_channels = [self.arch['embed_dims'] * 2**i
                               for i in range(self.num_stages)]
        self.stage_strides = [4 * 2**i for i in range(self.num_stages)]
        self.patch_embed = PatchEmbed(self.in_channels,
                                      self.arch['embed_dims'], embed_norm_cfg)
        dpr = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.layers = nn.ModuleList()
        for i, dim in enumerate(self.stage_channels):
            blocks = [
                SpatialBlock(dim, kernel_sizes[i], self.arch['mlp_ratio'],
                             dpr[sum(depths[:i]) + j], norm_cfg,
                             self.with_cp)
                for j in range(depths[i])
            ]
            self.layers.append(Stage(
                blocks,
                PatchMerging(dim, embed_norm_cfg)
                if i < self.num_stages - 1 else None))
        self._add_out_norms(partial(build_norm2d, embed_norm_cfg))
        self._build_classifier(self.stage_channels[-1], name='head',
                               norm=nn.LayerNorm, norm_before_pool=True)
        self._setup_freezing()

    def _frozen_modules(self, frozen_stages: int) -> List[nn.Module]:
        modules = [self.patch_embed]
        for i in range(frozen_stages):
            modules.append(self.layers[i])
            if i in self.out_norm_names:
                modules.append(getattr(self, self.out_norm_names[i]))
        return modules

    def init_from_scratch(self) -> None:
        """The official initialisation: truncated normal (std 0.02) linear
        weights with zero biases, LayerNorm 1/0, PyTorch defaults for convs
        and BatchNorms."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def stage_outputs(self, x: Tensor) -> Iterator[Tensor]:
        """Yield each stage's blocks' output (N, 96 * 2**i, H_i, W_i), before
        its patch merging; :meth:`forward` returns those of ``out_indices``
        through ``norm{i}``."""
        x = self.patch_embed(x)
        for stage in self.layers:
            for block in stage.blocks:
                x = block(x)
            yield x
            if stage.downsample is not None:
                x = stage.downsample(x)

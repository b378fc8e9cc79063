"""SMT: Scale-Aware Modulation Meet Transformer, as a dense backbone.

Paper: Lin et al., ICCV 2023 (https://arxiv.org/abs/2307.08579). Written
from the paper and notes on the official code (https://github.com/AFeng-x/SMT);
parameter names and shapes equal the official ImageNet checkpoints
(``smt_tiny.pth`` ... ``smt_large_*.pth``), which load as they are.
"""
import math
import re
from typing import Dict, Iterator, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmengine.model.weight_init import trunc_normal_
from torch import Tensor, nn

from mmplug.models.layers.smt_mixers import (GlobalAttention,
                                             ScaleAwareModulation,
                                             map_to_tokens, tokens_to_map)
from mmplug.models.utils.arch import count_indices, parse_arch
from mmplug.models.utils.backbone import BaseBackbone, checkpoint_if
from mmplug.registry import MODELS


class DWConv(nn.Module):
    """3x3 depthwise conv on tokens (the official ``mlp.dwconv.dwconv``)."""

    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)

    def forward(self, x: Tensor, hw: tuple, identity: bool = False) -> Tensor:
        """(N, L, C) -> (N, L, C); ``identity=True`` returns ``x +
        dwconv(x)``, computed as one conv whose kernels' centres are 1
        higher (one pass over the widest map of the block instead of two).
        """
        weight = self.dwconv.weight
        if identity and torch.onnx.is_in_onnx_export():
            # ONNX's Conv takes a kernel that is an initializer, not one
            # computed in the graph
            return x + map_to_tokens(self.dwconv(tokens_to_map(x, hw)))
        if identity:
            weight = weight + F.pad(weight.new_ones(1, 1, 1, 1), (1, 1, 1, 1))
        return map_to_tokens(F.conv2d(tokens_to_map(x, hw), weight,
                                      self.dwconv.bias, padding=1,
                                      groups=self.dwconv.groups))


class Mlp(nn.Module):
    """``fc2(GELU(h + DWConv(h)))`` with ``h = fc1(x)``: note the residual
    inside the activation (folded into the conv, :class:`DWConv`)."""

    def __init__(self, dim: int, hidden_dim: int, drop: float = 0.):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.dwconv = DWConv(hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: Tensor, hw: tuple) -> Tensor:
        """(N, L, C) -> (N, L, C)."""
        h = self.drop(self.act(self.dwconv(self.fc1(x), hw, identity=True)))
        return self.drop(self.fc2(h))


class SMTBlock(nn.Module):
    """Pre-norm block: ``x + dp(g1 * mixer(norm1(x)))``, then the MLP.

    Args:
        dim (int): channels.
        mixer (nn.Module): :class:`ScaleAwareModulation` or
            :class:`GlobalAttention`.
        mlp_ratio (float): MLP hidden width over ``dim``.
        drop (float): dropout in the MLP.
        drop_path (float): stochastic depth rate of this block.
        layer_scale_init_value (float): initial value of the per-channel
            scales ``gamma_1``/``gamma_2``; 0 disables them.
        with_cp (bool): activation checkpointing.
    """

    def __init__(self,
                 dim: int,
                 mixer: nn.Module,
                 mlp_ratio: float,
                 drop: float = 0.,
                 drop_path: float = 0.,
                 layer_scale_init_value: float = 0.,
                 with_cp: bool = False):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = mixer
        self.drop_path = DropPath(drop_path) if drop_path > 0 else \
            nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)
        if layer_scale_init_value > 0:
            self.gamma_1 = nn.Parameter(layer_scale_init_value *
                                        torch.ones(dim))
            self.gamma_2 = nn.Parameter(layer_scale_init_value *
                                        torch.ones(dim))
        else:  # no layer scale (and no multiplication by 1)
            self.gamma_1 = self.gamma_2 = None
        self.with_cp = with_cp

    @staticmethod
    def _scale(x: Tensor, gamma: Optional[Tensor]) -> Tensor:
        return x if gamma is None else gamma * x

    def forward(self, x: Tensor, hw: tuple) -> Tensor:
        """(N, L, C) -> (N, L, C), L = H * W of ``hw``."""

        def _inner_forward(x):
            x = x + self.drop_path(
                self._scale(self.attn(self.norm1(x), hw), self.gamma_1))
            return x + self.drop_path(
                self._scale(self.mlp(self.norm2(x), hw), self.gamma_2))

        return checkpoint_if(self.with_cp, _inner_forward, x)


class Stem(nn.Module):
    """Stride-4 stem: conv(k, s2) + BN + ReLU, conv 2x2 s2, LayerNorm.

    Odd sizes after the first conv are padded (bottom/right) so that the
    output is ``ceil(H / 4) x ceil(W / 4)``.
    """

    def __init__(self, in_channels: int, dim: int, kernel_size: int,
                 norm_cfg: dict):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, dim, kernel_size, 2, kernel_size // 2,
                      bias=False),
            build_norm_layer(norm_cfg, dim)[1], nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, 2, 2))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor) -> Tuple[Tensor, tuple]:
        """(N, 3, H, W) -> tokens (N, L, C) and their (H/4, W/4), rounded
        up."""
        # channels_last throughout: the tokens are a view of the last map
        x = self.conv[:3](x.contiguous(memory_format=torch.channels_last))
        x = F.pad(x, (0, x.shape[-1] % 2, 0, x.shape[-2] % 2))
        x = self.conv[3](x)
        return self.norm(map_to_tokens(x)), tuple(x.shape[-2:])


class PatchEmbed(nn.Module):
    """Stride-2 downsampling: conv 3x3 s2 (pad 1) + LayerNorm; an odd side
    rounds up."""

    def __init__(self, in_channels: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, 3, 2, 1)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor) -> Tuple[Tensor, tuple]:
        """(N, C_in, H, W) -> tokens (N, L, C) and (ceil(H/2), ceil(W/2))."""
        x = self.proj(x)
        return self.norm(map_to_tokens(x)), tuple(x.shape[-2:])


def convert_smt(state_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Official SMT keys (classification, mmdet-2.x, mmseg-0.x) -> ours.

    The classification release already uses our names. The official det/seg
    backbones renamed the MSA depthwise conv ``attn.local_conv`` to
    ``attn.dw_conv`` (so their released ImageNet weights silently did not
    load there); map it back.

    Args:
        state_dict (dict): official keys (without a ``backbone.`` prefix).

    Returns:
        dict: a new dict with mmplug's keys.
    """
    return {re.sub(r'\.attn\.dw_conv\.', '.attn.local_conv.', k): v
            for k, v in state_dict.items()}


def infer_smt_arch(state_dict: Dict[str, Tensor]) -> dict:
    """The ``arch`` dict of an SMT state dict (ours or official, after
    :func:`convert_smt`): widths, depths, MLP ratios, stem kernel, heads
    and layer scale, read from the keys and shapes.

    Raises:
        ValueError: the keys are not those of a 4-stage SMT.
    """
    depths = []
    for stage in range(1, 5):
        blocks = count_indices(state_dict, rf'block{stage}\.(\d+)\.')
        if not blocks or f'norm{stage}.weight' not in state_dict:
            raise ValueError(f'not an SMT state dict: no block{stage}.* or '
                             f'norm{stage}.weight')
        depths.append(blocks)
    dims = [state_dict[f'norm{i}.weight'].shape[0] for i in range(1, 5)]
    ratios = [
        state_dict[f'block{i + 1}.0.mlp.fc1.weight'].shape[0] / dims[i]
        for i in range(4)
    ]
    return dict(
        embed_dims=dims, depths=depths,
        mlp_ratios=[int(r) if r == int(r) else r for r in ratios],
        stem_kernel=state_dict['patch_embed1.conv.0.weight'].shape[-1],
        msa_heads=[-1, -1, 8, 16],
        layer_scale='block1.0.gamma_1' in state_dict)


@MODELS.register_module()
class SMT(BaseBackbone):
    """SMT backbone (Scale-Aware Modulation Meet Transformer).

    Four stages at strides 4, 8, 16, 32. Stages 1-2 use Scale-Aware
    Modulation (SAM), stage 3 alternates SAM and global multi-head
    self-attention (MSA) starting with SAM, stage 4 uses MSA (the paper's
    evolutionary hybrid network). Each stage ends with a LayerNorm
    ``norm{i}``, whose output is the stage's feature map.

    Modified from the official classification model (AFeng-x/SMT) with what
    dense prediction needs: ``out_indices``, ``frozen_stages``,
    ``norm_eval`` (the BatchNorms of the stem and of SAM), ``with_cp``, real
    stochastic depth, and any input size. ``num_classes > 0`` adds the
    ImageNet classifier ``head`` (for :meth:`forward_classifier`, the
    official logits, and to load or count the full classification model).

    Args:
        arch (str | dict): ``'tiny'``/``'t'``, ``'small'``/``'s'``,
            ``'base'``/``'b'``, ``'large'``/``'l'``, or a dict with
            :attr:`essential_keys` (optionally ``sam_heads``, ``msa_heads``,
            ``expand_ratio``, ``layer_scale``).
        drop_rate (float): dropout in MLPs and after projections.
        attn_drop_rate (float): attention dropout.
        drop_path_rate (float): stochastic depth, linearly increasing over
            all blocks. Defaults to 0.1.
        layer_scale_init_value (float): initial layer scale of archs with
            ``layer_scale`` (L). Defaults to 1e-4.
        norm_cfg (dict): the BatchNorms (stem and SAM). Defaults to BN.
        **kwargs: the backbone contract (``in_channels``, ``out_indices``,
            ``frozen_stages``, ``norm_eval``, ``with_cp``, ``num_classes``,
            ``pretrained``, ``init_cfg``: :class:`BaseBackbone`); official
            checkpoints (``smt_small.pth``) load as they are, official
            det/seg names are mapped (:func:`convert_smt`).

    Example:
        >>> import torch
        >>> from mmplug.models import SMT
        >>> model = SMT(arch=dict(embed_dims=[16, 32, 64, 128],
        ...                       depths=[1, 1, 2, 1], mlp_ratios=[2] * 4,
        ...                       stem_kernel=3, msa_heads=[-1, -1, 2, 4]))
        >>> [tuple(o.shape) for o in model.eval()(torch.rand(1, 3, 97, 131))]
        [(1, 16, 25, 33), (1, 32, 13, 17), (1, 64, 7, 9), (1, 128, 4, 5)]
    """
    arch_zoo = {
        **dict.fromkeys(['t', 'tiny'], dict(
            embed_dims=[64, 128, 256, 512], depths=[2, 2, 8, 1],
            mlp_ratios=[4, 4, 4, 2], stem_kernel=3)),
        **dict.fromkeys(['s', 'small'], dict(
            embed_dims=[64, 128, 256, 512], depths=[3, 4, 18, 2],
            mlp_ratios=[4, 4, 4, 2], stem_kernel=3)),
        **dict.fromkeys(['b', 'base'], dict(
            embed_dims=[64, 128, 256, 512], depths=[4, 6, 28, 2],
            mlp_ratios=[8, 6, 4, 2], stem_kernel=7)),
        **dict.fromkeys(['l', 'large'], dict(
            embed_dims=[96, 192, 384, 768], depths=[4, 6, 28, 4],
            mlp_ratios=[8, 6, 4, 2], stem_kernel=7, layer_scale=True)),
    }
    essential_keys = {'embed_dims', 'depths', 'mlp_ratios', 'stem_kernel'}
    arch_defaults = dict(sam_heads=4, msa_heads=[-1, -1, 8, 16],
                         expand_ratio=2, layer_scale=False)
    #: the paper's four stages (the mixer rule of :meth:`_mixer`)
    num_stages = 4

    def __init__(self,
                 arch: Union[str, dict] = 'tiny',
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.1,
                 layer_scale_init_value: float = 1e-4,
                 norm_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.arch = parse_arch(
            arch, self.arch_zoo, self.essential_keys, 'SMT',
            self.arch_defaults, ('embed_dims', 'depths', 'mlp_ratios',
                                 'msa_heads'), num_stages=self.num_stages)
        dims, depths = self.arch['embed_dims'], self.arch['depths']
        self._set_stages(self.num_stages)
        self.embed_dims = list(dims)
        self.stage_channels = list(dims)
        self.stage_strides = [4 * 2**i for i in range(self.num_stages)]
        norm_cfg = dict(norm_cfg or dict(type='BN'))
        layer_scale = layer_scale_init_value if self.arch['layer_scale'] \
            else 0.
        dpr = torch.linspace(0, drop_path_rate, sum(depths)).tolist()

        for i in range(self.num_stages):
            if i == 0:
                embed = Stem(self.in_channels, dims[0],
                             self.arch['stem_kernel'], norm_cfg)
            else:
                embed = PatchEmbed(dims[i - 1], dims[i])
            blocks = nn.ModuleList(
                SMTBlock(dims[i], self._mixer(i, j, dims[i], drop_rate,
                                              attn_drop_rate, norm_cfg),
                         self.arch['mlp_ratios'][i], drop_rate,
                         dpr[sum(depths[:i]) + j], layer_scale, self.with_cp)
                for j in range(depths[i]))
            setattr(self, f'patch_embed{i + 1}', embed)
            setattr(self, f'block{i + 1}', blocks)
            setattr(self, f'norm{i + 1}', nn.LayerNorm(dims[i], eps=1e-6))
        self._build_classifier(dims[-1], name='head')
        self._setup_freezing()

    def _mixer(self, stage: int, index: int, dim: int, drop: float,
               attn_drop: float, norm_cfg: dict) -> nn.Module:
        """SAM in stages 1-2 and at even indices of stage 3; else MSA."""
        if stage < 2 or (stage == 2 and index % 2 == 0):
            return ScaleAwareModulation(
                dim, self.arch['sam_heads'], self.arch['expand_ratio'],
                proj_drop=drop, norm_cfg=norm_cfg)
        return GlobalAttention(dim, self.arch['msa_heads'][stage],
                               attn_drop=attn_drop, proj_drop=drop)

    def _frozen_modules(self, frozen_stages: int) -> List[nn.Module]:
        modules = [self.patch_embed1]
        for i in range(1, frozen_stages + 1):
            modules += [getattr(self, f'block{i}'), getattr(self, f'norm{i}')]
            if i < self.num_stages:
                modules.append(getattr(self, f'patch_embed{i + 1}'))
        return modules

    def convert_state_dict(self, state_dict: Dict) -> Dict:
        return convert_smt(state_dict)

    def init_from_scratch(self) -> None:
        """The official initialisation: truncated normal (std 0.02) for
        linear layers, N(0, 2 / fan_out) with fan_out = k*k*out/groups for
        convs, zero biases, LayerNorm 1/0."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
            elif isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * \
                    m.out_channels // m.groups
                m.weight.data.normal_(0, math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
            else:
                continue
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    def stage_outputs(self, x: Tensor) -> Iterator[Tensor]:
        """Yield each stage's map after its norm ``norm{i + 1}`` (the
        official stage output, which the next stage reads): (N, C_i, H_i,
        W_i) with H_i = ceil(H / stride_i), strides 4, 8, 16, 32."""
        for i in range(self.num_stages):
            x, hw = getattr(self, f'patch_embed{i + 1}')(x)
            for block in getattr(self, f'block{i + 1}'):
                x = block(x, hw)
            # the next stage reads the channels_last view; the neck gets a
            # contiguous map
            x = tokens_to_map(getattr(self, f'norm{i + 1}')(x), hw)
            yield x.contiguous()

"""The token mixers of SMT: Scale-Aware Modulation and global attention.

Paper: "Scale-Aware Modulation Meet Transformer", Lin et al., ICCV 2023
(https://arxiv.org/abs/2307.08579). Written from the paper and the notes on
the official code (AFeng-x/SMT); parameter names follow the official
checkpoints (``v``, ``s``, ``local_conv_{i}``, ``proj0``, ``bn``, ``proj1``,
``proj``; ``q``, ``kv``, ``local_conv``).
"""
from typing import List, Optional

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from torch import Tensor, nn


def tokens_to_map(x: Tensor, hw: tuple) -> Tensor:
    """(N, L, C) tokens to an (N, C, H, W) map, L = H * W.

    The map is a view of the tokens in channels_last memory (no copy for
    contiguous tokens): convolutions on it run in channels_last, which is
    several times faster for depthwise convs on CPU, and give channels_last
    maps that :func:`map_to_tokens` turns back into tokens for free.
    """
    n, _, c = x.shape
    return x.reshape(n, *hw, c).permute(0, 3, 1, 2)


def map_to_tokens(x: Tensor) -> Tensor:
    """(N, C, H, W) map to (N, H * W, C) tokens (a view of a channels_last
    map, a copy of another)."""
    return x.permute(0, 2, 3, 1).flatten(1, 2)


class ScaleAwareModulation(nn.Module):
    """SAM: multi-head mixed convolution + scale-aware aggregation.

    ``s(x)`` is split into ``num_heads`` channel chunks; head ``i`` runs a
    depthwise conv of kernel ``3 + 2 i`` (MHMC). The outputs are interleaved
    (channel ``k * num_heads + i`` is channel ``k`` of head ``i``), so the
    grouped 1x1 ``proj0`` (one group per within-head channel) mixes the same
    channel across all scales (SAA); BN, GELU and the 1x1 ``proj1`` give the
    modulator, which multiplies ``v(x)``.

    Args:
        dim (int): channels C.
        num_heads (int): heads (scales). Defaults to 4.
        expand_ratio (int): width of the aggregation, ``expand_ratio * C``.
            Defaults to 2.
        qkv_bias (bool): bias of ``v`` and ``s``. Defaults to True.
        proj_drop (float): dropout after ``proj``. Defaults to 0.
        norm_cfg (dict): the norm after ``proj0``. Defaults to BN.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int = 4,
                 expand_ratio: int = 2,
                 qkv_bias: bool = True,
                 proj_drop: float = 0.,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by the {num_heads} '
                             'SAM heads')
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.v = nn.Linear(dim, dim, bias=qkv_bias)
        self.s = nn.Linear(dim, dim, bias=qkv_bias)
        for i in range(num_heads):
            setattr(self, f'local_conv_{i + 1}',
                    nn.Conv2d(head_dim, head_dim, 3 + 2 * i, padding=1 + i,
                              groups=head_dim))
        self.proj0 = nn.Conv2d(dim, dim * expand_ratio, 1, groups=head_dim)
        self.bn = build_norm_layer(norm_cfg or dict(type='BN'),
                                   dim * expand_ratio)[1]
        self.act = nn.GELU()
        self.proj1 = nn.Conv2d(dim * expand_ratio, dim, 1)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def mixed_conv(self, s: Tensor) -> List[Tensor]:
        """MHMC: per-head depthwise convs.

        Args:
            s (Tensor): (N, C, H, W), head ``i`` = channels
                ``[i * C / h, (i + 1) * C / h)``.

        Returns:
            list[Tensor]: head ``i``'s (N, C / h, H, W) map (channel ``k`` of
            head ``i`` is channel ``k * h + i`` of the interleaved map).
        """
        return [getattr(self, f'local_conv_{i + 1}')(head)
                for i, head in enumerate(s.chunk(self.num_heads, dim=1))]

    def aggregate(self, heads: List[Tensor]) -> Tensor:
        """SAA: the modulator ``proj1(GELU(bn(proj0(interleaved heads))))``.

        Args:
            heads (list[Tensor]): :meth:`mixed_conv`'s maps.

        Returns:
            Tensor: tokens (N, H * W, C).
        """
        # compiled inference: the token-layout form, which inductor fuses;
        # in training its generated weight-gradient reduction is slow (SMT-S
        # compiled forward+backward at 800x1216: 12.4 s, against 4.2 s eager)
        if torch.compiler.is_compiling() and not torch.is_grad_enabled():
            return self._aggregate_tokens(heads)
        act = self.act(self.bn(self._proj0(torch.stack(heads, dim=2))))
        # proj1 as a matrix product straight into tokens (the 1x1 conv takes
        # PyTorch's slow path on CPU, and would need a copy to tokens)
        return F.linear(act.flatten(2).transpose(1, 2),
                        self.proj1.weight.flatten(1), self.proj1.bias)

    def _proj0(self, s: Tensor) -> Tensor:
        """The grouped 1x1 ``proj0`` as one batched matrix product (3x
        faster on CPU than the grouped conv, which loops over its groups).

        Args:
            s (Tensor): (N, C / h, h, H, W), the heads interleaved.

        Returns:
            Tensor: (N, C * expand_ratio, H, W).
        """
        n, groups, k, h, w = s.shape
        width = self.proj0.out_channels
        weight = self.proj0.weight.view(1, groups, width // groups, k)
        weight = weight.expand(n, -1, -1, -1).reshape(n * groups,
                                                      width // groups, k)
        out = torch.bmm(weight, s.reshape(n * groups, k, h * w))
        return out.view(n, width, h, w) + self.proj0.bias.view(1, -1, 1, 1)

    def _aggregate_tokens(self, heads: List[Tensor]) -> Tensor:
        """:meth:`aggregate` in token layout, for the compiler: the grouped
        1x1 ``proj0`` as a broadcast product and sum over the heads, which
        it fuses with the BatchNorm and GELU into one pass, then ``proj1``
        as a matrix product (the same function and parameters)."""
        n, _, h, w = heads[0].shape
        # (N, L, C / h, h): channel k * h + i of the interleaved map
        s = torch.stack([map_to_tokens(o) for o in heads], dim=-1)
        groups = self.proj0.groups
        weight = self.proj0.weight.view(groups, -1, self.num_heads)
        out = (s.unsqueeze(-2) * weight).sum(-1).flatten(2) + self.proj0.bias
        width = out.shape[-1]
        out = self.bn(out.reshape(-1, width, 1, 1)).view(n, h * w, width)
        return F.linear(self.act(out), self.proj1.weight.flatten(1),
                        self.proj1.bias)

    def forward(self, x: Tensor, hw: tuple) -> Tensor:
        """Tokens (N, L, C) of an (H, W) = ``hw`` map, L = H * W ->
        (N, L, C)."""
        v = self.v(x)
        modulator = self.aggregate(self.mixed_conv(tokens_to_map(self.s(x),
                                                                 hw)))
        return self.proj_drop(self.proj(modulator * v))


class GlobalAttention(nn.Module):
    """MSA: global multi-head self-attention plus a depthwise conv on V.

    ``out = softmax(q k^T / sqrt(d)) v + DWConv3x3(v)``, then ``proj``. The
    attention runs in :func:`torch.nn.functional.scaled_dot_product_attention`
    (fused kernels; the (L, L) matrix is not built in Python).

    Args:
        dim (int): channels C.
        num_heads (int): attention heads.
        qkv_bias (bool): bias of ``q`` and ``kv``. Defaults to True.
        attn_drop (float): dropout on the attention weights. Defaults to 0.
        proj_drop (float): dropout after ``proj``. Defaults to 0.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 qkv_bias: bool = True,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by the {num_heads} '
                             'attention heads')
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, dim * 2, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.local_conv = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: Tensor, hw: tuple) -> Tensor:
        """Tokens (N, L, C) of an (H, W) = ``hw`` map, L = H * W ->
        (N, L, C)."""
        n, length, c = x.shape
        heads, head_dim = self.num_heads, c // self.num_heads
        q = self.q(x).reshape(n, length, heads, head_dim).transpose(1, 2)
        k, v = self.kv(x).reshape(n, length, 2, heads,
                                  head_dim).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.)
        out = out.transpose(1, 2).reshape(n, length, c)
        v_map = tokens_to_map(v.transpose(1, 2).reshape(n, length, c), hw)
        out = out + map_to_tokens(self.local_conv(v_map))
        return self.proj_drop(self.proj(out))

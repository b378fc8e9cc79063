"""The three transformers of the Feature Pyramid Transformer (FPT).

Paper: Zhang et al., "Feature Pyramid Transformer", ECCV 2020
(https://arxiv.org/abs/2007.09451). Written from the paper's equations and
our notes on the official code (ZHANGDONG-NJUST/FPT), without its bugs: any
map size works (the pooled key count is the real one, not ``HW // 4``),
rendering works between non-adjacent levels, and no parameter is unused.

* :class:`SelfTransformer` (ST): non-local attention inside one level, a
  mixture of softmaxes over channel groups, keys and values from an
  average-pooled map.
* :class:`GroundingTransformer` (GT): top-down, queries from a finer level,
  keys and values from a coarser one; global, or locality-constrained (each
  query sees a window of the coarse map around its own position).
* :class:`RenderingTransformer` (RT): bottom-up, a coarser level re-weighted
  by a channel gate from the global average of a finer level, plus the finer
  level strided down to the coarser size.

Each takes and returns ``(N, C, H, W)`` maps; the output of GT and RT has
the size of the level they write into.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from torch import Tensor, nn


class SelfTransformer(nn.Module):
    """Self-Transformer: non-local attention with a mixture of softmaxes.

    ``q = k = conv_q(x)`` (shared, as the official code), ``v = conv_v``; k
    and v are computed on ``avg_pool(x)`` with stride ``kv_stride`` (kernel
    ``2 * kv_stride - 1``, so stride 2 is the official 3x3/2 pool). The
    query/key channels are split into ``n_mix`` groups; each gives
    ``A_n = softmax(q_n k_n^T / sqrt(key_channels))``; the mixture weights
    ``pi = softmax(W mean(q))`` come from the spatial mean of q. Output
    ``x + norm(conv(sum_n pi_n dropout(A_n) v))``.

    Memory: the attention maps hold ``n_mix * HW * ceil(H/s) * ceil(W/s)``
    entries for ``s = kv_stride``.

    Args:
        channels (int): C of the input and output.
        key_channels (int, optional): q/k channels (default C); divisible
            by ``n_mix``.
        n_mix (int): softmaxes in the mixture. Defaults to 2 (official FPT).
        kv_stride (int): pooling stride of keys and values (1: none).
        attn_drop (float): dropout on each attention map. Defaults to 0.1.
        share_qk (bool): one projection for queries and keys (official).
        norm_cfg (dict): norm after the output projection.
    """

    def __init__(self,
                 channels: int,
                 key_channels: Optional[int] = None,
                 n_mix: int = 2,
                 kv_stride: int = 2,
                 attn_drop: float = 0.1,
                 share_qk: bool = True,
                 norm_cfg: dict = dict(type='BN')):
        super().__init__()
        key_channels = key_channels or channels
        if key_channels % n_mix:
            raise ValueError(f'key_channels={key_channels} is not divisible '
                             f'by n_mix={n_mix}')
        if kv_stride < 1:
            raise ValueError(f'kv_stride must be >= 1, got {kv_stride}')
        self.n_mix, self.key_channels = n_mix, key_channels
        self.kv_stride, self.share_qk = kv_stride, share_qk
        self.query = nn.Conv2d(channels, key_channels, 1)
        self.key = None if share_qk else nn.Conv2d(channels, key_channels, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.mix_weight = nn.Parameter(
            torch.empty(n_mix, key_channels).uniform_(
                -n_mix**-0.5, n_mix**-0.5)) if n_mix > 1 else None
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Conv2d(channels, channels, 1, bias=False)
        self.norm = build_norm_layer(norm_cfg, channels)[1]

    def pool(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, ceil(H/s), ceil(W/s))."""
        s = self.kv_stride
        if s == 1:
            return x
        return F.avg_pool2d(x, 2 * s - 1, s, s - 1, count_include_pad=False)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        n, c, h, w = x.shape
        m, d = self.n_mix, self.key_channels // self.n_mix
        q = self.query(x).flatten(2)  # (N, Ck, HW)
        pooled = self.pool(x)
        key = self.query if self.key is None else self.key
        k = key(pooled).flatten(2)  # (N, Ck, M)
        v = self.value(pooled).flatten(2).transpose(1, 2)  # (N, M, C)
        qs = q.view(n, m, d, h * w).transpose(2, 3) \
            * self.key_channels**-0.5  # (N, m, HW, d)
        attn = (qs @ k.view(n, m, d, k.shape[2])).softmax(
            dim=-1)  # (N, m, HW, M)
        out = self.attn_drop(attn) @ v[:, None]  # (N, m, HW, C)
        if self.mix_weight is not None:
            pi = (self.mix_weight @ q.mean(dim=2, keepdim=True)).softmax(1)
            out = (out * pi[..., None]).sum(dim=1)  # (N, HW, C)
        else:
            out = out[:, 0]
        out = out.transpose(1, 2).reshape(n, c, h, w)
        return x + self.norm(self.proj(out))


class GroundingTransformer(nn.Module):
    """Grounding Transformer: a finer level attends to a coarser one.

    ``q = theta(fine)``, ``k = phi(coarse)``, ``v = g(coarse)`` (1x1 convs to
    ``inter_channels``); output ``norm(conv(y))`` at the fine size with the
    norm's weight and bias at zero, so the branch starts at 0. No residual:
    the fine level enters FPT's concatenation by itself.

    Similarity:

    * ``'euclidean'`` (the paper): ``softmax_j(-||q_i - k_j||^2 / sqrt(d))``
      (the ``||q_i||^2`` term cancels in the softmax; ``sqrt(d)`` is a
      temperature as in ST).
    * ``'dot'`` (the official code): ``q_i . k_j / n_keys``, no softmax. Its
      global form is computed as ``(v k^T) q / n`` without the attention
      map, so it costs O(HW d^2), not O(HW_fine HW_coarse).

    ``window=None`` attends to the whole coarse map. With ``window=w`` (odd)
    the query at fine position ``(y, x)`` sees the ``w x w`` coarse
    positions centred at ``(y // scale, x // scale)`` (the
    locality-constrained GT); the attention then holds ``HW_fine * w^2``
    entries and keys outside the map are masked out.

    Args:
        channels (int): C of both levels and the output.
        inter_channels (int, optional): q/k/v channels (default C // 2).
        similarity (str): ``'euclidean'`` or ``'dot'``.
        window (int, optional): local window on the coarse map (odd).
        scale (int): size ratio fine / coarse (2 ** level gap); used by the
            window only.
        norm_cfg (dict): output norm.
    """

    def __init__(self,
                 channels: int,
                 inter_channels: Optional[int] = None,
                 similarity: str = 'euclidean',
                 window: Optional[int] = None,
                 scale: int = 2,
                 norm_cfg: dict = dict(type='BN')):
        super().__init__()
        if similarity not in ('euclidean', 'dot'):
            raise ValueError(f"GT similarity must be 'euclidean' or 'dot', "
                             f'got {similarity!r}')
        if window is not None and (window < 1 or window % 2 == 0):
            raise ValueError(f'GT window must be an odd size, got {window}')
        inter_channels = inter_channels or channels // 2
        self.similarity, self.window, self.scale = similarity, window, scale
        self.theta = nn.Conv2d(channels, inter_channels, 1)
        self.phi = nn.Conv2d(channels, inter_channels, 1)
        self.g = nn.Conv2d(channels, inter_channels, 1)
        self.out_conv = nn.Conv2d(inter_channels, channels, 1)
        self.out_norm = build_norm_layer(norm_cfg, channels)[1]
        self.init_weights()

    def init_weights(self) -> None:
        """Zero output norm: the branch outputs 0 until it learns."""
        nn.init.zeros_(self.out_norm.weight)
        nn.init.zeros_(self.out_norm.bias)

    def forward(self, fine: Tensor, coarse: Tensor) -> Tensor:
        """(N, C, Hf, Wf), (N, C, Hc, Wc) -> (N, C, Hf, Wf)."""
        q, k, v = self.theta(fine), self.phi(coarse), self.g(coarse)
        if self.window is None:
            y = self._global(q, k, v)
        else:
            y = self._local(q, k, v)
        return self.out_norm(self.out_conv(y))

    def _global(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        n, d, h, w = q.shape
        q, k, v = q.flatten(2), k.flatten(2), v.flatten(2)
        if self.similarity == 'dot':  # (v k^T / n) q: no (HW x HW) map
            y = (v @ k.transpose(1, 2) / k.shape[2]) @ q
        else:
            logits = (2 * q.transpose(1, 2) @ k
                      - (k * k).sum(dim=1, keepdim=True)) * d**-0.5
            y = v @ logits.softmax(dim=-1).transpose(1, 2)
        return y.view(n, d, h, w)

    def _local(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        n, d, hf, wf = q.shape
        r, p, win = self.scale, self.window // 2, self.window
        # coarse cells the queries fall in: ceil(hf / r) written with
        # non-negative operands (an ONNX export divides traced sizes by
        # truncation, which for -(-hf // r) rounds the wrong way)
        hq, wq = (hf + r - 1) // r, (wf + r - 1) // r
        # queries as (N, d, r, r, hq, wq): fine (y, x) sits in cell
        # (y // r, x // r); keys padded (or cropped) to hq x wq plus a halo
        q = F.pad(q, (0, wq * r - wf, 0, hq * r - hf)).view(
            n, d, hq, r, wq, r).permute(0, 1, 3, 5, 2, 4).contiguous()
        hc, wc = k.shape[2:]
        if hq - hc > p or wq - wc > p:
            raise ValueError(
                f'GT window {win}: fine map {(hf, wf)} / {r} needs a coarse '
                f'map of at least {(hq - p, wq - p)}, got {(hc, wc)}')
        pad = (p, p + wq - wc, p, p + hq - hc)
        k, v = F.pad(k, pad), F.pad(v, pad)
        valid = F.pad(k.new_ones(1, 1, hc, wc), pad)

        def at(t: Tensor, dy: int, dx: int) -> Tensor:
            # the map shifted by the window offset, broadcast over the cell
            return t[:, :, None, None, dy:dy + hq, dx:dx + wq]

        offsets = [(dy, dx) for dy in range(win) for dx in range(win)]
        if self.similarity == 'euclidean':
            k_sq = (k * k).sum(dim=1, keepdim=True)
            logits = torch.stack([
                2 * (q * at(k, dy, dx)).sum(dim=1) - at(k_sq, dy, dx)[:, 0]
                for dy, dx in offsets], dim=1) * d**-0.5
            masked = torch.stack([at(valid, dy, dx)[:, 0]
                                  for dy, dx in offsets], dim=1) == 0
            attn = logits.masked_fill(masked, float('-inf')).softmax(dim=1)
        else:
            count = sum(at(valid, dy, dx) for dy, dx in offsets)[:, 0]
            attn = torch.stack([(q * at(k, dy, dx)).sum(dim=1)
                                for dy, dx in offsets], dim=1) / count[:, None]
        y = sum(attn[:, i, None] * at(v, dy, dx)
                for i, (dy, dx) in enumerate(offsets))  # (N, d, r, r, hq, wq)
        y = y.permute(0, 1, 4, 2, 5, 3).reshape(n, d, hq * r, wq * r)
        return y[:, :, :hf, :wf]


class RenderingTransformer(nn.Module):
    """Rendering Transformer: a finer level renders a coarser one.

    ``gate = ReLU(norm(conv1x1(GAP(fine))))`` re-weights the channels of
    ``norm(conv3x3(coarse))``; the finer level, strided down to the coarse
    size, is added: ``out = ReLU(down(fine) + gate * norm(conv3x3(coarse)))``.

    Between non-adjacent levels (``scale = 2 ** gap > 2``), ``down`` is
    ``downsample='pool'``: average pooling by ``scale / 2`` then the one
    stride-2 3x3 conv (as many parameters as the adjacent case), or
    ``'conv'``: ``gap`` stride-2 3x3 convs (norm + ReLU between them).

    Args:
        channels (int): C of both levels and the output.
        scale (int): size ratio fine / coarse, a power of 2.
        downsample (str): ``'pool'`` or ``'conv'``.
        conv_cfg, norm_cfg (dict): for the convs.
    """

    def __init__(self,
                 channels: int,
                 scale: int = 2,
                 downsample: str = 'pool',
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN')):
        super().__init__()
        if scale < 2 or scale & (scale - 1):
            raise ValueError(f'RT scale must be a power of 2, got {scale}')
        if downsample not in ('pool', 'conv'):
            raise ValueError(f"RT downsample must be 'pool' or 'conv', got "
                             f'{downsample!r}')
        self.scale, self.downsample = scale, downsample
        cfg = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.gate = ConvModule(channels, channels, 1, **cfg)
        self.query_conv = ConvModule(channels, channels, 3, padding=1,
                                     act_cfg=None, **cfg)
        steps = int(math.log2(scale)) if downsample == 'conv' else 1
        self.value_convs = nn.Sequential(*(
            ConvModule(channels, channels, 3, stride=2, padding=1,
                       act_cfg=None if i == steps - 1 else dict(type='ReLU'),
                       **cfg) for i in range(steps)))

    def forward(self, coarse: Tensor, fine: Tensor) -> Tensor:
        """(N, C, Hc, Wc), (N, C, Hf, Wf) -> (N, C, Hc, Wc)."""
        gate = self.gate(fine.mean(dim=(2, 3), keepdim=True))
        if self.downsample == 'pool' and self.scale > 2:
            fine = F.avg_pool2d(fine, self.scale // 2, ceil_mode=True)
        down = self.value_convs(fine)
        hc, wc = coarse.shape[2:]
        if down.shape[2] < hc or down.shape[3] < wc:
            raise ValueError(
                f'RT: the finer map {tuple(fine.shape[2:])} strided by '
                f'{self.scale} is smaller than the coarser map {(hc, wc)}')
        # a backbone that rounds sizes down leaves one extra row/column
        down = down[:, :, :hc, :wc]
        return F.relu(down + self.query_conv(coarse) * gate)

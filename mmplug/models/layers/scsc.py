"""SCSC: the spatial cross-scale convolution module.

Paper: Wang et al., "SCSC: Spatial Cross-scale Convolution Module to
Strengthen both CNNs and Transformers" (ICCV 2023 Workshops,
https://arxiv.org/abs/2308.07110). Written from the paper and notes on the
official code (megvii-research/SCSC); parameter names are the official ones
(``reduction_c``, ``bn1``, ``layers``, ``bn2``, ``routing_fc``,
``recover_c``, ``bn3``, ``se``).
"""
from typing import Optional, Sequence

import torch
from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from mmplug.models.layers.attention import SELayer
from mmplug.registry import MODELS


@MODELS.register_module()
class SCSC(nn.Module):
    """Spatial cross-scale convolution.

    With m = ``len(kernel_sizes)`` and c = ``in_channels // m``:

    1. ``r = GELU(BN(conv1x1(x)))``: C_in -> c channels.
    2. Cross-scale encoder: m depthwise convs (kernel k_i, padding k_i // 2,
       ``stride``) on the same ``r``, concatenated branch-major.
    3. Channel shuffle as the official ``channel_shuffle_v2``: slot
       ``i * c + q`` takes channel ``q * m + i``; then BN, GELU.
    4. Spatial routing: per-pixel weights ``w = sigmoid(conv1x1(r))`` (m x
       mg channels, the conv strided like the encoder); output channel q is
       ``sum_i slot[i * c + q] * w[i * mg + q // (c / mg)]``: each of the mg
       channel groups picks its own mix of the m slots at every pixel.
    5. ``BN(conv1x1)``: c -> C_out (+ GELU if ``recover_act``), then
       squeeze-excitation (:class:`SELayer`, no biases, hidden width at
       least 32).

    The routing is one broadcast multiply and a sum over m (no loops beyond
    the m branches).

    Args:
        in_channels (int): C_in.
        out_channels (int, optional): C_out; defaults to C_in.
        kernel_sizes (Sequence[int]): odd kernel sizes of the m branches.
        stride (int): stride of the branches and the routing conv.
        routing_groups (int): mg, channel groups with their own routing.
        recover_act (bool): GELU after the recovery BN (the ResNet form has
            it, the Swin form not).
        nested_branches (bool): each branch conv inside a one-element
            ``nn.Sequential`` (keys ``layers.{i}.0.weight``, as the official
            ResNet form) instead of ``layers.{i}.weight`` (Swin form).
        norm_cfg (dict): the BatchNorms. Defaults to BN.

    Example:
        >>> import torch
        >>> scsc = SCSC(96, 128, kernel_sizes=(3, 5, 7), stride=2)
        >>> scsc(torch.rand(2, 96, 15, 20)).shape
        torch.Size([2, 128, 8, 10])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Optional[int] = None,
                 kernel_sizes: Sequence[int] = (3, 5, 7),
                 stride: int = 1,
                 routing_groups: int = 4,
                 recover_act: bool = True,
                 nested_branches: bool = False,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        out_channels = out_channels or in_channels
        m = len(kernel_sizes)
        chunk = in_channels // m
        if chunk == 0 or chunk % routing_groups:
            raise ValueError(
                f'SCSC: in_channels // len(kernel_sizes) = {chunk} must be a '
                f'positive multiple of routing_groups={routing_groups}')
        if any(k % 2 == 0 for k in kernel_sizes):
            raise ValueError(f'SCSC kernel sizes must be odd, got '
                             f'{tuple(kernel_sizes)}')
        norm_cfg = norm_cfg or dict(type='BN')
        self.num_scales, self.chunk = m, chunk
        self.routing_groups = routing_groups
        self.reduction_c = nn.Conv2d(in_channels, chunk, 1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, chunk)[1]
        branches = [
            nn.Conv2d(chunk, chunk, k, stride, k // 2, groups=chunk,
                      bias=False) for k in kernel_sizes
        ]
        self.layers = nn.ModuleList(
            nn.Sequential(b) for b in branches) if nested_branches else \
            nn.ModuleList(branches)
        self.bn2 = build_norm_layer(norm_cfg, m * chunk)[1]
        self.routing_fc = nn.Conv2d(chunk, m * routing_groups, 1, stride,
                                    bias=False)
        self.recover_c = nn.Conv2d(chunk, out_channels, 1, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, out_channels)[1]
        self.act = nn.GELU()
        self.recover_act = recover_act
        self.se = SELayer(out_channels, min_channels=32, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """
        Args:
            x (Tensor): (N, C_in, H, W).

        Returns:
            Tensor: (N, C_out, ceil(H / stride), ceil(W / stride)).
        """
        m, c, mg = self.num_scales, self.chunk, self.routing_groups
        r = self.act(self.bn1(self.reduction_c(x)))
        y = torch.cat([branch(r) for branch in self.layers], dim=1)
        n, _, h, w = y.shape
        # slot i * c + q <- channel q * m + i
        y = y.view(n, c, m, h, w).transpose(1, 2).reshape(n, m * c, h, w)
        y = self.act(self.bn2(y))
        weights = torch.sigmoid(self.routing_fc(r))
        y = (y.view(n, m, mg, c // mg, h, w) *
             weights.view(n, m, mg, 1, h, w)).sum(dim=1)
        y = self.bn3(self.recover_c(y.reshape(n, c, h, w)))
        if self.recover_act:
            y = self.act(y)
        return self.se(y)

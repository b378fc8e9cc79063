"""WeightNet: a conv whose kernel is generated per sample.

Paper: Ma et al., "WeightNet: Revisiting the Design Space of Weight
Networks", ECCV 2020 (https://arxiv.org/abs/2007.11823). Written from the
paper and our notes on the official MegEngine code (megvii-model/WeightNet;
there is no PyTorch version): ``GAP(x) -> reduce -> FC to M * C_out ->
sigmoid -> grouped FC (G * C_out groups) -> the sample's kernel``, applied
to all samples at once as one conv with the batch as groups. With ``M = G``
the grouped FC has exactly a static conv's parameter count. The official
ShuffleNetV2 shares the reduced context within a block; as a drop-in layer,
each WeightNet conv computes its own.
"""
import math
from typing import Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmplug.models.utils.conv import set_conv_attributes
from mmplug.registry import MODELS


@MODELS.register_module()
class WeightNetConv2d(nn.Module):
    """Per-sample conv kernels from global context, for
    ``conv_cfg=dict(type='mmplug.WeightNetConv2d')`` or ResNet's ``dcn`` slot
    (the bottleneck 3x3s)::

        backbone=dict(dcn=dict(type='mmplug.WeightNetConv2d',
                               fallback_on_stride=False),
                      stage_with_dcn=(False, True, True, True))

    Parameters (M = G = 2): ``reduce`` ``C_in * r + r`` (``r = max(16,
    C_in // 16)``), ``fc1`` ``r * M * C_out + M * C_out``, the grouped
    ``fc2`` ``C_out * C_in * k^2 * M / G`` (= the static conv's weight).
    Linear layers, not convs, so a backbone's conv init leaves them alone.

    Args:
        in_channels, out_channels (int): channels.
        kernel_size, stride, padding, dilation: as ``nn.Conv2d``.
        groups (int): 1 only.
        bias (bool): a static bias.
        m (int): M. Defaults to 2.
        g (int): G, divides ``C_in * k^2`` and M. Defaults to 2.

    Example:
        >>> import torch
        >>> from mmplug.models.layers import WeightNetConv2d
        >>> conv = WeightNetConv2d(16, 32, 3, padding=1)
        >>> conv(torch.rand(4, 16, 10, 12)).shape
        torch.Size([4, 32, 10, 12])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: Union[int, tuple] = 3,
                 stride: Union[int, tuple] = 1,
                 padding: Union[int, tuple] = 0,
                 dilation: Union[int, tuple] = 1,
                 groups: int = 1,
                 bias: bool = False,
                 m: int = 2,
                 g: int = 2):
        super().__init__()
        if groups != 1:
            raise ValueError(f'WeightNetConv supports groups=1 only, got '
                             f'{groups}')
        set_conv_attributes(self, in_channels, out_channels, kernel_size,
                            stride, padding, dilation, groups)
        self.m, self.g = m, g
        per_kernel = in_channels * self.kernel_size[0] * self.kernel_size[1]
        if m % g or per_kernel % g:
            raise ValueError(f'WeightNetConv: G={g} must divide M={m} and '
                             f'C_in * k^2 = {per_kernel}')
        reduced = max(16, in_channels // 16)
        self.reduce = nn.Linear(in_channels, reduced)
        self.fc1 = nn.Linear(reduced, m * out_channels)
        # grouped FC: G * C_out groups, each M / G inputs -> C_in k^2 / G
        self.fc2 = nn.Parameter(
            torch.empty(g * out_channels, per_kernel // g, m // g))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.init_weights()

    def init_weights(self) -> None:
        """Generated kernels start like a Kaiming-normal (fan-in) conv's:
        the sigmoid gives about 0.5, so ``fc2`` gets twice that std."""
        per_kernel = self.fc2.shape[1] * self.g
        nn.init.normal_(self.fc2, std=2 * math.sqrt(2 / per_kernel))
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def sample_weights(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> the kernels (N, C_out, C_in, kh, kw)."""
        n = x.shape[0]
        a = torch.sigmoid(self.fc1(self.reduce(x.mean(dim=(2, 3)))))
        a = a.view(n, self.g * self.out_channels, self.m // self.g)
        w = torch.einsum('bqm,qom->bqo', a, self.fc2)
        return w.reshape(n, self.out_channels, self.in_channels,
                         *self.kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, C_out, H', W'), each sample with its own
        kernel (one conv over the batch as groups)."""
        n, c, h, w = x.shape
        weight = self.sample_weights(x).flatten(0, 1)
        out = F.conv2d(x.reshape(1, n * c, h, w), weight, None, self.stride,
                       self.padding, self.dilation, groups=n)
        out = out.view(n, self.out_channels, *out.shape[2:])
        if self.bias is not None:
            out = out + self.bias[:, None, None]
        return out

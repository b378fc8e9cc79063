"""PyConv: pyramidal convolution.

Paper: Duta et al., "Pyramidal Convolution: Rethinking Convolutional Neural
Networks for Visual Recognition" (https://arxiv.org/abs/2006.11538).
Written from the paper and our notes on the official code (iduta/pyconv):
parallel convs with growing kernels and groups on the same input, each
giving a slice of the output channels, concatenated.
"""
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from mmplug.registry import MODELS


@MODELS.register_module()
class PyConv2d(nn.Module):
    """Pyramidal conv: branch ``i`` is ``Conv2d(in, out_i, K_i, stride,
    padding=K_i // 2, groups=G_i, bias=False)``; outputs concatenated.

    Args:
        in_channels (int): input channels (divisible by every G_i).
        out_channels (int): total output channels.
        kernel_sizes (Sequence[int]): K_i, odd. Defaults to (3, 5, 7, 9).
        groups (Sequence[int]): G_i. Defaults to (1, 4, 8, 16).
        out_splits (Sequence[int], optional): out_i (sum = out_channels);
            default equal parts.
        stride (int): stride of every branch.

    Example:
        >>> import torch
        >>> from mmplug.models.layers import PyConv2d
        >>> conv = PyConv2d(64, 64, stride=2)
        >>> [b.kernel_size[0] for b in conv.levels]
        [3, 5, 7, 9]
        >>> conv(torch.rand(1, 64, 15, 20)).shape
        torch.Size([1, 64, 8, 10])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_sizes: Sequence[int] = (3, 5, 7, 9),
                 groups: Sequence[int] = (1, 4, 8, 16),
                 out_splits: Optional[Sequence[int]] = None,
                 stride: int = 1):
        super().__init__()
        if len(kernel_sizes) != len(groups):
            raise ValueError(f'PyConv: {len(kernel_sizes)} kernel sizes for '
                             f'{len(groups)} groups')
        if out_splits is None:
            if out_channels % len(kernel_sizes):
                raise ValueError(
                    f'PyConv: out_channels={out_channels} does not split '
                    f'into {len(kernel_sizes)} equal parts; give out_splits')
            out_splits = [out_channels // len(kernel_sizes)] * \
                len(kernel_sizes)
        if sum(out_splits) != out_channels:
            raise ValueError(f'PyConv: out_splits {list(out_splits)} do not '
                             f'sum to out_channels={out_channels}')
        self.levels = nn.ModuleList(
            nn.Conv2d(in_channels, c, k, stride, k // 2, groups=g,
                      bias=False)
            for k, g, c in zip(kernel_sizes, groups, out_splits))

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, C_out, H / stride, W / stride)."""
        return torch.cat([level(x) for level in self.levels], dim=1)

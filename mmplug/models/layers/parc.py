"""ParC: position-aware circular convolution, spatial and Fast-ParC (FFT).

Papers: ParC-Net (Zhang et al., ECCV 2022, https://arxiv.org/abs/2203.03952)
and Fast-ParC (Yang et al., https://arxiv.org/abs/2210.04020). Written from
the papers and notes on the official code (hkzhang91/ParC-Net and the
authors' detection/segmentation code); parameter names follow the authors'
research checkpoints (``weight``, ``bias``, ``meta_pe``).

One direction (``'H'`` here; ``'W'`` is the same along the width), for a map
``x`` of shape (N, C, H, W), a meta kernel ``w`` and positional embedding
``pe`` of length K, resized bilinearly (``align_corners=True``) to length H:

    y[n, c, i, j] = b[c] + sum_k w_H[c, k] * (x + pe_H)[n, c, (i + k) mod H, j]

a depthwise circular cross-correlation over the whole axis. ``impl='spatial'``
computes it with circular padding and a depthwise conv (O(H^2) per column),
``impl='fft'`` as ``irfft(rfft(x) * conj(rfft(w)))`` (O(H log H)).
"""
import torch
import torch.nn.functional as F
from mmengine.model.weight_init import trunc_normal_
from torch import Tensor, nn

from mmplug.registry import MODELS

#: Axis length from which ``impl='auto'`` uses the FFT form (see
#: :meth:`ParC.use_fft`). `benchmarks/parc_crossover.py` on the 2-core CPU
#: (192 and 48 channels): FFT 5-30% slower up to L=16, even at L=18-20,
#: 1.3-6x faster from L=22 on.
FFT_CROSSOVER = 20


@MODELS.register_module()
class ParC(nn.Module):
    """Position-aware circular convolution along one axis (depthwise).

    Args:
        channels (int): channels C.
        kernel_size (int): meta kernel length K (the feature size at the
            pre-training resolution, e.g. 14 for stride 16 at 224).
        direction (str): ``'H'`` (along the height) or ``'W'``.
        impl (str): ``'spatial'``, ``'fft'`` or ``'auto'`` (FFT from
            :data:`FFT_CROSSOVER` on). All give the same function.
        use_pe (bool): add the positional embedding. Defaults to True.

    Example:
        >>> import torch
        >>> from mmplug.models.layers import ParC
        >>> parc = ParC(8, kernel_size=7, direction='H')
        >>> parc(torch.rand(2, 8, 13, 10)).shape
        torch.Size([2, 8, 13, 10])
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int,
                 direction: str = 'H',
                 impl: str = 'auto',
                 use_pe: bool = True):
        super().__init__()
        if direction not in ('H', 'W'):
            raise ValueError(f"direction must be 'H' or 'W', got "
                             f'{direction!r}')
        if impl not in ('spatial', 'fft', 'auto'):
            raise ValueError(f"impl must be 'spatial', 'fft' or 'auto', got "
                             f'{impl!r}')
        self.channels, self.kernel_size = channels, kernel_size
        self.direction, self.impl = direction, impl
        shape = (kernel_size, 1) if direction == 'H' else (1, kernel_size)
        self.weight = nn.Parameter(torch.empty(channels, 1, *shape))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.meta_pe = nn.Parameter(torch.empty(1, channels, *shape)) \
            if use_pe else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Truncated normal (std 0.02) kernel and PE, zero bias."""
        trunc_normal_(self.weight, std=.02)
        nn.init.zeros_(self.bias)
        if self.meta_pe is not None:
            trunc_normal_(self.meta_pe, std=.02)

    @property
    def dim(self) -> int:
        """The tensor axis ParC runs along: 2 (H) or 3 (W)."""
        return 2 if self.direction == 'H' else 3

    def use_fft(self, length: int) -> bool:
        """Whether ``impl`` computes an axis of this length by FFT."""
        if self.impl == 'auto':
            return length >= FFT_CROSSOVER
        return self.impl == 'fft'

    def instance_kernel(self, length: int) -> Tensor:
        """The meta kernel resized to ``length``: (C, 1, L, 1) or (C, 1, 1,
        L)."""
        size = (length, 1) if self.direction == 'H' else (1, length)
        if self.weight.shape[-2:] == size:
            return self.weight
        return F.interpolate(self.weight, size, mode='bilinear',
                             align_corners=True)

    def forward(self, x: Tensor) -> Tensor:
        """
        Args:
            x (Tensor): (N, C, H, W), any H and W.

        Returns:
            Tensor: (N, C, H, W).
        """
        length = x.shape[self.dim]
        if self.meta_pe is not None:
            x = x + F.interpolate(self.meta_pe, tuple(x.shape[-2:]),
                                  mode='bilinear', align_corners=True)
        kernel = self.instance_kernel(length)
        if self.use_fft(length):
            return self._fft(x, kernel)
        return self._spatial(x, kernel)

    def _spatial(self, x: Tensor, kernel: Tensor) -> Tensor:
        """Circular padding (the first L-1 entries appended) + depthwise
        valid conv."""
        head = x.narrow(self.dim, 0, x.shape[self.dim] - 1)
        return F.conv2d(torch.cat([x, head], dim=self.dim), kernel,
                        self.bias, groups=self.channels)

    def _fft(self, x: Tensor, kernel: Tensor) -> Tensor:
        """``irfft(rfft(x) * conj(rfft(kernel)))`` along the axis."""
        length = x.shape[self.dim]
        kernel = kernel.reshape(1, self.channels, *kernel.shape[-2:])
        spec = torch.fft.rfft(x, dim=self.dim) * torch.fft.rfft(
            kernel, dim=self.dim).conj()
        y = torch.fft.irfft(spec, n=length, dim=self.dim)
        return y + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return (f'{self.channels}, kernel_size={self.kernel_size}, '
                f'direction={self.direction!r}, impl={self.impl!r}')


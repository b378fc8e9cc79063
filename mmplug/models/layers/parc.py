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

a depthwise circular cross-correlation over the whole axis (``dense=True``: a
full one, summing over input channels too, as in ParC-ResNet's
bottlenecks). ``impl='spatial'``
computes it with circular padding and a depthwise conv (O(H^2) per column),
``impl='fft'`` as ``irfft(rfft(x) * conj(rfft(w)))`` (O(H log H)).
"""
import re
from typing import Optional, Tuple

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


#: official ParC key fragments -> ours: the public ParC-Net release
#: (``gcc_H.gcc_conv.weight``, ``gcc_H.pe``; ParC-ResNet50 ``parc_H.*``) and
#: the authors' research and downstream code (``gcc_conv_1H.weight``,
#: ``gcc_conv_1H.meta_pe``)
OFFICIAL_PARC_KEYS = (
    (r'\.(?:gcc|parc)_([HW])\.gcc_conv\.(weight|bias)$',
     r'.parc.parc_\1.\2'),
    (r'\.(?:gcc|parc)_([HW])\.pe$', r'.parc.parc_\1.meta_pe'),
    (r'\.gcc_conv_1(H)\.', r'.parc.parc_\1.'),
    (r'\.gcc_conv_2(W)\.', r'.parc.parc_\1.'),
)


def rename_official_parc_key(key: str) -> str:
    """An official ParC checkpoint key -> the :class:`ParCMixer` key.

    ``...gcc_H.gcc_conv.weight`` and ``...gcc_conv_1H.weight`` become
    ``...parc.parc_h.weight``; ``gcc_H.pe``/``gcc_conv_1H.meta_pe`` become
    ``parc.parc_h.meta_pe`` (W likewise). Shapes need no change: both
    layouts store the kernels, biases and PEs as :class:`ParC` does. Other
    keys are returned as they are.
    """
    for pattern, repl in OFFICIAL_PARC_KEYS:
        key = re.sub(pattern, repl, key)
    return re.sub(r'\.parc_([HW])\.',
                  lambda m: f'.parc_{m.group(1).lower()}.', key)


@MODELS.register_module()
class ParC(nn.Module):
    """Position-aware circular convolution along one axis.

    Args:
        channels (int): channels C.
        kernel_size (int): meta kernel length K (the feature size at the
            pre-training resolution, e.g. 14 for stride 16 at 224).
        direction (str): ``'H'`` (along the height) or ``'W'``.
        impl (str): ``'spatial'``, ``'fft'`` or ``'auto'`` (FFT from
            :data:`FFT_CROSSOVER` on). All give the same function.
        use_pe (bool): add the positional embedding. Defaults to True.
        dense (bool): a full (C -> C) convolution instead of a depthwise
            one; the kernel is then (C, C, K, 1). Defaults to False.

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
                 use_pe: bool = True,
                 dense: bool = False):
        super().__init__()
        if direction not in ('H', 'W'):
            raise ValueError(f"direction must be 'H' or 'W', got "
                             f'{direction!r}')
        if impl not in ('spatial', 'fft', 'auto'):
            raise ValueError(f"impl must be 'spatial', 'fft' or 'auto', got "
                             f'{impl!r}')
        self.channels, self.kernel_size = channels, kernel_size
        self.direction, self.impl, self.dense = direction, impl, dense
        shape = (kernel_size, 1) if direction == 'H' else (1, kernel_size)
        self.weight = nn.Parameter(
            torch.empty(channels, channels if dense else 1, *shape))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.meta_pe = nn.Parameter(torch.empty(1, channels, *shape)) \
            if use_pe else None
        self.fixed_size: Optional[Tuple[int, int]] = None
        self.register_buffer('fixed_kernel', None, persistent=False)
        self.register_buffer('fixed_pe', None, persistent=False)
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
        """The meta kernel resized to ``length``: (C, 1 or C, L, 1) or
        (C, 1 or C, 1, L)."""
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
        if self.fixed_size is not None:
            return self._fixed_forward(x)
        length = x.shape[self.dim]
        if self.meta_pe is not None:
            x = x + self.instance_pe(tuple(x.shape[-2:]))
        kernel = self.instance_kernel(length)
        if self.use_fft(length):
            return self._fft(x, kernel)
        return self._spatial(x, kernel)

    def instance_pe(self, size: Tuple[int, int]) -> Tensor:
        """The meta PE resized to the map: (1, C, H, W).

        Resized along the axis (bilinear, corners aligned, as the official
        ``F.interpolate`` of the (1, C, K, 1) PE to (H, W), which along the
        other axis only repeats it), then expanded along the other axis: the
        same values, and a backward that inductor compiles (its C++ code
        generation failed on the scatter of the 1-to-W interpolation's
        gradient, torch 2.13).
        """
        length = size[self.dim - 2]
        pe = self.meta_pe
        if pe.shape[self.dim] != length:
            pe = F.interpolate(pe, (length, 1) if self.direction == 'H' else
                               (1, length), mode='bilinear',
                               align_corners=True)
        return pe.expand(-1, -1, *size)

    def fix_size(self, size: Optional[Tuple[int, int]]) -> None:
        """Bake the kernel and PE for (H, W) maps, for deployment.

        Stores the resized kernel and PE as buffers (``fixed_kernel``,
        ``fixed_pe``, not saved in the state dict) and computes the spatial
        form with them: no interpolation and no shape logic, so that
        ``torch.onnx.export`` and ``torch.jit.trace`` give a static graph
        (the interpolated kernel of the official code cannot be exported).
        ``None`` goes back to the dynamic form. Re-bake after changing the
        parameters. See :func:`fix_parc_sizes` for a whole model.

        Args:
            size (tuple[int, int] | None): the map size this layer will see.
        """
        self.fixed_size = None if size is None else tuple(size)
        self.fixed_kernel = self.fixed_pe = None
        if size is None:
            return
        with torch.no_grad():
            self.fixed_kernel = self.instance_kernel(
                self.fixed_size[self.dim - 2]).clone()
            if self.meta_pe is not None:
                self.fixed_pe = self.instance_pe(self.fixed_size).clone()

    def _fixed_forward(self, x: Tensor) -> Tensor:
        if not torch.jit.is_tracing() and \
                tuple(x.shape[-2:]) != self.fixed_size:
            raise ValueError(f'this ParC was fixed to {self.fixed_size} maps '
                             f'(fix_size), got {tuple(x.shape[-2:])}')
        if self.fixed_pe is not None:
            x = x + self.fixed_pe
        return self._spatial(x, self.fixed_kernel)

    def _spatial(self, x: Tensor, kernel: Tensor) -> Tensor:
        """Circular padding (the first L-1 entries appended) + valid conv."""
        head = x.narrow(self.dim, 0, x.shape[self.dim] - 1)
        return F.conv2d(torch.cat([x, head], dim=self.dim), kernel,
                        self.bias, groups=1 if self.dense else self.channels)

    def _fft(self, x: Tensor, kernel: Tensor) -> Tensor:
        """``irfft(rfft(x) * conj(rfft(kernel)))`` along the axis (summed
        over input channels when dense).

        Computed in float32 at least (float64 stays float64), outside
        autocast: CPU FFTs have no half or bfloat16 kernels, and cuFFT takes
        half precision only for power-of-two lengths. The result has the
        dtype the spatial form would give: autocast's dtype where autocast
        is on, else ``x``'s.
        """
        device = x.device.type
        dtype = torch.get_autocast_dtype(device) \
            if torch.is_autocast_enabled(device) else x.dtype
        inner = torch.promote_types(x.dtype, torch.float32)
        length = x.shape[self.dim]
        with torch.autocast(device, enabled=False):
            spec_x = torch.fft.rfft(x.to(inner), dim=self.dim)
            spec_k = torch.fft.rfft(kernel.to(inner), dim=self.dim).conj()
            if self.dense:  # (O, C, F, 1) or (O, C, 1, F) -> (O, C, F)
                spec = torch.einsum(
                    'ncfw,ocf->nofw' if self.dim == 2 else 'nchf,ocf->nohf',
                    spec_x, spec_k.flatten(2))
            else:
                spec = spec_x * spec_k.transpose(0, 1)
            y = torch.fft.irfft(spec, n=length, dim=self.dim)
            y = y + self.bias.to(inner).view(1, -1, 1, 1)
        return y.to(dtype)

    def extra_repr(self) -> str:
        return (f'{self.channels}, kernel_size={self.kernel_size}, '
                f'direction={self.direction!r}, impl={self.impl!r}' +
                (', dense=True' if self.dense else ''))


@MODELS.register_module()
class ParCMixer(nn.Module):
    """The token mixer of a ParC block: the first half of the channels runs
    through an H-ParC, the second half through a W-ParC.

    Args:
        dim (int): channels C (even).
        kernel_size (int): meta kernel length K.
        impl (str): ParC implementation, see :class:`ParC`.
        dense (bool): full instead of depthwise ParCs (ParC-ResNet).

    Example:
        >>> import torch
        >>> ParCMixer(8, kernel_size=7)(torch.rand(2, 8, 9, 12)).shape
        torch.Size([2, 8, 9, 12])
    """

    def __init__(self, dim: int, kernel_size: int, impl: str = 'auto',
                 dense: bool = False):
        super().__init__()
        if dim % 2:
            raise ValueError(f'a ParC mixer needs an even channel count, got '
                             f'{dim}')
        self.parc_h = ParC(dim // 2, kernel_size, 'H', impl, dense=dense)
        self.parc_w = ParC(dim // 2, kernel_size, 'W', impl, dense=dense)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        x_h, x_w = torch.chunk(x, 2, dim=1)
        return torch.cat([self.parc_h(x_h), self.parc_w(x_w)], dim=1)


def fix_parc_sizes(model: nn.Module, inputs: Tensor) -> nn.Module:
    """Bake every :class:`ParC` of ``model`` for the map sizes it sees on
    ``inputs`` (:meth:`ParC.fix_size`), e.g. before ONNX export at a fixed
    input size.

    Args:
        model (nn.Module): any model containing ParC layers.
        inputs (Tensor): an input of the deployment size.

    Returns:
        nn.Module: ``model``, changed in place.

    Example:
        >>> import torch
        >>> model = nn.Sequential(ParCMixer(8, 7), ParCMixer(8, 7))
        >>> x = torch.rand(1, 8, 12, 20)
        >>> y = model(x)
        >>> torch.allclose(fix_parc_sizes(model, x)(x), y, atol=1e-5)
        True
    """
    sizes = {}

    def record(module: ParC, args: tuple) -> None:
        sizes.setdefault(module, tuple(args[0].shape[-2:]))

    hooks = []
    for module in model.modules():
        if isinstance(module, ParC):
            module.fix_size(None)
            hooks.append(module.register_forward_pre_hook(record))
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    for module, size in sizes.items():
        module.fix_size(size)
    return model

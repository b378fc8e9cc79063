"""DO-Conv: depthwise over-parameterised convolution.

Paper: Cao et al., "DO-Conv: Depthwise Over-parameterized Convolutional
Layer", IEEE TIP 2022 (https://arxiv.org/abs/2006.12030). Written from the
paper's definition: a conv kernel ``W`` composed with a trainable depthwise
kernel ``D`` applied to every input patch. In kernel form the layer is a
plain conv with weight

    W'[o, i, m] = sum_s (D[c(o, i), m, s] + I[m, s]) * W[o, i, s]

where ``c(o, i)`` is the true input channel of weight column ``i`` of output
``o`` (with groups, the group of ``o`` picks the channel block), ``m`` runs
over the ``M x N`` kernel positions and ``s`` over ``depth_multiplier`` >=
``M N`` columns; ``I`` is the identity on the first ``M N`` columns. ``D``
starts at zero, so a fresh layer (or one loaded from a plain conv's
checkpoint) is exactly that conv, and the composition folds into a plain
conv for inference. (The official code ties ``D`` to channels by memory
order when ``groups > 1``; here ``D`` is per true input channel, as the
paper describes.)
"""
from typing import Dict, List, Optional, Union

import torch
from torch import Tensor, nn

from mmplug.registry import MODELS

IntPair = Union[int, tuple]


@MODELS.register_module(name='DOConv')
class DOConv2d(nn.Conv2d):
    """A ``nn.Conv2d`` with DO-Conv's depthwise over-parameterisation, for
    ``conv_cfg=dict(type='mmplug.DOConv')`` anywhere mmcv builds convs.

    ``weight`` (and ``bias``) are the conv's, so plain conv checkpoints load
    as they are (``D`` then stays zero: the layer is that conv) and mmcv's
    inits apply. 1x1 kernels have nothing to over-parameterise and are plain
    convs. ``switch_to_deploy()`` folds ``D`` into ``weight``.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation,
            groups, bias, padding_mode: as ``nn.Conv2d``.
        depth_multiplier (int, optional): columns of ``D`` per kernel
            position set (default and minimum ``M * N``); beyond ``M * N``
            the extra columns of ``W`` are the parameter ``weight_extra``.

    Example:
        >>> import torch
        >>> from mmplug.models.layers import DOConv2d
        >>> conv = DOConv2d(8, 16, 3, padding=1)
        >>> tuple(conv.D.shape)  # (in_channels, M*N, depth_multiplier)
        (8, 9, 9)
        >>> x = torch.rand(1, 8, 10, 12)
        >>> y = conv(x)
        >>> conv.switch_to_deploy()
        >>> torch.allclose(conv(x), y, atol=1e-6), hasattr(conv, 'D')
        (True, False)
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: IntPair,
                 stride: IntPair = 1,
                 padding: Union[IntPair, str] = 0,
                 dilation: IntPair = 1,
                 groups: int = 1,
                 bias: bool = True,
                 padding_mode: str = 'zeros',
                 depth_multiplier: Optional[int] = None):
        super().__init__(in_channels, out_channels, kernel_size, stride,
                         padding, dilation, groups, bias, padding_mode)
        positions = self.kernel_size[0] * self.kernel_size[1]
        self.depth_multiplier = depth_multiplier or positions
        if self.depth_multiplier < positions:
            raise ValueError(
                f'depth_multiplier={depth_multiplier} must be at least the '
                f'{positions} kernel positions')
        self.deploy = positions == 1
        if not self.deploy:
            self.D = nn.Parameter(
                torch.zeros(in_channels, positions, self.depth_multiplier))
            extra = self.depth_multiplier - positions
            self.weight_extra = nn.Parameter(torch.empty(
                out_channels, in_channels // groups, extra)) if extra else None
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Conv2d``'s init of W (and of its extra columns), D = 0."""
        super().reset_parameters()
        if getattr(self, 'weight_extra', None) is not None:
            nn.init.kaiming_uniform_(self.weight_extra, a=5**0.5)
        if getattr(self, 'D', None) is not None:
            nn.init.zeros_(self.D)

    def composed_weight(self) -> Tensor:
        """``W'``: (out_channels, in_channels / groups, M, N)."""
        if self.deploy:
            return self.weight
        return compose_weight(self.weight, self.D, self.weight_extra,
                              self.groups)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, C_out, H', W'), as the conv."""
        return self._conv_forward(x, self.composed_weight(), self.bias)

    def switch_to_deploy(self) -> None:
        """Fold ``D`` into ``weight`` in place: a plain conv from now on."""
        if self.deploy:
            return
        with torch.no_grad():
            self.weight.copy_(self.composed_weight())
        del self.D, self.weight_extra
        self.deploy = True

    def _load_from_state_dict(self, state_dict: Dict, prefix: str, *args
                              ) -> None:
        """A plain conv's keys load as they are: missing ``D`` stays zero
        (the layer is that conv) instead of being reported missing."""
        missing_keys = args[2]
        super()._load_from_state_dict(state_dict, prefix, *args)
        if not self.deploy and prefix + 'D' not in state_dict:
            missing_keys.remove(prefix + 'D')
            nn.init.zeros_(self.D)
            if self.weight_extra is not None:
                missing_keys.remove(prefix + 'weight_extra')

    def extra_repr(self) -> str:
        return super().extra_repr() + \
            f', depth_multiplier={self.depth_multiplier}' + \
            (', deploy=True' if self.deploy else '')


def compose_weight(weight: Tensor, d: Tensor, weight_extra: Optional[Tensor],
                   groups: int) -> Tensor:
    """DO-Conv's conv weight ``W'`` from ``W`` (out, in / groups, M, N),
    ``D`` (in, M N, depth_multiplier) and W's extra columns (out,
    in / groups, depth_multiplier - M N) or None."""
    out_c, in_g, kh, kw = weight.shape
    w = weight.reshape(out_c, in_g, kh * kw)
    if weight_extra is not None:
        w = torch.cat([w, weight_extra], dim=2)
    multiplier = d.shape[2]
    eye = torch.eye(kh * kw, multiplier, dtype=d.dtype, device=d.device)
    d = (d + eye).view(groups, in_g, kh * kw, multiplier)
    composed = torch.einsum('gims,gois->goim', d,
                            w.view(groups, out_c // groups, in_g, -1))
    return composed.reshape(out_c, in_g, kh, kw)


def do_conv_keys(state_dict: Dict[str, Tensor]) -> List[str]:
    """The ``D`` keys of the DO-Convs in a state dict."""
    return [k for k in state_dict if k == 'D' or k.endswith('.D')]


def fold_do_conv_state_dict(state_dict: Dict[str, Tensor]
                            ) -> Dict[str, Tensor]:
    """Fold every DO-Conv of a state dict (keys ``X.weight`` + ``X.D``
    [+ ``X.weight_extra``]) into a plain conv weight ``X.weight``: the
    result loads into the same model built with plain convs."""
    out = dict(state_dict)
    for key in do_conv_keys(state_dict):
        base = key[:-1]
        weight, d = state_dict[base + 'weight'], state_dict[key]
        with torch.no_grad():
            out[base + 'weight'] = compose_weight(
                weight, d, state_dict.get(base + 'weight_extra'),
                d.shape[0] // weight.shape[1])
        del out[key]
        out.pop(base + 'weight_extra', None)
    return out

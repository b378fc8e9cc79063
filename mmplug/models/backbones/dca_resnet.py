"""DCA-ResNet: ResNet-50 with SE or GC attention connected across all
bottlenecks (DCANet).

Paper: Ma et al., "DCANet: Learning Connected Attentions for Convolutional
Neural Networks" (https://arxiv.org/abs/2007.05099). Written from the paper
and notes on the official code (ma-xu/DCANet, ``resnet_se_dca.py``,
``resnet_gc_dca.py``); parameter names are the official ones (``se.*``,
``rgc.*``), so the official ImageNet checkpoints load. One difference: the
official first block (``layer1.0``) builds message layers it never uses
(no message reaches it), which breaks DDP without
``find_unused_parameters``; they are not built here and their checkpoint
keys are ignored.
"""
from functools import partial
from typing import Iterator, Tuple, Union

from torch import Tensor, nn

from mmplug.models.layers.attention import DCAGC, DCASE, Message
from mmplug.models.utils.backbone import checkpoint_if
from mmplug.models.utils.resnet import Bottleneck, ResNetBackbone
from mmplug.registry import MODELS


class DCABottleneck(Bottleneck):
    """A :class:`Bottleneck` whose attention (after ``bn3``, before the
    residual sum) takes and passes on the DCA message."""

    def forward(self, x: Tensor, message: Message
                ) -> Tuple[Tensor, Tuple[Tensor]]:
        """(N, C_in, H, W), message -> (N, C_out, H / s, W / s), message."""

        def inner(x, message):
            out, message = getattr(self, self.attention_name)(
                self.residual(x), message)
            return self.relu(out + self.shortcut(x)), message

        return checkpoint_if(self.with_cp and message is not None, inner, x,
                             message)


@MODELS.register_module()
class DCAResNet(ResNetBackbone):
    """DCA-SE-ResNet / DCA-GC-ResNet backbone (pytorch style).

    ResNet whose every bottleneck carries SE or GC attention, connected
    DCANet-style: each block's attention takes the previous block's message,
    through all stages (channel changes go through ``att_fc``).

    Args:
        arch (str | int | dict, optional): ``50`` (default) or ``101``, or
            a dict with ``depths``; ``depth``/``depths`` are accepted too.
        attention (str): ``'se'`` (:class:`DCASE`, the official ``'conv'``
            fusion) or ``'gc'`` (:class:`DCAGC`).
        **kwargs: :class:`ResNetBackbone`'s arguments. With
            ``init_cfg=dict(type='Pretrained', checkpoint=...)`` the official
            DCA ImageNet checkpoints load (their ``module.`` prefix is
            removed; ``layer1.0``'s unused message layers and ``fc`` are
            ignored).

    Example:
        >>> import torch
        >>> from mmplug.models import DCAResNet
        >>> model = DCAResNet(attention='gc', depths=[1, 1, 1, 1]).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 96))]
        [(1, 256, 16, 24), (1, 512, 8, 12), (1, 1024, 4, 6), (1, 2048, 2, 3)]
    """
    arch_zoo = {'50': dict(depths=(3, 4, 6, 3)),
                '101': dict(depths=(3, 4, 23, 3))}
    arch_name = 'DCA-ResNet'

    def __init__(self,
                 arch: Union[str, int, dict, None] = None,
                 attention: str = 'se',
                 **kwargs):
        if attention not in ('se', 'gc'):
            raise ValueError(f"attention must be 'se' or 'gc', got "
                             f'{attention!r}')
        super().__init__(arch, **kwargs)
        self.attention = attention
        name = 'se' if attention == 'se' else 'rgc'
        self.ignored_pretrained_keys = tuple(
            f'layer1.0.{name}.{k}' for k in ('att_fc.', 'conv.', 'weight'))
        self._build()

    def make_block(self, stage: int, index: int, in_channels: int,
                   mid_channels: int, out_channels: int,
                   stride: int) -> nn.Module:
        """Every block attends; the first one of the network gets no
        message."""
        connected = not (stage == 0 and index == 0)
        if self.attention == 'se':  # the message has in_channels
            attention, name = partial(
                DCASE, reduction=16, connected=connected,
                in_channels=in_channels, fusion='conv'), 'se'
        else:
            attention, name = partial(
                DCAGC, ratio=1. / 16, connected=connected,
                in_channels=in_channels, zero_init=False), 'rgc'
        return DCABottleneck(in_channels, mid_channels, out_channels, stride,
                             attention=attention, attention_name=name,
                             norm_cfg=self.norm_cfg, with_cp=self.with_cp)

    def stage_outputs(self, x: Tensor) -> Iterator[Tensor]:
        """Yield the outputs of ``layer1..`` (N, 256 * 2**i, H_i, W_i) at
        strides 4, 8, 16, 32, the attention message threaded through every
        block."""
        x = self.stem(x)
        message = None
        for layer in self.res_layers:
            for block in layer:
                x, message = block(x, message)
            yield x

"""Group Ensemble ResNet: an ensemble of ResNet tails in one network.

Paper: Chen and Shrivastava, "Group Ensemble: Learning an Ensemble of
ConvNets in a single ConvNet" (https://arxiv.org/abs/2007.00649). **No
official code exists**; this is our design from the paper's abstract: a
shared base (the ResNet stem and first stages) followed by ``num_groups``
independent tails, every conv of the later stages being a group conv (no
channel crosses groups) widened by ``widen_factor`` (``sqrt(G)`` keeps the
FLOPs: a G-group conv of width w C costs (w C)^2 / G), each tail with its own
classifier, logits averaged ("group averaging"). The first block of the
first split stage reads the whole shared map (its 1x1 conv and shortcut are
dense), so every tail sees all shared features. For detection and
segmentation the tails' maps are returned concatenated (channel block g =
tail g); the paper's detection heads are not described.
"""
import math
from typing import Optional, Tuple, Union

from torch import Tensor, nn

from mmplug.models.utils.resnet import Bottleneck, ResNetBackbone
from mmplug.registry import MODELS


@MODELS.register_module()
class GroupEnsembleResNet(ResNetBackbone):
    """Group Ensemble ResNet backbone (and ImageNet classifier of averaged
    group heads); names as torchvision's ResNet (``conv1``, ``bn1``,
    ``layer{i}``), so a torchvision ResNet checkpoint loads into the shared
    base.

    Args:
        arch (str | int | dict, optional): ``50`` (default) or ``101``, or a
            dict with ``depths``; ``depth``/``depths`` are accepted too.
        num_groups (int): G, tails in the ensemble. Defaults to 4.
        shared_stages (int): stages in the shared base (0 to the number of
            stages - 1). Defaults to 2.
        widen_factor (float, optional): width of the split stages
            (default ``sqrt(G)``: about ResNet's FLOPs).
        **kwargs: :class:`ResNetBackbone`'s arguments; ``num_classes`` is
            the classes of each group's classifier.

    Example:
        >>> import torch
        >>> from mmplug.models import GroupEnsembleResNet
        >>> model = GroupEnsembleResNet(depths=[1, 1, 1, 1]).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 96))]
        [(1, 256, 16, 24), (1, 512, 8, 12), (1, 2048, 4, 6), (1, 4096, 2, 3)]
    """
    arch_zoo = {'50': dict(depths=(3, 4, 6, 3)),
                '101': dict(depths=(3, 4, 23, 3))}
    arch_name = 'GroupEnsembleResNet'

    def __init__(self,
                 arch: Union[str, int, dict, None] = None,
                 num_groups: int = 4,
                 shared_stages: int = 2,
                 widen_factor: Optional[float] = None,
                 **kwargs):
        super().__init__(arch, **kwargs)
        if not 0 <= shared_stages < self.num_stages:
            raise ValueError(f'shared_stages must be in [0, '
                             f'{self.num_stages - 1}], got {shared_stages}')
        self.widen = math.sqrt(num_groups) if widen_factor is None \
            else widen_factor
        self.num_groups, self.shared_stages = num_groups, shared_stages
        self._build(head=self._heads)

    def _heads(self, channels: int, num_classes: int) -> nn.Module:
        """One classifier per group: a grouped 1x1 conv on the pooled
        map."""
        return nn.Conv2d(channels, self.num_groups * num_classes, 1,
                         groups=self.num_groups)

    def stage_widths(self, stage: int) -> Tuple[int, int]:
        """ResNet's, widened by ``widen_factor`` (rounded to a multiple of
        G) in the split stages."""
        mid, _ = super().stage_widths(stage)
        if stage >= self.shared_stages:
            mid = int(round(mid * self.widen / self.num_groups)) * \
                self.num_groups
        return mid, mid * self.expansion

    def make_block(self, stage: int, index: int, in_channels: int,
                   mid_channels: int, out_channels: int,
                   stride: int) -> nn.Module:
        """A bottleneck of group convs in the split stages; the first block
        after the shared base reads the whole shared map (dense conv1 and
        shortcut)."""
        split = stage >= self.shared_stages
        groups = self.num_groups if split else 1
        first_split = split and stage == self.shared_stages and index == 0
        return Bottleneck(in_channels, mid_channels, out_channels, stride,
                          groups, 1 if first_split else groups,
                          norm_cfg=self.norm_cfg, with_cp=self.with_cp)

    def group_logits(self, last: Tensor) -> Tensor:
        """(N, C, H, W) last map -> each group's logits (N, G, classes)."""
        pooled = last.mean(dim=(2, 3), keepdim=True)
        return self.fc(pooled).view(last.shape[0], self.num_groups, -1)

    def _classify(self, last: Tensor) -> Tensor:
        """Group averaging: the mean of the groups' logits."""
        return self.group_logits(last).mean(dim=1)

"""What conv layers that are not ``nn.Conv2d`` share."""
from torch import nn
from torch.nn.modules.utils import _pair


def set_conv_attributes(module: nn.Module, in_channels: int,
                        out_channels: int, kernel_size, stride=1, padding=0,
                        dilation=1, groups: int = 1) -> None:
    """Give ``module`` the attributes mmcv's ``ConvModule`` reads off its
    conv (``in_channels`` ... ``groups``, ``transposed``,
    ``output_padding``), as an ``nn.Conv2d`` has them."""
    module.in_channels, module.out_channels = in_channels, out_channels
    module.kernel_size, module.stride = _pair(kernel_size), _pair(stride)
    module.padding, module.dilation = _pair(padding), _pair(dilation)
    module.transposed, module.output_padding = False, (0, 0)
    module.groups = groups

"""mmplug models: importing this registers them in the ``mmplug`` scope and
does nothing else (no mmdet, mmseg or ``mmcv.ops`` import, no change to
mmengine's file backends, checkpoint loaders or ``Config``)."""
from .backbones import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403

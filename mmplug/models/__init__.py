"""mmplug models: importing this registers them in the ``mmplug`` scope.

It also installs mmplug's checkpoint handling (see :mod:`mmplug.checkpoint`)
wherever a config imports ``mmplug.models``: mmengine-saved checkpoints load
under torch >= 2.6, and checkpoints are written atomically.
"""
from mmplug.checkpoint import install

install()

from .backbones import *  # noqa: F401,F403,E402
from .layers import *  # noqa: F401,F403,E402
from .necks import *  # noqa: F401,F403,E402

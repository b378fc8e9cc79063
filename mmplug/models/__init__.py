"""mmplug models: importing this registers them in the ``mmplug`` scope.

It also installs mmplug's checkpoint loader (see :mod:`mmplug.checkpoint`) so
that mmengine-saved checkpoints load under torch >= 2.6 wherever a config
imports ``mmplug.models``.
"""
from mmplug.checkpoint import install_checkpoint_loader

install_checkpoint_loader()

"""mmplug: plug-and-play vision modules for OpenMMLab detection and segmentation."""
from mmplug.mim import register_config_prefix

__version__ = '0.1.0'

# `_base_ = 'mmplug::...'` in configs read after this import (mmplug/mim.py)
register_config_prefix()

"""mmplug: plug-and-play vision modules for OpenMMLab detection and
segmentation.

Importing it changes nothing in mmengine, mmdet or mmseg; ``import
mmplug.models`` registers the models. mmplug's runtime is opted into by
``runner_type = 'mmplug.MMPlugRunner'`` (mmplug's configs set it), and
``_base_ = 'mmplug::...'`` resolves after
:func:`mmplug.mim.register_config_prefix` (mmplug's tools call it).
"""

__version__ = '0.1.0'

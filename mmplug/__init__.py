"""mmplug: plug-and-play vision modules for OpenMMLab detection and segmentation."""
__version__ = '0.1.0'

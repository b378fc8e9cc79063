"""Datasets and data utilities of mmplug."""
from .demo import (DEMO_ADE_CLASSES, DEMO_ADE_LABEL_IDS, DEMO_COCO_CLASSES,
                   make_demo_data)

__all__ = [
    'DEMO_ADE_CLASSES', 'DEMO_ADE_LABEL_IDS', 'DEMO_COCO_CLASSES',
    'make_demo_data'
]

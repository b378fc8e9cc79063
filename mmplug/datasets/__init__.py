"""Datasets and data utilities of mmplug: the demo-data generator, dataset
checks, and the dataset/sampler wrappers of exactly resumable runs."""
from .demo import (DEMO_ADE_CLASSES, DEMO_ADE_LABEL_IDS, DEMO_COCO_CLASSES,
                   make_demo_data)
from .wrappers import GuardedDataset, SeededIndex, SeededSampler

__all__ = [
    'DEMO_ADE_CLASSES', 'DEMO_ADE_LABEL_IDS', 'DEMO_COCO_CLASSES',
    'GuardedDataset', 'SeededIndex', 'SeededSampler', 'make_demo_data'
]

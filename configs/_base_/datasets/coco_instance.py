# COCO 2017 instance segmentation as in mmdet 3.3.0: 1333x800 single scale,
# flip, CocoMetric(bbox, segm). Expects the layout of README "Dataset
# preparation": data/coco/{train2017,val2017,annotations/instances_*.json}.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'

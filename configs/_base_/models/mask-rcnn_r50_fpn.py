# Mask R-CNN R-50-FPN as in mmdet 3.3.0 (80 COCO classes, RoIAlign heads,
# anchors at strides 4-64). Our backbones/necks replace model.backbone/neck.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

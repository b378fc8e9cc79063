# SCSC-ResNet-50 Mask R-CNN FPN 3x with mmdet's ResNet-50 3x recipe
# (multi-scale 640-800 training, SGD 0.02, 36 epochs, steps 27/33).
_base_ = [
    'mmdet::common/ms-poly_3x_coco-instance.py',
    '../_base_/models/mask-rcnn_scsc-r50_fpn.py',
    '../_base_/mmplug.py',
]

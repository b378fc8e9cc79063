# Mask R-CNN R-50 1x on COCO with the FPT neck instead of FPN: the data,
# heads and schedule of configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py (the
# baseline). The paper's detectors used GN and PANet-style heads with
# multi-scale training, so its gains are not this setting's (README).
_base_ = [
    '../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/models/fpt.py',
]
model = dict(neck=_base_.pop('neck'))

# Mask R-CNN R-50 1x with DCA-FPN: mmdet's FPN with SE attention on every
# level, connected top-down (coarse to fine) DCANet-style; the link weights
# start at zero, so training starts from "FPN + independent SE". The plain
# FPN baseline is configs/_base_/models/mask-rcnn_r50_fpn.py with the same
# data and schedule (mmdet's mask-rcnn_r50_fpn_1x_coco.py).
_base_ = ['../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']
model = dict(
    neck=dict(type='mmplug.DCAFPN', attention='se', direction='top_down'))

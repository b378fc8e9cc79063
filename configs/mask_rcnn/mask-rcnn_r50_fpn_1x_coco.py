# Mask R-CNN R-50-FPN 1x on COCO, as mmdet's mask-rcnn_r50_fpn_1x_coco.py
# (mmdet: 38.2 box / 34.7 mask AP): the baseline of the FPT and DCA-FPN
# configs, which change only model.neck.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime_det.py',
]

# ParC-ConvNeXt-XT Mask R-CNN FPN 1x: the authors' optimizer (AdamW lr 2e-4,
# weight decay 0.05, layer-wise lr decay 0.7 over 6 layers), drop path 0.4,
# 12 epochs, single-scale 1333x800.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime_det.py',
    '../_base_/models/parc-convnext.py',
]

model = dict(
    backbone={{_base_.parc_convnext_xt_backbone}},
    neck=dict(in_channels=[48, 96, 192, 384]))
optim_wrapper = {{_base_.parc_det_optim_wrapper}}

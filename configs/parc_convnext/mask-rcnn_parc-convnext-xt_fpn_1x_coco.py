# ParC-ConvNeXt-XT Mask R-CNN FPN 1x: the authors' optimizer (AdamW lr 2e-4,
# weight decay 0.05, layer-wise lr decay 0.7 over 6 layers), drop path 0.4,
# 12 epochs, single-scale 1333x800.
_base_ = [
    '../_base_/models/mask-rcnn_parc-convnext-xt_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime_det.py',
    '../_base_/schedules/layer-decay_adamw.py',
]
optim_wrapper = _base_.pop('layer_decay_optim_wrapper')

# ParC-ConvNeXt-XT Mask R-CNN FPN 3x: the 1x config with multi-scale + crop
# training and 36 epochs (steps at 27 and 33), same optimizer.
_base_ = [
    '../_base_/models/mask-rcnn_parc-convnext-xt_fpn.py',
    '../_base_/datasets/coco_instance_ms-crop.py',
    '../_base_/schedules/adamw_3x.py',
    '../_base_/default_runtime_det.py',
    '../_base_/schedules/layer-decay_adamw.py',
]
optim_wrapper = _base_.pop('layer_decay_optim_wrapper')

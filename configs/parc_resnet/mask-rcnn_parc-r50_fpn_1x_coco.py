# ParC-ResNet-50 Mask R-CNN FPN 1x (the official ParC-ResNet-50 reports
# 48.1 box / 41.8 mask AP with Cascade Mask R-CNN 3x): the stem and layer1
# frozen, BatchNorms in eval mode as in the authors' config, AdamW lr 2e-4,
# weight decay 0.05 (mmdet's layer-decay constructor supports only ConvNeXt
# names), 12 epochs. Initialised from torchvision's ImageNet ResNet-50; the
# four ParC bottlenecks start from their init (reported when loading).
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/adamw_1x.py',
    '../_base_/default_runtime_det.py',
    '../_base_/models/parc-r50.py',
]
model = dict(backbone=_base_.pop('backbone'))

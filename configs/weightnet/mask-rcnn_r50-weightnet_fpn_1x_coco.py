# Mask R-CNN R-50 1x with WeightNet (M = G = 2) as the 3x3 conv of every
# bottleneck of stages 2-4, through mmdet ResNet's dcn slot; otherwise
# configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py. From torchvision's
# ResNet-50 those 3x3s' kernels cannot load (they are generated), so the
# WeightNet layers start from their init (reported as missing keys) while
# the rest of the ResNet loads.
_base_ = ['../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']
model = dict(
    backbone=dict(
        dcn=dict(type='mmplug.WeightNetConv2d', fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True)))

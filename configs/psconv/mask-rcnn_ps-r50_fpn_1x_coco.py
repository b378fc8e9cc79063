# Mask R-CNN with a PS-ResNet-50 backbone, 1x, as the official PSConv
# detector (official: 39.4 box / 35.6 mask AP): every bottleneck's 3x3 conv
# is a PSConv (4 parts, dilations 1 / 2 / 4) through mmdet ResNet's dcn
# slot; otherwise configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py. Needs the
# official ImageNet PS-ResNet-50 (https://github.com/d-li14/PSConv) as
# checkpoints/ps_resnet50.pth; its parameter names are ours (conv2.gwconv,
# conv2.gwconv_shift, conv2.conv).
_base_ = ['../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
          '../_base_/models/r50-psconv.py']
model = dict(backbone=_base_.pop('backbone'))

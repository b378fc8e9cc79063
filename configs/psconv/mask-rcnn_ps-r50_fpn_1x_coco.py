# Mask R-CNN with a PS-ResNet-50 backbone, 1x, as the official PSConv
# detector (official: 39.4 box / 35.6 mask AP): every bottleneck's 3x3 conv
# is a PSConv (4 parts, dilations 1 / 2 / 4) through mmdet ResNet's dcn
# slot; otherwise configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py. Needs the
# official ImageNet PS-ResNet-50 (https://github.com/d-li14/PSConv) as
# checkpoints/ps_resnet50.pth; its parameter names are ours (conv2.gwconv,
# conv2.gwconv_shift, conv2.conv).
_base_ = ['../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']
model = dict(
    backbone=dict(
        dcn=dict(type='mmplug.PSConv2d', parts=4, ps_dilation=2,
                 fallback_on_stride=False),
        stage_with_dcn=(True, True, True, True),
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/ps_resnet50.pth')))

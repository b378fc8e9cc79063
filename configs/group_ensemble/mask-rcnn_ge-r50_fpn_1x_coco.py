# Mask R-CNN 1x on COCO with a Group Ensemble ResNet-50 (our design; no
# official code exists): stem and stages 1-2 shared and loaded from
# torchvision's ResNet-50, stages 3-4 as 4 independent tails (group convs,
# twice as wide: about ResNet-50's FLOPs) from their init, their maps
# concatenated for the FPN (256/512/2048/4096 channels); stem and stage 1
# frozen, BN statistics frozen, as mmdet's R-50. Otherwise
# configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py.
_base_ = ['../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.GroupEnsembleResNet',
        depth=50,
        num_groups=4,
        shared_stages=2,
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/'
            'resnet50-0676ba61.pth')),
    neck=dict(in_channels=[256, 512, 2048, 4096]))

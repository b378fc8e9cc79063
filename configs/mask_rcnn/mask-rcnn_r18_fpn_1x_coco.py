# Mask R-CNN with a ResNet-18 FPN on COCO, 1x schedule: the stock baseline the
# demo runs on its synthetic data (configs/demo/mask-rcnn_r18_fpn_demo.py).
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime_det.py',
]
model = dict(
    backbone=dict(
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))

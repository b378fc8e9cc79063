# Cascade R-CNN with a DCA-GC-ResNet-50 backbone, 2x: the recipe the DCANet
# repository named "20e" (official: R-50 40.6, GC-R-50 41.1, DCA-GC-R-50 41.4
# AP). Its config actually trains 24 epochs with steps 16 and 22 (SGD
# 0.02): so does this one, on mmdet's Cascade R-CNN R-50 20e config. Stem
# and stage 1 frozen, BN statistics frozen. Needs the official ImageNet
# checkpoint as checkpoints/dca_gc_resnet50.pth.tar.
_base_ = [
    'mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_20e_coco.py',
    '../_base_/mmplug.py',
    '../_base_/models/dca-r50.py',
]
max_epochs = 24
model = dict(
    backbone=dict(_base_.pop('backbone'), attention='gc', init_cfg=dict(
        type='Pretrained',
        checkpoint='checkpoints/dca_gc_resnet50.pth.tar')))
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[16, 22], gamma=0.1),
]

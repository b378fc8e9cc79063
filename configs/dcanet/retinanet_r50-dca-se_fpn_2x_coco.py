# RetinaNet with a DCA-SE-ResNet-50 backbone, 2x, as the DCANet repository
# trained it (official: R-50 36.2, SE-R-50 37.4, DCA-SE-R-50 37.7 AP): FPN
# from C3 with extra convs, SGD 0.01, 24 epochs with steps 16 and 22, stem
# and stage 1 frozen, BN statistics frozen. Needs the official ImageNet
# checkpoint (Google Drive link in ma-xu/DCANet) as
# checkpoints/dca_se_resnet50.pth.tar.
_base_ = [
    'mmdet::retinanet/retinanet_r50_fpn_2x_coco.py',
    '../_base_/mmplug.py',
    '../_base_/models/dca-r50.py',
]
model = dict(backbone=_base_.pop('backbone'))

# Mask R-CNN R-50 1x with every ResNet conv a DO-Conv (the paper replaces
# the backbone's convs; 1x1s stay plain): only the backbone's conv_cfg
# differs from configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py. torchvision's
# ImageNet ResNet-50 loads as it is (D = 0: each DO-Conv starts as its
# conv). After training, tools/model_converters/fold_doconv.py folds the
# checkpoint for the baseline config: same outputs at a plain conv's cost.
_base_ = ['../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']
model = dict(backbone=dict(conv_cfg=dict(type='mmplug.DOConv')))

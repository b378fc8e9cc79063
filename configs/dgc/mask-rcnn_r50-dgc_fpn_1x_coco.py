# Mask R-CNN R-50 1x with DGC (4 heads, each finally keeping 25% of its
# input channels) as the 3x3 conv of every bottleneck of stages 2-4,
# through mmdet ResNet's dcn slot; otherwise
# configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py. DGCProgressHook drives the
# pruning schedule and adds the saliency penalty to the losses
# (loss_dgc_lasso). Experimental:
# the paper is classification-only, and the dense form saves no FLOPs.
# From torchvision's ResNet-50, the DGC layers start from their init.
_base_ = ['../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
          '../_base_/models/r50-dgc.py']
model = dict(backbone=_base_.pop('backbone'))
custom_hooks = [dict(type='mmplug.DGCProgressHook')]

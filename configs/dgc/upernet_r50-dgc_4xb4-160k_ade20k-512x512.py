# UPerNet R-50 (V1c) on ADE20K with DGC (4 heads, 25% of the channels kept
# at the end) as the 3x3 conv of every bottleneck of stages 2-4 (mmseg
# ResNet's dcn slot) and the hook that drives its pruning schedule;
# otherwise configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py.
# Experimental (see the Mask R-CNN config).
_base_ = ['../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
          '../_base_/models/r50-dgc.py']
model = dict(backbone=_base_.pop('backbone'))
custom_hooks = [dict(type='mmplug.DGCProgressHook')]

# SCSC-Swin-T UPerNet on ADE20K with mmseg's Swin-T recipe (AdamW 6e-5,
# weight decay 0.01, 1500-iteration warmup then poly, 160k iterations,
# 8 GPUs x 2 images). No official segmentation result exists.
_base_ = [
    'mmseg::swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py',  # noqa
    '../_base_/mmplug.py',
    '../_base_/models/scsc-swin-t.py',
]

model = dict(pretrained=None, backbone=_base_.pop('backbone'))

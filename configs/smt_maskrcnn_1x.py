# SMT-S Mask R-CNN FPN 1x on COCO (the SMT paper's recipe): AdamW lr 2e-4,
# weight decay 0.05 (none on norms), drop path 0.2, 2 images/GPU x 8 GPUs,
# 12 epochs, single scale 1333x800. Paper: 47.8 box AP / 43.0 mask AP.
# Needs checkpoints/smt_small.pth (official ImageNet-1K SMT-S, README
# "Pretrained weights") and data/coco (README "Dataset preparation").
_base_ = [
    './_base_/models/mask-rcnn_smt-s_fpn.py',
    './_base_/datasets/coco_instance.py',
    './_base_/schedules/adamw_1x.py',
    './_base_/default_runtime_det.py',
]

# SMT-S Mask R-CNN FPN 3x with multi-scale + crop training (paper: 49.0 box
# AP / 43.4 mask AP, 40M, 265G). Needs checkpoints/smt_small.pth.
_base_ = [
    '../_base_/models/mask-rcnn_smt-s_fpn.py',
    '../_base_/datasets/coco_instance_ms-crop.py',
    '../_base_/schedules/adamw_3x.py',
    '../_base_/default_runtime_det.py',
]

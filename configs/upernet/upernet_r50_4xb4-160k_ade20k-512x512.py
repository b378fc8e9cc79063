# UPerNet R-50 (V1c) on ADE20K, 160k iterations at 512x512, as mmseg's
# upernet_r50_4xb4-160k_ade20k-512x512.py (mmseg: 42.05 mIoU): the baseline
# of configs/fpt/upernet_r50_fpt_4xb4-160k_ade20k-512x512.py.
_base_ = [
    '../_base_/models/upernet_r50.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/schedules/schedule_160k.py',
    '../_base_/default_runtime_seg.py',
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))

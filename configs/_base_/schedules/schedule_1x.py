# 12 epochs, SGD 0.02 for 16 images (8 GPUs x 2), steps at 8 and 11.
_base_ = 'mmdet::_base_/schedules/schedule_1x.py'

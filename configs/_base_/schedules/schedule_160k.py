# 160k iterations, SGD 0.01, poly decay; validation and checkpoints every 16k.
_base_ = 'mmseg::_base_/schedules/schedule_160k.py'

# UPerNet R-50 as in mmseg 1.2.2 (UPerHead + auxiliary FCNHead on stage 3,
# SyncBN). Our backbones/necks replace model.backbone/neck.
_base_ = 'mmseg::_base_/models/upernet_r50.py'

# SMT-S Mask R-CNN 1x (configs/smt_maskrcnn_1x.py) with DCA-FPN (SE
# attention connected top-down) instead of FPN. Needs
# checkpoints/smt_small.pth.
_base_ = ['../smt_maskrcnn_1x.py']

model = dict(
    neck=dict(type='mmplug.DCAFPN', attention='se', direction='top_down'))

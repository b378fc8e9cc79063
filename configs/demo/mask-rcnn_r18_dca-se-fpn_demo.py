# Demo: the R-18 demo (mask-rcnn_r18_fpn_demo.py: synthetic data, from
# scratch, 4 epochs of SGD 0.02) with DCA-FPN (SE attention connected
# top-down) instead of FPN: only the neck type changes.
_base_ = ['./mask-rcnn_r18_fpn_demo.py']

model = dict(neck=dict(type='mmplug.DCAFPN', attention='se'))

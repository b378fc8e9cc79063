# ADE20K (SceneParsing, 150 classes) as in mmseg 1.2.2: 512x512 crops of
# images resized to 2048x512 at ratios 0.5-2.0, IoUMetric(mIoU). Expects
# data/ade/ADEChallengeData2016/{images,annotations}/{training,validation}.
_base_ = 'mmseg::_base_/datasets/ade20k.py'

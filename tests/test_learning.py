"""Every backbone and neck learns.

For each family, a small version (mmplug.testing.SMALL_BACKBONES; the necks
on a narrow ResNet-18) sits in a UPerNet whose head stays fixed at its
random initialisation; only the family's own parameters train, from a fixed
seed, on a fixed batch of two demo images (48 x 48, the demo's five ADE20K
classes). Their loss must fall by LOSS_FALL within ITERS iterations: a
family that stops learning (no gradient reaching it, frozen parameters, a
forward that ignores its input, a broken initialisation) fails here. The
head is fixed so that the fall is the family's alone; its classifier starts
at a scale (CLS_STD) through which the features can move the logits.
"""
import copy
import glob
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np
import pytest
import torch

from mmplug.testing import (SMALL_BACKBONES, SMALL_NECKS,
                            registered_backbones, registered_necks)

pytestmark = pytest.mark.e2e

SIZE, ITERS, LR = 48, 25, 3e-3
#: the smallest fall of the loss, (first - mean of the last 3) / first
LOSS_FALL = 0.25
#: std of the fixed head's classifier (mmseg's default 0.01 would leave
#: the logits near zero whatever the features)
CLS_STD = 0.25
NUM_CLASSES = 5

#: ParC-ResNet with one ParC bottleneck (stage 4) instead of two
ARCHS = dict(SMALL_BACKBONES, **{'mmplug.ParCResNet': dict(arch=dict(
    depths=[1, 1, 1, 2], parc_blocks=[0, 0, 0, 1]))})
#: the necks' backbone: a ResNet-18 at a quarter of its width
NECK_BACKBONE = dict(type='ResNetV1c', depth=18, stem_channels=16,
                     base_channels=16, norm_cfg=dict(type='BN'))
NECK_BACKBONE_CHANNELS = [16, 32, 64, 128]


def segmentor_cfg(family: str) -> Tuple[dict, str]:
    """The UPerNet of a family and the name of the part that trains
    (``'backbone'`` or ``'neck'``)."""
    from mmplug.registry import MODELS
    head = dict(type='UPerHead', in_index=[0, 1, 2, 3], pool_scales=(1, 2, 3),
                channels=16, dropout_ratio=0., num_classes=NUM_CLASSES,
                norm_cfg=dict(type='BN'), align_corners=False,
                loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0),
                init_cfg=dict(type='Normal', std=CLS_STD,
                              override=dict(name='conv_seg')))
    if family in SMALL_NECKS:
        neck = dict(copy.deepcopy(SMALL_NECKS[family]), type=family,
                    in_channels=NECK_BACKBONE_CHANNELS, out_channels=16,
                    num_outs=4)
        neck.pop('add_extra_convs', None)
        return dict(type='EncoderDecoder', backbone=NECK_BACKBONE, neck=neck,
                    decode_head=dict(head, in_channels=[16] * 4)), 'neck'
    backbone = dict(copy.deepcopy(ARCHS[family]), type=family)
    channels = MODELS.build(copy.deepcopy(backbone)).out_channels
    return dict(type='EncoderDecoder', backbone=backbone,
                decode_head=dict(head, in_channels=channels)), 'backbone'


@pytest.fixture(scope='module')
def batch(demo_root):
    """Two demo ADE20K training images at SIZE x SIZE, normalised, and
    their label maps (the five classes 0-4, 255 ignored)."""
    from mmcv import imread, imresize
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from mmplug.datasets import DEMO_ADE_LABEL_IDS
    root = osp.join(demo_root, 'ade', 'ADEChallengeData2016')
    paths = sorted(glob.glob(osp.join(root, 'images', 'training',
                                      '*.jpg')))[:2]
    lut = np.full(256, 255, np.uint8)
    lut[list(DEMO_ADE_LABEL_IDS)] = np.arange(NUM_CLASSES)
    mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
    images, samples = [], []
    for path in paths:
        image = imresize(imread(path, channel_order='rgb'), (SIZE, SIZE))
        label = imread(path.replace('images', 'annotations')[:-4] + '.png',
                       'unchanged')
        label = imresize(label, (SIZE, SIZE), interpolation='nearest')
        images.append((torch.from_numpy(image).permute(2, 0, 1).float() -
                       mean) / std)
        sample = SegDataSample(metainfo=dict(img_shape=(SIZE, SIZE),
                                             pad_shape=(SIZE, SIZE),
                                             ori_shape=(SIZE, SIZE)))
        sample.gt_sem_seg = PixelData(
            data=torch.from_numpy(lut[label]).long()[None])
        samples.append(sample)
    return torch.stack(images), samples


def train_alone(family: str, batch, lr: float = LR,
                iters: int = ITERS) -> List[float]:
    """The losses of ``iters`` AdamW steps of the family's parameters
    alone (everything else fixed at its initialisation; those the family
    freezes itself stay frozen), from seed 0."""
    from mmengine.registry import MODELS, DefaultScope
    cfg, part = segmentor_cfg(family)
    images, samples = batch
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(0)
        model = MODELS.build(cfg)
    model.init_weights()
    model.train()
    params = []
    for name, param in model.named_parameters():
        param.requires_grad_(param.requires_grad and
                             name.startswith(part + '.'))
        if param.requires_grad:
            params.append(param)
    assert params, f'{family}: no trainable parameters'
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.)
    losses = []
    for i in range(iters):
        torch.manual_seed(i)  # the same drop-path draws in every run
        loss, _ = model.parse_losses(model.loss(images, samples))
        assert loss.requires_grad, \
            f'{family}: no gradient reaches its parameters'
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def loss_fall(losses: List[float]) -> float:
    """(first - mean of the last three) / first."""
    return (losses[0] - float(np.mean(losses[-3:]))) / losses[0]


FAMILIES: Dict[str, str] = {**{n: 'backbone' for n in ARCHS},
                            **{n: 'neck' for n in SMALL_NECKS}}


def test_every_family_has_a_learning_check():
    assert set(FAMILIES) == set(registered_backbones()) | \
        set(registered_necks())


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_family_learns(family, batch):
    losses = train_alone(family, batch)
    assert all(np.isfinite(losses)), losses
    fall = loss_fall(losses)
    assert fall >= LOSS_FALL, (
        f'{family}: loss {losses[0]:.3f} -> {np.mean(losses[-3:]):.3f} in '
        f'{ITERS} iterations, a fall of {fall:.0%} (at least '
        f'{LOSS_FALL:.0%} expected)')


def test_the_check_fails_when_nothing_learns(batch):
    # the same run at lr 0: the family does not change, nor does the loss
    losses = train_alone('mmplug.DCAFPN', batch, lr=0.)
    assert abs(loss_fall(losses)) < 1e-6

"""Stock mmdet and mmseg configs with each mmplug backbone swapped in, as a
user would write them: build the model and run one loss step.

mmseg's ``EncoderDecoder`` hands the config's ``pretrained`` (here
``open-mmlab://resnet50_v1c``) to the backbone, which must take it as a
``Pretrained`` init (nothing is loaded: ``init_weights`` is not called).
Backbones are shallow versions (:data:`mmplug.testing.TINY_BACKBONES`) and
images 64x64, to keep this cheap.
"""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope

from mmplug.testing import TINY_BACKBONES, registered_backbones

DET_BASE = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
SEG_BASE = 'mmseg::upernet/upernet_r50_4xb4-160k_ade20k-512x512.py'
SIZE = 64
BACKBONES = registered_backbones()


def test_every_backbone_has_a_tiny_version():
    assert BACKBONES and set(BACKBONES) == set(TINY_BACKBONES)


def backbone_cfg(name: str):
    """The tiny backbone's config and its output channels."""
    cfg = dict(type=name, **TINY_BACKBONES[name])
    channels = list(MODELS.build(cfg).out_channels)
    assert len(channels) == 4, f'{name}: expected 4 maps, got {channels}'
    return cfg, channels


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """Tiny tensors: one thread is faster than two on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def stock(tmp_path_factory):
    """The stock configs, read once (resolving ``mmdet::`` is slow)."""
    configs = {}
    for base in (DET_BASE, SEG_BASE):
        path = tmp_path_factory.mktemp('stock') / 'user.py'
        path.write_text(f'_base_ = {base!r}\n'
                        "custom_imports = dict(imports=['mmplug.models'], "
                        'allow_failed_imports=False)\n')
        configs[base] = Config.fromfile(str(path))
    return configs


def swap(stock: Config, model: dict) -> Config:
    """``stock`` with ``model`` merged in as a config inheriting it would
    be (``_delete_`` honoured)."""
    cfg = copy.deepcopy(stock)
    cfg.merge_from_dict(dict(model=model))
    return cfg


def loss_step(model, data) -> None:
    """One training forward + backward; the backbone must get gradients."""
    model.train()
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.backbone.parameters())


@pytest.mark.parametrize('name', BACKBONES)
def test_stock_mask_rcnn(name, stock):
    from mmdet.testing import demo_mm_inputs
    init_default_scope('mmdet')
    backbone, channels = backbone_cfg(name)
    cfg = swap(stock[DET_BASE], dict(
        backbone=dict(_delete_=True, **backbone),
        neck=dict(in_channels=channels),
        # fewer RoIs than the stock 512: the mask head dominates the cost
        train_cfg=dict(rpn_proposal=dict(nms_pre=200, max_per_img=100),
                       rcnn=dict(sampler=dict(num=32)))))
    assert cfg.model.backbone.type == name
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == name.split('.')[1]
    data = demo_mm_inputs(2, [[3, SIZE, SIZE]] * 2, num_classes=80,
                          with_mask=True)
    loss_step(model, data)


@pytest.mark.parametrize('name', BACKBONES)
def test_stock_upernet(name, stock):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    init_default_scope('mmseg')
    backbone, channels = backbone_cfg(name)
    cfg = swap(stock[SEG_BASE], dict(
        data_preprocessor=dict(size=(SIZE, SIZE)),
        backbone=dict(_delete_=True, **backbone),
        decode_head=dict(in_channels=channels),
        auxiliary_head=dict(in_channels=channels[2])))
    assert cfg.model.pretrained == 'open-mmlab://resnet50_v1c'  # stock
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    assert type(model.backbone).__name__ == name.split('.')[1]
    assert model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(SIZE, SIZE),
                                             ori_shape=(SIZE, SIZE)))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, 150, (1, SIZE, SIZE)))
        samples.append(sample)
    inputs = [torch.randint(0, 255, (3, SIZE, SIZE), dtype=torch.uint8)
              for _ in samples]
    loss_step(model, dict(inputs=inputs, data_samples=samples))

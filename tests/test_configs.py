"""Every shipped config builds (backbones with shallow archs of the same
widths); in the end-to-end tier each runs a loss and a predict step on tiny
inputs."""
import glob
import os.path as osp
from functools import partial

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from mmplug.apis import task_of
from mmplug.testing import import_mmpretrain_models

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                       recursive=True) if '_base_' not in p)
TINY_SMT = dict(embed_dims=[64, 128, 256, 512], depths=[1, 1, 2, 1],
                mlp_ratios=[2, 2, 2, 2], stem_kernel=3)
#: variables of configs/_base_ that configs take with _base_.pop(): none
#: may stay in a resolved config
BASE_VARIABLES = {'backbone', 'neck', 'layer_decay_optim_wrapper',
                  'ms_crop_aug', 'mmpretrain_imports'}


def tiny_model_cfg(cfg: Config) -> dict:
    """The config's model without pretrained weights and with a shallow arch
    of the same widths (so necks and heads are unchanged)."""
    model = cfg.model
    backbone = model.backbone
    backbone.pop('init_cfg', None)
    if 'pretrained' in model:
        model.pretrained = None
    if backbone.type == 'mmplug.SMT':
        backbone.arch = TINY_SMT
    elif backbone.type == 'mmplug.ParCConvNeXt':
        from mmplug.models import ParCConvNeXt
        dims = ParCConvNeXt.arch_zoo[backbone.arch]['embed_dims']
        backbone.arch = dict(embed_dims=dims, depths=[1, 1, 3, 1])
    elif backbone.type == 'mmpretrain.ConvNeXt':
        arch = backbone.arch
        dims = arch['channels'] if isinstance(arch, dict) else \
            {'tiny': [96, 192, 384, 768]}[arch]
        backbone.arch = dict(channels=dims, depths=[1, 1, 3, 1])
    elif backbone.type == 'mmplug.ParCResNet':
        backbone.arch = dict(depths=[1, 1, 2, 2], parc_blocks=[0, 0, 1, 1])
    elif backbone.type.startswith('mmplug.') and 'depth' in backbone:
        del backbone['depth']  # the ResNets: depth or depths
        backbone.depths = [1, 1, 2, 1]
    elif backbone.type == 'mmplug.SCSCSwin':
        backbone.depths = [1, 1, 2, 1]
    # the batches' size (64 x 96), not the training crop's (512 x 512),
    # which mmseg's preprocessor would pad every input to
    if model.get('data_preprocessor', {}).get('size'):
        model.data_preprocessor.size = (64, 96)
    # narrower head internals (their in_channels stay the config's) and
    # fewer proposals and sampled RoIs: what dominates the step's time
    for head in ('decode_head', 'auxiliary_head'):
        if isinstance(model.get(head), dict) and 'channels' in model[head]:
            model[head].channels = min(model[head].channels, 64)
    train_cfg = model.get('train_cfg') or {}
    if 'rpn_proposal' in train_cfg:
        train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=100)
    for stage in ([train_cfg.rcnn] if isinstance(train_cfg.get('rcnn'), dict)
                  else train_cfg.get('rcnn') or []):
        stage.sampler.num = 16
    test_cfg = model.get('test_cfg') or {}
    if 'rpn' in test_cfg:
        test_cfg.rpn.update(nms_pre=200, max_per_img=100)
    return model


def det_batch(model, num_classes, training):
    from mmdet.testing import demo_mm_inputs
    packed = demo_mm_inputs(2, [[3, 64, 96], [3, 64, 80]],
                            num_classes=num_classes, with_mask=True)
    return model.data_preprocessor(packed, training)


def seg_batch(model, num_classes, training):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    inputs, samples = [], []
    for h, w in [(64, 96)] * 2:  # mmseg tests batches of one size
        inputs.append(torch.randint(0, 255, (3, h, w), dtype=torch.uint8))
        sample = SegDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, h, w)))
        samples.append(sample)
    return model.data_preprocessor(
        dict(inputs=inputs, data_samples=samples), training)


def test_entry_config_found():
    assert 'configs/smt_maskrcnn_1x.py' in CONFIGS


def build_tiny(config: str, monkeypatch):
    """The config, its task and its model (:func:`tiny_model_cfg`), built
    and initialised."""
    monkeypatch.chdir(REPO)
    cfg = Config.fromfile(config, import_custom_modules=False)
    assert cfg.custom_imports.imports[0] == 'mmplug.models'
    assert not BASE_VARIABLES & set(cfg), 'a _base_ variable leaked'
    if 'mmpretrain.models' in cfg.custom_imports.imports:
        import_mmpretrain_models()
    init_default_scope(cfg.default_scope)
    model = MODELS.build(tiny_model_cfg(cfg))
    model.init_weights()
    return cfg, task_of(cfg), model


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds(config, monkeypatch):
    cfg, task, model = build_tiny(config, monkeypatch)
    assert task in ('det', 'seg')
    for part, built in (('model', model), ('backbone', model.backbone)):
        wanted = (cfg.model if part == 'model' else cfg.model.backbone).type
        assert type(built).__name__ == wanted.split('.')[-1], part


@pytest.mark.e2e
@pytest.mark.parametrize('config', CONFIGS)
def test_config_steps(config, monkeypatch):
    _, task, model = build_tiny(config, monkeypatch)
    if task == 'det':
        heads = model.roi_head if hasattr(model, 'roi_head') else \
            model.bbox_head
        bbox_head = getattr(heads, 'bbox_head', heads)
        if isinstance(bbox_head, torch.nn.ModuleList):
            bbox_head = bbox_head[0]
        batch = partial(det_batch, model, bbox_head.num_classes)
    else:
        batch = partial(seg_batch, model, model.decode_head.num_classes)
    model.train()
    losses = model(**batch(True), mode='loss')
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    model.eval()
    with torch.no_grad():
        results = model(**batch(False), mode='predict')
    assert len(results) == 2
    if task == 'det':
        assert 'bboxes' in results[0].pred_instances
    else:
        assert results[0].pred_sem_seg.data.shape[-2:] == (64, 96)

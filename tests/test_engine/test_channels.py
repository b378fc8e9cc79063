"""The build-time channel check (mmplug.engine.channels): a neck or head whose
channels do not fit what feeds it is refused with the key to set and its
right value; models that fit, and models the check cannot run, pass."""
import copy
import functools
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmplug.engine.channels import build_on_meta, check_channels
from mmplug.apis.config import load_config
from mmplug.errors import ChannelMismatchError, ConfigError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
R18 = 'configs/mask_rcnn/mask-rcnn_r18_fpn_1x_coco.py'
UPER_R18 = 'configs/upernet/upernet_r18_4xb4-160k_ade20k-512x512.py'


@functools.lru_cache(maxsize=None)
def _loaded(path):
    return load_config(osp.join(REPO, path))


def _load(path):
    """A fresh copy of a config (each is read once: reading mmdet's bases
    costs more than the check)."""
    return Config(copy.deepcopy(_loaded(path).to_dict()))


def _cfg(path, **model):
    cfg = _load(path)
    cfg.merge_from_dict({f'model.{k}': v for k, v in model.items()})
    return cfg


def _refused(cfg):
    with pytest.raises(ChannelMismatchError) as err:
        check_channels(cfg)
    return str(err.value)


# Configs of every kind of part the check reads: mmdet's ResNet and mmplug's
# backbones, mmdet's FPN and mmplug's necks, RPN, RetinaNet, Mask R-CNN and
# cascade heads, UPerNet with and without a neck.
FITTING = [
    R18,
    UPER_R18,
    'configs/dca_fpn/mask-rcnn_smt-s_dca-se-fpn_1x_coco.py',
    'configs/fpt/upernet_smt-s_fpt_8xb2-160k_ade20k-512x512.py',
    'configs/parc_convnext/cascade-mask-rcnn_parc-convnext-xt_fpn_'
    'giou-4conv1fc_ms-crop-3x_coco.py',
    'configs/mobilenext/retinanet_mobilenext_fpn_1x_coco.py',
]


@pytest.mark.parametrize('path', FITTING)
def test_fitting_configs_pass(path):
    check_channels(_load(path))


# (config, model overrides, the key and the right value in the message)
DET_CASES = [
    # mmdet's FPN: too few levels, wrong values
    (R18, dict(neck=dict(in_channels=[64, 128, 256])),
     'set model.neck.in_channels=[64, 128, 256, 512] (or give the backbone '
     'out_indices that select 3 levels)'),
    (R18, dict(neck=dict(in_channels=[256, 512, 1024, 2048])),
     'set model.neck.in_channels=[64, 128, 256, 512]'),
    # mmplug's necks
    (R18, dict(neck=dict(_delete_=True, type='mmplug.FPT',
                         in_channels=[256, 512, 1024, 2048],
                         out_channels=256, num_outs=5)),
     'set model.neck.in_channels=[64, 128, 256, 512]'),
    (R18, dict(neck=dict(_delete_=True, type='mmplug.DCAFPN',
                         in_channels=[64, 128, 256], out_channels=256,
                         num_outs=5)),
     'set model.neck.in_channels=[64, 128, 256, 512]'),
    # other mmdet necks
    (R18, dict(neck=dict(_delete_=True, type='PAFPN',
                         in_channels=[256, 512, 1024, 2048],
                         out_channels=256, num_outs=5)),
     'set model.neck.in_channels=[64, 128, 256, 512]'),
    (R18, dict(neck=dict(_delete_=True, type='ChannelMapper',
                         in_channels=[128, 256], out_channels=256),
               backbone=dict(out_indices=(1, 2, 3))),
     'set model.neck.in_channels=[128, 256, 512]'),
    # an mmplug backbone under mmdet's FPN
    (R18, dict(backbone=dict(_delete_=True, type='mmplug.SMT', arch='large',
                             init_cfg=None)),
     "the backbone's outputs (mmplug.SMT): 4 maps of [96, 192, 384, 768] "
     'channels; set model.neck.in_channels=[96, 192, 384, 768]'),
    # heads against the neck
    (R18, dict(neck=dict(out_channels=128)),
     "model.rpn_head.in_channels=256 does not fit the neck's outputs (FPN): "
     '5 maps of 128 channels; set model.rpn_head.in_channels=128'),
    (R18, dict(roi_head=dict(bbox_roi_extractor=dict(out_channels=128))),
     'set model.roi_head.bbox_roi_extractor.out_channels=256'),
    (R18, dict(roi_head=dict(mask_roi_extractor=dict(out_channels=64))),
     'set model.roi_head.mask_roi_extractor.out_channels=256'),
    (R18, dict(roi_head=dict(bbox_head=dict(in_channels=128))),
     'model.roi_head.bbox_head.in_channels=128 does not fit '
     'model.roi_head.bbox_roi_extractor.out_channels=256'),
    (R18, dict(roi_head=dict(mask_head=dict(in_channels=64))),
     'set model.roi_head.mask_head.in_channels=256'),
]


@pytest.mark.parametrize('path, model, fragment', DET_CASES,
                         ids=[c[2][:50] for c in DET_CASES])
def test_detector_mismatch_names_the_fix(path, model, fragment):
    message = _refused(_cfg(path, **model))
    assert fragment in message, message
    assert '\n' not in message


def test_fixed_value_passes():
    """The value the message proposes is one that fits."""
    cfg = _cfg(R18, neck=dict(in_channels=[256, 512, 1024, 2048]))
    _refused(cfg)
    cfg.model.neck.in_channels = [64, 128, 256, 512]
    check_channels(cfg)


def test_retinanet_head_and_neck_list():
    cfg = _load('configs/mobilenext/retinanet_mobilenext_fpn_1x_coco.py')
    cfg.model.bbox_head.in_channels = 128
    assert 'set model.bbox_head.in_channels=256' in _refused(cfg)
    # a list of necks (FPN, then BFP on its outputs): each against the
    # one before
    cfg = _cfg(R18)
    fpn = cfg.model.neck.to_dict()
    cfg.model.neck = [fpn, dict(type='BFP', in_channels=128, num_levels=5,
                                refine_type='conv')]
    assert "set model.neck.1.in_channels=256" in _refused(cfg)
    cfg.model.neck[1]['in_channels'] = 256
    check_channels(cfg)


def test_cascade_heads_one_per_stage():
    cfg = _load(FITTING[4])
    cfg.model.roi_head.bbox_head[2].in_channels = 128
    assert 'set model.roi_head.bbox_head.2.in_channels=256' in \
        _refused(cfg)


SEG_CASES = [
    (dict(decode_head=dict(in_channels=[256, 512, 1024, 2048])),
     ['model.decode_head.in_channels=[256, 512, 1024, 2048] does not fit '
      "the backbone's outputs (ResNetV1c): 4 maps of [64, 128, 256, 512] "
      'channels, of which in_index=[0, 1, 2, 3] selects [64, 128, 256, '
      '512]; set model.decode_head.in_channels=[64, 128, 256, 512]']),
    (dict(auxiliary_head=dict(in_channels=512)),
     ['model.auxiliary_head.in_channels=512 does not fit', 'in_index=2 '
      'selects 256; set model.auxiliary_head.in_channels=256 (or '
      'model.auxiliary_head.in_index=3, the map with 512 channels)']),
    (dict(auxiliary_head=dict(in_index=4)),
     ["model.auxiliary_head.in_index=4 is out of range for the backbone's "
      'outputs (ResNetV1c): 4 maps of [64, 128, 256, 512] channels, '
      'in_index 0-3']),
]


@pytest.mark.parametrize('model, fragments', SEG_CASES,
                         ids=[c[1][0][:40] for c in SEG_CASES])
def test_segmentor_mismatch_names_the_fix(model, fragments):
    message = _refused(_cfg(UPER_R18, **model))
    for fragment in fragments:
        assert fragment in message, message


def test_segmentor_heads_behind_a_neck():
    cfg = _load(FITTING[3])  # SMT-S, FPT, UPerNet
    assert cfg.model.neck.out_channels == 256
    cfg.model.decode_head.in_channels = [96, 192, 384, 768]  # SMT-S's
    message = _refused(cfg)
    assert "the neck's outputs (mmplug.FPT)" in message
    assert 'set model.decode_head.in_channels=[256, 256, 256, 256]' in \
        message


def test_test_time_augmentation_wrapper():
    cfg = _cfg(UPER_R18)
    cfg.model = dict(type='SegTTAModel', module=cfg.model)
    cfg.model['module']['decode_head']['in_channels'] = [1, 2, 3, 4]
    assert 'set model.module.decode_head.in_channels=[64, 128, 256, 512]' \
        in _refused(cfg)


def test_what_cannot_run_is_left_to_the_run():
    """A backbone with an mmcv op (no meta kernel) cannot run on meta
    tensors: nothing is refused, whatever the neck says."""
    cfg = _cfg(R18, backbone=dict(
        dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True), depth=50),
        neck=dict(in_channels=[1, 2, 3, 4]))
    check_channels(cfg)
    # a part that cannot be built is reported by the run's own build
    cfg = _cfg(R18, neck=dict(_delete_=True, type='mmplug.FPT',
                              in_channels=[], out_channels=8, num_outs=5))
    check_channels(cfg)


def test_checked_once_per_model():
    cfg = _cfg(R18, neck=dict(in_channels=[1, 2, 3, 4]))
    _refused(cfg)
    _refused(cfg)  # a refused model is not remembered as checked


def test_error_class():
    assert issubclass(ChannelMismatchError, ConfigError)


def test_build_on_meta_takes_no_memory():
    """Parameters on meta; tensors a constructor computes with (drop-path
    rates from ``linspace(...).item()``) stay usable."""
    from mmengine.registry import DefaultScope
    import mmplug.models  # noqa: F401
    with DefaultScope.overwrite_default_scope('mmdet'):
        smt = build_on_meta(dict(type='mmplug.SMT', arch='large',
                                 drop_path_rate=0.3))
    assert all(p.is_meta for p in smt.parameters())
    assert sum(p.numel() for p in smt.parameters()) > 70e6
    outs = smt(torch.empty(1, 3, 64, 64, device='meta'))
    assert [tuple(o.shape) for o in outs] == [
        (1, 96, 16, 16), (1, 192, 8, 8), (1, 384, 4, 4), (1, 768, 2, 2)]


def test_config_without_backbone_is_skipped():
    check_channels(Config(dict(default_scope='mmdet', model=dict(
        type='Something'))))

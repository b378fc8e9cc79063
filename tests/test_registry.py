"""The mmplug scope: resolution from mmdet and mmseg configs."""
import mmcv.cnn  # noqa: F401  registers BN & co. in the root registry
import pytest
import torch
from mmengine.model import BaseModule
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope, init_default_scope

from mmplug.registry import MODELS


class _ToyBackbone(BaseModule):
    """Four strided convs: outputs at strides 4, 8, 16, 32."""

    def __init__(self, widths=(8, 16, 32, 64), init_cfg=None):
        super().__init__(init_cfg)
        chans = (3, ) + tuple(widths)
        self.stages = torch.nn.ModuleList(
            torch.nn.Conv2d(chans[i], chans[i + 1], 3, 4 if i == 0 else 2, 1)
            for i in range(4))

    def forward(self, x):
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return tuple(outs)


@pytest.fixture(autouse=True)
def toy_backbone():
    """``mmplug._ToyBackbone``, in mmplug's registry for one test only."""
    MODELS.register_module('_ToyBackbone', module=_ToyBackbone)
    yield
    MODELS.module_dict.pop('_ToyBackbone')


def test_scope_and_parent():
    assert MODELS.scope == 'mmplug'
    assert MODELS.parent is ROOT_MODELS
    assert 'mmplug.models' in MODELS._locations
    # a root brick (mmcv's BN) is visible from our scope
    assert MODELS.get('BN') is torch.nn.BatchNorm2d


def _det_model_cfg():
    from mmengine.config import Config
    cfg = Config.fromfile('configs/mask_rcnn/mask-rcnn_r18_fpn_1x_coco.py')
    cfg.model.backbone = dict(type='mmplug._ToyBackbone')
    cfg.model.neck.in_channels = [8, 16, 32, 64]
    return cfg


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg'])
def test_prefixed_type_resolves_from_both_scopes(scope):
    init_default_scope(scope)
    assert DefaultScope.get_current_instance().scope_name == scope
    backbone = ROOT_MODELS.build(dict(type='mmplug._ToyBackbone'))
    assert isinstance(backbone, _ToyBackbone)
    # without the prefix the name is not found from mmdet/mmseg
    with pytest.raises(KeyError, match=f'not in the {scope}::model registry'):
        ROOT_MODELS.build(dict(type='_ToyBackbone'))


def test_backbone_in_mmdet_mask_rcnn(repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    cfg = _det_model_cfg()
    init_default_scope('mmdet')
    model = ROOT_MODELS.build(cfg.model)
    assert isinstance(model.backbone, _ToyBackbone)
    feats = model.extract_feat(torch.rand(1, 3, 64, 96))
    assert [f.shape[-2:] for f in feats] == [(16, 24), (8, 12), (4, 6),
                                            (2, 3), (1, 2)]


def test_backbone_in_mmseg_upernet(repo_root, monkeypatch):
    from mmengine.config import Config
    monkeypatch.chdir(repo_root)
    cfg = Config.fromfile(
        'configs/upernet/upernet_r18_4xb4-160k_ade20k-512x512.py')
    cfg.model.pretrained = None
    cfg.model.backbone = dict(type='mmplug._ToyBackbone')
    cfg.model.decode_head.in_channels = [8, 16, 32, 64]
    cfg.model.auxiliary_head.in_channels = 32
    cfg.norm_cfg = dict(type='BN')
    cfg.model.decode_head.norm_cfg = dict(type='BN')
    cfg.model.auxiliary_head.norm_cfg = dict(type='BN')
    init_default_scope('mmseg')
    model = ROOT_MODELS.build(cfg.model).eval()
    assert isinstance(model.backbone, _ToyBackbone)
    out = model(torch.rand(1, 3, 64, 64), mode='tensor')
    assert out.shape == (1, 150, 16, 16)

"""ONNX export of every backbone and neck (mmplug.apis.deploy and
tools/deployment/export_onnx.py), checked with onnxruntime."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmplug.apis.deploy import (ONNX_TOLERANCE, build_deploy_model,
                                export_onnx)
from mmplug.errors import CheckpointMismatchError, ConfigError
from mmplug.testing import (SMALL_BACKBONES, SMALL_NECKS,
                            registered_backbones, registered_necks, run_tool)

ort = pytest.importorskip('onnxruntime')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SMT = dict(type='mmplug.SMT', **SMALL_BACKBONES['mmplug.SMT'])
SMT_CHANNELS = [16, 32, 64, 128]


def config(backbone, neck=None):
    model = dict(type='MaskRCNN', backbone=backbone)
    if neck is not None:
        model['neck'] = neck
    return Config(dict(default_scope='mmdet', model=model))


def neck_cfg(name):
    return dict(SMALL_NECKS[name], type=name, in_channels=SMT_CHANNELS)


def check(result, model_outputs=None):
    assert result['ok'], result
    assert result['max_rel_diff'] <= ONNX_TOLERANCE
    assert result['ort_ms'] > 0 and result['eager_ms'] > 0
    assert result['ort_over_eager'] == pytest.approx(
        result['ort_ms'] / result['eager_ms'])


@pytest.mark.parametrize('name', registered_backbones())
def test_every_backbone_exports(name, tmp_path):
    cfg = config(dict(type=name, **SMALL_BACKBONES[name]))
    out = str(tmp_path / 'backbone.onnx')
    # an odd size: the ParC layers of the ParC models are baked for it
    result = export_onnx(cfg, out, shape=(45, 61), num_runs=1)
    check(result)
    model = build_deploy_model(cfg)
    with torch.no_grad():
        expected = model(torch.rand(1, 3, 45, 61))
    assert result['output_shapes'] == [tuple(y.shape) for y in expected]
    assert osp.getsize(out) > 0


@pytest.mark.parametrize('name', registered_necks())
def test_every_neck_exports(name, tmp_path):
    cfg = config(SMT, neck_cfg(name))
    result = export_onnx(cfg, str(tmp_path / 'neck.onnx'),
                         part='backbone+neck', shape=(45, 61), num_runs=1)
    check(result)
    assert [s[1] for s in result['output_shapes']] == [8] * 5


def test_checkpoint_weights_are_exported(tmp_path):
    """The file computes with the checkpoint's weights, not random ones;
    a checkpoint that does not fit is refused with its report."""
    cfg = config(SMT, neck_cfg('mmplug.DCAFPN'))
    trained = build_deploy_model(cfg, 'backbone+neck', seed=5)
    state = {k: v for k, v in trained.state_dict().items()}
    state['rpn_head.rpn_conv.weight'] = torch.zeros(1)  # other parts: ignored
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(dict(state_dict=state, meta={}), path)
    out = str(tmp_path / 'm.onnx')
    check(export_onnx(cfg, out, 'backbone+neck', (45, 61), path, num_runs=1))
    x = torch.randn(1, 3, 45, 61)
    got = ort.InferenceSession(out, providers=['CPUExecutionProvider']).run(
        None, {'input': x.numpy()})
    with torch.no_grad():
        expected = trained.eval()(x)
    for y, z in zip(expected, got):
        torch.testing.assert_close(torch.from_numpy(z), y, atol=1e-4,
                                   rtol=1e-4)
    del state['neck.lateral_convs.0.conv.weight']
    torch.save(dict(state_dict=state), path)
    with pytest.raises(CheckpointMismatchError,
                       match=r'missing in checkpoint \(1\): neck.lateral'):
        export_onnx(cfg, out, 'backbone+neck', (45, 61), path)


def test_bad_requests(tmp_path):
    out = str(tmp_path / 'm.onnx')
    with pytest.raises(ConfigError, match='has no neck'):
        export_onnx(config(SMT), out, 'backbone+neck', (45, 61))
    with pytest.raises(ConfigError, match='part must be one of'):
        export_onnx(config(SMT), out, 'neck', (45, 61))
    with pytest.raises(FileNotFoundError, match='output folder'):
        export_onnx(config(SMT), str(tmp_path / 'no' / 'm.onnx'),
                    shape=(45, 61))


@pytest.mark.e2e
def test_export_tool(tmp_path):
    cfg = tmp_path / 'fpt.py'
    base = osp.join(REPO, 'configs/demo/mask-rcnn_r18_fpt_demo.py')
    cfg.write_text(
        f"_base_ = [{base!r}]\n"
        f'model = dict(backbone=dict(_delete_=True, **{SMT!r}),\n'
        f"             neck=dict(in_channels={SMT_CHANNELS!r}, "
        "out_channels=8, gt_cfg=dict(window=3)))\n")
    out = tmp_path / 'fpt.onnx'
    res = run_tool(osp.join(REPO, 'tools/deployment/export_onnx.py'),
                   str(cfg), '--part', 'backbone+neck', '--shape', '64',
                   '96', '--out', str(out), '--num-runs', '1',
                   '--threads', '1')
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'Part: backbone+neck    input: 1x3x64x96    outputs: 1x8x16x24, ' \
        '1x8x8x12, 1x8x4x6, 1x8x2x3, 1x8x1x2' in res.stdout
    assert f'Wrote {out}' in res.stdout
    assert '(limit 1e-04): ok' in res.stdout
    assert 'onnxruntime / eager' in res.stdout and out.stat().st_size > 0
    res = run_tool(osp.join(REPO, 'tools/deployment/export_onnx.py'),
                   str(cfg), str(tmp_path / 'missing.pth'), '--shape', '64')
    assert res.returncode == 2 and 'Traceback' not in res.stderr
    assert 'export_onnx.py: error:' in res.stderr and 'missing.pth' in \
        res.stderr

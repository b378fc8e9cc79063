"""Tests of mmplug.apis.analysis (FLOPs, params, latency) and its CLIs."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmplug.apis.analysis import (DEFAULT_SHAPES, attention_flops, benchmark,
                                  build_model, dummy_inputs, flop_analyzer,
                                  get_flops, resolve_shape)
from mmplug.apis.config import load_config

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
DET_R18 = osp.join(ROOT, 'configs/mask_rcnn/mask-rcnn_r18_fpn_1x_coco.py')
SEG_R18 = osp.join(ROOT,
                   'configs/upernet/upernet_r18_4xb4-160k_ade20k-512x512.py')


@pytest.fixture(scope='module')
def det_cfg():
    return load_config(DET_R18)


@pytest.fixture(scope='module')
def seg_cfg():
    return load_config(SEG_R18)


# --------------------------------------------------------------------------
# Stock Mask R-CNN R-50 FPN at 1280x800: the figures mmengine's counter gives
# --------------------------------------------------------------------------
def test_mask_rcnn_r50_flops(tmp_path):
    path = tmp_path / 'mask_rcnn_r50.py'
    path.write_text(
        "_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']\n")
    result = get_flops(load_config(str(path)))

    assert result['task'] == 'det'
    assert result['input_shape'] == (1, 3, 800, 1280)
    # 44.40M in all; 44.17M with requires_grad (the often quoted "44.2M":
    # the ResNet stem and stage 1 are frozen)
    assert result['params'] / 1e6 == pytest.approx(44.40, abs=0.005)
    assert result['params_trainable'] / 1e6 == pytest.approx(44.17, abs=0.005)
    assert result['params_by_module'] == {
        'backbone': 23508032,
        'neck': 3344384,
        'rpn_head': 593935,
        'roi_head': 16949985,
    }
    assert sum(result['params_by_module'].values()) == result['params']
    # 259.79G: 1000 RPN proposals through the bbox head, 100 through the
    # mask head, as in mmdet's _forward
    assert result['flops'] / 1e9 == pytest.approx(259.79, abs=0.05)
    by_module = {k: v / 1e9 for k, v in result['flops_by_module'].items()}
    assert by_module == pytest.approx(
        dict(backbone=83.86, neck=58.02, rpn_head=50.62, roi_head=67.29),
        abs=0.005)
    # the bbox head's fcs on 1000 RoIs: (256*7*7*1024 + 1024*1024
    # + 1024*81 + 1024*320) * 1000
    assert result['flops_by_operator']['linear'] == 14304256000
    assert result['attention_flops'] == 0
    assert result['flops_without_attention'] == result['flops']
    uncounted = result['uncounted_ops']
    assert 'prim::PythonOp.RoIAlignFunction' in uncounted
    assert 'prim::PythonOp.NMSop' in uncounted


# --------------------------------------------------------------------------
# The attention-products rule on hand-made modules
# --------------------------------------------------------------------------
class MatmulAttention(nn.Module):
    """softmax(q k^T) v with explicit products, plus products with weights.

    x: (B, N, C) = (2, 5, 8).
    """

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(8, 24)
        self.weight = nn.Parameter(torch.randn(8, 8))
        self.register_buffer('table', torch.randn(8, 8))

    def forward(self, x: torch.Tensor) -> tuple:
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        out = (q @ k.transpose(-1, -2)).softmax(-1) @ v  # 2 x 2*5*5*8
        scores = torch.bmm(q, k.transpose(1, 2))  # 2*5*5*8
        scores2 = torch.einsum('bnc,bmc->bnm', q, k)  # 2*5*5*8
        w1 = x @ self.weight  # weights: 2*5*8*8 each
        w2 = x @ self.table.t()
        w3 = torch.einsum('bnc,cd->bnd', x, self.weight)
        w4 = x @ torch.arange(x.shape[-1]).float().diag()  # built from a size
        return out, scores, scores2, w1, w2, w3, w4


class SDPAttention(nn.Module):
    """F.scaled_dot_product_attention of q (1, 2, 3, 4), k (1, 2, 6, 4),
    v (1, 2, 6, 5)."""

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


def test_attention_products_matmul_bmm_einsum():
    analyzer = flop_analyzer(MatmulAttention(), (torch.randn(2, 5, 8), ))
    ops = analyzer.by_operator()
    attention = 2 * 5 * 5 * 8
    assert ops['attention.matmul'] == 2 * attention  # QK^T and AV
    assert ops['attention.bmm'] == attention
    assert ops['attention.einsum'] == attention
    assert attention_flops(analyzer) == 4 * attention == 1600
    weight_product = 2 * 5 * 8 * 8
    assert ops['matmul'] == 3 * weight_product
    assert ops['einsum'] == weight_product
    assert ops['linear'] == 2 * 5 * 8 * 24
    assert analyzer.total() == 1600 + 4 * weight_product + 2 * 5 * 8 * 24


def test_attention_products_sdpa():
    q, k, v = torch.randn(1, 2, 3, 4), torch.randn(1, 2, 6, 4), torch.randn(
        1, 2, 6, 5)
    analyzer = flop_analyzer(SDPAttention(), (q, k, v))
    # B*heads*Nq*Nk*(dk+dv) = 1*2*3*6*(4+5)
    assert analyzer.total() == attention_flops(analyzer) == 324
    assert 'aten::scaled_dot_product_attention' not in (
        analyzer.unsupported_ops())


def test_linear_is_not_attention():
    analyzer = flop_analyzer(nn.Linear(16, 32), (torch.randn(4, 7, 16), ))
    assert analyzer.total() == 4 * 7 * 16 * 32
    assert attention_flops(analyzer) == 0


# --------------------------------------------------------------------------
# Segmentation and shapes
# --------------------------------------------------------------------------
def test_default_shapes(det_cfg, seg_cfg):
    assert resolve_shape(det_cfg) == DEFAULT_SHAPES['det'] == (800, 1280)
    assert resolve_shape(seg_cfg) == DEFAULT_SHAPES['seg'] == (512, 2048)
    assert resolve_shape(det_cfg, (100, 200)) == (100, 200)
    assert resolve_shape(seg_cfg, 64) == resolve_shape(seg_cfg, [64]) == (64,
                                                                         64)
    with pytest.raises(ValueError):
        resolve_shape(det_cfg, (1, 2, 3))


def test_dummy_inputs_pad_det_to_32(det_cfg, seg_cfg):
    model = build_model(det_cfg)
    inputs, samples = dummy_inputs(det_cfg, model, (100, 150))
    assert inputs.shape == (1, 3, 128, 160)
    meta = samples[0].metainfo
    assert meta['img_shape'] == meta['ori_shape'] == (100, 150)
    assert meta['pad_shape'] == meta['batch_input_shape'] == (128, 160)
    assert meta['scale_factor'] == (1., 1.)
    assert inputs[..., 100:, :].abs().sum() == 0  # zero padding
    assert type(samples[0]).__name__ == 'DetDataSample'

    seg_model = build_model(seg_cfg, drop_auxiliary_head=True)
    assert not seg_model.with_auxiliary_head
    inputs, samples = dummy_inputs(seg_cfg, seg_model, (100, 150))
    assert inputs.shape == (1, 3, 100, 150)  # mmseg does not pad at test
    assert type(samples[0]).__name__ == 'SegDataSample'


def test_upernet_r18_flops_small(seg_cfg):
    result = get_flops(seg_cfg, (128, 128))
    assert result['task'] == 'seg'
    assert result['input_shape'] == (1, 3, 128, 128)
    assert set(result['flops_by_module']) == {'backbone', 'decode_head'}
    # the rest is the segmentor's final resize: under 1%
    by_module = sum(result['flops_by_module'].values())
    assert by_module <= result['flops'] <= 1.01 * by_module
    assert all(v > 0 for v in result['flops_by_module'].values())
    assert 'auxiliary_head' not in result['params_by_module']
    assert result['attention_flops'] == 0


# --------------------------------------------------------------------------
# Latency and memory
# --------------------------------------------------------------------------
@pytest.mark.parametrize('part', ['backbone', 'model'])
def test_benchmark(det_cfg, part):
    result = benchmark(
        det_cfg, (128, 160), part=part, num_warmup=1, num_runs=2, threads=1)
    for key in ('latency_ms', 'latency_iqr_ms', 'latencies_ms',
                'images_per_s', 'peak_memory_mib', 'input_shape', 'threads'):
        assert key in result
    assert result['part'] == part
    assert result['input_shape'] == (1, 3, 128, 160)
    assert result['threads'] == 1
    runs = sorted(result['latencies_ms'])
    assert len(runs) == 2
    assert result['latency_ms'] == pytest.approx(sum(runs) / 2)  # median
    assert result['latency_iqr_ms'] <= runs[1] - runs[0] + 1e-9
    assert result['images_per_s'] == pytest.approx(1e3 / result['latency_ms'])


def test_benchmark_rejects_missing_neck(seg_cfg):
    with pytest.raises(ValueError, match='no neck'):
        benchmark(seg_cfg, 64, part='neck', num_warmup=0, num_runs=1)


# --------------------------------------------------------------------------
# CLIs
# --------------------------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.parametrize('tool', ['get_flops.py', 'benchmark.py'])
def test_cli_help(tool):
    script = osp.join(ROOT, 'tools', 'analysis_tools', tool)
    out = subprocess.run([sys.executable, script, '--help'],
                         capture_output=True,
                         text=True,
                         check=True,
                         cwd='/')
    assert 'usage:' in out.stdout
    assert '--shape' in out.stdout and '--cfg-options' in out.stdout
    if tool == 'benchmark.py':
        assert '--part' in out.stdout and '--threads' in out.stdout
    else:
        assert '1 multiply-add = 1 FLOP' in out.stdout

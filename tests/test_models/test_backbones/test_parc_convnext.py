"""ParC-ConvNeXt: variants, counts, ParC blocks, layer decay, ONNX, the
converter tool (the contract: test_backbone_contract.py; official layouts:
test_official_keys.py)."""
import io
import json
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from torch import nn

from mmplug.models import ParCConvNeXt
from mmplug.models.backbones.parc_convnext import ConvNeXtBlock
from mmplug.models.layers import ParC
from mmplug.models.layers.parc import fix_parc_sizes
from mmplug.testing import log_of, run_docstring_examples

TINY = dict(embed_dims=[8, 16, 32, 64], depths=[1, 1, 3, 2])


def analytic_params(dims, depths, classes=1000):
    """ConvNeXt with ParC in the last third of stages 3-4, written out."""
    total = 3 * 16 * dims[0] + dims[0] + 2 * dims[0]  # stem conv + LN
    for i in range(1, 4):  # LN + conv 2x2
        total += 2 * dims[i - 1] + 4 * dims[i - 1] * dims[i] + dims[i]
    for i, (c, depth) in enumerate(zip(dims, depths)):
        mlp = (c * 4 * c + 4 * c) + (4 * c * c + c) + 2 * c + c  # +LN, gamma
        parc_blocks = depth - 2 * depth // 3 if i >= 2 else 0
        k = 224 // 2**(i + 2)
        parc = 2 * (c // 2 * k + c // 2 + c // 2 * k)  # kernel, bias, PE
        dw = 49 * c + c
        total += depth * mlp + parc_blocks * parc + (depth - parc_blocks) * dw
        total += 2 * c  # output norm
    head = 2 * dims[-1] + dims[-1] * classes + classes
    return total, head


@pytest.mark.parametrize('arch', ['xt', 't', 's', 'b'])
def test_param_counts_match_the_formula(arch):
    model = ParCConvNeXt(arch=arch, num_classes=1000)
    arch_cfg = ParCConvNeXt.arch_zoo[arch]
    backbone, head = analytic_params(arch_cfg['embed_dims'],
                                     arch_cfg['depths'])
    # classification model: no per-output norms, a final norm + head
    out_norms = 2 * sum(arch_cfg['embed_dims'])
    assert sum(p.numel() for p in model.parameters()) == backbone + head
    cls_only = backbone - out_norms + head
    if arch == 'xt':  # official README: 7.41M (ConvNeXt-XT 7.44M)
        assert round(cls_only / 1e6, 2) == 7.41
    plain = ParCConvNeXt(arch=arch, parc_stages=(), num_classes=1000)
    plain_count = sum(p.numel() for p in plain.parameters()) - out_norms
    if arch == 'xt':
        assert round(plain_count / 1e6, 2) == 7.44


def test_parc_blocks_and_kernels():
    model = ParCConvNeXt(arch='s')
    parc = [[j for j, b in enumerate(stage) if b.is_parc]
            for stage in model.stages]
    assert parc == [[], [], list(range(18, 27)), [2]]
    assert model.stages[2][18].parc.parc_h.weight.shape == (192, 1, 14, 1)
    assert model.stages[3][2].parc.parc_w.weight.shape == (384, 1, 1, 7)
    assert model.stages[2][17].dwconv.kernel_size == (7, 7)
    assert [b.is_parc for b in ParCConvNeXt(arch='xt').stages[2]] == \
        [False] * 6 + [True] * 3


def test_bad_arch():
    with pytest.raises(ValueError, match="unknown ParC-ConvNeXt arch 'huge'; "
                                         r"choose one of \['b', 'base'"):
        ParCConvNeXt(arch='huge')
    with pytest.raises(ValueError, match='embed_dims needs 2 values'):
        ParCConvNeXt(arch=dict(embed_dims=[8, 16, 32, 64], depths=[1, 1]))
    with pytest.raises(ValueError, match='even channel count'):
        ParCConvNeXt(arch=dict(embed_dims=[8, 16, 33, 64],
                               depths=[1, 1, 3, 1]))


def test_spatial_and_fft_backbones_agree():
    torch.manual_seed(0)
    spatial = ParCConvNeXt(arch=TINY, impl='spatial').eval()
    fft = ParCConvNeXt(arch=TINY, impl='fft').eval()
    fft.load_state_dict(spatial.state_dict())
    x = torch.rand(1, 3, 160, 224)
    for a, b in zip(spatial(x), fft(x)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_drop_path_rates():
    model = ParCConvNeXt(arch=TINY, drop_path_rate=0.3)
    rates = [getattr(b.drop_path, 'drop_prob', 0.) for s in model.stages
             for b in s]
    assert rates[0] == 0 and rates[-1] == pytest.approx(0.3)


def test_from_scratch_init():
    model = ParCConvNeXt(arch=TINY)
    model.init_weights()
    block = model.stages[0][0]
    assert block.pwconv1.weight.std().item() == pytest.approx(0.02, rel=0.2)
    assert torch.all(block.pwconv1.bias == 0)
    parc = model.stages[2][2].parc.parc_h
    assert torch.all(parc.bias == 0) and parc.meta_pe.abs().max() > 0
    assert torch.all(block.gamma == 1e-6)


def test_plain_convnext_checkpoint_reports_parc_keys(tmp_path):
    plain = ParCConvNeXt(arch=TINY, parc_stages=())
    path = str(tmp_path / 'convnext.pth')
    torch.save({'model': plain.state_dict()}, path)
    model = ParCConvNeXt(arch=TINY, init_cfg=dict(type='Pretrained',
                                                  checkpoint=path))
    log = log_of(model.init_weights, tmp_path)
    # the ParC blocks' 7x7 kernels have no place; their ParCs keep the init
    assert 'unexpected in checkpoint (4): stages.2.2.dwconv.bias' in log
    assert 'missing in checkpoint (12): stages.2.2.parc.parc_h.bias' in log
    torch.testing.assert_close(model.stages[2][1].dwconv.weight,
                               plain.stages[2][1].dwconv.weight)


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg'])
@pytest.mark.parametrize('decay_type', ['layer_wise', 'stage_wise'])
def test_layer_decay_constructors_decay_our_names(scope, decay_type):
    if scope == 'mmdet':
        from mmdet.engine.optimizers import \
            LearningRateDecayOptimizerConstructor
    else:
        from mmseg.engine.optimizers import \
            LearningRateDecayOptimizerConstructor

    class Detector(nn.Module):

        def __init__(self):
            super().__init__()
            self.backbone = ParCConvNeXt(arch='xt')
            self.neck = nn.Conv2d(2, 2, 1)

    model = Detector()
    constructor = LearningRateDecayOptimizerConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.,
                                                 weight_decay=0.05)),
        dict(decay_rate=0.5, decay_type=decay_type, num_layers=6))
    optim = constructor(model).optimizer
    lr_of = {id(p): g['lr'] for g in optim.param_groups for p in g['params']}
    lrs = {n: lr_of[id(p)] for n, p in model.named_parameters()}
    stem = lrs['backbone.downsample_layers.0.0.weight']
    s1 = lrs['backbone.stages.0.0.pwconv1.weight']
    s3_first = lrs['backbone.stages.2.0.pwconv1.weight']
    s3_parc = lrs['backbone.stages.2.8.parc.parc_h.weight']
    s4_parc = lrs['backbone.stages.3.2.parc.parc_w.meta_pe']
    # scale = 0.5 ** (num_layers + 1 - id); the rest (neck, output norms) 1
    assert lrs['neck.weight'] == lrs['backbone.norm2.weight'] == 1.
    if decay_type == 'layer_wise':  # ids: stem 0, stage 1 1, 3 + j // 3, 6
        assert stem == 0.5**7 and s1 == 0.5**6
        assert s3_first == 0.5**4 and s3_parc == 0.5**2
        assert lrs['backbone.stages.2.8.pwconv1.weight'] == s3_parc
        assert s4_parc == 0.5
    else:  # ids: stem 0, stage i i + 1
        assert stem == 0.5**7 and s1 == 0.5**6
        assert s3_first == s3_parc == 0.5**4
        assert s4_parc == 0.5**3
    assert len(set(lrs.values())) >= 5


def test_layer_decay_goes_through_get_layer_depth():
    """mmplug's constructor asks the backbone for its layers: a ParC-ConvNeXt
    under another class name gets the same learning rates (mmdet's
    constructor refuses it: it keys on the class name), and the rates
    follow whatever get_layer_depth says."""
    from mmdet.engine.optimizers import LearningRateDecayOptimizerConstructor
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    class Renamed(ParCConvNeXt):
        pass

    def model_with(backbone):
        model = nn.Module()
        model.backbone, model.neck = backbone, nn.Conv2d(2, 2, 1)
        return model

    cfg = dict(type='OptimWrapper',
               optimizer=dict(type='AdamW', lr=1., weight_decay=0.05),
               paramwise_cfg=dict(decay_rate=0.5, decay_type='layer_wise',
                                  num_layers=6))

    def lrs(model, constructor):
        init_default_scope('mmdet')
        optim = build_optim_wrapper(model, dict(
            cfg, constructor=constructor)).optimizer
        lr_of = {id(p): (g['lr'], g['weight_decay'])
                 for g in optim.param_groups for p in g['params']}
        return {n: lr_of[id(p)] for n, p in model.named_parameters()}

    torch.manual_seed(0)
    reference = lrs(model_with(ParCConvNeXt(arch='xt')),
                    'LearningRateDecayOptimizerConstructor')
    renamed = model_with(Renamed(arch='xt'))
    assert lrs(renamed, 'mmplug.LayerDecayOptimizerConstructor') == reference
    with pytest.raises(NotImplementedError):
        LearningRateDecayOptimizerConstructor(
            cfg, cfg['paramwise_cfg'])(renamed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Renamed, 'get_layer_depth',
                   lambda self, name, prefix='': (
                       3 if name.startswith(prefix) else 7, 8))
        flat = lrs(renamed, 'mmplug.LayerDecayOptimizerConstructor')
    assert {lr for n, (lr, _) in flat.items()
            if n.startswith('backbone.')} == {0.5**4}
    with pytest.raises(ValueError, match='num_layers=12 does not fit'):
        build_optim_wrapper(renamed, dict(
            cfg, constructor='mmplug.LayerDecayOptimizerConstructor',
            paramwise_cfg=dict(decay_rate=0.5, num_layers=12)))


def test_onnx_export_at_a_fixed_size():
    onnx = pytest.importorskip('onnx')
    ort = pytest.importorskip('onnxruntime')
    model = ParCConvNeXt(arch=TINY).eval()
    x = torch.rand(1, 3, 96, 160)
    with torch.no_grad():
        expected = model(x)
    fix_parc_sizes(model, x)
    buffer = io.BytesIO()
    torch.onnx.export(model, (x, ), buffer, dynamo=False, opset_version=17)
    onnx.checker.check_model(onnx.load_from_string(buffer.getvalue()))
    session = ort.InferenceSession(buffer.getvalue())
    outs = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    for out, ref in zip(outs, expected):
        torch.testing.assert_close(torch.from_numpy(out), ref, atol=1e-5,
                                   rtol=1e-5)
    # the traced graph has no shape logic or kernel interpolation left
    graph = str(torch.jit.trace(model, x).graph)
    assert 'aten::size' not in graph and 'upsample' not in graph
    # a baked model refuses other sizes; fix_size(None) restores it
    with pytest.raises(ValueError, match='was fixed to'):
        model(torch.rand(1, 3, 64, 64))
    for m in model.modules():
        if isinstance(m, ParC):
            m.fix_size(None)
    assert model(torch.rand(1, 3, 64, 64))[0].shape == (1, 8, 16, 16)


def test_docstring_examples():
    failures, tries = run_docstring_examples(ConvNeXtBlock)
    assert failures == 0


TOOL = osp.join(osp.dirname(__file__), '..', '..', '..', 'tools',
                'model_converters', 'parc_to_mmplug.py')


DATA = osp.join(osp.dirname(__file__), '..', '..', 'data', 'official_keys')


@pytest.mark.e2e
@pytest.mark.parametrize('layout', ['public', 'research'])
def test_converter_tool(tmp_path, layout):
    """The official public ParC-ConvNeXt-XT release; a detector checkpoint
    in the research layout (``gcc_conv_1H``, per the notes on the authors'
    code) with a neck key and an unknown key."""
    with open(osp.join(DATA, 'parc_convnext_xt_cls.json')) as f:
        keys = dict(json.load(f)['keys'])
    if layout == 'research':
        names = {'H': 'gcc_conv_1H', 'W': 'gcc_conv_2W'}
        keys = {re.sub(r'gcc_([HW])\.(gcc_conv\.|pe$)', lambda m: names[
            m.group(1)] + ('.' if m.group(2) != 'pe' else '.meta_pe'), k): v
                for k, v in keys.items()
                if not k.startswith(('head.', 'norm.'))}
    state = {k: torch.rand(s) for k, s in keys.items()}
    if layout == 'research':
        state = {'backbone.' + k: v for k, v in state.items()}
        state['neck.conv.weight'] = torch.zeros(1)
        state['backbone.stages.0.0.mystery'] = torch.zeros(1)
    src, dst = str(tmp_path / 'official.pth'), str(tmp_path / 'ours.pth')
    torch.save({'model': state}, src)
    res = subprocess.run([sys.executable, TOOL, src, dst],
                         capture_output=True, text=True)
    assert "'embed_dims': [48, 96, 192, 384]" in res.stdout, res.stderr
    assert 'output norms not in the checkpoint, to start from their init ' \
        '(8): norm0.bias' in res.stdout
    if layout == 'research':
        assert res.returncode == 1
        assert 'unmapped backbone keys (1): stages.0.0.mystery' in res.stdout
        assert 'missing backbone keys (0)' in res.stdout
        out = torch.load(dst)['state_dict']
        torch.testing.assert_close(
            out['backbone.stages.2.8.parc.parc_w.meta_pe'],
            state['backbone.stages.2.8.gcc_conv_2W.meta_pe'])
        return
    assert res.returncode == 0, res.stdout + res.stderr
    assert 'unmapped backbone keys (0)' in res.stdout
    out = torch.load(dst)['state_dict']
    target = ParCConvNeXt(arch='xt', num_classes=1000)
    missing, unexpected = target.load_state_dict(out, strict=False)
    assert not unexpected and all(re.match(r'norm\d\.', k) for k in missing)
    torch.testing.assert_close(target.stages[2][8].parc.parc_h.weight,
                               state['stages.2.8.gcc_H.gcc_conv.weight'])


def test_plain_mode_equals_mmpretrain_convnext():
    """parc_stages=() is ConvNeXt: mmpretrain's ConvNeXt weights, renamed
    by convert_parc_convnext, give the same features."""
    from mmplug.testing import import_mmpretrain_models
    import_mmpretrain_models()
    from mmpretrain.models import ConvNeXt
    torch.manual_seed(0)
    theirs = ConvNeXt(arch=dict(depths=TINY['depths'],
                                channels=TINY['embed_dims']),
                      out_indices=(0, 1, 2, 3), gap_before_final_norm=False,
                      layer_scale_init_value=0.5)
    theirs.eval()  # mmpretrain's train() returns None
    for p in theirs.parameters():
        p.data.add_(0.02 * torch.randn_like(p))
    ours = ParCConvNeXt(arch=TINY, parc_stages=()).eval()
    ours.load_state_dict(ours.convert_state_dict(theirs.state_dict()),
                         strict=True)
    x = torch.rand(1, 3, 64, 96)
    for a, b in zip(ours(x), theirs(x)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)

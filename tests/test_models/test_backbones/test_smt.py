"""The SMT backbone: variants, shapes, freezing, checkpoints."""
import math

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmplug.models import SMT
from mmplug.models.backbones.smt import convert_smt
from mmplug.models.layers import GlobalAttention, ScaleAwareModulation
from mmplug.testing import run_docstring_examples

TINY = dict(embed_dims=[16, 32, 64, 128], depths=[1, 2, 4, 1],
            mlp_ratios=[2, 2, 2, 2], stem_kernel=3, msa_heads=[-1, -1, 2, 4])


def _count_head(dims, classes=1000):
    return dims[-1] * classes + classes


@pytest.mark.parametrize('arch, millions', [('tiny', 11.507),
                                            ('small', 22.551),
                                            ('base', 32.037),
                                            ('large', 80.620)])
def test_param_counts_equal_official(arch, millions):
    model = SMT(arch=arch, num_classes=1000)
    count = sum(p.numel() for p in model.parameters())
    assert round(count / 1e6, 3) == millions
    backbone = sum(p.numel() for p in SMT(arch=arch).parameters())
    assert count - backbone == _count_head(model.embed_dims)


def test_arch_layout():
    model = SMT(arch='small')
    assert [len(getattr(model, f'block{i}')) for i in range(1, 5)] == \
        [3, 4, 18, 2]
    kinds = [type(b.attn) for b in model.block3]
    assert kinds[0::2] == [ScaleAwareModulation] * 9
    assert kinds[1::2] == [GlobalAttention] * 9
    assert all(isinstance(b.attn, ScaleAwareModulation)
               for b in list(model.block1) + list(model.block2))
    assert [b.attn.num_heads for b in model.block4] == [16, 16]
    assert model.block3[1].attn.num_heads == 8
    assert model.patch_embed1.conv[0].kernel_size == (3, 3)
    assert SMT(arch='base').patch_embed1.conv[0].kernel_size == (7, 7)
    assert model.block1[0].norm1.eps == 1e-6 and model.norm1.eps == 1e-6
    assert model.patch_embed1.norm.eps == 1e-5
    assert model.patch_embed2.norm.eps == 1e-5
    assert model.block1[0].mlp.fc1.out_features == 256
    large = SMT(arch='large')
    assert large.block1[0].gamma_1.shape == (96, )
    assert torch.all(large.block1[0].gamma_1 == 1e-4)
    assert not isinstance(model.block1[0].gamma_1, torch.nn.Parameter)


def test_bad_arch():
    with pytest.raises(ValueError, match="unknown SMT arch 'huge'"):
        SMT(arch='huge')
    with pytest.raises(ValueError, match='lacks'):
        SMT(arch=dict(embed_dims=[8, 16, 32, 64]))
    with pytest.raises(ValueError, match='out of range'):
        SMT(arch=TINY, out_indices=(4, ))


@pytest.mark.parametrize('hw', [(64, 64), (97, 131), (33, 65)])
@pytest.mark.parametrize('out_indices', [(0, 1, 2, 3), (1, 3), -1])
def test_output_shapes(hw, out_indices):
    model = SMT(arch=TINY, out_indices=out_indices).eval()
    outs = model(torch.rand(2, 3, *hw))
    assert isinstance(outs, tuple)
    assert len(outs) == len(model.out_indices)
    for out, i in zip(outs, model.out_indices):
        stride = model.out_strides[i]
        assert out.shape == (2, model.embed_dims[i], math.ceil(hw[0] / stride),
                             math.ceil(hw[1] / stride))
    assert [o.shape[1] for o in outs] == model.out_channels


def test_frozen_stages_and_norm_eval():
    model = SMT(arch=TINY, frozen_stages=2, norm_eval=True)
    model.train()
    frozen = [model.patch_embed1, model.block1, model.norm1,
              model.patch_embed2, model.block2, model.norm2]
    for module in frozen:
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules())
    assert all(p.requires_grad for p in model.block3.parameters())
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and all(not m.training for m in bns)  # norm_eval
    assert model.block3[0].training
    # frozen_stages=0: only the stem
    model = SMT(arch=TINY, frozen_stages=0).train()
    assert not any(p.requires_grad for p in model.patch_embed1.parameters())
    assert all(p.requires_grad for p in model.block1.parameters())
    assert model.block1[0].attn.bn.training  # no norm_eval


def test_every_parameter_gets_a_gradient_and_drop_path():
    model = SMT(arch=TINY, drop_path_rate=0.3).train()
    paths = [b.drop_path for i in range(1, 5)
             for b in getattr(model, f'block{i}')]
    rates = [getattr(p, 'drop_prob', 0.) for p in paths]
    assert rates[0] == 0 and rates[-1] == pytest.approx(0.3)
    assert rates == sorted(rates)
    sum(o.mean() for o in model(torch.rand(2, 3, 64, 64))).backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert not no_grad


def test_with_cp_gives_the_same_gradients():
    torch.manual_seed(0)
    model = SMT(arch=TINY, drop_path_rate=0.).train()
    cp_model = SMT(arch=TINY, drop_path_rate=0., with_cp=True).train()
    cp_model.load_state_dict(model.state_dict())
    x = torch.rand(2, 3, 64, 64)
    for m in (model, cp_model):
        sum(o.sum() for o in m(x)).backward()
    for (name, p), q in zip(model.named_parameters(), cp_model.parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=name)


def _official_checkpoint(path, model, rename_dw=False, prefix=''):
    """A checkpoint in the official layout: weights under 'model', a
    classifier head, optionally the det/seg ``dw_conv`` names."""
    state = {}
    for key, value in model.state_dict().items():
        if rename_dw:
            key = key.replace('.attn.local_conv.', '.attn.dw_conv.')
        state[prefix + key] = torch.randn_like(value.float()).to(value.dtype)
    state[prefix + 'head.weight'] = torch.randn(1000, 128)
    state[prefix + 'head.bias'] = torch.randn(1000)
    torch.save({'model' if not prefix else 'state_dict': state}, path)
    return state


@pytest.mark.parametrize('rename_dw, prefix', [(False, ''), (True, ''),
                                               (True, 'backbone.')])
def test_pretrained_official_layout(tmp_path, rename_dw, prefix, caplog):
    path = str(tmp_path / 'smt.pth')
    state = _official_checkpoint(path, SMT(arch=TINY), rename_dw, prefix)
    init_cfg = dict(type='Pretrained', checkpoint=path)
    if prefix:
        init_cfg['prefix'] = prefix
    model = SMT(arch=TINY, init_cfg=init_cfg)
    model.init_weights()
    ours = model.state_dict()
    for key, value in state.items():
        key = key[len(prefix):].replace('.attn.dw_conv.', '.attn.local_conv.')
        if not key.startswith('head.'):
            torch.testing.assert_close(ours[key], value, msg=key)


def test_pretrained_reports_mismatch(tmp_path):
    from mmengine.logging import MMLogger
    path = str(tmp_path / 'smt.pth')
    state = SMT(arch=TINY).state_dict()
    state.pop('norm4.weight')
    state['block9.0.extra'] = torch.zeros(1)
    state['block1.0.mlp.fc1.weight'] = torch.zeros(3, 3)
    torch.save(state, path)
    logger = MMLogger.get_instance('smt_test', log_file=str(tmp_path / 'l'))
    model = SMT(arch=TINY, init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(MMLogger, 'get_current_instance', lambda: logger)
        model.init_weights()
    log = open(tmp_path / 'l').read()
    assert 'missing in checkpoint (1): norm4.weight' in log
    assert 'unexpected in checkpoint (1): block9.0.extra' in log
    assert 'shape mismatch, not loaded (1): block1.0.mlp.fc1.weight' in log
    torch.save({'foo.bar': torch.zeros(1)}, path)
    with pytest.raises(ValueError, match='none of its keys match'):
        SMT(arch=TINY, init_cfg=dict(type='Pretrained',
                                      checkpoint=path)).init_weights()


def test_convert_smt():
    out = convert_smt({'backbone.block3.1.attn.dw_conv.weight': 1,
                       'block3.0.attn.local_conv_1.weight': 2})
    assert out == {'block3.1.attn.local_conv.weight': 1,
                   'block3.0.attn.local_conv_1.weight': 2}


def test_from_scratch_init_follows_official():
    model = SMT(arch=TINY)
    model.init_weights()
    conv = model.block1[0].attn.local_conv_4  # depthwise 9x9, 4 channels
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / 81),
                                                     rel=0.3)
    assert torch.all(model.block1[0].mlp.fc1.bias == 0)
    assert model.block3[0].mlp.fc1.weight.std().item() == pytest.approx(
        0.02, rel=0.1)


def test_classification_head():
    model = SMT(arch=TINY, num_classes=10).eval()
    logits = model.forward_head(model(torch.rand(1, 3, 64, 64))[-1])
    assert logits.shape == (1, 10)
    with pytest.raises(RuntimeError, match='without a head'):
        SMT(arch=TINY).forward_head(torch.rand(1, 128, 2, 2))


def test_docstring_example():
    failures, tries = run_docstring_examples(SMT)
    assert failures == 0 and tries > 0


@pytest.mark.parametrize('detector', [False, True])
def test_converter_tool(tmp_path, detector):
    import subprocess
    import sys
    src, dst = str(tmp_path / 'official.pth'), str(tmp_path / 'ours.pth')
    state = _official_checkpoint(src, SMT(arch=TINY), rename_dw=detector,
                                 prefix='backbone.' if detector else '')
    if detector:
        ckpt = torch.load(src)
        ckpt['state_dict']['neck.lateral_convs.0.conv.weight'] = \
            torch.zeros(1)
        ckpt['state_dict']['backbone.block2.0.attn.mystery'] = torch.zeros(1)
        torch.save(ckpt, src)
    import os.path as osp
    tool = osp.join(osp.dirname(__file__), '..', '..', '..', 'tools',
                    'model_converters', 'smt_to_mmplug.py')
    res = subprocess.run([sys.executable, tool, src, dst],
                         capture_output=True, text=True)
    if detector:  # the unknown key is reported and the exit status says so
        assert res.returncode == 1
        assert 'unmapped backbone keys (1): block2.0.attn.mystery' in \
            res.stdout
    else:
        assert res.returncode == 0, res.stdout + res.stderr
        assert 'unmapped backbone keys (0)' in res.stdout
    out = torch.load(dst)['state_dict']
    prefix = 'backbone.' if detector else ''
    backbone = {k[len(prefix):]: v for k, v in out.items()
                if k.startswith(prefix) and 'mystery' not in k
                and 'head.' not in k}
    model = SMT(arch=TINY)
    model.load_state_dict(backbone, strict=True)
    key = 'block3.1.attn.local_conv.weight'
    torch.testing.assert_close(
        model.state_dict()[key],
        state[prefix + key.replace('local_conv.', 'dw_conv.')
              if detector else key])
    if detector:
        assert 'neck.lateral_convs.0.conv.weight' in out

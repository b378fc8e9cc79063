"""The SMT backbone: variants, layout, init, logits, the converter tool
(the contract: test_backbone_contract.py; official layouts:
test_official_keys.py)."""
import json
import math
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmplug.models import SMT
from mmplug.models.backbones.smt import convert_smt
from mmplug.models.layers import GlobalAttention, ScaleAwareModulation
from mmplug.models.layers.smt_mixers import map_to_tokens

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
    with pytest.raises(ValueError, match="unknown SMT arch 'huge'; choose one "
                                         r"of \['b', 'base', 'l'"):
        SMT(arch='huge')
    with pytest.raises(ValueError, match='lacks'):
        SMT(arch=dict(embed_dims=[8, 16, 32, 64]))
    with pytest.raises(ValueError, match='depths needs 4 values'):
        SMT(arch=dict(TINY, depths=[1, 1, 1]))


def test_drop_path_rates():
    model = SMT(arch=TINY, drop_path_rate=0.3)
    paths = [b.drop_path for i in range(1, 5)
             for b in getattr(model, f'block{i}')]
    rates = [getattr(p, 'drop_prob', 0.) for p in paths]
    assert rates[0] == 0 and rates[-1] == pytest.approx(0.3)
    assert rates == sorted(rates)


def test_convert_smt():
    out = convert_smt({'block3.1.attn.dw_conv.weight': 1,
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


def test_classifier_is_the_official_logits_path():
    """head(mean over tokens of norm4(stage-4 tokens)), as the official
    ``forward_features`` + ``head``, on tokens throughout."""
    model = SMT(arch=TINY, num_classes=10).eval()
    image = torch.rand(2, 3, 64, 80)
    with torch.no_grad():
        x = image
        for i in range(1, 5):
            x, hw = getattr(model, f'patch_embed{i}')(x)
            for block in getattr(model, f'block{i}'):
                x = block(x, hw)
            tokens = getattr(model, f'norm{i}')(x)
            x = tokens.transpose(1, 2).reshape(2, -1, *hw)
        expected = model.head(tokens.mean(dim=1))
        torch.testing.assert_close(model.forward_classifier(image), expected)
        # and the last output of forward() is the same stage output
        torch.testing.assert_close(map_to_tokens(model(image)[-1]), tokens)


DATA = osp.join(osp.dirname(__file__), '..', '..', 'data', 'official_keys')
TOOL = osp.join(osp.dirname(__file__), '..', '..', '..', 'tools',
                'model_converters', 'smt_to_mmplug.py')


@pytest.mark.e2e
@pytest.mark.parametrize('detector', [False, True])
def test_converter_tool(tmp_path, detector):
    """The official SMT-T release and an official mmdet-2.x SMT-S detector
    checkpoint (with a neck key and an unknown backbone key)."""
    name = 'smt_s_det' if detector else 'smt_t_cls'
    with open(osp.join(DATA, f'{name}.json')) as f:
        keys = json.load(f)['keys']
    prefix = 'backbone.' if detector else ''
    state = {prefix + k: torch.rand(s) for k, s in keys}
    if detector:
        state['neck.lateral_convs.0.conv.weight'] = torch.zeros(1)
        state['backbone.block2.0.attn.mystery'] = torch.zeros(1)
    src, dst = str(tmp_path / 'official.pth'), str(tmp_path / 'ours.pth')
    torch.save({'state_dict' if detector else 'model': state}, src)
    res = subprocess.run([sys.executable, TOOL, src, dst],
                         capture_output=True, text=True)
    if detector:  # the unknown key is reported and the exit status says so
        assert res.returncode == 1
        assert 'unmapped backbone keys (1): block2.0.attn.mystery' in \
            res.stdout
        assert "'depths': [3, 4, 18, 2]" in res.stdout
    else:
        assert res.returncode == 0, res.stdout + res.stderr
        assert 'unmapped backbone keys (0)' in res.stdout
    out = torch.load(dst)['state_dict']
    backbone = {k[len(prefix):]: v for k, v in out.items()
                if k.startswith(prefix) and 'mystery' not in k
                and 'head.' not in k}
    model = SMT(arch='s' if detector else 't')
    model.load_state_dict(backbone, strict=True)
    key = 'block3.1.attn.local_conv.weight'
    torch.testing.assert_close(
        model.state_dict()[key],
        state[prefix + key.replace('local_conv.', 'dw_conv.')
              if detector else key])
    if detector:
        assert 'neck.lateral_convs.0.conv.weight' in out

"""ParC-ResNet: layout, counts, spatial = FFT, checkpoints, the converter
tool (the contract: test_backbone_contract.py; the official layout:
test_official_keys.py)."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmplug.models import ParCResNet

TINY = dict(depths=[1, 1, 2, 2], parc_blocks=[0, 0, 1, 1])


def analytic_params(depths=(3, 4, 6, 3), parc_blocks=(0, 0, 3, 1),
                    classes=1000):
    """ResNet-50 with dense ParC (kernel K x C/2 x C/2, bias, PE per
    direction) instead of the 3x3 conv of the last bottlenecks."""
    total = 3 * 49 * 64 + 2 * 64  # conv1 + bn1
    c_in = 64
    for i, (depth, parc) in enumerate(zip(depths, parc_blocks)):
        width, k = 64 * 2**i, 224 // 2**(i + 2)
        for j in range(depth):
            total += c_in * width + 2 * width  # conv1, bn1
            if j >= depth - parc:
                half = width // 2
                total += 2 * (half * half * k + half + half * k)
            else:
                total += width * width * 9
            total += 2 * width + width * 4 * width + 2 * 4 * width
            if j == 0:  # projection shortcut
                total += c_in * 4 * width + 2 * 4 * width
            c_in = 4 * width
    return total + c_in * classes + classes


def test_param_count():
    model = ParCResNet(num_classes=1000)
    count = sum(p.numel() for p in model.parameters())
    assert count == analytic_params()
    assert round(count / 1e6, 1) == 23.7  # official README: 24M (R-50 26M)
    plain = ParCResNet(arch=dict(depths=[3, 4, 6, 3], parc_blocks=[0] * 4),
                       num_classes=1000)
    assert sum(p.numel() for p in plain.parameters()) == 25557032


def test_layout_and_errors():
    model = ParCResNet()
    parc = [[j for j, b in enumerate(getattr(model, f'layer{i}'))
             if hasattr(b, 'parc')] for i in range(1, 5)]
    assert parc == [[], [], [3, 4, 5], [2]]
    assert model.layer3[3].parc.parc_h.weight.shape == (128, 128, 14, 1)
    assert model.layer4[2].parc.parc_w.weight.shape == (256, 256, 1, 7)
    with pytest.raises(ValueError, match="unknown ParC-ResNet arch '18'; "
                                         r"choose one of \['50'\]"):
        ParCResNet(arch='18')
    with pytest.raises(ValueError, match='do not fit'):
        ParCResNet(arch=dict(depths=[1, 1, 2, 2], parc_blocks=[0, 0, 2, 0]))


@pytest.mark.parametrize('hw', [(64, 64), (97, 131)])
def test_output_shapes_and_spatial_fft_agree(hw):
    torch.manual_seed(0)
    spatial = ParCResNet(arch=TINY, impl='spatial').eval()
    spatial.init_from_scratch()
    for m in spatial.modules():  # make the residual branches count
        if isinstance(m, _BatchNorm):
            m.weight.data.uniform_(0.5, 1.5)
    fft = ParCResNet(arch=TINY, impl='fft').eval()
    fft.load_state_dict(spatial.state_dict())
    x = torch.rand(2, 3, *hw)
    outs = spatial(x)
    assert [tuple(o.shape[1:]) for o in outs] == [
        (256 * 2**i, -(-hw[0] // 2**(i + 2)), -(-hw[1] // 2**(i + 2)))
        for i in range(4)
    ]
    for a, b in zip(outs, fft(x)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_plain_resnet_checkpoint(tmp_path):
    """A plain ResNet (mmpretrain detector layout): the ParC blocks' conv2
    has no place, everything else loads."""
    plain = ParCResNet(arch=dict(depths=TINY['depths'], parc_blocks=[0] * 4))
    path = str(tmp_path / 'r.pth')
    torch.save({'state_dict': {'backbone.' + k: v for k, v in
                               plain.state_dict().items()}}, path)
    model = ParCResNet(arch=TINY, init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='backbone.'))
    model.init_weights()
    torch.testing.assert_close(model.layer3[0].conv2.weight,
                               plain.layer3[0].conv2.weight)


@pytest.mark.e2e
def test_converter_tool(tmp_path):
    """The official ParC-ResNet50 layout (``parc_H.gcc_conv.*``)."""
    data = osp.join(osp.dirname(__file__), '..', '..', 'data',
                    'official_keys', 'parc_resnet50_cls.json')
    with open(data) as f:
        state = {k: torch.rand(s) for k, s in json.load(f)['keys']}
    src, dst = str(tmp_path / 'official.pth'), str(tmp_path / 'ours.pth')
    torch.save({'model': state}, src)
    tool = osp.join(osp.dirname(__file__), '..', '..', '..', 'tools',
                    'model_converters', 'parc_to_mmplug.py')
    res = subprocess.run([sys.executable, tool, src, dst],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert 'mmplug.ParCResNet' in res.stdout
    assert "'parc_blocks': [0, 0, 3, 1]" in res.stdout
    model = ParCResNet(num_classes=1000)
    model.load_state_dict(torch.load(dst)['state_dict'], strict=True)
    torch.testing.assert_close(model.layer3[5].parc.parc_h.weight,
                               state['layer3.5.parc_H.gcc_conv.weight'])

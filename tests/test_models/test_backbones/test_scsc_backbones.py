"""SCSC-ResNet and SCSC-Swin: counts, FLOPs, shapes, freezing, checkpoints."""
import math

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmplug.models import SCSCResNet, SCSCSwin
from mmplug.testing import run_docstring_examples

KERNELS = ((3, 9, 13), (3, 7, 11), (3, 5, 7), (3, 5))


def scsc_params(c_in, c_out, kernels):
    """One SCSC module (no shortcut), written out."""
    m = len(kernels)
    c = c_in // m
    return (c_in * c + 2 * c + sum(k * k for k in kernels) * c +
            2 * m * c + c * m * 4 + c * c_out + 2 * c_out +
            2 * c_out * max(c_out // 16, 32))


def resnet_params(depths, classes=1000):
    total, c_in = 3 * 9 * 96 + 2 * 96, 96
    for i, depth in enumerate(depths):
        out = (96, 192, 384, 512)[i] * 3
        for j in range(depth):
            total += scsc_params(c_in, out, KERNELS[i])
            if j == 0:
                total += c_in * out + 2 * out
            c_in = out
    return total + c_in * classes + classes


def swin_params(depths=(2, 2, 6, 2), classes=1000):
    total = 3 * 16 * 96 + 96 + 2 * 96
    for i, depth in enumerate(depths):
        c = 96 * 2**i
        block = scsc_params(c, c, KERNELS[i]) + 2 * c + 8 * c * c + 5 * c
        total += depth * block
        if i < 3:
            total += 2 * 4 * c + 4 * c * 2 * c
    return total + 2 * 768 + 768 * classes + classes


def test_param_counts():
    r50 = SCSCResNet(depth=50, num_classes=1000)
    count = sum(p.numel() for p in r50.parameters())
    assert count == resnet_params((3, 5, 12, 3))
    assert round(count / 1e6, 2) == 25.57  # the official cbtnet50
    r101 = SCSCResNet(depth=101, num_classes=1000)
    assert sum(p.numel() for p in r101.parameters()) == \
        resnet_params((3, 4, 23, 3))
    swin = SCSCSwin(num_classes=1000, out_indices=())
    count = sum(p.numel() for p in swin.parameters())
    assert count == swin_params()
    assert round(count / 1e6, 2) == 21.94


def test_swin_flops_at_224():
    from mmengine.analysis import FlopAnalyzer

    class Classifier(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.model = SCSCSwin(num_classes=1000, out_indices=()).eval()

        def forward(self, x):
            return self.model.forward_classifier(x)

    analyzer = FlopAnalyzer(Classifier(), torch.rand(1, 3, 224, 224))
    analyzer.unsupported_ops_warnings(False)
    flops = analyzer.total() / 1e9
    # the official flops() says 3.41G; Swin-T 4.5G (paper: 22% fewer)
    assert 3.3 <= flops <= 3.45
    assert flops < 0.78 * 4.5


@pytest.mark.parametrize('cls', [SCSCResNet, SCSCSwin])
@pytest.mark.parametrize('hw', [(64, 64), (97, 131)])
def test_output_shapes(cls, hw):
    model = cls(depths=[1, 1, 2, 1], out_indices=(0, 2, 3)).eval()
    outs = model(torch.rand(1, 3, *hw))
    for out, i in zip(outs, model.out_indices):
        stride = model.out_strides[i]
        assert out.shape == (1, model.embed_dims[i],
                             math.ceil(hw[0] / stride),
                             math.ceil(hw[1] / stride))
    assert [o.shape[1] for o in outs] == model.out_channels


@pytest.mark.parametrize('cls', [SCSCResNet, SCSCSwin])
def test_frozen_stages_norm_eval_with_cp_drop_path(cls):
    model = cls(depths=[1, 1, 2, 1], frozen_stages=1, norm_eval=True,
                drop_path_rate=0.2).train()
    stem = model.patch_embed if cls is SCSCSwin else model.conv1
    stage1 = model.layers[0] if cls is SCSCSwin else model.layer1
    for module in (stem, stage1):
        assert not any(p.requires_grad for p in module.parameters())
    stage2 = model.layers[1] if cls is SCSCSwin else model.layer2
    assert all(p.requires_grad for p in stage2.parameters())
    assert not any(m.training for m in model.modules()
                   if isinstance(m, _BatchNorm))
    torch.manual_seed(0)
    plain = cls(depths=[1, 1, 2, 1], drop_path_rate=0.).train()
    with_cp = cls(depths=[1, 1, 2, 1], drop_path_rate=0.,
                  with_cp=True).train()
    with_cp.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 64, 64)
    for m in (plain, with_cp):
        sum(o.sum() for o in m(x)).backward()
    for (name, p), q in zip(plain.named_parameters(), with_cp.parameters()):
        assert p.grad is not None, name
        torch.testing.assert_close(p.grad, q.grad, msg=name)


def test_official_key_layout_and_pretrained(tmp_path):
    r50 = SCSCResNet(num_classes=1000)
    keys = set(r50.state_dict())
    for key in ('conv1.weight', 'layer1.0.reduction_c.weight',
                'layer1.0.layers.2.0.weight', 'layer1.0.routing_fc.weight',
                'layer1.0.se.fc.2.weight', 'layer1.0.downsample.1.weight',
                'layer4.2.bn3.running_var', 'fc.weight'):
        assert key in keys, key
    assert r50.layer1[0].layers[2][0].weight.shape == (32, 1, 13, 13)
    assert r50.layer4[1].reduction_c.weight.shape == (768, 1536, 1, 1)
    swin = SCSCSwin(num_classes=1000)
    for key in ('patch_embed.proj.weight', 'layers.0.blocks.1.attn2conv.'
                'layers.2.weight', 'layers.3.blocks.1.bn.weight',
                'layers.2.downsample.reduction.weight', 'head.weight'):
        assert key in swin.state_dict(), key
    # a detector checkpoint of the official layout loads into a backbone
    state = {'backbone.' + k: torch.rand_like(v.float()).to(v.dtype)
             for k, v in SCSCResNet(depths=[1, 1, 2, 1]).state_dict().items()}
    path = str(tmp_path / 'det.pth')
    torch.save({'state_dict': state}, path)
    model = SCSCResNet(depths=[1, 1, 2, 1], init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='backbone.'))
    model.init_weights()
    torch.testing.assert_close(model.layer3[1].routing_fc.weight,
                               state['backbone.layer3.1.routing_fc.weight'])


def test_errors_and_docstrings():
    with pytest.raises(ValueError, match='unknown SCSC-ResNet depth 34'):
        SCSCResNet(depth=34)
    with pytest.raises(ValueError, match='4 depths'):
        SCSCSwin(depths=(2, 2))
    failures, tries = run_docstring_examples(SCSCResNet, SCSCSwin)
    assert failures == 0 and tries > 0

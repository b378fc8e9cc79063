"""SCSC-ResNet and SCSC-Swin: counts, FLOPs, arguments (the contract:
test_backbone_contract.py; the official layouts: test_official_keys.py)."""
import re

import pytest
import torch

from mmplug.models import SCSCResNet, SCSCSwin

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
    swin = SCSCSwin(num_classes=1000)
    count = sum(p.numel() for n, p in swin.named_parameters()
                if not re.match(r'norm\d', n))  # no output norms
    assert count == swin_params()
    assert round(count / 1e6, 2) == 21.94


def test_swin_flops_at_224():
    from mmengine.analysis import FlopAnalyzer

    class Classifier(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.model = SCSCSwin(num_classes=1000).eval()

        def forward(self, x):
            return self.model.forward_classifier(x)

    analyzer = FlopAnalyzer(Classifier(), torch.rand(1, 3, 224, 224))
    analyzer.unsupported_ops_warnings(False)
    flops = analyzer.total() / 1e9
    # the official flops() says 3.41G; Swin-T 4.5G (paper: 22% fewer)
    assert 3.3 <= flops <= 3.45
    assert flops < 0.78 * 4.5


def test_arguments():
    with pytest.raises(ValueError, match='unknown SCSC-ResNet arch 34'):
        SCSCResNet(depth=34)
    with pytest.raises(ValueError, match='kernel_sizes needs 2 values'):
        SCSCSwin(depths=(2, 2))
    # the flat arguments override the arch's, as before arch existed
    swin = SCSCSwin(embed_dims=48, depths=(1, 1, 2, 1), mlp_ratio=2.)
    assert swin.stage_channels == [48, 96, 192, 384]
    assert [len(s.blocks) for s in swin.layers] == [1, 1, 2, 1]
    assert swin.layers[0].blocks[0].mlp.fc1.out_features == 96
    assert swin.arch['kernel_sizes'] == SCSCSwin.arch_zoo['t'][
        'kernel_sizes']
    assert SCSCResNet(depths=[1, 1, 2, 1]).arch['depths'] == [1, 1, 2, 1]


def test_swin_embed_norm_cfg():
    """The identity path's norms (patch embedding, patch mergings, outputs)
    are LayerNorms by default and BatchNorms with
    ``embed_norm_cfg=dict(type='BN')``; the parameters keep their names,
    the classifier's LayerNorm stays."""
    arch = dict(embed_dims=24, depths=(1, 1, 1, 1), out_indices=(0, 1, 2, 3))
    ln = SCSCSwin(**arch)
    bn = SCSCSwin(**arch, embed_norm_cfg=dict(type='BN'))
    path = [m.patch_embed.norm for m in (ln, bn)], \
        [[s.downsample.norm for s in m.layers[:3]] for m in (ln, bn)], \
        [[getattr(m, f'norm{i}') for i in range(4)] for m in (ln, bn)]
    embeds, merges, outs = path
    assert isinstance(embeds[0], torch.nn.LayerNorm)
    assert isinstance(embeds[1], torch.nn.BatchNorm2d)
    for group in (merges, outs):
        assert all(isinstance(n, torch.nn.LayerNorm) for n in group[0])
        assert all(isinstance(n, torch.nn.BatchNorm2d) for n in group[1])
    assert [n.num_features for n in merges[1]] == [96, 192, 384]
    classifier = SCSCSwin(**arch, num_classes=10,
                          embed_norm_cfg=dict(type='BN'))
    assert isinstance(classifier.norm, torch.nn.LayerNorm)
    params = {k for k, _ in ln.named_parameters()}
    assert params == {k for k, _ in bn.named_parameters()}
    x = torch.rand(2, 3, 50, 70)
    assert [o.shape for o in ln(x)] == [o.shape for o in bn(x)]
    # a BatchNorm normalises each channel over the batch and positions
    out0 = bn.train()(x)[0]
    normed = bn.norm0(bn.layers[0].blocks[0](bn.patch_embed(x)))
    torch.testing.assert_close(out0, normed)
    assert normed.mean(dim=(0, 2, 3)).abs().max() < 1e-5

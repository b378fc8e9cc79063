"""WeightNet against the per-sample formula, and in ResNet's dcn slot."""
import pytest
import torch
import torch.nn.functional as F

from mmplug.models.layers import WeightNetConv2d
from mmplug.testing import run_docstring_examples


def per_sample(conv: WeightNetConv2d, x: torch.Tensor) -> torch.Tensor:
    """Each sample alone: its kernel entry (o, j) is the grouped FC of the
    sigmoid activations of o's G groups, then a plain conv."""
    outs = []
    cout, m, g = conv.out_channels, conv.m, conv.g
    k = conv.kernel_size
    for b in range(x.shape[0]):
        xb = x[b:b + 1]
        ctx = conv.reduce(xb.mean(dim=(2, 3)))[0]
        a = torch.sigmoid(conv.fc1(ctx))  # (M * C_out,)
        per_group = conv.fc2.shape[1]
        weight = torch.zeros(cout, per_group * g)
        for o in range(cout):
            for q in range(g):
                group = o * g + q
                inputs = a[group * (m // g):(group + 1) * (m // g)]
                weight[o, q * per_group:(q + 1) * per_group] = \
                    conv.fc2[group] @ inputs
        weight = weight.view(cout, conv.in_channels, *k)
        outs.append(F.conv2d(xb, weight, conv.bias, conv.stride,
                             conv.padding, conv.dilation))
    return torch.cat(outs)


@pytest.mark.parametrize('m,g,stride', [(2, 2, 1), (4, 2, 2), (1, 1, 1)])
def test_weightnet_is_the_per_sample_formula(m, g, stride):
    torch.manual_seed(0)
    conv = WeightNetConv2d(8, 6, 3, stride, padding=1, bias=True, m=m, g=g)
    with torch.no_grad():
        conv.bias.normal_()
    x = torch.randn(3, 8, 9, 11)
    out = conv(x)
    torch.testing.assert_close(out, per_sample(conv, x), atol=1e-5,
                               rtol=1e-5)
    # samples do not mix
    torch.testing.assert_close(conv(x[1:2]), out[1:2], atol=1e-5, rtol=1e-5)
    # the grouped FC holds M / G times a static conv's weights
    assert conv.fc2.numel() == 6 * 8 * 9 * m // g
    out.square().mean().backward()
    assert all(p.grad.abs().sum() > 0 for p in conv.parameters())


def test_init_errors_and_resnet_slot():
    conv = WeightNetConv2d(64, 64, 3, padding=1)
    w = conv.sample_weights(torch.randn(2, 64, 8, 8))
    # kernels start at about a Kaiming-normal conv's scale
    assert 0.5 < w.std().item() / (2 / (64 * 9))**0.5 < 1.5
    with pytest.raises(ValueError, match='G=3 must divide M=2'):
        WeightNetConv2d(8, 8, 3, g=3)
    with pytest.raises(ValueError, match='groups=1 only'):
        WeightNetConv2d(8, 8, 3, groups=2)
    from mmdet.models.backbones import ResNet
    model = ResNet(50, base_channels=16, dcn=dict(
        type='mmplug.WeightNetConv2d', fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True))
    model.init_weights()
    found = [m for m in model.modules() if isinstance(m, WeightNetConv2d)]
    assert len(found) == 4 + 6 + 3
    outs = model(torch.rand(2, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [64, 128, 256, 512]
    failures, tries = run_docstring_examples(WeightNetConv2d)
    assert failures == 0 and tries > 0

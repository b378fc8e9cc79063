"""PSConv against the poly-scale definition (per-block dilations)."""
import pytest
import torch
import torch.nn.functional as F

from mmplug.models.layers import PSConv2d
from mmplug.testing import run_docstring_examples


def poly_scale(conv: PSConv2d, x: torch.Tensor, d: int) -> torch.Tensor:
    """Block (o, i) of P x P: dilation d if o == i, 2d if o == i + P/2
    (mod P), else 1; its weight is the matching slice of the branch that
    holds it."""
    p = conv.parts
    cin, cout = x.shape[1] // p, conv.out_channels // p
    stride = conv.stride
    out = 0
    for o in range(p):
        for i in range(p):
            xi = x[:, i * cin:(i + 1) * cin]
            rows = slice(o * cout, (o + 1) * cout)
            if o == i:
                w, dil = conv.gwconv.weight[rows], d
            elif o == (i + p // 2) % p:
                w, dil = conv.gwconv_shift.weight[rows], 2 * d
            else:
                w, dil = conv.conv.weight[rows, i * cin:(i + 1) * cin], 1
            y = F.conv2d(xi, w, None, stride, dil, dil)
            block = torch.zeros_like(y).repeat(1, p, 1, 1)
            block[:, rows] = y
            out = out + block
    return out


@pytest.mark.parametrize('parts,stride,ps_dilation', [(4, 1, 2), (2, 2, 1),
                                                      (4, 2, 2)])
def test_psconv_is_the_poly_scale_conv(parts, stride, ps_dilation):
    torch.manual_seed(0)
    conv = PSConv2d(8, 12, 3, stride=stride, padding=1, parts=parts,
                    ps_dilation=ps_dilation)
    x = torch.randn(2, 8, 13, 16)
    torch.testing.assert_close(conv(x), poly_scale(conv, x, ps_dilation),
                               atol=1e-5, rtol=1e-5)
    # masked dense weights never act, whatever they hold; the others do
    conv(x).square().mean().backward()
    grad = conv.conv.weight.grad
    assert torch.all(grad[~conv.mask.expand_as(grad)] == 0)
    if parts > 2:  # with 2 parts both block diagonals cover everything
        assert grad[conv.mask.expand_as(grad)].abs().sum() > 0
    # stored: a dense 3x3 conv and two group convs; in effect (unmasked)
    # exactly a 3x3 conv's parameters
    group = 12 * 8 * 9 // parts
    assert sum(p.numel() for p in conv.parameters()) == 12 * 8 * 9 + 2 * group
    assert int(conv.mask.sum()) * 9 + 2 * group == 12 * 8 * 9
    assert 'mask' not in conv.state_dict()


def test_dcn_slot_of_resnet_and_errors():
    from mmdet.models.backbones import ResNet
    dcn = dict(type='mmplug.PSConv2d', parts=4, ps_dilation=2,
               fallback_on_stride=False)
    model = ResNet(50, base_channels=16, dcn=dcn,
                   stage_with_dcn=(True, True, True, True))
    convs = [m for m in model.modules() if isinstance(m, PSConv2d)]
    assert len(convs) == 16
    assert convs[0].gwconv.dilation == (2, 2) and \
        convs[0].gwconv_shift.dilation == (4, 4)
    model.init_weights()  # Kaiming fills the masked weights: still masked
    outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[2:] for o in outs] == [(16, 16), (8, 8), (4, 4), (2, 2)]
    with pytest.raises(ValueError, match='must be even and divide'):
        PSConv2d(6, 8, parts=4)
    with pytest.raises(ValueError, match='groups=1 only'):
        PSConv2d(8, 8, groups=2)
    failures, tries = run_docstring_examples(PSConv2d)
    assert failures == 0 and tries > 0

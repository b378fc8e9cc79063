"""DO-Conv against its definition (depthwise D on every patch, then W),
init, plain-conv checkpoints, folding, and use through mmcv/mmdet."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmplug.models.layers import DOConv2d
from mmplug.models.layers.do_conv import fold_do_conv_state_dict


def feature_composition(conv: DOConv2d, x: torch.Tensor) -> torch.Tensor:
    """The paper's form, slowly: each input patch P (C_in x MN) becomes
    P'[c, s] = sum_m (D + I)[c, m, s] P[c, m], and the output is
    sum_{c, s} W[o, c, s] P'[c, s] over the channels of o's group."""
    kh, kw = conv.kernel_size
    n, c_in, h, w = x.shape
    patches = F.unfold(x, (kh, kw), conv.dilation, conv.padding,
                       conv.stride).view(n, c_in, kh * kw, -1)
    d = conv.D + torch.eye(kh * kw, conv.depth_multiplier)
    mixed = torch.einsum('ncml,cms->ncsl', patches, d)
    weight = conv.weight.flatten(2)
    if conv.weight_extra is not None:
        weight = torch.cat([weight, conv.weight_extra], dim=2)
    out_c, in_g = weight.shape[:2]
    per_group = out_c // conv.groups
    outs = []
    for o in range(out_c):
        group = o // per_group
        cols = mixed[:, group * in_g:(group + 1) * in_g]
        outs.append(torch.einsum('ncsl,cs->nl', cols, weight[o]))
    out = torch.stack(outs, dim=1) + conv.bias[None, :, None]
    h_out = (h + 2 * conv.padding[0] - conv.dilation[0] * (kh - 1) - 1) \
        // conv.stride[0] + 1
    return out.view(n, out_c, h_out, -1)


@pytest.mark.parametrize('groups,multiplier,stride,dilation',
                         [(1, None, 1, 1), (2, 12, 2, 1), (4, None, 1, 2)])
def test_do_conv_is_the_definition(groups, multiplier, stride, dilation):
    torch.manual_seed(0)
    conv = DOConv2d(8, 12, 3, stride=stride, padding=dilation,
                    dilation=dilation, groups=groups,
                    depth_multiplier=multiplier)
    with torch.no_grad():
        conv.D.normal_()
        conv.bias.normal_()
    x = torch.randn(2, 8, 11, 14)
    expected = feature_composition(conv, x)
    torch.testing.assert_close(conv(x), expected, atol=1e-4, rtol=1e-4)
    # D really acts per true input channel: changing D of channel 0 only
    # changes the outputs of the group that reads channel 0
    before = conv(x)
    with torch.no_grad():
        conv.D[0] += 1
    changed = (conv(x) - before).abs().amax(dim=(0, 2, 3)) > 0
    assert changed.tolist() == [o < 12 // groups for o in range(12)]


def test_starts_as_the_plain_conv_and_loads_its_checkpoint():
    torch.manual_seed(0)
    plain = nn.Conv2d(8, 12, 3, padding=1, groups=2)
    conv = DOConv2d(8, 12, 3, padding=1, groups=2, depth_multiplier=10)
    assert torch.all(conv.D == 0)
    result = conv.load_state_dict(plain.state_dict())  # strict
    assert not result.missing_keys and not result.unexpected_keys
    x = torch.randn(1, 8, 9, 9)
    torch.testing.assert_close(conv(x), plain(x))
    # 1x1: nothing to over-parameterise, a plain conv
    assert not hasattr(DOConv2d(8, 4, 1), 'D')
    with pytest.raises(ValueError, match='at least the 9 kernel positions'):
        DOConv2d(8, 4, 3, depth_multiplier=4)


def test_gradients_reach_d_and_folding_is_exact():
    torch.manual_seed(0)
    conv = DOConv2d(8, 12, (3, 5), padding=(1, 2), depth_multiplier=20)
    conv(torch.randn(2, 8, 9, 9)).square().mean().backward()
    assert conv.D.grad.abs().sum() > 0
    # the extra columns of W act through D only: in the graph, zero at init
    assert torch.all(conv.weight_extra.grad == 0)
    with torch.no_grad():
        conv.D.normal_()
    conv.zero_grad()
    conv(torch.randn(2, 8, 9, 9)).square().mean().backward()
    assert conv.weight_extra.grad.abs().sum() > 0
    x = torch.randn(2, 8, 13, 17)
    expected = conv(x)
    state = fold_do_conv_state_dict(conv.state_dict())
    assert sorted(state) == ['bias', 'weight']
    plain = nn.Conv2d(8, 12, (3, 5), padding=(1, 2))
    plain.load_state_dict(state)
    torch.testing.assert_close(plain(x), expected, atol=1e-5, rtol=1e-5)
    conv.switch_to_deploy()
    assert [n for n, _ in conv.named_parameters()] == ['weight', 'bias']
    torch.testing.assert_close(conv(x), expected, atol=1e-5, rtol=1e-5)


def test_conv_cfg_in_mmcv_and_mmdet_resnet():
    from mmcv.cnn import ConvModule
    from mmdet.models.backbones import ResNet
    cfg = dict(type='mmplug.DOConv')
    module = ConvModule(8, 16, 3, padding=1, conv_cfg=cfg,
                        norm_cfg=dict(type='BN'))
    assert isinstance(module.conv, DOConv2d)
    module.init_weights()  # mmcv's kaiming init of W; D stays zero
    assert torch.all(module.conv.D == 0)
    torch.manual_seed(0)
    plain = ResNet(50, base_channels=16)
    plain.eval()
    do = ResNet(50, base_channels=16, conv_cfg=cfg)
    do.eval()
    kinds = {type(m) for m in do.modules() if isinstance(m, nn.Conv2d)}
    assert kinds == {DOConv2d}
    # an ImageNet-style checkpoint loads strictly: every DO-Conv is its conv
    do.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 64, 64)
    for a, b in zip(do(x), plain(x)):
        torch.testing.assert_close(a, b)
    # trained D folds back into a plain ResNet
    with torch.no_grad():
        for m in do.modules():
            if isinstance(m, DOConv2d) and hasattr(m, 'D'):
                m.D.normal_(std=0.1)
    plain.load_state_dict(fold_do_conv_state_dict(do.state_dict()))
    for a, b in zip(do(x), plain(x)):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.e2e
def test_fold_tool(tmp_path):
    import os.path as osp
    import subprocess
    import sys
    torch.manual_seed(0)
    model = nn.Sequential(DOConv2d(4, 8, 3, padding=1), nn.ReLU(),
                          DOConv2d(8, 8, 1), DOConv2d(8, 4, 3, groups=2))
    with torch.no_grad():
        for m in (model[0], model[3]):
            m.D.normal_()
    src, dst = tmp_path / 'do.pth', tmp_path / 'folded.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 3}}, src)
    tool = osp.join(osp.dirname(__file__), '..', '..', '..', 'tools',
                    'model_converters', 'fold_doconv.py')
    run = subprocess.run([sys.executable, tool, str(src), str(dst)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert '2 DO-Convs folded' in run.stdout
    folded = torch.load(dst, weights_only=True)
    assert folded['meta'] == {'epoch': 3}
    plain = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(8, 8, 1), nn.Conv2d(8, 4, 3, groups=2))
    plain.load_state_dict(folded['state_dict'])  # strict
    x = torch.randn(1, 4, 12, 12)
    torch.testing.assert_close(plain(x), model(x), atol=1e-5, rtol=1e-5)
    # nothing to fold: exit status 1, and a missing file is a clear error
    run = subprocess.run([sys.executable, tool, str(dst), str(tmp_path / 'x')],
                         capture_output=True, text=True)
    assert run.returncode == 1 and '0 DO-Convs folded' in run.stdout
    run = subprocess.run([sys.executable, tool, str(tmp_path / 'no.pth'),
                          str(tmp_path / 'x')], capture_output=True, text=True)
    assert run.returncode == 2 and 'no.pth' in run.stderr

"""ULSAM against the per-subspace computation, and as a ResNet plugin."""
import pytest
import torch
import torch.nn.functional as F

from mmplug.models.layers import ULSAM
from mmplug.testing import run_docstring_examples


def per_subspace(module: ULSAM, x: torch.Tensor) -> torch.Tensor:
    """The paper's loop: each subspace k of n channels on its own."""
    g = module.num_splits
    n = x.shape[1] // g
    outs = []
    for k in range(g):
        ch = slice(k * n, (k + 1) * n)
        xk = x[:, ch]
        dw_norm, pw_norm = module.dw_norm, module.pw_norm
        y = F.conv2d(xk, module.dw.weight[ch], module.dw.bias[ch], groups=n)
        y = F.batch_norm(y, dw_norm.running_mean[ch], dw_norm.running_var[ch],
                         dw_norm.weight[ch], dw_norm.bias[ch])
        y = F.max_pool2d(F.relu(y), 3, 1, 1)
        y = F.conv2d(y, module.pw.weight[k:k + 1], module.pw.bias[k:k + 1])
        y = F.batch_norm(y, pw_norm.running_mean[k:k + 1],
                         pw_norm.running_var[k:k + 1],
                         pw_norm.weight[k:k + 1], pw_norm.bias[k:k + 1])
        att = torch.softmax(F.relu(y).flatten(1), dim=1).view_as(y)
        outs.append(xk * att + xk)
    return torch.cat(outs, dim=1)


@pytest.mark.parametrize('g', [1, 4, 8])
def test_ulsam_is_the_per_subspace_computation(g):
    torch.manual_seed(0)
    module = ULSAM(16, num_splits=g)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_()
        module.dw_norm.running_var.uniform_(0.5, 1.5)
        module.pw_norm.running_mean.uniform_(-0.5, 0.5)
    module.eval()
    x = torch.randn(2, 16, 7, 11)
    torch.testing.assert_close(module(x), per_subspace(module, x))
    assert sum(p.numel() for p in module.parameters()) == 5 * 16 + 3 * g
    module.train()
    module(x).square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in module.parameters())
    with pytest.raises(ValueError, match='not divisible by num_splits=3'):
        ULSAM(16, num_splits=3)
    failures, tries = run_docstring_examples(ULSAM)
    assert failures == 0 and tries > 0


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg'])
def test_resnet_plugin(scope):
    from mmengine.registry import init_default_scope
    init_default_scope(scope)
    if scope == 'mmdet':
        from mmdet.models.backbones import ResNet
    else:
        from mmseg.models.backbones import ResNet
    plugins = [dict(cfg=dict(type='mmplug.ULSAM', num_splits=8),
                    stages=(False, True, True, True),
                    position='after_conv2')]
    model = ResNet(50, base_channels=16, plugins=plugins)
    found = [n for n, m in model.named_modules() if isinstance(m, ULSAM)]
    assert len(found) == 4 + 6 + 3 and found[0] == 'layer2.0.ulsam'
    outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [64, 128, 256, 512]

"""DGC against the per-sample, per-head formula; the pruning schedule, the
saliency penalty's gradient and the progress hook."""
import types

import pytest
import torch
import torch.nn.functional as F

from mmplug.models.layers import DGConv2d
from mmplug.models.layers.dgc import inactive_channels
from mmplug.testing import run_docstring_examples


def per_head(conv: DGConv2d, x: torch.Tensor) -> torch.Tensor:
    """Each sample and head alone: saliency from its generator, its k least
    salient channels zeroed, its conv: head h gives outputs h*per..."""
    heads, k = conv.heads, conv.inactive
    per = conv.out_channels // heads
    out = torch.zeros(x.shape[0], conv.out_channels, x.shape[2], x.shape[3])
    for b in range(x.shape[0]):
        ctx = x[b].mean(dim=(1, 2))
        for h in range(heads):
            s = F.relu(conv.gate_w2[h] @ F.relu(conv.gate_w1[h] @ ctx)
                       + conv.gate_b2[h])
            order = sorted(range(len(s)), key=lambda c: float(s[c].detach()))
            mask = torch.ones_like(s)
            mask[order[:k]] = 0
            y = F.conv2d((x[b] * (s * mask)[:, None, None])[None],
                         conv.weight[h * per:(h + 1) * per],
                         padding=conv.padding)
            out[b, h * per:(h + 1) * per] = y[0]
    return out


@pytest.mark.parametrize('progress', [0.0, 0.4, 1.0])
def test_dgc_is_the_per_head_formula(progress):
    torch.manual_seed(0)
    conv = DGConv2d(16, 8, 3, padding=1, heads=4)
    with torch.no_grad():
        conv.gate_b2.normal_(1, 0.5)
    conv.progress.fill_(progress)
    assert conv.inactive == inactive_channels(progress, 16, 0.25)
    x = torch.randn(2, 16, 6, 7)
    torch.testing.assert_close(conv(x), per_head(conv, x), atol=1e-5,
                               rtol=1e-5)


def test_schedule():
    # 0 until 1/12 of training, linear to C (1 - gate_factor) at 3/4
    assert [inactive_channels(p, 64, 0.25) for p in (0, 0.08, 0.75, 1)] \
        == [0, 0, 48, 48]
    assert inactive_channels(1 / 12 + (2 / 3) / 2, 64, 0.25) == 24


def test_saliency_penalty_reaches_the_gradient():
    torch.manual_seed(0)
    conv = DGConv2d(16, 8, 3, padding=1, lasso_weight=0.1).train()
    x = torch.randn(2, 16, 6, 7)
    conv(x).sum().backward()
    ours = conv.gate_b2.grad.clone()
    # the same as adding 0.1 * mean(saliency) to the loss explicitly
    conv.zero_grad()
    conv.lasso_weight = 0
    (conv(x).sum() + 0.1 * conv.saliency(x).mean()).backward()
    torch.testing.assert_close(ours, conv.gate_b2.grad)
    assert conv.last_lasso is not None


def test_progress_hook_and_resnet_slot():
    from mmengine.registry import HOOKS
    from mmdet.models.backbones import ResNet
    model = ResNet(50, base_channels=16, dcn=dict(
        type='mmplug.DGConv2d', heads=4, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True))
    layers = [m for m in model.modules() if isinstance(m, DGConv2d)]
    assert len(layers) == 13
    hook = HOOKS.build(dict(type='mmplug.DGCProgressHook'))
    logged = {}
    runner = types.SimpleNamespace(
        model=model, iter=30, max_iters=120,
        message_hub=types.SimpleNamespace(
            update_scalar=lambda k, v: logged.update({k: v})))
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    assert all(float(m.progress) == 0.25 for m in layers)
    model.train()
    model(torch.rand(2, 3, 64, 64))
    hook.after_train_iter(runner, 0)
    assert logged['train/dgc_lasso'] > 0
    # progress is saved with the model
    assert float(model.state_dict()['layer2.0.conv2.progress']) == 0.25
    with pytest.raises(RuntimeError, match='no DGConv layer'):
        hook.before_train(types.SimpleNamespace(model=torch.nn.Conv2d(1, 1,
                                                                      1)))
    with pytest.raises(ValueError, match='not divisible by heads=4'):
        DGConv2d(8, 6, 3)
    failures, tries = run_docstring_examples(DGConv2d)
    assert failures == 0 and tries > 0

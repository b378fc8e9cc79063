"""DGC against the per-sample, per-head formula; the pruning schedule, the
saliency penalty's gradient and the progress hook."""
import types

import pytest
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

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
    conv.set_progress(progress)
    assert conv.inactive == inactive_channels(progress, 16, 0.25)
    x = torch.randn(2, 16, 6, 7)
    torch.testing.assert_close(conv(x), per_head(conv, x), atol=1e-5,
                               rtol=1e-5)


def test_schedule():
    # 0 until 1/12 of training, linear to C (1 - gate_factor) at 3/4
    assert [inactive_channels(p, 64, 0.25) for p in (0, 0.08, 0.75, 1)] \
        == [0, 0, 48, 48]
    assert inactive_channels(1 / 12 + (2 / 3) / 2, 64, 0.25) == 24


class _InGradient(torch.autograd.Function):
    """The earlier form of the penalty: identity on ``x`` whose backward
    gives ``aux`` the gradient ``weight`` (not a loss term)."""

    @staticmethod
    def forward(ctx, x, aux, weight):
        ctx.weight, ctx.aux = weight, aux.detach()
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad, torch.full_like(ctx.aux, ctx.weight), None


class TinyDetector(BaseModel):
    """A model returning mmdet-style loss dicts, with two DGC layers."""

    def __init__(self, in_gradient=False):
        super().__init__()
        self.in_gradient = in_gradient
        self.dgc1 = DGConv2d(8, 8, 3, padding=1, lasso_weight=0.1)
        self.dgc2 = DGConv2d(8, 4, 3, padding=1, lasso_weight=0.05)

    def forward(self, inputs, data_samples=None, mode='loss'):
        x = inputs
        for conv in (self.dgc1, self.dgc2):
            x = conv(x)
            if self.in_gradient:
                x = _InGradient.apply(x, conv.penalty / conv.lasso_weight,
                                      conv.lasso_weight)
                conv.penalty = None
        return dict(loss_task=x.square().mean())


def _runner(model, it=30, max_iters=120):
    return types.SimpleNamespace(model=model, iter=it, max_iters=max_iters)


def test_penalty_is_a_logged_loss_with_the_earlier_gradients():
    from mmengine.registry import HOOKS
    torch.manual_seed(0)
    ours, earlier = TinyDetector(), TinyDetector(in_gradient=True)
    earlier.load_state_dict(ours.state_dict())
    x = torch.randn(2, 8, 6, 7)
    hook = HOOKS.build(dict(type='mmplug.DGCProgressHook'))
    hook.before_train(_runner(ours))
    hook.before_train_iter(_runner(ours), 0)
    for m in earlier.modules():
        if isinstance(m, DGConv2d):
            m.set_progress(0.25)
    losses = ours.train()(x)
    assert set(losses) == {'loss_task', 'loss_dgc_lasso'}
    # as mmengine sums and logs it
    total, log_vars = ours.parse_losses(losses)
    assert log_vars['loss_dgc_lasso'] > 0
    total.backward()
    earlier_losses = earlier.train()(x)
    assert set(earlier_losses) == {'loss_task'}
    earlier_losses['loss_task'].backward()
    grads = dict(earlier.named_parameters())
    for name, param in ours.named_parameters():
        torch.testing.assert_close(param.grad, grads[name].grad)
    # evaluation and prediction: no penalty, nothing kept alive
    assert set(ours.eval()(x)) == {'loss_task'}
    assert ours.dgc1.penalty is None
    hook.after_train(_runner(ours))
    assert set(ours.train()(x)) == {'loss_task'}


def test_progress_is_a_float_copy_of_the_buffer():
    conv = DGConv2d(16, 8, 3)
    conv.set_progress(1.0)
    assert conv.inactive == 12 and float(conv.progress) == 1.0
    fresh = DGConv2d(16, 8, 3)
    assert fresh.inactive == 0
    fresh.load_state_dict(conv.state_dict())  # a trained model's pruning
    assert fresh.progress_value == 1.0 and fresh.inactive == 12


def test_progress_hook_and_resnet_slot():
    from mmengine.registry import HOOKS
    from mmdet.models.backbones import ResNet
    model = ResNet(50, base_channels=16, dcn=dict(
        type='mmplug.DGConv2d', heads=4, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True))
    layers = [m for m in model.modules() if isinstance(m, DGConv2d)]
    assert len(layers) == 13
    hook = HOOKS.build(dict(type='mmplug.DGCProgressHook'))
    runner = _runner(model)
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    assert all(float(m.progress) == 0.25 and m.inactive == int(
        round(m.in_channels * 0.75 * (0.25 - 1 / 12) / (2 / 3)))
        for m in layers)
    model.train()
    outs = model(torch.rand(2, 3, 64, 64))
    assert isinstance(outs, tuple)  # no loss dict: nothing added, and the
    assert all(m.penalty is None for m in layers)  # penalties released
    # progress is saved with the model
    assert float(model.state_dict()['layer2.0.conv2.progress']) == 0.25
    with pytest.raises(RuntimeError, match='no DGConv layer'):
        hook.before_train(types.SimpleNamespace(model=torch.nn.Conv2d(1, 1,
                                                                      1)))
    with pytest.raises(ValueError, match='not divisible by heads=4'):
        DGConv2d(8, 6, 3)
    failures, tries = run_docstring_examples(DGConv2d)
    assert failures == 0 and tries > 0

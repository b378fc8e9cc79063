"""torch.compile on every registered backbone and neck: one graph, no
break, in training and eval mode, and the compiled model computes what the
eager one does (outputs and gradients, fp32).

Every case carries the ``compile`` marker and runs in its own target
(``make test-compile``): with ``backend='aot_eager'`` (dynamo's graph and
AOT autograd's forward/backward split, run by eager kernels: seconds per
model) and with inductor, which generates and builds C++ kernels (10-40 s
per model on 2 cores).
"""
import copy

import pytest
import torch
from torch._inductor import config as inductor_config

from mmplug.testing import (build_small, forward_backward,
                            registered_backbones, registered_necks,
                            small_inputs)

MODELS = registered_backbones() + registered_necks()
BACKENDS = ['aot_eager', 'inductor']
pytestmark = pytest.mark.compile
#: compiled vs eager, fp32: relative to the largest magnitude (at least 1)
#: of each output, and of all parameter gradients together
TOL = 1e-5


def assert_all_close(got, expected, what):
    scale = max([1.] + [t.abs().max().item() for t in expected])
    for i, (a, b) in enumerate(zip(got, expected)):
        torch.testing.assert_close(a, b, rtol=TOL, atol=TOL * scale,
                                   msg=lambda m: f'{what} {i}: {m}')


@pytest.mark.parametrize('name', MODELS)
def test_one_graph_without_breaks(name):
    """A graph break would cut the model into pieces compiled apart (and
    run Python between them at every call)."""
    model = build_small(name)
    x = small_inputs(name)
    for training in (True, False):
        model.train(training)
        torch._dynamo.reset()
        explained = torch._dynamo.explain(model)(x)
        assert explained.graph_break_count == 0, explained.break_reasons
        assert explained.graph_count == 1


#: cases inductor (torch 2.13, CPU) computes wrong, not worked around yet;
#: strict: the test fails when inductor gets them right
KNOWN_INDUCTOR_BUGS = {
    ('mmplug.PyConvResNet', 'inductor'):
    'inductor computes wrong gradients for the max-pool shortcut of a '
    'stage\'s first block when the previous block is in the same graph '
    '(downsample conv weight gradient 8-17 % off in eval mode; each block '
    'compiled alone is right, and so is an average-pool shortcut)',
}


def assert_grads_close(model, grads, ref_grads):
    missing = [n for (n, _), g in zip(model.named_parameters(), grads)
               if g is None]
    assert not missing, f'no gradient through the compiled model: {missing}'
    scale = max(g.abs().max().item() for g in ref_grads)
    for (pname, _), g, ref in zip(model.named_parameters(), grads,
                                  ref_grads):
        torch.testing.assert_close(g, ref, rtol=TOL, atol=TOL * scale,
                                   msg=lambda m: f'grad of {pname}: {m}')


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name', MODELS)
def test_compiled_equals_eager(name, backend, request):
    """Outputs and gradients in eval mode equal eager's to 1e-5 with every
    backend. In training mode only ``aot_eager`` (eager's kernels) is held
    to that: there BatchNorm normalises with the statistics of the batch,
    which on these small maps (2x2 in the last stage, two images) amplify
    any change of rounding stage after stage (inductor sums in another
    order: the stem's weight gradient of the small ResNets then differs by
    up to 100 %, as it would for any perturbation of 1e-7); with inductor
    training mode must run, stay finite and reach every parameter."""
    if (name, backend) in KNOWN_INDUCTOR_BUGS:
        request.applymarker(pytest.mark.xfail(
            strict=True, reason=KNOWN_INDUCTOR_BUGS[name, backend]))
    torch.manual_seed(0)
    eager = build_small(name)
    model = copy.deepcopy(eager)
    compiled = torch.compile(model, backend=backend, fullgraph=True)
    x = small_inputs(name)
    torch._dynamo.reset()
    # inductor draws random numbers with its own generator unless told to
    # fall back to eager's: then dropout and drop path draw the same masks
    with inductor_config.patch(fallback_random=True):
        eager.eval(), model.eval()
        outs, grads = forward_backward(compiled, x)
        ref_outs, ref_grads = forward_backward(eager, x)
        assert_all_close(outs, ref_outs, 'eval output')
        assert_grads_close(model, grads, ref_grads)
        eager.train(), model.train()
        outs, grads = forward_backward(compiled, x)
        ref_outs, ref_grads = forward_backward(eager, x)
    if backend == 'aot_eager':
        assert_all_close(outs, ref_outs, 'train output')
        assert_grads_close(model, grads, ref_grads)
    else:
        assert all(torch.isfinite(o).all() for o in outs)
        assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_dca_se_message_chain_inductor():
    """Two connected DCA-SE attentions, the first one's message going
    through the second one's ``att_fc``, as between DCA-ResNet's stages.
    inductor (torch 2.13, CPU) once computed this chain wrong (messages off
    by 100 %) for the 1x1 conv over the stacked descriptors; the small
    DCA-ResNet above did not show it, the default one at 224 did (0.7 %
    off from stage 2 on)."""
    from mmplug.models.layers.attention import DCASE
    torch.manual_seed(0)
    first = DCASE(64, 4, in_channels=64, fusion='conv').eval()
    second = DCASE(128, 4, in_channels=64, fusion='conv').eval()

    def chain(x, y, message):
        x, message = first(x, message)
        y, message = second(y, message)
        return x, y, message[0]

    inputs = (torch.rand(1, 64, 28, 28), torch.rand(1, 128, 14, 14),
              (torch.rand(1, 64), ))
    torch._dynamo.reset()
    with torch.no_grad():
        assert_all_close(torch.compile(chain)(*inputs), chain(*inputs),
                         'DCA-SE chain')

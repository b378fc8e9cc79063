"""Mixed precision on every registered backbone and neck: fp16 and bf16
autocast (CPU autocast here; the GPU one casts the same ops) forward and
backward stay finite and close to fp32.

Tolerance. Each rounding to a format with a p-bit significand changes a
value by at most u = 2**-p relative (u = 2**-11 for fp16, 2**-8 for bf16:
8 significant bits). Autocast rounds the inputs and outputs of every conv,
linear and matmul, so the error grows with the number of such ops a value
passes through. We compare norms, ``||y_amp - y_fp32|| / ||y_fp32||``, per
output and over all parameter gradients together, and allow **8 u for the
outputs** (fp16 3.9e-3, bf16 3.1e-2; worst measured on these models 3.4 u)
**and 64 u for the gradients** (fp16 3.1e-2, bf16 0.25; worst measured
45 u in fp16 and 18 u in bf16, both the stem conv of the ResNet family). A
weight gradient is a sum over the batch and every position of rounded
products; under the random-direction loss used here (``sum(y * r)``) the
terms largely cancel, and the relative error of such a sum grows like
u * sqrt(number of terms): 2 x 23 x 31 = 1426 positions for the stem at
45x61, sqrt = 38. The test is there to catch what breaks mixed precision
(an inf or NaN, an op left in the wrong dtype, a cast that loses the
gradient), which is off by far more.

Closeness is checked in eval mode. In training mode BatchNorm normalises
with the statistics of the batch: at random initialisation and with two
images of 2x2 maps in the last stage, that amplifies any perturbation,
rounding or not, stage after stage. Measured on the small ParC-ResNet:
fp32 noise of 2**-8 of the input's scale changes the last stage by 7 % in
training mode and 0.09 % in eval mode; bf16 autocast moves the ResNet
family's outputs by 4-11 % in training mode, at most 1.1 % in eval mode.
Training mode is checked for finite outputs and gradients.
"""
import copy

import pytest
import torch

from mmplug.testing import AMP_GRAD_TOL as GRAD_TOL  # see the docstring
from mmplug.testing import AMP_OUTPUT_TOL as OUTPUT_TOL
from mmplug.testing import (build_small, forward_backward,
                            registered_backbones, registered_necks,
                            small_inputs, unit_roundoff)
from mmplug.testing import relative_error as relative

#: every backbone and neck; the ParC models also with the FFT form (their
#: ParC maps are below the FFT crossover at this size)
CASES = [(name, {}) for name in registered_backbones() + registered_necks()]
CASES += [(name, dict(impl='fft'))
          for name in ('mmplug.ParCConvNeXt', 'mmplug.ParCResNet')]
IDS = [name.split('.')[1] + ('-fft' if kw else '') for name, kw in CASES]


def run(model, x, dtype):
    """Outputs (float32) and all parameter gradients, one vector, of a
    forward and backward under autocast (``dtype`` None: fp32)."""
    outs, grads = forward_backward(model, x, amp_dtype=dtype)
    return [o.float() for o in outs], torch.cat(
        [g.flatten() for g in grads if g is not None])


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16],
                         ids=['fp16', 'bf16'])
@pytest.mark.parametrize('name, kwargs', CASES, ids=IDS)
def test_autocast_forward_backward(name, kwargs, dtype):
    torch.manual_seed(0)
    model = build_small(name, **kwargs)
    x = small_inputs(name)
    # training mode: finite
    outs, grads = run(copy.deepcopy(model).train(), x, dtype)
    assert all(torch.isfinite(o).all() for o in outs)
    assert torch.isfinite(grads).all()
    # eval mode: close to fp32
    model.eval()
    ref_outs, ref_grads = run(model, x, None)
    outs, grads = run(model, x, dtype)
    u = unit_roundoff(dtype)
    errors = [relative(o, r) for o, r in zip(outs, ref_outs)]
    assert max(errors) <= OUTPUT_TOL * u, \
        f'output errors {errors} over {OUTPUT_TOL} u = {OUTPUT_TOL * u:.2e}'
    assert grads.shape == ref_grads.shape
    error = relative(grads, ref_grads)
    assert error <= GRAD_TOL * u, \
        f'gradient error {error:.2e} over {GRAD_TOL} u = {GRAD_TOL * u:.2e}'

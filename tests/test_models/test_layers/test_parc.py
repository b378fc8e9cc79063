"""ParC against its definition; the spatial and FFT forms agree."""
import pytest
import torch
import torch.nn.functional as F

from mmplug.models.layers.parc import FFT_CROSSOVER, ParC


def reference(parc: ParC, x: torch.Tensor) -> torch.Tensor:
    """y[i] = b + sum_k w[k] * (x + pe)[(i + k) mod L], written out."""
    dim = parc.dim
    length = x.shape[dim]
    if parc.meta_pe is not None:
        x = x + F.interpolate(parc.meta_pe, tuple(x.shape[-2:]),
                              mode='bilinear', align_corners=True)
    w = parc.instance_kernel(length).flatten(1, -1).unflatten(1, (-1, length))
    y = torch.zeros_like(x) + parc.bias.view(1, -1, 1, 1)
    for k in range(length):
        shifted = torch.roll(x, shifts=-k, dims=dim)  # x[(i + k) mod L]
        if parc.dense:  # out channel o sums over input channels c
            y = y + torch.einsum('oc,nchw->nohw', w[:, :, k], shifted)
        else:
            y = y + w[:, 0, k].view(1, -1, 1, 1) * shifted
    return y


@pytest.mark.parametrize('dense', [False, True])
@pytest.mark.parametrize('direction', ['H', 'W'])
@pytest.mark.parametrize('hw', [(14, 14), (13, 9), (25, 42), (8, 31)])
def test_both_forms_equal_the_definition(direction, hw, dense):
    torch.manual_seed(0)
    spatial = ParC(6, kernel_size=14, direction=direction, impl='spatial',
                   dense=dense)
    fft = ParC(6, kernel_size=14, direction=direction, impl='fft',
               dense=dense)
    fft.load_state_dict(spatial.state_dict())
    x = torch.randn(2, 6, *hw, dtype=torch.float32)
    expected = reference(spatial, x)
    torch.testing.assert_close(spatial(x), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fft(x), expected, atol=1e-5, rtol=1e-5)


def _grads(impl, direction, hw, dtype, dense=False):
    """Gradients of <ParC(x), g> for random x and upstream gradient g (drawn
    in float64, so both dtypes see the same numbers)."""
    torch.manual_seed(0)
    parc = ParC(6, 7, direction, impl=impl, dense=dense).to(dtype)
    x = torch.randn(2, 6, *hw, dtype=torch.float64)
    g = torch.randn(2, 6, *hw, dtype=torch.float64)
    x = x.to(dtype).requires_grad_()
    (parc(x) * g.to(dtype)).sum().backward()
    return [x.grad] + [p.grad for p in parc.parameters()]


@pytest.mark.parametrize('dense', [False, True])
@pytest.mark.parametrize('direction', ['H', 'W'])
@pytest.mark.parametrize('hw', [(14, 14), (13, 9), (25, 42), (64, 81)])
def test_gradients_agree(direction, hw, dense):
    # float64: the two forms are the same function, to rounding
    for a, b in zip(_grads('spatial', direction, hw, torch.float64, dense),
                    _grads('fft', direction, hw, torch.float64, dense)):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)
    # float32: every gradient (input, kernel, bias, PE) to 1e-5 of its
    # largest entry (parameter gradients sum over N*H*W products)
    spatial = _grads('spatial', direction, hw, torch.float32, dense)
    fft = _grads('fft', direction, hw, torch.float32, dense)
    for a, b in zip(spatial, fft):
        assert (a - b).abs().max() <= 1e-5 * a.abs().max()


def test_kernel_resizing():
    parc = ParC(4, kernel_size=7, direction='W')
    assert parc.instance_kernel(7) is parc.weight  # native size: as is
    resized = parc.instance_kernel(13)
    assert resized.shape == (4, 1, 1, 13)
    # align_corners=True keeps the end points
    torch.testing.assert_close(resized[..., 0], parc.weight[..., 0])
    torch.testing.assert_close(resized[..., -1], parc.weight[..., -1])


def test_auto_picks_by_crossover(monkeypatch):
    parc = ParC(4, 7, impl='auto')
    assert not parc.use_fft(FFT_CROSSOVER - 1)
    assert parc.use_fft(FFT_CROSSOVER)
    assert ParC(4, 7, impl='fft').use_fft(3)
    assert not ParC(4, 7, impl='spatial').use_fft(1000)


def test_parameters_and_errors():
    parc = ParC(8, 14, 'H')
    assert parc.weight.shape == (8, 1, 14, 1)
    assert parc.meta_pe.shape == (1, 8, 14, 1)
    assert parc.bias.shape == (8, ) and torch.all(parc.bias == 0)
    assert ParC(8, 14, 'W', use_pe=False).meta_pe is None
    assert ParC(8, 14, 'W', dense=True).weight.shape == (8, 8, 1, 14)
    with pytest.raises(ValueError, match="direction must be 'H' or 'W'"):
        ParC(8, 14, 'X')
    with pytest.raises(ValueError, match='impl must be'):
        ParC(8, 14, impl='cuda')


def test_registered_and_docstring():
    import doctest

    from mmplug.registry import MODELS
    assert MODELS.get('ParC') is ParC
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(ParC, 'ParC', globs={}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16],
                         ids=['fp16', 'bf16'])
@pytest.mark.parametrize('impl', ['spatial', 'fft', 'auto'])
@pytest.mark.parametrize('dense', [False, True])
def test_half_precision(impl, dense, dtype):
    """A half or bfloat16 ParC, and a float32 one under autocast, run in
    every form: the FFT inside in float32 (CPU FFTs have no half kernels,
    cuFFT takes half only for power-of-two lengths), the result in the
    dtype the spatial form gives; outputs and gradients close to float32
    (relative norm of the difference within 8 unit roundoffs u, 2**-11 for
    fp16 and 2**-8 for bf16: one kernel resize, one conv or FFT)."""
    u = {torch.float16: 2.**-11, torch.bfloat16: 2.**-8}[dtype]
    hw = (9, 25)  # W = 25: FFT under 'auto', and not a power of two

    def close(got, expected):
        assert torch.isfinite(got).all()
        error = (got.float() - expected).norm() / expected.norm()
        assert error <= 8 * u, f'{error:.2e} over 8 u'

    # a half-precision layer and input: outputs and every gradient
    for low, ref in zip(_grads(impl, 'W', hw, dtype, dense),
                        _grads(impl, 'W', hw, torch.float32, dense)):
        assert low.dtype == dtype
        close(low, ref)
    torch.manual_seed(0)
    parc = ParC(6, 7, 'W', impl=impl, dense=dense)
    x = torch.randn(2, 6, *hw)
    expected = parc(x)
    y = parc.to(dtype)(x.to(dtype))
    assert y.dtype == dtype
    close(y, expected)
    # a float32 layer under autocast: as the spatial form, autocast's dtype
    parc.float()
    with torch.autocast('cpu', dtype=dtype):
        y = parc(x)
    assert y.dtype == dtype
    close(y, expected)


@pytest.mark.parametrize('direction', ['H', 'W'])
def test_position_encoding_is_the_interpolated_meta_pe(direction):
    """The PE is the official ``F.interpolate`` of the meta PE to the map
    (bilinear, corners aligned), bit for bit, whether the axis is resized
    or not, though computed as a resize along the axis and an expand."""
    torch.manual_seed(0)
    parc = ParC(8, 7, direction, use_pe=True)
    for size in [(7, 7), (7, 13), (13, 7), (25, 38), (1, 9), (9, 1)]:
        pe = parc.instance_pe(size)
        assert pe.shape == (1, 8, *size)
        assert torch.equal(pe, F.interpolate(
            parc.meta_pe, size, mode='bilinear', align_corners=True)), size

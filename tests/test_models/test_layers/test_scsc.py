"""SCSC against its definition written out with loops."""
import pytest
import torch
import torch.nn.functional as F

from mmplug.models.layers import SCSC


def reference(scsc: SCSC, x: torch.Tensor) -> torch.Tensor:
    """The official computation, one channel and one scale at a time."""
    m, c, mg = scsc.num_scales, scsc.chunk, scsc.routing_groups
    r = F.gelu(scsc.bn1(scsc.reduction_c(x)))
    branches = [b(r) for b in scsc.layers]
    concat = torch.cat(branches, dim=1)  # branch-major
    slots = torch.stack([concat[:, q * m + i] for i in range(m)
                         for q in range(c)], dim=1)  # slot i*c+q
    slots = F.gelu(scsc.bn2(slots))
    weights = torch.sigmoid(scsc.routing_fc(r))
    out = []
    for q in range(c):
        g = q // (c // mg)
        out.append(sum(slots[:, i * c + q] * weights[:, i * mg + g]
                       for i in range(m)))
    y = scsc.bn3(scsc.recover_c(torch.stack(out, dim=1)))
    if scsc.recover_act:
        y = F.gelu(y)
    return scsc.se(y)


@pytest.mark.parametrize('kernels, stride, hw', [((3, 9, 13), 1, (14, 11)),
                                                 ((3, 5), 2, (15, 20)),
                                                 ((3, 5, 7), 2, (16, 16))])
def test_matches_the_definition(kernels, stride, hw):
    torch.manual_seed(0)
    scsc = SCSC(24, 40, kernels, stride, recover_act=stride == 2)
    for bn in (scsc.bn1, scsc.bn2, scsc.bn3):  # non-trivial statistics
        bn.running_mean.uniform_(-.5, .5)
        bn.running_var.uniform_(.5, 1.5)
        bn.weight.data.uniform_(.5, 1.5)
    scsc.eval()
    x = torch.randn(2, 24, *hw)
    out = scsc(x)
    assert out.shape == (2, 40, -(-hw[0] // stride), -(-hw[1] // stride))
    torch.testing.assert_close(out, reference(scsc, x), atol=1e-5, rtol=1e-5)


def test_names_errors_and_registry():
    from mmplug.registry import MODELS
    assert MODELS.get('SCSC') is SCSC
    nested = SCSC(96, 288, (3, 9, 13), 2, nested_branches=True)
    keys = set(nested.state_dict())
    assert {'layers.0.0.weight', 'routing_fc.weight', 'se.fc.0.weight',
            'se.fc.2.weight', 'recover_c.weight'} <= keys
    assert nested.layers[2][0].weight.shape == (32, 1, 13, 13)
    assert nested.routing_fc.weight.shape == (12, 32, 1, 1)
    assert nested.se.fc[0].weight.shape == (32, 288)  # max(288 // 16, 32)
    assert 'layers.1.weight' in SCSC(96, kernel_sizes=(3, 5)).state_dict()
    with pytest.raises(ValueError, match='multiple of routing_groups'):
        SCSC(30, kernel_sizes=(3, 5, 7))
    with pytest.raises(ValueError, match='must be odd'):
        SCSC(24, kernel_sizes=(3, 4, 7))

"""``init_cfg`` as mmengine means it, on every registered backbone and neck:
the model's default initialisation unless a ``Pretrained`` entry is given,
every other entry on top of it, ``Pretrained`` entries last (each tensor
they load is kept)."""
from unittest import mock

import pytest
import torch
from torch import nn

from mmplug.testing import (build_small, registered_backbones,
                            registered_necks)

MODELS = registered_backbones() + registered_necks()
#: extra variants whose default initialisation differs (GC's zero conv)
VARIANTS = {'mmplug.DCAFPN-gc': ('mmplug.DCAFPN', dict(attention='gc')),
            'mmplug.DCAResNet-gc': ('mmplug.DCAResNet', dict(attention='gc'))}
CASES = MODELS + sorted(VARIANTS)


def build(case, **kwargs):
    name, extra = VARIANTS.get(case, (case, {}))
    return build_small(name, **extra, **kwargs)


def floating(model):
    return {k: v for k, v in model.state_dict().items()
            if v.is_floating_point()}


@pytest.fixture(scope='module')
def constant_checkpoints(tmp_path_factory):
    """Per case, a checkpoint of the model's own keys, every floating
    tensor 0.5 (a value no initialisation draws)."""
    folder = tmp_path_factory.mktemp('constant')
    paths = {}
    for case in CASES:
        state = {k: torch.full_like(v, 0.5) if v.is_floating_point() else v
                 for k, v in build(case).state_dict().items()}
        paths[case] = str(folder / f'{case}.pth')
        torch.save(dict(state_dict=state), paths[case])
    return paths


@pytest.mark.parametrize('case', CASES)
@pytest.mark.parametrize('extra', [
    [],
    [dict(type='Constant', val=0., bias=0., layer=['Linear', 'Conv2d'])],
    [dict(type='Kaiming', layer='Conv2d')],
], ids=['alone', 'with-constant', 'with-kaiming'])
def test_pretrained_keeps_every_tensor_it_loads(case, extra,
                                                constant_checkpoints):
    pretrained = dict(type='Pretrained', checkpoint=constant_checkpoints[case])
    # the Pretrained entry first: it is still applied last
    model = build(case, init_cfg=[pretrained] + extra if extra else
                  pretrained)
    model.init_weights()
    tensors = floating(model)
    changed = sorted(k for k, v in tensors.items()
                     if not torch.all(v == 0.5))
    assert not changed, f'{len(changed)} of {len(tensors)} tensors were ' \
        f'overwritten after loading: {changed[:5]}'


@pytest.mark.parametrize('case', CASES)
def test_other_init_entries_apply(case):
    model = build(case, init_cfg=dict(type='Constant', val=0.25, bias=0.125,
                                      layer=['Conv2d', 'Linear']))
    model.init_weights()
    layers = [m for m in model.modules()
              if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers
    for m in layers:
        assert torch.all(m.weight == 0.25), m
        if m.bias is not None:
            assert torch.all(m.bias == 0.125), m


@pytest.mark.parametrize('case', CASES)
def test_default_init_only_without_pretrained(case, constant_checkpoints):
    cls = type(build(case))
    with mock.patch.object(cls, 'init_from_scratch',
                           autospec=True) as default:
        build(case).init_weights()
        assert default.call_count == 1
        build(case, init_cfg=dict(type='Constant', val=1.,
                                  layer='Conv2d')).init_weights()
        assert default.call_count == 2
        build(case, init_cfg=[
            dict(type='Constant', val=1., layer='Conv2d'),
            dict(type='Pretrained', checkpoint=constant_checkpoints[case])
        ]).init_weights()
        assert default.call_count == 2


@pytest.mark.parametrize('case', CASES)
def test_default_init_is_the_declared_rule(case):
    """``init_weights()`` without ``init_cfg`` gives exactly what the
    model's ``init_from_scratch`` gives from the same random state."""
    torch.manual_seed(0)
    model = build(case)
    reference = build(case)
    reference.load_state_dict(model.state_dict())
    torch.manual_seed(1)
    model.init_weights()
    torch.manual_seed(1)
    reference.init_from_scratch()
    ours, theirs = floating(model), floating(reference)
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_init_weights_twice_warns_and_keeps_the_weights(tmp_path):
    from mmplug.testing import log_of
    model = build('mmplug.SMT')
    model.init_weights()
    before = {k: v.clone() for k, v in floating(model).items()}
    log = log_of(model.init_weights, tmp_path)
    assert 'init_weights of SMT has been called more than once' in log
    assert all(torch.equal(before[k], v) for k, v in floating(model).items())


def test_bad_init_cfg_entry():
    model = build('mmplug.SMT', init_cfg=['Pretrained'])
    with pytest.raises(TypeError, match='init_cfg entries must be dicts'):
        model.init_weights()

"""The neck contract (mmdet FPN's arguments, checked when the neck is
built), on every registered neck: a new neck is tested by adding one
line to ``NECKS``."""
import pytest
import torch

from mmplug.models import DCAFPN, FPT
from mmplug.models.utils.pyramid import PyramidNeck
from mmplug.registry import MODELS

IN = [8, 16, 24, 32]
NECKS = {'FPT': FPT, 'DCAFPN': DCAFPN}


def test_every_registered_neck_is_listed():
    assert {name for name, cls in MODELS.module_dict.items()
            if isinstance(cls, type) and issubclass(cls, PyramidNeck)} == \
        set(NECKS)


@pytest.mark.parametrize('name', sorted(NECKS))
@pytest.mark.parametrize('kwargs, error', [
    (dict(in_channels=[]), 'in_channels is empty'),
    (dict(start_level=4), 'start_level=4 is out of range'),
    (dict(start_level=-1), 'start_level=-1 is out of range'),
    (dict(end_level=4), 'end_level=4 is out of range'),
    (dict(start_level=2, end_level=1, num_outs=1),
     'end_level=1 is out of range'),
    (dict(end_level=2, num_outs=5), 'num_outs=5 must be end_level'),
    (dict(num_outs=3), 'num_outs=3 is fewer'),
    (dict(add_extra_convs='on_top'), 'add_extra_convs must be one of'),
])
def test_bad_arguments_fail_when_built(name, kwargs, error):
    with pytest.raises(ValueError, match=error):
        NECKS[name](**dict(dict(in_channels=IN, out_channels=8, num_outs=5),
                           **kwargs))


@pytest.mark.parametrize('name', sorted(NECKS))
@pytest.mark.parametrize('extra', [False, 'on_input', 'on_output'])
def test_empty_batch_and_input_checks(name, extra):
    neck = NECKS[name](IN, 8, num_outs=6, add_extra_convs=extra).eval()
    sizes = [(25, 42), (13, 21), (7, 11), (4, 6)]
    outs = neck([torch.rand(0, c, *hw) for c, hw in zip(IN, sizes)])
    assert [tuple(o.shape) for o in outs] == [
        (0, 8) + hw for hw in sizes + [(2, 3), (1, 2)]]
    with pytest.raises(ValueError, match=f'{name} got 3 inputs'):
        neck([torch.rand(1, c, *hw) for c, hw in zip(IN[:3], sizes)])
    with pytest.raises(ValueError, match='input 1 has 8 channels'):
        neck([torch.rand(1, 8, *hw) for hw in sizes])

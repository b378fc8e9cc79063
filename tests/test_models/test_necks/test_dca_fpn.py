"""DCA-FPN: shapes, zero-init connection, attention types, directions."""
import pytest
import torch

from mmplug.models import DCAFPN
from mmplug.testing import run_docstring_examples

IN = [16, 32, 64, 128]


def feats(n=2):
    # odd sizes, as P5 of an 800-pixel image (25x42)
    return [torch.rand(n, c, 49 // 2**i + 1, 83 // 2**i + 1)
            for i, c in enumerate(IN)]


@pytest.mark.parametrize('attention', ['se', 'cbam', 'gc'])
@pytest.mark.parametrize('direction', ['top_down', 'bottom_up'])
def test_zero_init_connection_and_gradients(attention, direction):
    torch.manual_seed(0)
    neck = DCAFPN(IN, 64, 5, add_extra_convs='on_output',
                  attention=attention, direction=direction)
    neck.init_weights()
    independent = DCAFPN(IN, 64, 5, add_extra_convs='on_output',
                         attention=attention, direction=direction,
                         connect=False)
    missing, unexpected = independent.load_state_dict(neck.state_dict(),
                                                      strict=False)
    # a weight per link (CBAM: channel and spatial), none on the first
    assert not missing
    assert len(unexpected) == 3 * (2 if attention == 'cbam' else 1)
    x = feats()
    outs = neck(x)
    assert [o.shape[-2:] for o in outs] == [(50, 84), (25, 42), (13, 21),
                                           (7, 11), (4, 6)]
    for a, b in zip(outs, independent(x)):  # FPN + independent attention
        torch.testing.assert_close(a, b)
    # once the link weights move, the levels really are connected
    with torch.no_grad():
        for name, p in neck.named_parameters():
            if name.split('.')[-1] in ('beta', 'weight', 'channel_weight',
                                       'spatial_weight') and p.numel() == 1:
                p.fill_(0.5)
        if attention == 'gc':  # messages are zero while T starts at zero
            for att in neck.attentions:
                att.channel_add_conv[-1].weight.normal_()
    changed = [not torch.allclose(a, b) for a, b in zip(neck(x),
                                                       independent(x))]
    assert any(changed)
    # every parameter gets a gradient: nothing unused under DDP
    neck.zero_grad()
    sum(o.mean() for o in neck(x)).backward()
    assert not [n for n, p in neck.named_parameters() if p.grad is None]


def test_fpn_part_equals_mmdet_fpn():
    from mmdet.models.necks import FPN
    torch.manual_seed(0)
    for extra in (False, 'on_input', 'on_lateral', 'on_output'):
        fpn = FPN(IN, 16, 5, add_extra_convs=extra)
        neck = DCAFPN(IN, 16, 5, add_extra_convs=extra, attention='gc')
        # GC starts as identity: the neck equals FPN with the same convs
        missing, unexpected = neck.load_state_dict(fpn.state_dict(),
                                                   strict=False)
        assert not unexpected
        assert all(k.startswith('attentions.') for k in missing)
        x = feats(1)
        for a, b in zip(neck(x), fpn(x)):
            torch.testing.assert_close(a, b)


def test_gc_stays_identity_after_init_cfg():
    neck = DCAFPN(IN, 16, 4, attention='gc')
    neck.init_weights()  # Xavier on every Conv2d, then GC re-zeroes
    assert all(torch.all(a.channel_add_conv[-1].weight == 0)
               for a in neck.attentions)


def test_errors_and_registry():
    from mmdet.registry import MODELS as DET_MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    neck = DET_MODELS.build(dict(type='mmplug.DCAFPN', in_channels=IN,
                                 out_channels=16, num_outs=5))
    assert isinstance(neck, DCAFPN)
    with pytest.raises(ValueError, match="unknown attention 'eca'"):
        DCAFPN(IN, 16, 5, attention='eca')
    with pytest.raises(ValueError, match='direction must be'):
        DCAFPN(IN, 16, 5, direction='sideways')
    failures, tries = run_docstring_examples(DCAFPN)
    assert failures == 0 and tries > 0

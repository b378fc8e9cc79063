"""DCA-ResNet: counts, the connection (the contract: test_backbone_contract.py;
the official layout: test_official_keys.py)."""
import pytest
import torch

from mmplug.models import DCAResNet


def analytic_params(attention, depths=(3, 4, 6, 3), classes=1000):
    """ResNet-50 plus the official SE-DCA / GC-DCA layers, written out; the
    first block gets no message layers."""
    total, c_in, msg = 3 * 49 * 64 + 2 * 64, 64, 64
    for i, depth in enumerate(depths):
        w = 64 * 2**i
        c = 4 * w
        for j in range(depth):
            total += c_in * w + w * w * 9 + w * c + 2 * (w + w + c)
            if j == 0:
                total += c_in * c + 2 * c
            connected = not (i == 0 and j == 0)
            h = c // 16
            if attention == 'se':
                total += c * h + h + h * c + c
                if connected:
                    total += 3 + 2 * c
                    if msg != c:
                        total += msg * c + c + 2 * c
            else:
                total += c + 1 + (c * h + h + 2 * h + h * c + c)
                if connected:
                    total += 1
                    if msg != c:
                        total += msg * h + h + 2 * h + h * c + c
            c_in = msg = c
    return total + c_in * classes + classes


@pytest.mark.parametrize('attention, official, unused',
                         [('se', 30898696, 17667), ('gc', 28630824, 5425)])
def test_param_counts(attention, official, unused):
    model = DCAResNet(attention=attention, num_classes=1000)
    count = sum(p.numel() for p in model.parameters())
    assert count == analytic_params(attention)
    # the official model, counted with its code, less the message layers
    # of layer1.0 that it builds but never uses
    assert count == official - unused


@pytest.mark.parametrize('attention', ['se', 'gc'])
def test_messages_connect_blocks_and_every_parameter_learns(attention):
    torch.manual_seed(0)
    model = DCAResNet(attention=attention, depths=[1, 2, 1, 1]).train()
    if attention == 'gc':  # the link weights start at 0: open them
        for name, p in model.named_parameters():
            if name.endswith('rgc.weight'):
                torch.nn.init.constant_(p, 0.5)
    x = torch.rand(2, 3, 64, 96)
    outs = model(x)
    assert [o.shape[1:] for o in outs] == [(256, 16, 24), (512, 8, 12),
                                           (1024, 4, 6), (2048, 2, 3)]
    sum(o.mean() for o in outs).backward()
    assert not [n for n, p in model.named_parameters() if p.grad is None]
    # the message matters: cutting it changes layer2's output
    block = model.layer2[1]
    feat = torch.rand(1, 512, 8, 8)
    msg = torch.rand(1, 512) if attention == 'se' else \
        torch.rand(1, 512, 1, 1)
    model.eval()
    out_a, _ = block(feat, (msg, ))
    out_b, _ = block(feat, (torch.zeros_like(msg), ))
    assert not torch.allclose(out_a, out_b)


def test_errors():
    with pytest.raises(ValueError, match="attention must be 'se' or 'gc'"):
        DCAResNet(attention='cbam')
    with pytest.raises(ValueError, match="unknown DCA-ResNet arch 18; "
                                         r"choose one of \['101', '50'\]"):
        DCAResNet(depth=18)
    with pytest.raises(ValueError, match='give one of arch, depth and'):
        DCAResNet(50, depths=[1, 1, 1, 1])

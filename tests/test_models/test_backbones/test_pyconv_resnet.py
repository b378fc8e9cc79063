"""PyConv against one dense conv, PyConvResNet's parameter counts (the
paper's), shortcuts and levels (the contract: test_backbone_contract.py)."""
import pytest
import torch
import torch.nn.functional as F

from mmplug.models import PyConvResNet
from mmplug.models.layers import PyConv2d
from mmplug.testing import run_docstring_examples


def as_dense_weight(conv: PyConv2d, in_channels: int) -> torch.Tensor:
    """The whole pyramid as one 9x9 dense kernel: each level's kernel
    centred (zero around it) and its groups block-diagonal."""
    kmax = max(level.kernel_size[0] for level in conv.levels)
    blocks = []
    for level in conv.levels:
        out_c, in_g, k, _ = level.weight.shape
        g = level.groups
        dense = torch.zeros(out_c, in_channels, kmax, kmax)
        off = (kmax - k) // 2
        for o in range(out_c):
            group = o // (out_c // g)
            dense[o, group * in_g:(group + 1) * in_g, off:off + k,
                  off:off + k] = level.weight[o]
        blocks.append(dense)
    return torch.cat(blocks)


@pytest.mark.parametrize('kernels,groups,splits,stride', [
    ((3, 5, 7, 9), (1, 4, 8, 16), None, 1),
    ((3, 5, 7), (1, 4, 8), (16, 16, 32), 2),
    ((3, ), (1, ), None, 2),
])
def test_pyconv_is_one_dense_conv(kernels, groups, splits, stride):
    torch.manual_seed(0)
    conv = PyConv2d(64, 64, kernels, groups, splits, stride)
    x = torch.randn(2, 64, 11, 14)
    weight = as_dense_weight(conv, 64)
    k = weight.shape[-1]
    torch.testing.assert_close(conv(x), F.conv2d(x, weight, None, stride,
                                                 k // 2), atol=1e-5,
                               rtol=1e-5)
    with pytest.raises(ValueError, match='do not sum to out_channels'):
        PyConv2d(32, 32, (3, 5), (1, 4), (8, 8))
    with pytest.raises(ValueError, match='2 kernel sizes for 1 groups'):
        PyConv2d(32, 32, (3, 5), (1, ))


def test_parameter_counts_are_the_papers():
    # PyConvResNet-50 / 101 / 152 with the head: 24.85M / 42.31M / 56.64M
    for depth, params in ((50, 24.85e6), (101, 42.31e6), (152, 56.64e6)):
        model = PyConvResNet(depth, num_classes=1000)
        assert abs(sum(p.numel() for p in model.parameters()) - params) \
            < 0.005e6


def test_layout_and_options():
    model = PyConvResNet(depths=[2, 1, 1, 1], out_indices=(1, 3))
    # no stem max-pool: stage 1 strides; striding shortcuts max-pool
    assert isinstance(model.layer1[0].downsample[0], torch.nn.MaxPool2d)
    assert model.layer1[1].downsample is None
    assert [len(model.layer1[0].conv2.levels),
            len(model.layer2[0].conv2.levels),
            len(model.layer3[0].conv2.levels),
            len(model.layer4[0].conv2.levels)] == [4, 3, 2, 1]
    assert [lv.out_channels for lv in model.layer2[0].conv2.levels] == \
        [32, 32, 64]
    outs = model.eval()(torch.rand(1, 3, 97, 131))
    assert [o.shape[1:] for o in outs] == [(512, 13, 17), (2048, 4, 5)]
    with pytest.raises(ValueError, match='unknown PyConvResNet arch 34'):
        PyConvResNet(34)
    with pytest.raises(ValueError, match='levels needs 3 values'):
        PyConvResNet(depths=[1, 1, 1])
    failures, tries = run_docstring_examples(PyConv2d)
    assert failures == 0 and tries > 0


def test_checkpoint_head_loads_or_is_ignored(tmp_path):
    torch.manual_seed(0)
    source = PyConvResNet(depths=[1, 1, 1, 1], num_classes=7).eval()
    path = str(tmp_path / 'cls.pth')
    torch.save(source.state_dict(), path)
    ckpt = dict(type='Pretrained', checkpoint=path)
    # with a head, the checkpoint's classifier loads
    model = PyConvResNet(depths=[1, 1, 1, 1], num_classes=7, init_cfg=ckpt)
    model.init_weights()
    x = torch.rand(1, 3, 64, 64)
    torch.testing.assert_close(model.eval().forward_classifier(x),
                               source.forward_classifier(x))
    # without one, its keys are ignored (not reported as unexpected)
    assert PyConvResNet(depths=[1, 1, 1, 1]).ignored_pretrained_keys == \
        ('fc.', )

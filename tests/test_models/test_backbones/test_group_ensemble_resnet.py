"""Group Ensemble ResNet: groups stay independent, the shared base is
ResNet's, group averaging, FLOPs about ResNet-50's."""
import pytest
import torch

from mmplug.models import GroupEnsembleResNet


def test_tails_are_independent_and_share_the_base():
    torch.manual_seed(0)
    model = GroupEnsembleResNet(depths=[1, 1, 2, 2], num_groups=4).eval()
    assert model.out_channels == [256, 512, 2048, 4096]
    x = torch.rand(1, 3, 64, 64)
    before = model(x)[-1]
    # a weight of group 1 in the last 3x3 conv moves group 1's maps only
    conv = model.layer4[-1].conv2
    per = conv.out_channels // 4
    with torch.no_grad():
        conv.weight[per:2 * per] += 0.5
    changed = (model(x)[-1] - before).abs().amax(dim=(0, 2, 3)) > 0
    block = 4096 // 4
    inside = torch.zeros(4096, dtype=torch.bool)
    inside[block:2 * block] = True
    assert not changed[~inside].any()
    assert changed[inside].float().mean() > 0.5  # (ReLU zeros stay zero)
    # the first split block reads every shared channel: a change in one
    # shared channel reaches all four tails
    shared = model.layer2[-1].bn3
    with torch.no_grad():
        shared.bias[0] += 1.0
    changed = (model(x)[-1] - before).abs().amax(dim=(0, 2, 3)) > 0
    assert all(changed[g * block:(g + 1) * block].any() for g in range(4))


def test_shared_base_loads_resnet_and_group_averaging(tmp_path):
    from mmdet.models.backbones import ResNet
    torch.manual_seed(0)
    resnet = ResNet(50)
    resnet.eval()
    torch.save(resnet.state_dict(), tmp_path / 'r50.pth')
    model = GroupEnsembleResNet(num_classes=10, init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'r50.pth')))
    model.init_weights()
    model.eval()
    # the shared base (stem, stages 1-2) is ResNet-50's
    x = torch.rand(2, 3, 64, 64)
    for a, b in zip(model(x)[:2], resnet(x)[:2]):
        torch.testing.assert_close(a, b)
    # logits: the mean of each group's own classifier on its own channels
    *_, last = model.stage_outputs(x)
    pooled = last.mean(dim=(2, 3))
    w, b = model.fc.weight.flatten(1), model.fc.bias
    per = pooled.shape[1] // 4
    expected = sum(pooled[:, g * per:(g + 1) * per] @ w[g * 10:(g + 1) * 10].T
                   + b[g * 10:(g + 1) * 10] for g in range(4)) / 4
    torch.testing.assert_close(model.forward_classifier(x), expected)


def test_flops_about_resnet50_and_options():
    from mmdet.models.backbones import ResNet
    from mmengine.analysis import FlopAnalyzer

    def gflops(m):
        a = FlopAnalyzer(m, torch.rand(1, 3, 224, 224))
        a.unsupported_ops_warnings(False)
        return a.total() / 1e9

    resnet = ResNet(50)
    resnet.eval()
    ours = GroupEnsembleResNet().eval()
    # width sqrt(G) keeps a G-group conv's cost; the dense first block of
    # the split adds ~5%
    assert 1.0 < gflops(ours) / gflops(resnet) < 1.1
    model = GroupEnsembleResNet(depths=[1, 1, 1, 1], frozen_stages=2,
                                num_groups=2, shared_stages=1,
                                widen_factor=1.0).train()
    assert model.layer2[0].conv2.groups == 2
    assert model.layer2[0].conv1.groups == 1  # reads the shared map
    sum(o.mean() for o in model(torch.rand(2, 3, 64, 64))).backward()
    assert not [n for n, p in model.named_parameters()
                if p.requires_grad and (p.grad is None
                                        or not p.grad.abs().sum() > 0)]
    with pytest.raises(ValueError, match=r'shared_stages must be in \[0, 3\]'):
        GroupEnsembleResNet(shared_stages=4)
    with pytest.raises(ValueError, match=r'shared_stages must be in \[0, 2\]'):
        GroupEnsembleResNet(depths=[1, 1, 1], out_indices=(0, 1, 2),
                            shared_stages=3)

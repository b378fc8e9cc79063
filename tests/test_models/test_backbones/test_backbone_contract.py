"""The backbone contract, checked on every registered backbone: a new
backbone is tested by adding its line to :data:`mmplug.testing.TEST_ARCHS`
(its small arguments and what freezing its stem and first stage means)."""
import math
import warnings

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmplug.registry import MODELS
from mmplug.testing import (TEST_ARCHS, log_of, registered_backbones,
                            run_docstring_examples)

#: variants of a registered backbone tested as backbones of their own:
#: name -> (registered backbone, extra arguments)
VARIANTS = {'mmplug.DCAResNet-gc': ('mmplug.DCAResNet', dict(attention='gc'))}
NAMES = registered_backbones() + sorted(VARIANTS)


def registered(name):
    """The registered backbone a test name stands for."""
    return VARIANTS.get(name, (name, {}))[0]


def build(name, **kwargs):
    base, extra = VARIANTS.get(name, (name, {}))
    return MODELS.build(dict(TEST_ARCHS[base].small, type=base,
                             **dict(extra, **kwargs)))


def test_every_registered_backbone_has_a_test_arch():
    assert set(registered_backbones()) == set(TEST_ARCHS)


@pytest.mark.parametrize('name', NAMES)
def test_output_shapes_at_odd_sizes(name):
    model = build(name).eval()
    for hw in [(64, 64), (45, 61)]:
        outs = model(torch.rand(2, 3, *hw))
        assert isinstance(outs, tuple) and len(outs) == len(model.out_indices)
        assert [tuple(o.shape) for o in outs] == [
            (2, c, math.ceil(hw[0] / s), math.ceil(hw[1] / s))
            for c, s in zip(model.out_channels, model.out_strides)]
    # the strides of the default outputs are 4, 8, 16, 32
    assert model.out_strides == [4, 8, 16, 32]


@pytest.mark.parametrize('name', NAMES)
def test_out_indices(name):
    full = build(name).eval()
    last = full.num_stages - 1
    model = build(name, out_indices=(-1, 1)).eval()
    assert model.out_indices == (1, last)
    assert model.out_channels == [full.stage_channels[1],
                                  full.stage_channels[last]]
    x = torch.rand(1, 3, 45, 61)
    outs = model(x)
    assert [o.shape[1] for o in outs] == model.out_channels
    with pytest.raises(ValueError, match='out_indices is empty'):
        build(name, out_indices=())
    with pytest.raises(ValueError, match='out of range'):
        build(name, out_indices=(full.num_stages, ))


@pytest.mark.parametrize('name', NAMES)
def test_empty_batch_and_in_channels(name):
    model = build(name, in_channels=4).eval()
    outs = model(torch.rand(0, 4, 45, 61))
    assert [tuple(o.shape) for o in outs] == [
        (0, c, math.ceil(45 / s), math.ceil(61 / s))
        for c, s in zip(model.out_channels, model.out_strides)]
    with pytest.raises(ValueError, match=r'in_channels=4, got an input with '
                                         r'3 channels'):
        model(torch.rand(1, 3, 32, 32))


@pytest.mark.parametrize('name', NAMES)
def test_frozen_stages_and_norm_eval(name):
    stem, stage1 = TEST_ARCHS[registered(name)].frozen
    for frozen_stages, prefixes in ((0, stem), (1, stem + stage1)):
        model = build(name, frozen_stages=frozen_stages,
                      norm_eval=frozen_stages == 1).train()
        for pname, param in model.named_parameters():
            assert param.requires_grad != pname.startswith(prefixes), pname
        for mname, module in model.named_modules():
            frozen = f'{mname}.'.startswith(prefixes)
            if frozen or isinstance(module, _BatchNorm):
                # norm_eval: every BatchNorm in eval mode
                assert module.training == (not frozen and frozen_stages == 0)
    with pytest.raises(ValueError, match='frozen_stages must be in'):
        build(name, frozen_stages=model.num_stages + 1)


@pytest.mark.parametrize('name', NAMES)
def test_gradients_and_with_cp(name):
    torch.manual_seed(0)
    plain = build(name).train()
    with_cp = build(name, with_cp=True).train()
    with_cp.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 45, 61)
    for model in (plain, with_cp):
        torch.manual_seed(1)  # the same dropout and drop-path draws
        sum(o.square().mean() for o in model(x)).backward()
    assert not [n for n, p in plain.named_parameters() if p.grad is None]
    for (pname, p), q in zip(plain.named_parameters(), with_cp.parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=pname)


@pytest.mark.parametrize('name', NAMES)
def test_pretrained_loads_and_reports(name, tmp_path):
    torch.manual_seed(0)
    source = build(name)
    state = {'backbone.' + k: v for k, v in source.state_dict().items()}
    path = str(tmp_path / 'det.pth')
    torch.save({'state_dict': state, 'meta': {}}, path)
    # a detector checkpoint, through init_cfg and the deprecated argument
    model = build(name, init_cfg=dict(type='Pretrained', checkpoint=path,
                                      prefix='backbone.'))
    model.init_weights()
    with pytest.warns(UserWarning, match='pretrained is deprecated'):
        old_style = build(name, pretrained=path)
    old_style.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, msg=key)
        torch.testing.assert_close(old_style.state_dict()[key], value)
    with pytest.raises(ValueError, match='not both'):
        build(name, pretrained=path, init_cfg=dict(type='Pretrained',
                                                    checkpoint=path))
    # what does not fit is reported, key by key
    keys = [k for k, _ in source.named_parameters()]
    weight = next(k for k in keys if source.state_dict()[k].dim() > 1)
    broken = dict(source.state_dict())
    broken.pop(keys[-1])
    broken['extra.weight'] = torch.zeros(1)
    broken[weight] = torch.zeros(3, 3)
    torch.save(broken, path)
    model = build(name, init_cfg=dict(type='Pretrained', checkpoint=path))
    log = log_of(model.init_weights, tmp_path)
    assert f'missing in checkpoint (1): {keys[-1]}' in log
    assert 'unexpected in checkpoint (1): extra.weight' in log
    assert f'shape mismatch, not loaded (1): {weight}' in log


@pytest.mark.parametrize('name', NAMES)
def test_classifier_and_layer_depth(name):
    model = build(name, num_classes=5).eval()
    assert model.forward_classifier(torch.rand(2, 3, 64, 64)).shape == (2, 5)
    with pytest.raises(RuntimeError, match='without a head'):
        build(name).forward_classifier(torch.rand(1, 3, 32, 32))
    depths = {n: model.get_layer_depth('backbone.' + n, 'backbone.')
              for n, _ in model.named_parameters()}
    # ConvNeXt's layer ids (as mmpretrain's): 6 + 2 with a short stage 3
    total = 8 if name == 'mmplug.ParCConvNeXt' else model.num_stages + 2
    assert {t for _, t in depths.values()} == {total}
    assert model.get_layer_depth('neck.conv.weight', 'backbone.') == \
        (total - 1, total)
    stem, stage1 = TEST_ARCHS[registered(name)].frozen
    by_part = [[d for n, (d, _) in depths.items() if n.startswith(part)]
               for part in (stem, stage1[:1])]
    assert set(by_part[0]) == {0}  # the stem decays most
    assert 0 < min(by_part[1]) and max(by_part[1]) < total - 2
    assert max(d for d, _ in depths.values()) in (total - 2, total - 1)


@pytest.mark.parametrize('name', NAMES)
def test_docstring_example_and_registry(name):
    cls = MODELS.get(registered(name))
    failures, tries = run_docstring_examples(cls)
    assert failures == 0 and tries > 0
    from mmdet.registry import MODELS as DET_MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = DET_MODELS.build(dict(type=f'mmplug.{cls.__name__}',
                                      **TEST_ARCHS[registered(name)].small))
    assert isinstance(model, cls)


"""Each model's key converter against the real official state-dict layouts
(names and shapes in ``tests/data/official_keys``, generated from the
official model definitions; see the README there)."""
import json
import os.path as osp
import re

import pytest
import torch

from mmplug.checkpoint import remove_prefixes
from mmplug.models import (SMT, DCAResNet, ParCConvNeXt, ParCResNet,
                           SCSCResNet, SCSCSwin)

DATA = osp.join(osp.dirname(osp.dirname(__file__)), 'data', 'official_keys')
OUT_NORMS = r'norm[0-3]\.(weight|bias)'
#: file -> (our model, our keys the official model lacks, official keys we
#: do not build): classification models have no output norms; the official
#: DCA-ResNets build message layers in layer1.0 that nothing reaches
CASES = {
    'smt_t_cls': (lambda: SMT('t', num_classes=1000), None, None),
    'smt_l_cls': (lambda: SMT('l', num_classes=1000), None, None),
    'smt_s_det': (lambda: SMT('s'), None, None),
    'parc_convnext_xt_cls': (lambda: ParCConvNeXt('xt', num_classes=1000),
                             OUT_NORMS, None),
    'parc_resnet50_cls': (lambda: ParCResNet(num_classes=1000), None, None),
    'dca_se_resnet50_cls': (lambda: DCAResNet(num_classes=1000), None,
                            r'layer1\.0\.se\.(att_fc|conv)\..*'),
    'dca_gc_resnet50_cls': (lambda: DCAResNet(attention='gc',
                                              num_classes=1000),
                            None, r'layer1\.0\.rgc\.(att_fc\..*|weight)'),
    'cbtnet50_cls': (lambda: SCSCResNet(50, num_classes=1000), None, None),
    'scsc_swin_t_cls': (lambda: SCSCSwin(num_classes=1000), OUT_NORMS, None),
}


def official(name: str) -> dict:
    with open(osp.join(DATA, f'{name}.json')) as f:
        return {k: torch.Size(shape) for k, shape in json.load(f)['keys']}


@pytest.mark.parametrize('name', sorted(CASES))
def test_converter_maps_the_official_layout(name):
    make, ours_only, theirs_only = CASES[name]
    theirs = official(name)
    model = make()
    ours = {k: v.shape for k, v in model.state_dict().items()}
    converted = model.convert_state_dict(remove_prefixes(
        {k: torch.empty(s, device='meta') for k, s in theirs.items()}))
    converted = {k: v.shape for k, v in converted.items()}
    extra = sorted(k for k in ours if k not in converted)
    unused = sorted(k for k in converted if k not in ours)
    assert all(re.fullmatch(ours_only, k) for k in extra) if ours_only \
        else not extra, extra
    assert all(re.fullmatch(theirs_only, k) for k in unused) \
        if theirs_only else not unused, unused
    assert bool(extra) == bool(ours_only)
    assert bool(unused) == bool(theirs_only)
    if theirs_only:  # and the loader is told to ignore them
        assert all(k.startswith(model.ignored_pretrained_keys)
                   for k in unused)
    assert {k: s for k, s in converted.items() if k in ours} == \
        {k: s for k, s in ours.items() if k in converted}


def test_the_layouts_differ_where_the_converters_say():
    """The official det backbone of SMT renamed the MSA conv; the public
    ParC layouts nest the ParC kernels: the converters do real work."""
    det = official('smt_s_det')
    assert 'block3.1.attn.dw_conv.weight' in det
    assert 'block3.1.attn.local_conv.weight' in official('smt_t_cls')
    assert 'stages.2.8.gcc_H.gcc_conv.weight' in official(
        'parc_convnext_xt_cls')
    assert 'layer3.5.parc_H.gcc_conv.weight' in official('parc_resnet50_cls')


def _save(path, keys, prefix='', wrap='state_dict', seed=0):
    gen = torch.Generator().manual_seed(seed)
    state = {prefix + k: torch.rand(s, generator=gen) for k, s in keys.items()
             if not k.endswith('num_batches_tracked')}
    torch.save({wrap: state}, path)
    return state


def test_official_smt_detector_checkpoint_loads(tmp_path):
    """A checkpoint of the official mmdet-2.x SMT-S backbone (``dw_conv``
    names, ``backbone.`` keys among a detector's) fills every parameter."""
    path = str(tmp_path / 'smt_s_det.pth')
    state = _save(path, official('smt_s_det'), prefix='backbone.')
    model = SMT('s', init_cfg=dict(type='Pretrained', checkpoint=path,
                                   prefix='backbone.'))
    model.init_weights()
    ours = model.state_dict()
    torch.testing.assert_close(
        ours['block3.1.attn.local_conv.weight'],
        state['backbone.block3.1.attn.dw_conv.weight'])
    for key, value in state.items():
        key = key[len('backbone.'):].replace('.dw_conv.', '.local_conv.')
        torch.testing.assert_close(ours[key], value, msg=key)


@pytest.mark.parametrize('layout', ['public', 'research'])
def test_official_parc_convnext_checkpoint_loads(tmp_path, layout):
    """The public release's keys, and the authors' research layout (the
    same tensors as ``gcc_conv_1H.weight`` / ``gcc_conv_2W.meta_pe``, per
    the notes on their code)."""
    keys = official('parc_convnext_xt_cls')
    if layout == 'research':
        keys = {re.sub(r'gcc_([HW])\.pe$', lambda m: 'gcc_conv_' + (
                    '1H' if m.group(1) == 'H' else '2W') + '.meta_pe',
                       re.sub(r'gcc_([HW])\.gcc_conv\.', lambda m: (
                           'gcc_conv_1H.' if m.group(1) == 'H' else
                           'gcc_conv_2W.'), k)): s for k, s in keys.items()}
    path = str(tmp_path / 'parc.pth')
    state = _save(path, keys, wrap='model')
    model = ParCConvNeXt('xt', init_cfg=dict(type='Pretrained',
                                             checkpoint=path))
    model.init_weights()
    h, pe = ('gcc_H.gcc_conv.weight', 'gcc_W.pe') if layout == 'public' \
        else ('gcc_conv_1H.weight', 'gcc_conv_2W.meta_pe')
    torch.testing.assert_close(model.stages[2][8].parc.parc_h.weight,
                               state[f'stages.2.8.{h}'])
    torch.testing.assert_close(model.stages[3][2].parc.parc_w.meta_pe,
                               state[f'stages.3.2.{pe}'])


@pytest.mark.parametrize('attention', ['se', 'gc'])
def test_official_dca_checkpoint_loads(tmp_path, attention):
    """The official releases are apex-DDP checkpoints (``module.``); the
    unused layer1.0 layers and the head are ignored, not unexpected."""
    path = str(tmp_path / 'dca.pth.tar')
    state = _save(path, official(f'dca_{attention}_resnet50_cls'),
                  prefix='module.')
    model = DCAResNet(attention=attention, init_cfg=dict(
        type='Pretrained', checkpoint=path))
    model.init_weights()
    key = 'layer2.1.se.fc.0.weight' if attention == 'se' else \
        'layer2.0.rgc.att_fc.3.weight'
    torch.testing.assert_close(model.state_dict()[key], state['module.' + key])

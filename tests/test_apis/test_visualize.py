"""Tests of mmplug.apis.visualize (ERF, feature maps, SMT maps) and its
two command lines, on tiny models."""
import glob
import importlib.util
import os.path as osp
import re

import numpy as np
import pytest
import torch

from mmplug.apis.visualize import (effective_receptive_fields,
                                   erf_area_ratios, erf_display, smt_maps,
                                   stage_features)
from mmplug.errors import ConfigError
from mmplug.testing import SMALL_BACKBONES, build_small

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEG_SMT = osp.join(REPO, 'configs/demo/upernet_smt-t_demo.py')


def parc_convnext(parc_stages):
    """A tiny ParC-ConvNeXt whose blocks count from the start (layer scale
    1), one block per stage: with ``parc_stages=(0,)`` stage 1's block is a
    ParC block."""
    from mmplug.models import ParCConvNeXt
    torch.manual_seed(0)
    model = ParCConvNeXt(arch=dict(embed_dims=[8, 16, 32, 64],
                                   depths=[1, 1, 1, 1]),
                         parc_stages=parc_stages, layer_scale_init_value=1.)
    model.init_weights()
    return model


def test_erf_of_a_local_kernel_stays_in_its_window():
    # stage 1: the 4x4 stem patches under a 7x7 depthwise kernel, 28 pixels
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator()
                         .manual_seed(0))
    erf = effective_receptive_fields(parc_convnext(()), images)[0]
    assert erf.shape == (64, 64) and (erf >= 0).all()
    rows, cols = np.nonzero(erf)
    # the central pixel (8, 8) of the 16x16 map covers pixels 32-35; its
    # kernel reaches map pixels 5-11, pixels 20-47
    assert rows.min() >= 20 and rows.max() <= 47
    assert cols.min() >= 20 and cols.max() <= 47
    assert erf[32:36, 32:36].sum() > 0


def test_erf_of_a_parc_block_spans_its_row_and_column():
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator()
                         .manual_seed(0))
    erf = effective_receptive_fields(parc_convnext((0, )), images)[0]
    # global along H for half of the channels, along W for the other half:
    # the whole 4-pixel column band and row band of the central pixel ...
    assert (erf[:, 32:36].sum(1) > 0).all()
    assert (erf[32:36, :].sum(0) > 0).all()
    # ... and nothing off the cross (channels mix only pointwise)
    off_cross = np.ones_like(erf, bool)
    off_cross[:, 32:36] = off_cross[32:36, :] = False
    assert erf[off_cross].max() == 0


def test_erf_averages_over_images():
    model = parc_convnext(())
    images = torch.randn(3, 3, 32, 32)
    both = effective_receptive_fields(model, images)
    each = [effective_receptive_fields(model, images[i:i + 1])
            for i in range(3)]
    for stage, field in enumerate(both):
        np.testing.assert_allclose(
            field, sum(e[stage] for e in each) / 3, rtol=1e-6)


def test_erf_area_ratios():
    delta = np.zeros((9, 9))
    delta[4, 4] = 1.
    assert erf_area_ratios(delta, [0.2, 0.99]) == {0.2: 1 / 81, 0.99: 1 / 81}
    flat = np.ones((10, 10))
    ratios = erf_area_ratios(flat)
    assert list(ratios.values()) == sorted(ratios.values())
    for share, ratio in ratios.items():  # a square holds its area's share
        assert share <= ratio <= 1.
    assert np.isnan(erf_area_ratios(np.zeros((4, 4)), [0.5])[0.5])


def test_erf_display_is_log_scaled_to_unit_range():
    field = np.array([[1., 1e-1], [1e-3, 1e-6]])
    np.testing.assert_allclose(erf_display(field, decades=3),
                               [[1., 2 / 3], [0., 0.]], atol=1e-12)


def test_stage_features_are_the_backbone_outputs():
    model = build_small('mmplug.SMT').eval()
    image = torch.randn(3, 45, 61)
    feats = stage_features(model, image)
    with torch.no_grad():
        outs = model(image[None])
    assert [tuple(f.shape) for f in feats] == \
        [tuple(o.shape[1:]) for o in outs]


def test_smt_maps_follow_the_mixers():
    model = build_small('mmplug.SMT')
    maps = smt_maps(model, torch.randn(3, 64, 64))
    depths = SMALL_BACKBONES['mmplug.SMT']['arch']['depths']
    assert len(maps) == sum(depths)
    # SAM in stages 1-2, attention in stage 4 (stage 3 alternates)
    assert [m['kind'] for m in maps[:2]] == ['modulation'] * 2
    assert maps[-1]['kind'] == 'attention'
    sizes = {'block1': (16, 16), 'block2': (8, 8), 'block3': (4, 4),
             'block4': (2, 2)}
    for item in maps:
        assert item['map'].shape == sizes[item['name'].split('.')[0]]
        if item['kind'] == 'attention':
            assert (item['map'] >= 0).all()
            assert item['map'].sum() == pytest.approx(1., abs=1e-5)
    assert model.training  # the mode is restored


def test_smt_modulation_is_what_the_mixer_multiplies():
    from mmplug.models.layers.smt_mixers import (ScaleAwareModulation,
                                                 tokens_to_map)
    torch.manual_seed(0)
    sam = ScaleAwareModulation(16, num_heads=4).eval()
    x, hw = torch.randn(1, 36, 16), (6, 6)
    holder = torch.nn.Module()
    holder.sam = sam
    captured = {}
    sam.register_forward_hook(
        lambda m, args, out: captured.update(args=args, out=out))
    item, = smt_maps(_Caller(holder, x, hw).eval(), torch.zeros(3, 1, 1))
    with torch.no_grad():
        modulator = sam.aggregate(sam.mixed_conv(tokens_to_map(sam.s(x),
                                                               hw)))
        # the mixer's output is proj(modulator * v): the map is its mean
        np.testing.assert_allclose(
            sam.proj(modulator * sam.v(x)).numpy(),
            captured['out'].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(item['map'],
                               modulator[0].mean(-1).view(6, 6).numpy(),
                               rtol=1e-6)


class _Caller(torch.nn.Module):
    """A 'backbone' that runs one SAM on fixed tokens, whatever its
    input."""

    def __init__(self, holder, x, hw):
        super().__init__()
        self.holder, self.x, self.hw = holder, x, hw

    def forward(self, image):
        return self.holder.sam(self.x, self.hw)


def test_smt_maps_need_smt_mixers():
    with pytest.raises(ConfigError, match='no SMT mixers'):
        smt_maps(build_small('mmplug.ParCConvNeXt'), torch.randn(3, 32, 32))


# ---------------------------------------------------------------------------
# Command lines
# ---------------------------------------------------------------------------
def _tool(name):
    path = osp.join(REPO, 'tools', 'analysis_tools', name)
    spec = importlib.util.spec_from_file_location(
        'mmplug_tool_' + name[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tiny_smt_config(tmp_path_factory):
    """The SMT UPerNet demo with a small SMT."""
    arch = SMALL_BACKBONES['mmplug.SMT']['arch']
    path = tmp_path_factory.mktemp('vis') / 'smt.py'
    path.write_text(f"""_base_ = [{SEG_SMT!r}]
model = dict(backbone=dict(_delete_=True, type='mmplug.SMT', arch={arch!r}),
             decode_head=dict(in_channels=[16, 32, 64, 128], channels=16),
             auxiliary_head=dict(in_channels=64, channels=16))
""")
    return str(path)


def _png_size(path):
    import matplotlib.image
    return matplotlib.image.imread(path).shape[:2]


def test_visualize_erf_tool(tiny_smt_config, demo_root, tmp_path, capsys):
    out = tmp_path / 'erf.png'
    _tool('visualize_erf.py').main([
        tiny_smt_config, '--images', osp.join(demo_root, 'coco', 'val2017'),
        '--num-images', '2', '--size', '64', '--out', str(out), '--compare',
        tiny_smt_config, 'model.backbone.drop_path_rate=0.'])
    text = capsys.readouterr().out
    assert text.count('random init') == 2
    assert 'model.backbone.drop_path_rate=0.' in text
    # a row per stage and model: stage, then four shares
    assert len([line for line in text.splitlines()
                if re.fullmatch(r'\s*[1-4](\s+[01]\.\d{3}){4}', line)]) == 8
    h, w = _png_size(out)
    assert h > 200 and w > 400


def test_visualize_features_tool(tiny_smt_config, demo_root, tmp_path,
                                 capsys):
    image = sorted(glob.glob(osp.join(demo_root, 'coco', 'val2017',
                                      '*.jpg')))[0]
    _tool('visualize_features.py').main([
        tiny_smt_config, '--image', image, '--size', '64', '--out-dir',
        str(tmp_path)])
    assert 'smt_maps.png' in capsys.readouterr().out
    for name in ('features.png', 'smt_maps.png'):
        h, w = _png_size(tmp_path / name)
        assert h > 100 and w > 100


def test_visualize_features_tool_missing_image(tiny_smt_config, tmp_path,
                                               capsys):
    with pytest.raises(SystemExit) as exc:
        _tool('visualize_features.py').main([
            tiny_smt_config, '--image', str(tmp_path / 'none.jpg'),
            '--out-dir', str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('visualize_features.py: error: image not found') \
        and \
        'none.jpg' in err and '\n' not in err

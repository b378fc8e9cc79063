"""What a plain ResNet-50 checkpoint does to a ResNet with each plugged
layer (the configs' starting point): every key it holds loads or is
reported, never silently misplaced."""
import re

import pytest
import torch

from mmplug.checkpoint import load_pretrained

DCN = dict(fallback_on_stride=False)
CASES = {
    # DO-Conv: every conv loads as it is; D stays zero and is not missing
    'doconv': (dict(conv_cfg=dict(type='mmplug.DOConv')), None, None),
    # ULSAM: new plugin layers only
    'ulsam': (dict(plugins=[dict(cfg=dict(type='mmplug.ULSAM'),
                                 stages=(False, True, True, True),
                                 position='after_conv2')]),
              r'layer[234]\.\d+\.ulsam\..+', None),
    # dcn-slot layers: the stage-2-4 3x3 weights cannot load
    'psconv': (dict(dcn=dict(type='mmplug.PSConv2d', **DCN),
                    stage_with_dcn=(False, True, True, True)),
               r'layer[234]\.\d+\.conv2\.(gwconv|gwconv_shift|conv)\.weight',
               r'layer[234]\.\d+\.conv2\.weight'),
    'weightnet': (dict(dcn=dict(type='mmplug.WeightNetConv2d', **DCN),
                       stage_with_dcn=(False, True, True, True)),
                  r'layer[234]\.\d+\.conv2\.(reduce|fc1)\.(weight|bias)'
                  r'|layer[234]\.\d+\.conv2\.fc2',
                  r'layer[234]\.\d+\.conv2\.weight'),
    # DGC: the 3x3 weight loads channel for channel; gates and progress new
    'dgc': (dict(dcn=dict(type='mmplug.DGConv2d', **DCN),
                 stage_with_dcn=(False, True, True, True)),
            r'layer[234]\.\d+\.conv2\.(gate_w1|gate_w2|gate_b2|progress)',
            None),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_plain_resnet_checkpoint(name, tmp_path):
    from mmdet.models.backbones import ResNet
    plugged_cfg, missing_re, unexpected_re = CASES[name]
    plain = ResNet(50, base_channels=16)
    path = tmp_path / 'r50.pth'
    torch.save(plain.state_dict(), path)
    plugged = ResNet(50, base_channels=16, **plugged_cfg)
    missing, unexpected = load_pretrained(plugged, str(path))
    assert all(re.fullmatch(missing_re, k) for k in missing) if missing_re \
        else not missing
    assert all(re.fullmatch(unexpected_re, k) for k in unexpected) \
        if unexpected_re else not unexpected
    if missing_re:
        assert missing
    # what loaded is the plain network's
    own = plugged.state_dict()
    for key, value in plain.state_dict().items():
        if key in own and key not in unexpected:
            torch.testing.assert_close(own[key], value)

"""FPT: the transformers against their formulas, shapes, options, gradients,
the analytic parameter count."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmplug.models import FPT
from mmplug.models.layers.fpt import (GroundingTransformer,
                                      RenderingTransformer, SelfTransformer)
from mmplug.testing import run_docstring_examples

IN = [8, 16, 24, 32]


def pyramid(n=2, size=(49, 83), channels=IN, ceil=True):
    """Backbone-like maps; the default sizes are an 800-pixel image's
    P2-P5 at a quarter of the size: 50x84, 25x42, 13x21, 7x11."""
    h, w = size
    maps = []
    for c in channels:
        h, w = (h + 1, w + 1) if not maps else \
            ((-(-h // 2), -(-w // 2)) if ceil else (h // 2, w // 2))
        maps.append(torch.rand(n, c, h, w))
    return maps


def randomise(module):
    """Random weights and norm statistics (GT's zero output norm too)."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.5, 0.5)
        for name, b in module.named_buffers():
            if 'running_var' in name:
                b.uniform_(0.5, 1.5)
            elif 'running_mean' in name:
                b.uniform_(-0.2, 0.2)
    return module.eval()


def test_self_transformer_is_the_formula():
    torch.manual_seed(0)
    st = randomise(SelfTransformer(16, n_mix=2, kv_stride=2))
    x = torch.randn(2, 16, 7, 9)  # odd: the official code fails here
    # written out: shared q/k projection on x and on the 3x3/2 pooled map
    pooled = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
    assert pooled.shape[2:] == (4, 5)
    q = F.conv2d(x, st.query.weight, st.query.bias).flatten(2)
    k = F.conv2d(pooled, st.query.weight, st.query.bias).flatten(2)
    v = F.conv2d(pooled, st.value.weight, st.value.bias).flatten(2)
    expected = torch.zeros(2, 16, 63)
    for b in range(2):
        pi = torch.softmax(st.mix_weight @ q[b].mean(1), 0)
        for n in range(2):
            qn, kn = q[b, 8 * n:8 * n + 8], k[b, 8 * n:8 * n + 8]
            attn = torch.softmax(qn.T @ kn / math.sqrt(16), dim=1)  # 63x20
            expected[b] += pi[n] * (v[b] @ attn.T)
    out = st.norm(F.conv2d(expected.view(2, 16, 7, 9), st.proj.weight))
    torch.testing.assert_close(st(x), x + out, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('similarity', ['euclidean', 'dot'])
@pytest.mark.parametrize('window', [None, 3, 5])
@pytest.mark.parametrize('sizes', [((13, 21), (7, 11), 2),
                                   ((13, 21), (2, 3), 8),
                                   ((12, 21), (6, 10), 2)])  # rounded down
def test_grounding_transformer_is_the_formula(similarity, window, sizes):
    (hf, wf), (hc, wc), scale = sizes
    gt = randomise(GroundingTransformer(8, similarity=similarity,
                                        window=window, scale=scale))
    fine, coarse = torch.randn(2, 8, hf, wf), torch.randn(2, 8, hc, wc)
    q = gt.theta(fine).flatten(2).transpose(1, 2)  # (2, Nf, 4)
    k, v = gt.phi(coarse).flatten(2), gt.g(coarse).flatten(2)
    # which coarse keys each fine query sees
    fy, fx = torch.meshgrid(torch.arange(hf), torch.arange(wf),
                            indexing='ij')
    cy, cx = torch.meshgrid(torch.arange(hc), torch.arange(wc),
                            indexing='ij')
    if window is None:
        allowed = torch.ones(hf * wf, hc * wc, dtype=torch.bool)
    else:
        dy = (fy.reshape(-1, 1) // scale - cy.reshape(1, -1)).abs()
        dx = (fx.reshape(-1, 1) // scale - cx.reshape(1, -1)).abs()
        allowed = (dy <= window // 2) & (dx <= window // 2)
    if similarity == 'euclidean':
        dist = ((q[:, :, None, :] - k.transpose(1, 2)[:, None]) ** 2).sum(-1)
        attn = torch.softmax((-dist / 2).masked_fill(~allowed, -math.inf),
                             dim=-1)
    else:
        attn = (q @ k) * allowed / allowed.sum(1, keepdim=True)
    y = (attn @ v.transpose(1, 2)).transpose(1, 2).reshape(2, 4, hf, wf)
    expected = gt.out_norm(gt.out_conv(y))
    torch.testing.assert_close(gt(fine, coarse), expected,
                               atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('similarity', ['euclidean', 'dot'])
def test_window_covering_the_map_is_global(similarity):
    local = randomise(GroundingTransformer(8, similarity=similarity,
                                           window=9, scale=4))
    glob = GroundingTransformer(8, similarity=similarity, scale=4).eval()
    glob.load_state_dict(local.state_dict())
    fine, coarse = torch.randn(1, 8, 17, 19), torch.randn(1, 8, 5, 5)
    torch.testing.assert_close(local(fine, coarse), glob(fine, coarse))


@pytest.mark.parametrize('downsample', ['pool', 'conv'])
@pytest.mark.parametrize('scale', [2, 4, 8])
def test_rendering_transformer_is_the_formula(downsample, scale):
    rt = randomise(RenderingTransformer(8, scale=scale,
                                        downsample=downsample))
    coarse = torch.randn(2, 8, 4, 6)
    fine = torch.randn(2, 8, 4 * scale - 1, 6 * scale)  # odd and even
    gate = F.relu(rt.gate.bn(rt.gate.conv(fine.mean((2, 3), True))))
    query = rt.query_conv.bn(rt.query_conv.conv(coarse))
    down = fine
    if downsample == 'pool' and scale > 2:
        down = F.avg_pool2d(down, scale // 2, ceil_mode=True)
    convs = list(rt.value_convs)
    assert len(convs) == (int(math.log2(scale)) if downsample == 'conv'
                          else 1)
    for i, conv in enumerate(convs):
        down = conv.bn(conv.conv(down))
        down = down if i == len(convs) - 1 else F.relu(down)
    assert down.shape[2:] == (4, 6)
    torch.testing.assert_close(rt(coarse, fine), F.relu(down + gate * query))


def test_gt_starts_at_zero_and_errors():
    gt = GroundingTransformer(8, window=3)
    assert torch.all(gt(torch.randn(1, 8, 6, 6), torch.randn(1, 8, 3, 3))
                     == 0)
    with pytest.raises(ValueError, match="'euclidean' or 'dot'"):
        GroundingTransformer(8, similarity='cosine')
    with pytest.raises(ValueError, match='odd size'):
        GroundingTransformer(8, window=4)
    with pytest.raises(ValueError, match='coarse map of at least'):
        GroundingTransformer(8, window=1, scale=2)(torch.randn(1, 8, 8, 8),
                                                   torch.randn(1, 8, 3, 3))
    with pytest.raises(ValueError, match='power of 2'):
        RenderingTransformer(8, scale=3)
    with pytest.raises(ValueError, match="'pool' or 'conv'"):
        RenderingTransformer(8, downsample='bilinear')
    with pytest.raises(ValueError, match='divisible by n_mix'):
        SelfTransformer(10, n_mix=3)


def analytic_fpt_params(in_channels, c, rt_convs=1):
    """The paper's neck at C channels (GT inter C/2, official widths)."""
    levels = len(in_channels)
    lateral = sum(cin * c + c for cin in in_channels)
    fusion = sum((1 + levels) * c * c * 9 + c for _ in range(levels))
    st = (c * c + c) * 2 + 2 * c + c * c + 2 * c  # q(=k), v, mix, proj, BN
    d = c // 2
    gt = 3 * (c * d + d) + d * c + c + 2 * c
    rt = (c * c + 2 * c) + (9 * c * c + 2 * c) + rt_convs * (9 * c * c + 2 * c)
    pairs = levels * (levels - 1) // 2
    return lateral + fusion + levels * st + pairs * (gt + rt)


def test_parameter_count_is_analytic():
    r50 = [256, 512, 1024, 2048]
    neck = FPT(r50, 256, num_outs=5)
    count = sum(p.numel() for p in neck.parameters())
    assert count == analytic_fpt_params(r50, 256) == 21_847_808
    # the official FPT_a (23.03M) also holds, per RT, a 1x1 and a 2C->C
    # conv it never uses: 6 x (65,536 + 131,072)
    assert count + 6 * (256 * 256 + 512 * 256) == 23_027_456
    # 'conv' downsample: one more stride-2 conv per extra octave (4 of them)
    conv = FPT(r50, 256, rt_cfg=dict(downsample='conv'))
    assert sum(p.numel() for p in conv.parameters()) == \
        count + 4 * (9 * 256 * 256 + 2 * 256)
    from mmdet.models.necks import FPN
    fpn = sum(p.numel() for p in FPN(r50, 256, 5).parameters())
    assert fpn == 3_344_384  # the ~3.3M baseline


@pytest.mark.parametrize('ceil', [True, False])
def test_shapes_gradients_and_no_unused_parameters(ceil):
    torch.manual_seed(0)
    neck = FPT(IN, 16, num_outs=5)
    neck.init_weights()
    x = pyramid(ceil=ceil)
    outs = neck.train()(x)
    assert len(outs) == 5
    expected = [m.shape[2:] for m in x]
    expected.append(torch.Size([-(-expected[-1][0] // 2),
                                -(-expected[-1][1] // 2)]))
    assert [o.shape[2:] for o in outs] == expected
    assert all(o.shape[:2] == (2, 16) for o in outs)
    # the GT branches start at zero, but every parameter is in the graph
    sum(o.mean() for o in outs).backward()
    assert not [n for n, p in neck.named_parameters() if p.grad is None]
    # once GT's output norm moves off zero, every parameter learns
    with torch.no_grad():
        for gt in neck.gt.values():
            gt.out_norm.weight.fill_(1)
    neck.zero_grad()
    sum(o.mean() for o in neck(x)).backward()
    assert not [n for n, p in neck.named_parameters()
                if p.grad is None or not p.grad.abs().sum() > 0]


def test_modules_and_concat_follow_the_paper():
    neck = FPT(IN, 16, num_outs=4)
    assert sorted(neck.st) == ['0', '1', '2', '3']
    # GT: finer target, coarser source; RT: coarser target, finer source
    assert sorted(neck.gt) == ['0_1', '0_2', '0_3', '1_2', '1_3', '2_3']
    assert sorted(neck.rt) == ['1_0', '2_0', '2_1', '3_0', '3_1', '3_2']
    assert [c.conv.in_channels for c in neck.fpt_convs] == [16 * 5] * 4
    assert list(neck._sources(2)) == ['st.2', 'rt.2_1', 'rt.2_0', 'gt.2_3']
    # ST pools keys/values to about the coarsest size: 8/4/2/2 on P2-P5
    assert [neck.st[str(i)].kv_stride for i in range(4)] == [8, 4, 2, 2]
    assert all(gt.window == 7 and gt.similarity == 'euclidean'
               for gt in neck.gt.values())


def test_options():
    x = pyramid(1)
    neck = FPT(IN, 16, num_outs=4, st_levels=[1, 2, 3], gt_levels=[1],
               rt_levels=(), st_cfg=dict(kv_stride=2, n_mix=4),
               gt_cfg=dict(similarity='dot', window=None),
               norm_cfg=dict(type='GN', num_groups=4))
    assert sorted(neck.st) == ['1', '2', '3'] and not neck.rt
    assert sorted(neck.gt) == ['1_2', '1_3']
    assert [c.conv.in_channels for c in neck.fpt_convs] == \
        [16, 16 * 4, 16 * 2, 16 * 2]
    assert neck.st['1'].n_mix == 4 and neck.st['1'].kv_stride == 2
    assert neck.fpt_convs[0].norm.__class__.__name__ == 'GroupNorm'
    outs = neck.eval()(x)
    assert [o.shape[2:] for o in outs] == [m.shape[2:] for m in x]
    # start_level / end_level / extra convs as mmdet's FPN
    neck = FPT(IN, 16, num_outs=5, start_level=1, add_extra_convs='on_input',
               st_cfg=dict(kv_stride=[4, 2, 1]))
    outs = neck.eval()(x)
    assert len(outs) == 5 and outs[0].shape[2:] == x[1].shape[2:]
    assert outs[3].shape[2:] == (4, 6) and outs[4].shape[2:] == (2, 3)
    assert neck.extra_convs[0].conv.in_channels == IN[-1]
    assert FPT(IN, 16, 3, end_level=2).eval()(x)[-1].shape[2:] == \
        x[2].shape[2:]


def test_with_cp_gives_the_same_gradients():
    torch.manual_seed(0)
    x = pyramid(2, size=(31, 39))
    neck = FPT(IN, 8, num_outs=4, st_cfg=dict(attn_drop=0.0)).train()
    neck.init_weights()
    for gt in neck.gt.values():
        torch.nn.init.ones_(gt.out_norm.weight)
    grads = []
    for with_cp in (False, True):
        neck.with_cp = with_cp
        neck.zero_grad()
        inputs = [m.clone().requires_grad_() for m in x]
        sum(o.square().mean() for o in neck(inputs)).backward()
        grads.append([m.grad for m in inputs] +
                     [p.grad.clone() for p in neck.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)


def test_errors_registry_and_docstring():
    with pytest.raises(ValueError, match=r'gt_levels \[4\] out of range'):
        FPT(IN, 16, 4, gt_levels=[4])
    with pytest.raises(ValueError, match='3 entries for 4 levels'):
        FPT(IN, 16, 4, st_cfg=dict(kv_stride=[2, 2, 2]))
    from mmdet.registry import MODELS as DET_MODELS
    from mmseg.registry import MODELS as SEG_MODELS
    from mmengine.registry import init_default_scope
    for scope, registry in (('mmdet', DET_MODELS), ('mmseg', SEG_MODELS)):
        init_default_scope(scope)
        assert isinstance(registry.build(dict(
            type='mmplug.FPT', in_channels=IN, out_channels=8, num_outs=5)),
            FPT)
    failures, tries = run_docstring_examples(FPT)
    assert failures == 0 and tries > 0

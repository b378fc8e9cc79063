"""SAM and MSA against their definitions, written out slowly."""
import torch
import torch.nn.functional as F

from mmplug.models.layers.smt_mixers import (GlobalAttention,
                                             ScaleAwareModulation)


def _interleave(heads):
    """Channel k of head i -> channel k * h + i, written out."""
    n, c, hh, ww = heads[0].shape
    out = torch.empty(n, c * len(heads), hh, ww)
    for i, head in enumerate(heads):
        for k in range(c):
            out[:, k * len(heads) + i] = head[:, k]
    return out


def test_mixed_conv_runs_head_kernels():
    torch.manual_seed(0)
    sam = ScaleAwareModulation(dim=8, num_heads=4)  # 2 channels per head
    assert [getattr(sam, f'local_conv_{i}').kernel_size
            for i in range(1, 5)] == [(3, 3), (5, 5), (7, 7), (9, 9)]
    s = torch.randn(1, 8, 6, 5)
    heads = sam.mixed_conv(s)
    for i in range(4):  # head i = input channels 2i, 2i+1
        conv = getattr(sam, f'local_conv_{i + 1}')
        torch.testing.assert_close(heads[i], conv(s[:, 2 * i:2 * i + 2]))


def test_saa_groups_see_one_channel_of_every_head():
    sam = ScaleAwareModulation(dim=8, num_heads=4)
    assert sam.proj0.groups == 2 and sam.proj0.weight.shape == (16, 4, 1, 1)
    # group k's inputs are channels [4k, 4k+4) = channel k of heads 0..3


def test_sam_forward_is_modulation_of_v():
    torch.manual_seed(0)
    sam = ScaleAwareModulation(dim=8, num_heads=4).eval()
    x = torch.randn(2, 6 * 5, 8)
    s = sam.s(x).transpose(1, 2).reshape(2, 8, 6, 5)
    m = sam.proj1(F.gelu(sam.bn(sam.proj0(_interleave(sam.mixed_conv(s))))))
    expected = sam.proj(m.flatten(2).transpose(1, 2) * sam.v(x))
    torch.testing.assert_close(sam(x, (6, 5)), expected)


def test_compiler_form_of_saa_is_the_same_function():
    """What runs under torch.compile (token layout, proj0 as a product and
    sum) equals the eager form, with BatchNorm in eval and in training."""
    torch.manual_seed(0)
    sam = ScaleAwareModulation(dim=16, num_heads=4)
    sam.bn.running_mean.normal_()
    sam.bn.running_var.uniform_(0.5, 2)
    heads = sam.mixed_conv(torch.randn(2, 16, 7, 9))
    for train in (False, True):
        sam.train(train)
        eager = sam.aggregate(heads)
        torch.testing.assert_close(sam._aggregate_tokens(heads), eager,
                                   rtol=1e-5, atol=1e-5)


def test_global_attention_matches_explicit_softmax():
    torch.manual_seed(0)
    msa = GlobalAttention(dim=8, num_heads=2).eval()
    h, w, d = 3, 4, 4
    x = torch.randn(2, h * w, 8)
    q = msa.q(x).reshape(2, h * w, 2, d).transpose(1, 2)
    k, v = msa.kv(x).reshape(2, h * w, 2, 2, d).permute(2, 0, 3, 1, 4)
    attn = torch.softmax(q @ k.transpose(-2, -1) * d**-0.5, dim=-1)
    out = (attn @ v).transpose(1, 2).reshape(2, h * w, 8)
    v_map = v.transpose(1, 2).reshape(2, h * w, 8).transpose(1, 2).reshape(
        2, 8, h, w)  # channel = head * d + j
    out = out + msa.local_conv(v_map).flatten(2).transpose(1, 2)
    torch.testing.assert_close(msa(x, (h, w)), msa.proj(out))

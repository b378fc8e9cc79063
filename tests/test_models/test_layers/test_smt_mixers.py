"""SAM and MSA against their definitions, written out slowly."""
import torch
import torch.nn.functional as F

from mmplug.models.layers.smt_mixers import (GlobalAttention,
                                             ScaleAwareModulation)


def test_mixed_conv_runs_head_kernels_and_interleaves():
    torch.manual_seed(0)
    sam = ScaleAwareModulation(dim=8, num_heads=4)  # 2 channels per head
    assert [getattr(sam, f'local_conv_{i}').kernel_size
            for i in range(1, 5)] == [(3, 3), (5, 5), (7, 7), (9, 9)]
    s = torch.randn(1, 8, 6, 5)
    out = sam.mixed_conv(s)
    for i in range(4):  # head i = input channels 2i, 2i+1
        conv = getattr(sam, f'local_conv_{i + 1}')
        head = conv(s[:, 2 * i:2 * i + 2])
        for k in range(2):  # within-head channel k -> output k*4 + i
            torch.testing.assert_close(out[:, k * 4 + i], head[:, k])


def test_saa_groups_see_one_channel_of_every_head():
    sam = ScaleAwareModulation(dim=8, num_heads=4)
    assert sam.proj0.groups == 2 and sam.proj0.weight.shape == (16, 4, 1, 1)
    # group k's inputs are channels [4k, 4k+4) = channel k of heads 0..3


def test_sam_forward_is_modulation_of_v():
    torch.manual_seed(0)
    sam = ScaleAwareModulation(dim=8, num_heads=4).eval()
    x = torch.randn(2, 6 * 5, 8)
    s = sam.s(x).transpose(1, 2).reshape(2, 8, 6, 5)
    m = sam.proj1(F.gelu(sam.bn(sam.proj0(sam.mixed_conv(s)))))
    expected = sam.proj(m.flatten(2).transpose(1, 2) * sam.v(x))
    torch.testing.assert_close(sam(x, (6, 5)), expected)


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

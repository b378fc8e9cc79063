#!/usr/bin/env python
"""Snapshot every registered backbone, neck and layer, to show that a
refactor changed no name, count, FLOP or number.

``save FILE`` builds each case of :data:`CASES` (every mmplug backbone and
neck in several variants, plus the layers they are made of) and records:

- the state-dict keys, shapes and dtypes (in order) and the parameter count;
- a checksum of every tensor right after construction (``torch.manual_seed(0)``
  first) and after ``init_weights()``: the default initialisation;
- with every tensor then set from its own name (a seed made of the key, so
  the values do not depend on the order in which modules are built): the
  eval-mode outputs on fixed inputs (small odd sizes), the classifier logits
  where the model has a head, and a train-mode forward + backward (seeded,
  so dropout and drop-path draw the same) with a checksum of every gradient;
- FLOPs (:func:`mmplug.apis.analysis.flop_analyzer`) for some cases.

``compare FILE`` does the same on the current code and prints, per case,
the max abs difference of every output, logit and gradient (0 expected),
and any difference in keys, shapes, counts, FLOPs or initialisation.
Exit status 1 when an output, key, shape, count or FLOP figure differs.

    python benchmarks/model_snapshot.py save /tmp/ref.pt
    python benchmarks/model_snapshot.py compare /tmp/ref.pt [--only SMT]
"""
import argparse
import os.path as osp
import sys
import zlib
from typing import Any, Dict, List

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from torch import Tensor, nn  # noqa: E402

import mmplug.models  # noqa: E402,F401
from mmplug.registry import MODELS  # noqa: E402

HW = (45, 61)  # odd sizes
NECK_IN = [16, 32, 64, 128]
TINY_SMT = dict(embed_dims=[16, 32, 64, 128], depths=[1, 2, 4, 1],
                mlp_ratios=[2, 2, 2, 2], stem_kernel=3,
                msa_heads=[-1, -1, 2, 4])
TINY_CNX = dict(embed_dims=[8, 16, 32, 64], depths=[1, 1, 3, 2])


def _case(name: str, type_: str, kind: str = 'backbone', flops=False,
          size=HW, **kwargs) -> dict:
    return dict(name=name, type=type_, kind=kind, flops=flops, size=size,
                kwargs=kwargs)


def _backbones() -> List[dict]:
    cases = []
    for arch in ('t', 's', 'b', 'l'):
        cases.append(_case(f'SMT-{arch}', 'SMT', arch=arch,
                           flops=arch == 't'))
    cases += [
        _case('SMT-tiny-head', 'SMT', arch=TINY_SMT, num_classes=10),
        _case('SMT-tiny-out13', 'SMT', arch=TINY_SMT, out_indices=(1, 3),
              drop_path_rate=0.3, norm_cfg=dict(type='BN', eps=1e-3)),
        _case('SMT-l-head', 'SMT', arch='l', num_classes=7),
    ]
    for arch in ('xt', 't', 's', 'b'):
        cases.append(_case(f'ParCConvNeXt-{arch}', 'ParCConvNeXt', arch=arch,
                           flops=arch == 'xt'))
    for impl in ('spatial', 'fft'):
        cases.append(_case(f'ParCConvNeXt-tiny-{impl}', 'ParCConvNeXt',
                           arch=TINY_CNX, impl=impl, num_classes=10,
                           size=(97, 131)))
    cases += [
        _case('ParCConvNeXt-tiny-plain-out13', 'ParCConvNeXt', arch=TINY_CNX,
              parc_stages=(), out_indices=(1, 3), layer_scale_init_value=0.),
        _case('ParCConvNeXt-tiny-parc1', 'ParCConvNeXt', arch=TINY_CNX,
              parc_stages=(1, 3), pretrain_img_size=160,
              drop_path_rate=0.2),
        _case('ParCConvNeXt-xt-head', 'ParCConvNeXt', arch='xt',
              num_classes=5),
    ]
    for impl in ('spatial', 'fft', 'auto'):
        cases.append(_case(f'ParCResNet-50-{impl}', 'ParCResNet', impl=impl,
                           size=(97, 131) if impl == 'fft' else HW,
                           flops=impl == 'spatial'))
    cases += [
        _case('ParCResNet-50-head', 'ParCResNet', num_classes=10),
        _case('ParCResNet-tiny', 'ParCResNet',
              arch=dict(depths=[1, 1, 2, 2], parc_blocks=[0, 0, 1, 1]),
              out_indices=(0, 2), zero_init_residual=False),
        _case('ParCResNet-int-arch', 'ParCResNet', arch=50,
              pretrain_img_size=192),
        _case('SCSCResNet-50', 'SCSCResNet', depth=50, flops=True),
        _case('SCSCResNet-101-head', 'SCSCResNet', depth=101, num_classes=10),
        _case('SCSCResNet-tiny', 'SCSCResNet', depths=[1, 1, 2, 1],
              out_indices=(0, 2, 3), drop_path_rate=0.2,
              zero_init_residual=True),
        _case('SCSCSwin-t', 'SCSCSwin', flops=True),
        _case('SCSCSwin-head', 'SCSCSwin', num_classes=10),
        _case('SCSCSwin-custom', 'SCSCSwin', embed_dims=32,
              depths=(1, 1, 2, 1),
              kernel_sizes=((3, 5, 7, 9), (3, 5), (3, 5), (3, 5)),
              mlp_ratio=2., out_indices=(1, 3), drop_path_rate=0.3),
    ]
    for att in ('se', 'gc'):
        cases += [
            _case(f'DCAResNet-50-{att}', 'DCAResNet', attention=att,
                  flops=True),
            _case(f'DCAResNet-101-{att}-head', 'DCAResNet', depth=101,
                  attention=att, num_classes=10),
            _case(f'DCAResNet-tiny-{att}', 'DCAResNet', attention=att,
                  depths=[1, 2, 1, 1], out_indices=(1, 3)),
        ]
    cases += [
        _case('PyConvResNet-50', 'PyConvResNet', flops=True),
        _case('PyConvResNet-101-head', 'PyConvResNet', depth=101,
              num_classes=10),
        _case('PyConvResNet-152', 'PyConvResNet', depth=152),
        _case('PyConvResNet-tiny', 'PyConvResNet', depths=[2, 1, 1, 1],
              out_indices=(1, 3)),
        _case('GroupEnsembleResNet-50', 'GroupEnsembleResNet', flops=True),
        _case('GroupEnsembleResNet-50-head', 'GroupEnsembleResNet',
              num_classes=10),
        _case('GroupEnsembleResNet-101-g2', 'GroupEnsembleResNet', depth=101,
              num_groups=2, shared_stages=1, widen_factor=1.0),
        _case('GroupEnsembleResNet-tiny-s0', 'GroupEnsembleResNet',
              depths=[1, 1, 1, 1], shared_stages=0, num_classes=4),
        _case('GroupEnsembleResNet-tiny-s3', 'GroupEnsembleResNet',
              depths=[1, 1, 2, 1], shared_stages=3, num_groups=3),
        _case('MobileNeXt', 'MobileNeXt', flops=True),
        _case('MobileNeXt-head', 'MobileNeXt', num_classes=10),
        _case('MobileNeXt-0.5-id', 'MobileNeXt', widen_factor=0.5,
              identity_ratio=0.5, out_indices=(0, 3, 7)),
    ]
    return cases


def _necks() -> List[dict]:
    cases = [_case('FPT', 'FPT', 'neck', flops=True, in_channels=NECK_IN,
                   out_channels=16, num_outs=5)]
    fpt_options = {
        'levels': dict(st_levels=[1, 2, 3], gt_levels=[1], rt_levels=(),
                       st_cfg=dict(kv_stride=2, n_mix=4),
                       gt_cfg=dict(similarity='dot', window=None),
                       norm_cfg=dict(type='GN', num_groups=4), num_outs=4),
        'start1-on_input': dict(start_level=1, add_extra_convs='on_input',
                                st_cfg=dict(kv_stride=[4, 2, 1]),
                                num_outs=5),
        'end2': dict(end_level=2, num_outs=3),
        'rt-conv-euclid-global': dict(rt_cfg=dict(downsample='conv'),
                                      gt_cfg=dict(window=None), num_outs=6,
                                      add_extra_convs='on_output',
                                      relu_before_extra_convs=True),
        'gt-dot-w3-on_lateral': dict(gt_cfg=dict(similarity='dot', window=3),
                                     add_extra_convs='on_lateral',
                                     num_outs=5, act_cfg=dict(type='ReLU'),
                                     trans_norm_cfg=dict(type='GN',
                                                         num_groups=2)),
    }
    for name, opts in fpt_options.items():
        cases.append(_case(f'FPT-{name}', 'FPT', 'neck', in_channels=NECK_IN,
                           out_channels=16, **opts))
    for att in ('se', 'cbam', 'gc'):
        for direction in ('top_down', 'bottom_up'):
            cases.append(_case(
                f'DCAFPN-{att}-{direction}', 'DCAFPN', 'neck',
                flops=att == 'se' and direction == 'top_down',
                in_channels=NECK_IN, out_channels=16, num_outs=5,
                attention=att, direction=direction))
    for att in ('se', 'gc'):
        cases.append(_case(f'DCAFPN-{att}-independent', 'DCAFPN', 'neck',
                           in_channels=NECK_IN, out_channels=16, num_outs=5,
                           attention=att, connect=False))
    dca_options = {
        'on_input': dict(add_extra_convs='on_input', num_outs=6),
        'on_lateral-start1': dict(add_extra_convs='on_lateral',
                                  start_level=1, num_outs=5,
                                  attention='cbam'),
        'on_output-relu-gn': dict(add_extra_convs='on_output', num_outs=5,
                                  relu_before_extra_convs=True,
                                  norm_cfg=dict(type='GN', num_groups=4),
                                  attention='gc'),
        'end2-scale': dict(end_level=2, num_outs=3, attention='se',
                           upsample_cfg=dict(scale_factor=2.,
                                             mode='nearest'),
                           no_norm_on_lateral=True,
                           norm_cfg=dict(type='BN')),
    }
    for name, opts in dca_options.items():
        cases.append(_case(f'DCAFPN-{name}', 'DCAFPN', 'neck',
                           in_channels=NECK_IN, out_channels=16,
                           size=(64, 96) if 'scale' in name else HW,
                           **opts))
    return cases


def _layers() -> List[dict]:
    cases = []
    for att in ('DCASE', 'DCAGC', 'DCACBAM'):
        cases.append(_case(att, att, 'dca_chain', channels=32))
    cases += [
        _case('SCSC-resnet-form', 'SCSC', 'layer', in_channels=48,
              out_channels=64, kernel_sizes=(3, 5, 7), stride=2,
              nested_branches=True),
        _case('SCSC-swin-form', 'SCSC', 'layer', in_channels=64,
              kernel_sizes=(3, 9), recover_act=False),
        _case('ParC-H-fft', 'ParC', 'layer', channels=16, kernel_size=7,
              direction='H', impl='fft'),
        _case('ParC-W-spatial-dense', 'ParC', 'layer', channels=16,
              kernel_size=9, direction='W', impl='spatial', dense=True),
        _case('ParCMixer', 'ParCMixer', 'layer', dim=16, kernel_size=7),
        _case('LN2d', 'LN2d', 'layer', normalized_shape=16),
        _case('PSConv2d', 'PSConv2d', 'layer', in_channels=16,
              out_channels=32, kernel_size=3, stride=2, padding=1),
        _case('PyConv2d', 'PyConv2d', 'layer', in_channels=16,
              out_channels=32, kernel_sizes=(3, 5, 7), groups=(1, 4, 8),
              out_splits=(8, 8, 16), stride=2),
        _case('ULSAM', 'ULSAM', 'layer', in_channels=16),
        _case('WeightNetConv2d', 'WeightNetConv2d', 'layer', in_channels=16,
              out_channels=32, kernel_size=3, padding=1),
        _case('DGConv2d', 'DGConv2d', 'layer', in_channels=16,
              out_channels=32, kernel_size=3, padding=1),
        _case('DOConv', 'DOConv', 'layer', in_channels=16, out_channels=32,
              kernel_size=3, padding=1),
    ]
    return cases


CASES = _backbones() + _necks() + _layers()


class DCAChain(nn.Module):
    """Three DCA blocks (the first unconnected) passing their messages, on
    maps of three sizes (as a DCA-FPN)."""

    def __init__(self, cls, channels):
        super().__init__()
        self.blocks = nn.ModuleList(
            cls(channels, connected=i > 0) for i in range(3))

    def forward(self, *maps):
        outs, message = [], None
        for block, x in zip(self.blocks, maps):
            out, message = block(x, message)
            outs.append(out)
        return tuple(outs) + tuple(message)


def build(case: dict) -> nn.Module:
    if case['kind'] == 'dca_chain':
        return DCAChain(MODELS.get(case['type']), **case['kwargs'])
    return MODELS.build(dict(type=case['type'], **case['kwargs']))


def inputs_of(case: dict, model: nn.Module) -> List[Tensor]:
    """Fixed inputs (N = 2) of a case."""
    gen = torch.Generator().manual_seed(zlib.crc32(case['name'].encode()))
    h, w = case['size']
    kw = case['kwargs']
    if case['kind'] == 'backbone':
        shapes = [(2, 3, h, w)]
    elif case['kind'] == 'neck':
        # by default odd sizes as an 800-pixel image's P2-P5 (50x84,
        # 25x42, 13x21, 7x11); a case's own size (h, w) halves exactly
        if case['size'] == HW:
            h, w = 49, 83
            shapes = [(2, c, h // 2**i + 1, w // 2**i + 1)
                      for i, c in enumerate(kw['in_channels'])]
        else:
            shapes = [(2, c, h // 2**i, w // 2**i)
                      for i, c in enumerate(kw['in_channels'])]
    elif case['kind'] == 'dca_chain':
        shapes = [(2, kw['channels'], 13 // 2**i + 1, 17 // 2**i + 1)
                  for i in range(3)]
    else:
        c = kw.get('in_channels', kw.get('channels', kw.get(
            'dim', kw.get('normalized_shape'))))
        shapes = [(2, c, 13, 17)]
    return [torch.randn(*s, generator=gen) for s in shapes]


def fill_by_name(model: nn.Module) -> None:
    """Every floating tensor of the state dict from a generator seeded by
    its key, scaled to keep activations in range."""
    with torch.no_grad():
        for key, value in model.state_dict().items():
            if not value.is_floating_point() or value.numel() == 0:
                continue
            gen = torch.Generator().manual_seed(zlib.crc32(key.encode()))
            rand = torch.rand(value.shape, generator=gen, dtype=torch.float64)
            if key.endswith('running_var'):
                new = 0.5 + rand
            elif key.endswith('running_mean'):
                new = 0.4 * rand - 0.2
            elif value.dim() >= 2:
                fan_in = value[0].numel()
                new = (2 * rand - 1) * (3 / fan_in)**0.5
            elif key.endswith(('weight', 'gamma', 'gamma_1', 'gamma_2')):
                new = 0.8 + 0.4 * rand
            else:
                new = 0.2 * rand - 0.1
            value.copy_(new.to(value.dtype))


def checksums(tensors: Dict[str, Tensor]) -> Dict[str, tuple]:
    return {k: (v.double().sum().item(), v.double().abs().sum().item())
            for k, v in tensors.items() if v is not None and
            v.is_floating_point()}


def as_tuple(out: Any) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out, )


def logits_of(model: nn.Module, x: Tensor):
    """Classifier logits (``forward_classifier``; for a model without it
    that has ``forward_head``, the official path ``forward_head`` on the
    last output)."""
    if getattr(model, 'num_classes', 0) <= 0:
        return None
    try:
        return model.forward_classifier(x), 'forward_classifier'
    except NotImplementedError:
        return model.forward_head(model(x)[-1]), 'forward_head'


def snapshot(case: dict, with_flops: bool = True) -> dict:
    torch.manual_seed(0)
    model = build(case)
    raw = checksums(model.state_dict())
    torch.manual_seed(0)
    model = build(case)
    if hasattr(model, 'init_weights'):
        model.init_weights()
    init = checksums(model.state_dict())
    state = model.state_dict()
    rec = dict(
        keys=[(k, tuple(v.shape), str(v.dtype)) for k, v in state.items()],
        params=sum(p.numel() for p in model.parameters()),
        raw=raw, init=init,
        out_channels=list(getattr(model, 'out_channels', []) or [])
        if case['kind'] == 'backbone' else None,
    )
    fill_by_name(model)
    xs = inputs_of(case, model)
    model.eval()
    with torch.no_grad():
        rec['eval'] = [o.clone() for o in as_tuple(
            model(xs) if case['kind'] == 'neck' else model(*xs))]
        logits = logits_of(model, xs[0]) if case['kind'] == 'backbone' \
            else None
        if logits is not None:
            rec['logits'], rec['logits_path'] = logits
    model.train()
    torch.manual_seed(1)
    xs_g = [x.clone().requires_grad_() for x in xs]
    outs = as_tuple(model(xs_g) if case['kind'] == 'neck' else model(*xs_g))
    rec['train'] = [o.detach().clone() for o in outs]
    sum(o.float().pow(2).mean() for o in outs).backward()
    rec['grads'] = checksums({n: p.grad for n, p in model.named_parameters()})
    rec['input_grads'] = [x.grad.clone() if x.grad is not None else None
                          for x in xs_g]
    if with_flops and case['flops']:
        from mmplug.apis.analysis import flop_analyzer
        model.eval()
        arg = (xs, ) if case['kind'] == 'neck' else tuple(xs)
        rec['flops'] = flop_analyzer(model, arg).total()
    return rec


def _max_diff(a: List, b: List) -> float:
    if len(a) != len(b):
        return float('inf')
    worst = 0.
    for x, y in zip(a, b):
        if x is None or y is None:
            if (x is None) != (y is None):
                return float('inf')
            continue
        if x.shape != y.shape:
            return float('inf')
        d = (x.double() - y.double()).abs()
        d = torch.where(torch.isnan(x) & torch.isnan(y), 0., d)
        worst = max(worst, d.max().item() if d.numel() else 0.)
    return worst


def _checksum_diff(a: Dict, b: Dict) -> float:
    if set(a) != set(b):
        return float('inf')
    return max([max(abs(a[k][0] - b[k][0]), abs(a[k][1] - b[k][1]))
                for k in a] or [0.])


def compare(ref: dict, case: dict, new: dict) -> List[str]:
    """Lines describing the differences; the first word of a line is
    ``FAIL`` for what must not change, ``note`` otherwise."""
    lines = []
    if ref['keys'] != new['keys']:
        if sorted(ref['keys']) == sorted(new['keys']):
            lines.append('note: same keys and shapes, other order')
        else:
            gone = sorted(set(ref['keys']) - set(new['keys']))
            added = sorted(set(new['keys']) - set(ref['keys']))
            lines.append(f'FAIL keys: removed {gone[:5]} added {added[:5]}')
    if ref['params'] != new['params']:
        lines.append(f"FAIL params {ref['params']} -> {new['params']}")
    if ref['out_channels'] and ref['out_channels'] != new['out_channels']:
        lines.append(f"FAIL out_channels {ref['out_channels']} -> "
                     f"{new['out_channels']}")
    for what in ('eval', 'train', 'input_grads'):
        d = _max_diff(ref[what], new[what])
        lines.append(f'{"FAIL" if d else "ok"} {what} max abs diff {d:.3g}')
    if 'logits' in ref:
        d = _max_diff([ref['logits']], [new.get('logits')])
        lines.append(f"{'FAIL' if d else 'ok'} logits ({ref['logits_path']}"
                     f" -> {new.get('logits_path')}) max abs diff {d:.3g}")
    d = _checksum_diff(ref['grads'], new['grads'])
    lines.append(f'{"FAIL" if d else "ok"} grads checksum diff {d:.3g}')
    for what in ('raw', 'init'):
        d = _checksum_diff(ref[what], new[what])
        if d:
            lines.append(f'note: {what} init checksum diff {d:.3g}')
    if 'flops' in ref and ref['flops'] != new.get('flops'):
        lines.append(f"FAIL flops {ref['flops']} -> {new.get('flops')}")
    elif 'flops' in ref:
        lines.append(f"ok flops {ref['flops']}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('action', choices=['save', 'compare', 'list'])
    parser.add_argument('file', nargs='?')
    parser.add_argument('--only', nargs='*', default=None,
                        help='case names or prefixes')
    args = parser.parse_args(argv)
    from mmengine.logging import MMLogger
    MMLogger.get_instance('model_snapshot', log_level='WARNING')
    torch.set_num_threads(1)  # the same reductions on every machine
    cases = [c for c in CASES if args.only is None or
             any(c['name'].startswith(p) for p in args.only)]
    if args.action == 'list':
        for c in cases:
            print(c['name'], c['type'], c['kwargs'])
        return 0
    if args.action == 'save':
        ref = {}
        for case in cases:
            ref[case['name']] = snapshot(case)
            print(f"saved {case['name']}: {ref[case['name']]['params']} "
                  'parameters', flush=True)
        torch.save(ref, args.file)
        return 0
    ref = torch.load(args.file, weights_only=False)
    failed = []
    for case in cases:
        if case['name'] not in ref:
            print(f"{case['name']}: not in the reference")
            continue
        lines = compare(ref[case['name']], case, snapshot(case))
        bad = [line for line in lines if line.startswith('FAIL')]
        notes = [line for line in lines if line.startswith('note')]
        worst = max((float(line.split()[-1]) for line in lines
                     if line.startswith('ok') and 'diff' in line),
                    default=0.)
        print(f"{case['name']}: {'FAILED' if bad else 'equal'} (largest "
              f'difference of outputs, logits and gradients: {worst:.3g})'
              + ''.join(f'\n    {line}' for line in bad + notes),
              flush=True)
        if bad:
            failed.append(case['name'])
    print(f'{len(cases) - len(failed)}/{len(cases)} cases equal' +
          (f"; differ: {', '.join(failed)}" if failed else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python
"""Compare mmplug's ParC backbones with outputs saved from another
implementation (e.g. the official code, run outside this repository).

The reference file is a ``torch.save``d dict: ``state_dict`` (any layout
:func:`convert_parc_convnext` / :func:`convert_parc_resnet` accept),
``input`` (N, 3, H, W) and ``output``: logits (N, classes) of a
classification model, or a list of feature maps. Prints the largest
absolute and relative difference per output for each ParC form. Example::

    python benchmarks/parc_vs_reference.py ref/public_convnext_xt.pt \
        --model convnext --arch xt --classifier
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from mmplug.models import ParCConvNeXt, ParCResNet  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('reference')
    parser.add_argument('--model', choices=['convnext', 'resnet'],
                        required=True)
    parser.add_argument('--arch', default=None, help="e.g. 'xt' or '50'")
    parser.add_argument('--classifier', action='store_true',
                        help='the output is logits (model with a head)')
    parser.add_argument('--threads', type=int,
                        help='torch threads (1: the summation order of a '
                        'single-threaded reference run)')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    # a file written by the user's own harness: trusted, plain tensors
    ref = torch.load(args.reference, map_location='cpu', weights_only=True)
    outputs = ref['output']
    outputs = [outputs] if torch.is_tensor(outputs) else list(outputs)
    cls = ParCConvNeXt if args.model == 'convnext' else ParCResNet
    kwargs = dict(arch=args.arch or ('xt' if cls is ParCConvNeXt else '50'))
    if args.classifier:
        kwargs['num_classes'] = outputs[0].shape[1]
    for impl in ('spatial', 'fft', 'auto'):
        model = cls(impl=impl, **kwargs).eval()
        result = model.load_state_dict(
            model.convert_state_dict(ref['state_dict']), strict=False)
        with torch.no_grad():
            ours = [model.forward_classifier(ref['input'])] \
                if args.classifier else list(model(ref['input']))
        diffs = [((a - b).abs().max().item(),
                  ((a - b).abs().max() / b.abs().max()).item())
                 for a, b in zip(ours, outputs)]
        print(f'{impl:>8}: ' + ', '.join(f'max abs {d:.2e} (rel {r:.1e})'
                                         for d, r in diffs))
    print(f'keys not loaded: missing {result.missing_keys}, unexpected '
          f'{result.unexpected_keys}')


if __name__ == '__main__':
    main()

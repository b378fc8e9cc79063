"""What the checkpoint converters in ``tools/model_converters/`` share:
splitting a checkpoint into backbone and other keys, converting them with
the model's own converter, writing the result and printing the key
report."""
from typing import Callable, Dict, Sequence, Tuple

from torch import nn

from mmengine.runner.checkpoint import save_checkpoint

from mmplug.checkpoint import (ATOMIC_BACKEND, register_atomic_backend,
                               safe_torch_load,
                               split_prefix, unwrap_checkpoint)


def read_backbone_state(src: str) -> Tuple[str, Dict, Dict]:
    """Load a checkpoint (``state_dict``, ``model`` or a bare dict).

    Returns:
        tuple: ``(prefix, backbone, others)``: ``'backbone.'`` for a
        detector/segmentor checkpoint, else ``''``; the backbone keys
        without it; the other keys (neck, heads) as they are.
    """
    _, state = unwrap_checkpoint(safe_torch_load(src, map_location='cpu'))
    prefix = 'backbone.' if any(k.startswith('backbone.') for k in state) \
        else ''
    backbone, others = split_prefix(state, prefix)
    return prefix, backbone, others


def convert_backbone_checkpoint(
        src: str, dst: str, convert: Callable[[Dict], Dict],
        build: Callable[[Dict], Tuple[nn.Module, dict]],
        ignore: Tuple[str, ...] = ()) -> dict:
    """Convert the backbone keys of ``src`` to ``dst`` and compare them with
    the model they describe.

    Args:
        src, dst (str): checkpoint paths.
        convert (callable): the model's key converter (e.g.
            :func:`mmplug.models.backbones.smt.convert_smt`).
        build (callable): ``build(converted_keys) -> (model, arch)``: the
            model whose keys the checkpoint should have.
        ignore (tuple[str]): key prefixes not to report as unmapped.

    Returns:
        dict: ``model``, ``arch``, ``kind``, ``converted``,
        ``passed_through``, ``unmapped`` and ``missing`` (key lists).
    """
    prefix, raw, others = read_backbone_state(src)
    backbone = convert(raw)
    model, arch = build(backbone)
    expected = model.state_dict()
    unmapped = sorted(k for k in backbone
                      if k not in expected and not k.startswith(ignore))
    missing = sorted(k for k in expected if k not in backbone)
    write_converted(dst, prefix, backbone, others)
    return dict(model=type(model).__name__, arch=arch,
                kind='detector/segmentor' if prefix else 'classification',
                converted=len(backbone), passed_through=len(others),
                unmapped=unmapped, missing=missing)


def write_converted(dst: str, prefix: str, backbone: Dict,
                    others: Dict) -> None:
    """Save ``{'state_dict': ...}``: the converted backbone keys under
    ``prefix``, the other keys unchanged."""
    out = {prefix + k: v for k, v in backbone.items()}
    out.update(others)
    save_atomically({'state_dict': out}, dst)


def save_atomically(obj: dict, dst: str) -> None:
    """``torch.save`` through mmplug's atomic backend: ``dst`` is replaced
    only once the new file is complete."""
    register_atomic_backend()
    save_checkpoint(obj, dst, backend_args=dict(backend=ATOMIC_BACKEND))


def print_report(src: str, dst: str, report: dict,
                 details: Sequence[str] = (),
                 notes: Sequence[str] = ()) -> int:
    """Print a converter's report; return the exit status: 1 when some
    backbone keys are unmapped or missing, else 0.

    Args:
        report (dict): ``kind``, ``converted``, ``passed_through``,
            ``unmapped`` and ``missing`` (key lists).
        details (Sequence[str]): lines printed after the first.
        notes (Sequence[str]): lines printed before the key lists.
    """
    print(f"{src} ({report['kind']}) -> {dst}")
    for line in details:
        print(line)
    print(f"backbone keys converted: {report['converted']}; other keys "
          f"(neck, heads) passed through: {report['passed_through']}")
    for line in notes:
        print(line)
    for name in ('unmapped', 'missing'):
        keys = report[name]
        print(f'{name} backbone keys ({len(keys)})' +
              (': ' + ', '.join(keys) if keys else ''))
    return 1 if report['unmapped'] or report['missing'] else 0


def fold_do_conv_checkpoint(src: str, dst: str) -> int:
    """Write ``src`` with every DO-Conv folded into its plain conv weight
    (:func:`mmplug.models.layers.do_conv.fold_do_conv_state_dict`) to
    ``dst``; returns how many were folded."""
    from mmplug.models.layers.do_conv import (do_conv_keys,
                                              fold_do_conv_state_dict)
    ckpt = safe_torch_load(src, map_location='cpu')
    key, state = unwrap_checkpoint(ckpt)
    folded = fold_do_conv_state_dict(state)
    if key:
        ckpt = dict(ckpt, **{key: folded})
    else:
        ckpt = folded
    save_atomically(ckpt, dst)
    return len(do_conv_keys(state))

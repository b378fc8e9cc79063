"""What the checkpoint converters in ``tools/model_converters/`` share:
splitting a checkpoint into backbone and other keys, writing the result and
printing the key report."""
from typing import Dict, Sequence, Tuple

from mmengine.runner.checkpoint import save_checkpoint

from mmplug.checkpoint import install_atomic_saving, safe_torch_load


def read_backbone_state(src: str) -> Tuple[str, Dict, Dict]:
    """Load a checkpoint (``state_dict``, ``model`` or a bare dict).

    Returns:
        tuple: ``(prefix, backbone, others)``: ``'backbone.'`` for a
        detector/segmentor checkpoint, else ``''``; the backbone keys
        without it; the other keys (neck, heads) as they are.
    """
    ckpt = safe_torch_load(src, map_location='cpu')
    state = ckpt.get('state_dict', ckpt.get('model', ckpt))
    prefix = 'backbone.' if any(k.startswith('backbone.') for k in state) \
        else ''
    backbone = {k[len(prefix):]: v for k, v in state.items()
                if k.startswith(prefix)}
    others = {k: v for k, v in state.items() if not k.startswith(prefix)}
    return prefix, backbone, others


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
    install_atomic_saving()
    save_checkpoint(obj, dst)


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
    key = next((k for k in ('state_dict', 'model') if k in ckpt), None)
    state = ckpt[key] if key else ckpt
    folded = fold_do_conv_state_dict(state)
    if key:
        ckpt = dict(ckpt, **{key: folded})
    else:
        ckpt = folded
    save_atomically(ckpt, dst)
    return len(do_conv_keys(state))

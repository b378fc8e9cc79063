"""One way to declare a backbone's variants: a class-level ``arch_zoo``
(name -> dict, aliases through ``dict.fromkeys``) read by :func:`parse_arch`.
"""
import copy
import re
from typing import Any, Dict, Iterable, Mapping, Optional, Union


def parse_arch(arch: Union[str, int, float, Mapping],
               arch_zoo: Mapping[str, Mapping],
               essential_keys: Iterable[str],
               model: str,
               defaults: Optional[Mapping] = None,
               stage_keys: Iterable[str] = (),
               num_stages: Optional[int] = None) -> Dict[str, Any]:
    """A new arch dict: ``defaults`` updated with ``arch``, a key of
    ``arch_zoo`` (case-insensitive; a number such as a ResNet depth is
    looked up as its string) or a dict with at least ``essential_keys``.
    ``stage_keys`` have one value per stage: ``num_stages`` values each
    (default: as many as the first of them).

    Raises:
        ValueError: naming ``model``: an unknown name (with the choices), a
            dict that lacks essential keys, or per-stage values of the
            wrong length.
    """
    essential = sorted(essential_keys)
    if isinstance(arch, (str, int, float)) and not isinstance(arch, bool):
        key = str(arch).lower()
        if key not in arch_zoo:
            raise ValueError(
                f'unknown {model} arch {arch!r}; choose one of '
                f'{sorted(arch_zoo)} or give a dict with {essential}')
        arch = arch_zoo[key]
    elif not isinstance(arch, Mapping):
        raise TypeError(f'{model} arch must be a name or a dict, got '
                        f'{type(arch).__name__}')
    missing = sorted(set(essential) - set(arch))
    if missing:
        raise ValueError(f'{model} arch dict lacks {missing} (needs '
                         f'{essential}; or choose one of {sorted(arch_zoo)})')
    result = copy.deepcopy(dict(defaults or {}))
    result.update(copy.deepcopy(dict(arch)))
    stage_keys = list(stage_keys)
    if stage_keys:
        if num_stages is None:
            num_stages = len(result[stage_keys[0]])
        for key in stage_keys:
            if len(result[key]) != num_stages:
                raise ValueError(f'{model} arch {key} needs {num_stages} '
                                 f'values (one per stage), got '
                                 f'{result[key]}')
    return result


def count_indices(state_dict: Mapping[str, Any], pattern: str) -> int:
    """How many distinct indices ``pattern``'s group 1 matches at the start
    of the keys (e.g. ``r'layer1\\.(\\d+)\\.'``: the blocks of layer1)."""
    return len({m.group(1) for k in state_dict
                for m in [re.match(pattern, k)] if m})

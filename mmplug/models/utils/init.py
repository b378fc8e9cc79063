"""``init_cfg`` as mmengine means it, for models with their own default
initialisation.

Every mmplug backbone and neck initialises itself in three steps, in this
order, when ``init_weights()`` runs (mmdet and mmseg call it on the whole
detector or segmentor):

1. **the model's default** (:meth:`DefaultInitMixin.init_from_scratch`, the
   official initialisation of the paper's code), unless ``init_cfg`` holds a
   ``Pretrained`` entry;
2. **every other ``init_cfg`` entry** (``Constant``, ``Kaiming``,
   ``TruncNormal``, ... with ``layer`` / ``override``), through mmengine's
   :func:`~mmengine.model.initialize`, on top of the default;
3. **every ``Pretrained`` entry**, last, as in mmengine: each tensor it
   loads is kept. It goes through :func:`mmplug.checkpoint.load_pretrained`,
   which converts official key layouts (:meth:`convert_state_dict`) and logs
   the keys that did not match.

``init_cfg`` may be ``None``, a dict or a list of dicts, as anywhere in
mmengine.
"""
import copy
import logging
from typing import Dict, List, Optional, Tuple, Union

from mmengine.logging import print_log
from mmengine.model import PretrainedInit, initialize

from mmplug.checkpoint import load_pretrained

InitCfg = Optional[Union[dict, List[dict]]]


def is_pretrained(cfg: dict) -> bool:
    """Whether an ``init_cfg`` entry loads a checkpoint (``Pretrained``)."""
    kind = cfg.get('type')
    return kind is PretrainedInit or isinstance(kind, str) and \
        kind.split('.')[-1] == 'Pretrained'


def split_init_cfg(init_cfg: InitCfg) -> Tuple[List[dict], List[dict]]:
    """The ``Pretrained`` entries of an ``init_cfg`` and the others.

    Args:
        init_cfg (dict | list[dict] | None): mmengine's initialisation
            config.

    Returns:
        tuple[list[dict], list[dict]]: (pretrained entries, other entries),
        each in the given order.

    Raises:
        TypeError: an entry is not a dict with a ``type``.
    """
    if not init_cfg:
        return [], []
    cfgs = [init_cfg] if isinstance(init_cfg, dict) else list(init_cfg)
    for cfg in cfgs:
        if not isinstance(cfg, dict) or 'type' not in cfg:
            raise TypeError(f'init_cfg entries must be dicts with a type, '
                            f'got {cfg!r}')
    return ([c for c in cfgs if is_pretrained(c)],
            [c for c in cfgs if not is_pretrained(c)])


class DefaultInitMixin:
    """``init_weights`` in the three steps of the module docstring, for a
    :class:`~mmengine.model.BaseModule` with a default initialisation of
    its own (:meth:`init_from_scratch`).

    Unlike mmengine's ``BaseModule.init_weights``, the children's own
    ``init_weights`` are not called again after the ``init_cfg`` entries:
    the default of step 1 covers them, and a user's entry is the last word
    on what it names.
    """

    #: checkpoint key prefixes this model does not use (e.g. a classifier)
    ignored_pretrained_keys: Tuple[str, ...] = ()

    def init_from_scratch(self) -> None:
        """The model's default initialisation (step 1)."""

    def convert_state_dict(self, state_dict: Dict) -> Dict:
        """A checkpoint's keys (``module.``/``backbone.`` removed) -> this
        model's: the model's converter (default: the identity)."""
        return state_dict

    def load_pretrained(self, cfg: dict) -> None:
        """Load one ``Pretrained`` entry (``checkpoint``, optional
        ``prefix`` and ``map_location``) with a report of the keys."""
        load_pretrained(self, cfg['checkpoint'], prefix=cfg.get('prefix'),
                        convert=self.convert_state_dict,
                        ignore=self.ignored_pretrained_keys,
                        map_location=cfg.get('map_location', 'cpu'))

    def init_weights(self) -> None:
        """Default, then the ``init_cfg`` entries, then ``Pretrained``."""
        name = type(self).__name__
        if self.is_init:
            print_log(f'init_weights of {name} has been called more than '
                      'once.', logger='current', level=logging.WARNING)
            return
        pretrained, others = split_init_cfg(self.init_cfg)
        if not pretrained:
            self.init_from_scratch()
        if others:
            print_log(f'initialize {name} with init_cfg {others}',
                      logger='current', level=logging.DEBUG)
            initialize(self, copy.deepcopy(others))
        for cfg in pretrained:
            self.load_pretrained(cfg)
        self.is_init = True

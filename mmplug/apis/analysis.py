"""Model complexity and speed: parameters, FLOPs and inference latency.

Shared by ``tools/analysis_tools/get_flops.py`` and ``benchmark.py``.

FLOPs are counted by tracing the model with :mod:`mmengine.analysis`
(:class:`~mmengine.analysis.FlopAnalyzer`), which counts **one multiply-add
as one FLOP** (the convention of most detection/segmentation papers). The
traced forward is ``model(inputs, data_samples, mode='tensor')``, as mmdet's
and mmseg's own ``get_flops.py`` do: for a two-stage detector this runs the
backbone, neck, RPN (with its NMS) and the RoI bbox and mask heads on the
proposals; for a segmentor, backbone, neck and decode head.

Attention matrix products
-------------------------
Papers disagree on whether the products between two activations (``Q K^T``
and ``A V`` of attention) are part of a model's FLOPs. They are counted, and
also reported on their own (``attention_flops``) so both conventions can be
compared. The rule, applied to the traced graph, is:

* ``aten::scaled_dot_product_attention`` is always an attention product.
  mmengine does not count it; here it costs ``B*heads*Nq*Nk*(dk+dv)``
  multiply-adds (``Q K^T`` plus ``A V``; the softmax is not counted).
* ``aten::matmul``, ``aten::mm``, ``aten::bmm`` and ``aten::einsum`` are
  attention products when **every operand depends on the model's input**.
  In a trace, parameters and buffers are graph inputs after the model's own
  inputs, and untracked tensors are constants; an operand that is computed
  only from those (e.g. ``weight.t()`` or a relative-position table) is a
  weight. Sizes (``x.shape``) do not carry the dependence, so a tensor built
  from ``torch.arange(x.shape[-1])`` is not an activation either.
  ``aten::linear``/``addmm`` (``nn.Linear``) and convolutions are never
  attention products.

In the analyzer's ``by_operator()`` counters attention products appear as
``attention.<op>`` (``attention.matmul``, ``attention.sdpa``, ...) and the
others under mmengine's usual names (``matmul``, ``conv``, ``linear``...).

The papers' convention
----------------------
The detection and segmentation papers of 2020-2023 counted FLOPs with mmcv
1.x's ``get_flops`` (or ptflops), on mmdet 2.x's / mmseg 0.x's
``forward_dummy``:

* module FLOPs only: products between two activations (attention) are not
  counted;
* two-stage detectors: 1000 random proposals through the bbox head(s) and
  the first 100 of them through the mask head(s), every stage of a Cascade
  head on the same proposals (mmdet 3.x's ``mode='tensor'`` forward runs the
  RPN's proposals, up to 1000, and a Cascade head's masks on every one of
  them, three times).

:func:`papers_flops` counts in that convention; :func:`get_flops` reports
both (``flops_papers`` beside the full ``flops``).
"""
import copy
import os
import statistics
import threading
import time
from collections import Counter
from contextlib import contextmanager
from functools import partial
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import torch
import torch.nn.functional as F
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import (Handle, bmm_flop_jit,
                                           einsum_flop_jit, get_shape,
                                           matmul_flop_jit)
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope
from torch import Tensor, nn

from mmplug.apis.config import ConfigError, task_of

#: Input size (H, W) when none is given: 1280x800 for detection (COCO test
#: scale), 2048x512 for segmentation (ADE20K at 512 crops, Cityscapes-like).
DEFAULT_SHAPES: Dict[str, Tuple[int, int]] = {
    'det': (800, 1280),
    'seg': (512, 2048),
}

#: Key prefix of attention products in the analyzer's ``by_operator()``.
ATTENTION_PREFIX = 'attention.'

#: ``part`` of :func:`benchmark`.
PARTS = ('model', 'backbone', 'neck')

#: Top-level children that are not part of the network's forward.
_NOT_NETWORK = ('data_preprocessor', )

ShapeLike = Union[int, Sequence[int], None]


# --------------------------------------------------------------------------
# Model and inputs
# --------------------------------------------------------------------------
def build_model(cfg: Config, drop_auxiliary_head: bool = False) -> nn.Module:
    """Build ``cfg.model`` for inference, with random weights.

    ``init_weights`` is not called (no pretrained download): the weights are
    PyTorch's default initialisation, which is enough for counting and
    timing.

    Args:
        cfg (Config): an mmdet or mmseg config.
        drop_auxiliary_head (bool): build a segmentor without its
            ``auxiliary_head`` (a training-only head), as mmseg's
            ``get_flops.py`` does so that the parameters are those of the
            inference network. Defaults to False.

    Returns:
        nn.Module: the model in eval mode, SyncBN reverted to BN.
    """
    init_default_scope(cfg.default_scope)
    model_cfg = copy.deepcopy(cfg.model)
    if drop_auxiliary_head:
        model_cfg.pop('auxiliary_head', None)
    model = MODELS.build(model_cfg)
    return revert_sync_batchnorm(model).eval()


def resolve_shape(cfg: Config, shape: ShapeLike = None) -> Tuple[int, int]:
    """The input size (H, W) to use for a config.

    Args:
        cfg (Config): an mmdet or mmseg config.
        shape (int | Sequence[int], optional): ``(H, W)``, or one int (or
            a one-element sequence) for a square input. None:
            :data:`DEFAULT_SHAPES` of the config's task (800x1280 for det,
            512x2048 for seg).

    Returns:
        tuple[int, int]: (H, W), before any padding.
    """
    if shape is None:
        return DEFAULT_SHAPES[task_of(cfg)]
    if isinstance(shape, int):
        shape = (shape, shape)
    elif len(shape) == 1:
        shape = (shape[0], shape[0])
    if len(shape) != 2 or min(shape) <= 0:
        raise ConfigError(f'shape must be (H, W) > 0, got {shape!r}')
    return int(shape[0]), int(shape[1])


def size_divisor(cfg: Config) -> int:
    """What the config's data preprocessor pads test images to a multiple of.

    Detection: ``pad_size_divisor`` (32 if unset, as in mmdet's configs).
    Segmentation: ``test_cfg.size_divisor`` of the preprocessor (1 if unset:
    mmseg does not pad at test time by default).
    """
    pre = cfg.model.get('data_preprocessor') or {}
    if task_of(cfg) == 'det':
        return int(pre.get('pad_size_divisor', 32))
    return int((pre.get('test_cfg') or {}).get('size_divisor') or 1)


def _pad_to(size: int, divisor: int) -> int:
    return -(-size // divisor) * divisor


def dummy_inputs(cfg: Config,
                 model: nn.Module,
                 shape: ShapeLike = None,
                 seed: int = 0) -> Tuple[Tensor, List[Any]]:
    """A normalised random image and its data sample, as the preprocessor
    would give them.

    Args:
        cfg (Config): an mmdet or mmseg config.
        model (nn.Module): the model (its parameters' device is used).
        shape (int | Sequence[int], optional): image size ``(H, W)``; see
            :func:`resolve_shape`.
        seed (int): seed of the random image. Defaults to 0.

    Returns:
        tuple[Tensor, list]: ``inputs`` of shape ``(1, 3, Hp, Wp)``, where
        ``Hp, Wp`` are ``H, W`` zero-padded up to :func:`size_divisor`
        (a multiple of 32 for det), and a one-element list with a
        ``DetDataSample`` (det) or ``SegDataSample`` (seg) whose metainfo
        has ``ori_shape = img_shape = (H, W)``,
        ``pad_shape = batch_input_shape = (Hp, Wp)`` and
        ``scale_factor = (1., 1.)``.
    """
    h, w = resolve_shape(cfg, shape)
    divisor = size_divisor(cfg)
    hp, wp = _pad_to(h, divisor), _pad_to(w, divisor)
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    image = torch.randn(1, 3, h, w, generator=generator)
    inputs = F.pad(image, (0, wp - w, 0, hp - h)).to(device)
    metainfo = dict(
        ori_shape=(h, w),
        img_shape=(h, w),
        pad_shape=(hp, wp),
        batch_input_shape=(hp, wp),
        scale_factor=(1., 1.))
    if task_of(cfg) == 'det':
        from mmdet.structures import DetDataSample
        sample = DetDataSample(metainfo=metainfo)
    else:
        from mmseg.structures import SegDataSample
        sample = SegDataSample(metainfo=metainfo)
    return inputs, [sample]


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Fix torch's global RNG (restored on exit): reproducible random
    weights, hence reproducible RPN proposals and FLOPs."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextmanager
def _forward_with(model: nn.Module, **kwargs: Any) -> Iterator[nn.Module]:
    """Bind keyword arguments to ``model.forward`` so that ``model(inputs)``
    (what jit tracing calls) runs ``model.forward(inputs, **kwargs)``.

    Module hooks still fire, so mmengine attributes ops to submodules.
    """
    model.forward = partial(type(model).forward, model, **kwargs)
    try:
        yield model
    finally:
        del model.forward


# --------------------------------------------------------------------------
# FLOPs
# --------------------------------------------------------------------------
def _carries_tensors(value: Any) -> bool:
    """Whether a jit value is a tensor, or a list/tuple holding tensors."""
    kind = value.type().kind()
    if kind == 'TensorType':
        return True
    if kind == 'ListType':
        return value.type().getElementType().kind() == 'TensorType'
    if kind == 'TupleType':
        return any(t.kind() == 'TensorType' for t in value.type().elements())
    return False


class _InputDependence:
    """Tells, in one traced graph, which values depend on the model's inputs.

    A value depends on the inputs if it is one of the first ``num_inputs``
    graph inputs (the model's own; the later ones are its parameters and
    buffers), or is a tensor (or list/tuple of tensors) computed by a node
    with such an input. Scalars (sizes, ints) cut the dependence.

    Args:
        num_inputs (int): how many graph inputs are the model's inputs.
    """

    def __init__(self, num_inputs: int) -> None:
        self.num_inputs = num_inputs
        self._memo: Dict[int, bool] = {}

    def __call__(self, value: Any) -> bool:
        memo = self._memo
        stack = [value]
        while stack:  # iterative post-order walk: graphs can be deep
            v = stack[-1]
            if v.unique() in memo:
                stack.pop()
                continue
            node = v.node()
            if node.kind() == 'prim::Param':  # a graph input
                memo[v.unique()] = v.offset() < self.num_inputs
            elif not _carries_tensors(v):
                memo[v.unique()] = False
            else:
                todo = [u for u in node.inputs() if u.unique() not in memo]
                if todo:
                    stack.extend(todo)
                    continue
                memo[v.unique()] = any(memo[u.unique()] for u in node.inputs())
            stack.pop()
        return memo[value.unique()]


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """Multiply-adds of ``aten::scaled_dot_product_attention``.

    ``Q K^T`` and ``A V``: ``B*heads*Nq*Nk*(dk+dv)`` for ``q`` of shape
    ``(..., Nq, dk)``, ``k`` of ``(..., Nk, dk)`` and ``v`` of
    ``(..., Nk, dv)`` (``...`` is ``B, heads``; ``q``'s is used, so grouped
    query attention counts every query head). Scaling, masking and the
    softmax are not counted.
    """
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch_heads_nq = 1
    for size in q[:-1]:
        batch_heads_nq *= size
    return batch_heads_nq * k[-2] * (q[-1] + v[-1])


def _operands(op: str, inputs: List[Any]) -> List[Any]:
    if op == 'einsum':  # aten::einsum(equation, Tensor[] operands, path)
        return list(inputs[1].node().inputs())
    return inputs[:2]


def _product_handle(op: str, count: Handle,
                    depends_on_input: _InputDependence) -> Handle:
    """Wrap mmengine's handle of a product so that it files the count under
    ``attention.<op>`` when every operand is an activation."""

    def handle(inputs: List[Any], outputs: List[Any]) -> Counter:
        operands = _operands(op, inputs)
        attention = len(operands) >= 2 and all(
            depends_on_input(v) for v in operands)
        key = ATTENTION_PREFIX + op if attention else op
        return Counter({key: count(inputs, outputs)})

    return handle


def _num_tensors(inputs: Any) -> int:
    """How many tensors jit tracing flattens ``inputs`` into."""
    if isinstance(inputs, Tensor):
        return 1
    if isinstance(inputs, (list, tuple)):
        return sum(_num_tensors(x) for x in inputs)
    if isinstance(inputs, dict):
        return sum(_num_tensors(x) for x in inputs.values())
    return 0


def _sdpa_handle(inputs: List[Any], outputs: List[Any]) -> Counter:
    return Counter({ATTENTION_PREFIX + 'sdpa': sdpa_flop_jit(inputs, outputs)})


def flop_analyzer(model: nn.Module,
                  inputs: Union[Tensor, Tuple[Tensor, ...]]) -> FlopAnalyzer:
    """mmengine's :class:`FlopAnalyzer` that also counts SDPA and files
    attention products under ``attention.<op>`` (see the module docstring).

    Its warnings (unsupported ops, uncalled modules, tracer) are off: read
    ``unsupported_ops()`` instead.

    Args:
        model (nn.Module): the module to trace: ``model(*inputs)``.
        inputs (Tensor | tuple[Tensor]): its inputs.

    Returns:
        FlopAnalyzer: lazily evaluated; ``total()``, ``by_module()``,
        ``by_operator()``, ``unsupported_ops()`` as in mmengine.
    """
    depends_on_input = _InputDependence(_num_tensors(inputs))
    products = {
        'aten::matmul': ('matmul', matmul_flop_jit),
        'aten::mm': ('mm', matmul_flop_jit),
        'aten::bmm': ('bmm', bmm_flop_jit),
        'aten::einsum': ('einsum', einsum_flop_jit),
    }
    # one analyzer, one trace: its handles are set before anything is
    # traced, so the operand memo never outlives the graph it describes
    analyzer = FlopAnalyzer(model, inputs)
    for name, (op, count) in products.items():
        analyzer.set_op_handle(name,
                               _product_handle(op, count, depends_on_input))
    analyzer.set_op_handle('aten::scaled_dot_product_attention', _sdpa_handle)
    return (analyzer.unsupported_ops_warnings(False)
            .uncalled_modules_warnings(False).tracer_warnings('none'))


def attention_flops(analyzer: FlopAnalyzer, module: str = '') -> int:
    """FLOPs of attention products (``attention.*`` ops) in a module."""
    return int(
        sum(n for op, n in analyzer.by_operator(module).items()
            if op.startswith(ATTENTION_PREFIX)))


def _children(model: nn.Module) -> List[str]:
    """Top-level parts of the network: backbone, neck, heads."""
    return [
        name for name, _ in model.named_children()
        if name not in _NOT_NETWORK
    ]


def _params(model: nn.Module) -> Tuple[int, Dict[str, int]]:
    """Parameter count of the model and of each top-level child."""
    count = parameter_count(model)  # name prefix -> count; '' is the model
    return count[''], {name: count[name] for name in _children(model)}


def get_flops(cfg: Config,
              shape: ShapeLike = None,
              seed: int = 0,
              papers: bool = False) -> dict:
    """Parameters and FLOPs (1 multiply-add = 1 FLOP) of a config's model.

    Counts ``model(inputs, data_samples, mode='tensor')`` on one image (see
    the module docstring for what runs and for the attention rule). A
    segmentor's ``auxiliary_head`` is dropped (training only), so params are
    those of the inference network. Weights and image are random but seeded,
    so a detector's number of proposals, hence its FLOPs, is reproducible.

    Args:
        cfg (Config): an mmdet or mmseg config.
        shape (int | Sequence[int], optional): image ``(H, W)``; default
            800x1280 (det) or 512x2048 (seg). Detection pads it to a
            multiple of 32.
        seed (int): seed of the random weights and image. Defaults to 0.
        papers (bool): also count in the papers' convention
            (``flops_papers``; for two-stage detectors, one more trace: of
            the RoI heads on mmdet 2.x's dummy proposals). Defaults to
            False.

    Returns:
        dict: with keys

        - ``task`` (str): 'det' or 'seg'.
        - ``input_shape`` (tuple): ``(1, 3, Hp, Wp)`` traced.
        - ``params`` (int) and ``params_by_module`` (dict): per top-level
          child (backbone, neck, rpn_head, roi_head, decode_head...).
        - ``params_trainable`` (int): those with ``requires_grad``, i.e.
          without frozen stages (mmcv 1.x / mmdet 2.x ``get_flops`` counted
          only these: the 44.2M often quoted for Mask R-CNN R-50 excludes
          the frozen ResNet stem and stage 1, 44.4M in all).
        - ``flops`` (int): all counted FLOPs, attention products included.
        - ``flops_by_module`` (dict): per top-level child; ops run by the
          model itself outside any child (e.g. in ``roi_head.forward``,
          which is called directly) are only in ``flops``.
        - ``attention_flops`` (int) and ``attention_flops_by_module``
          (dict): the attention products alone.
        - ``flops_without_attention`` (int): ``flops - attention_flops``.
        - ``flops_papers`` (int, with ``papers=True``): the papers'
          convention (:func:`papers_flops`).
        - ``flops_by_operator`` (dict): per op type.
        - ``uncounted_ops`` (dict): op name -> occurrences for ops traced but
          not counted (mmengine's ``unsupported_ops()``, e.g. mmcv's
          ``prim::PythonOp.RoIAlignFunction`` or NMS).
    """
    with _seeded(seed):
        model = build_model(cfg, drop_auxiliary_head=True)
    inputs, data_samples = dummy_inputs(cfg, model, shape, seed=seed)
    analyzer = flop_analyzer(model, inputs)
    with _forward_with(model, data_samples=data_samples, mode='tensor'), \
            torch.no_grad():
        total = int(analyzer.total())  # traces once; the rest is cached
    children = _children(model)
    by_module = analyzer.by_module()
    attention = attention_flops(analyzer)
    params, params_by_module = _params(model)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    result = dict(
        task=task_of(cfg),
        input_shape=tuple(inputs.shape),
        params=params,
        params_by_module=params_by_module,
        params_trainable=trainable,
        flops=total,
        flops_by_module={c: int(by_module[c]) for c in children},
        attention_flops=attention,
        attention_flops_by_module={
            c: attention_flops(analyzer, c)
            for c in children
        },
        flops_without_attention=total - attention,
        flops_by_operator={
            op: int(n)
            for op, n in analyzer.by_operator().most_common()
        },
        uncounted_ops=dict(sorted(analyzer.unsupported_ops().items())),
    )
    if papers:
        result['flops_papers'] = papers_flops(cfg, shape, seed, full=result)
    return result


#: mmdet 2.x ``forward_dummy``: proposals through the bbox heads, and how
#: many of them go through the mask heads.
DUMMY_PROPOSALS = 1000
DUMMY_MASK_PROPOSALS = 100


def _is_two_stage(cfg: Config) -> bool:
    """Whether a config's model is a two-stage detector (RPN + RoI head)."""
    return bool(cfg.model.get('rpn_head') and cfg.model.get('roi_head'))


class _DummyRoIHeads(nn.Module):
    """The RoI heads of mmdet 2.x's ``forward_dummy`` on mmdet 3.x:
    :data:`DUMMY_PROPOSALS` fixed proposals through the bbox head of every
    stage, the first :data:`DUMMY_MASK_PROPOSALS` of them through the mask
    head of every stage (a Cascade head's stages all take the same
    proposals, as in mmdet 2.x).

    The heads' FLOPs do not depend on the size of the feature maps (RoIAlign
    samples a fixed grid from them), so the maps may come from a small image.

    Args:
        roi_head (nn.Module): an mmdet 3.x ``StandardRoIHead`` or
            ``CascadeRoIHead``.
        image_size (tuple[int, int]): (H, W) the proposals lie in.
        seed (int): seed of the proposals' coordinates.
    """

    def __init__(self, roi_head: nn.Module, image_size: Tuple[int, int],
                 seed: int = 0) -> None:
        super().__init__()
        self.roi_head = roi_head
        generator = torch.Generator().manual_seed(seed)
        h, w = image_size
        xy = torch.rand(DUMMY_PROPOSALS, 2, generator=generator)
        wh = torch.rand(DUMMY_PROPOSALS, 2, generator=generator)
        scale = torch.tensor([w, h], dtype=torch.float32)
        top_left = xy * scale * 0.75
        boxes = torch.cat([top_left, top_left + (0.05 + wh * 0.2) * scale], 1)
        index = torch.zeros(DUMMY_PROPOSALS, 1)
        device = next(roi_head.parameters()).device
        # (n, 5): batch index, x1, y1, x2, y2 (what mmdet's bbox2roi gives)
        self.rois = torch.cat([index, boxes], 1).to(device)

    def forward(self, *x: Tensor) -> Tuple[Tensor, ...]:
        """Run the heads on the neck's maps ``x``, each (1, C, H_i, W_i)."""
        head = self.roi_head
        rois, mask_rois = self.rois, self.rois[:DUMMY_MASK_PROPOSALS]
        stages = list(range(head.num_stages)) if hasattr(
            head, 'num_stages') else [None]
        outs = []
        for stage in stages:
            args = (x, rois) if stage is None else (stage, x, rois)
            result = head._bbox_forward(*args)
            outs += [result['cls_score'], result['bbox_pred']]
        if getattr(head, 'with_mask', False):
            for stage in stages:
                args = (x, mask_rois) if stage is None else (stage, x,
                                                             mask_rois)
                outs.append(head._mask_forward(*args)['mask_preds'])
        return tuple(outs)


#: Image size whose maps feed :class:`_DummyRoIHeads` (any size gives the
#: same FLOPs).
_DUMMY_IMAGE = (256, 256)


def dummy_roi_flops(cfg: Config, seed: int = 0) -> Tuple[int, int]:
    """FLOPs and attention FLOPs of a two-stage detector's RoI heads in
    mmdet 2.x's ``forward_dummy`` (:class:`_DummyRoIHeads`)."""
    with _seeded(seed):
        model = build_model(cfg, drop_auxiliary_head=True)
    inputs, _ = dummy_inputs(cfg, model, _DUMMY_IMAGE, seed=seed)
    with torch.no_grad():
        feats = tuple(model.extract_feat(inputs))
    heads = _DummyRoIHeads(model.roi_head, tuple(inputs.shape[-2:]),
                           seed).eval()
    analyzer = flop_analyzer(heads, feats)
    with torch.no_grad():
        total = int(analyzer.total())
    return total, attention_flops(analyzer)


def papers_flops(cfg: Config,
                 shape: ShapeLike = None,
                 seed: int = 0,
                 full: Optional[dict] = None) -> int:
    """FLOPs in the papers' convention (see the module docstring).

    The full count of :func:`get_flops` without the attention products;
    for two-stage detectors, with the RoI heads counted on mmdet 2.x's
    dummy proposals (:func:`dummy_roi_flops`) instead of the RPN's.

    Args:
        cfg (Config): an mmdet or mmseg config.
        shape (int | Sequence[int], optional): image ``(H, W)``, as for
            :func:`get_flops`.
        seed (int): seed of the random weights, image and proposals.
        full (dict, optional): :func:`get_flops`'s result for the same
            ``cfg``, ``shape`` and ``seed`` (computed if not given).

    Returns:
        int: the FLOPs (1 multiply-add = 1 FLOP).
    """
    if full is None:
        full = get_flops(cfg, shape, seed, papers=False)
    flops = int(full['flops_without_attention'])
    if _is_two_stage(cfg):
        roi = full['flops_by_module']['roi_head'] - \
            full['attention_flops_by_module']['roi_head']
        dummy, dummy_attention = dummy_roi_flops(cfg, seed)
        flops += dummy - dummy_attention - roi
    return flops


# --------------------------------------------------------------------------
# Latency and memory
# --------------------------------------------------------------------------
def _rss_bytes() -> Optional[int]:
    """Resident-set size of this process, from ``/proc/self/statm``."""
    try:
        with open('/proc/self/statm') as f:
            resident_pages = int(f.read().split()[1])
    except OSError:
        return None
    return resident_pages * os.sysconf('SC_PAGE_SIZE')


class _PeakRSS:
    """Peak resident-set size while the ``with`` block runs (Linux).

    A background thread reads ``/proc/self/statm`` every ``interval``
    seconds (torch ops release the GIL, so it runs during the forward);
    allocations that live shorter than that may be missed.

    Args:
        interval (float): seconds between reads. Defaults to 1 ms.

    Attributes:
        peak (int | None): the largest RSS read, in bytes; None where
            ``/proc`` is not available.
    """

    def __init__(self, interval: float = 1e-3) -> None:
        self.interval = interval
        self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._read()
            time.sleep(self.interval)

    def _read(self) -> None:
        rss = _rss_bytes()
        if rss is not None:
            self.peak = max(self.peak or 0, rss)

    def __enter__(self) -> '_PeakRSS':
        if self.peak is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._read()


@contextmanager
def _num_threads(threads: Optional[int]) -> Iterator[None]:
    """Run with ``torch.set_num_threads(threads)`` (restored on exit)."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _part_fn(model: nn.Module, part: str, inputs: Tensor,
             data_samples: List[Any]) -> Callable[[], Any]:
    """The forward to time: the whole model, the backbone, or backbone+neck."""
    if part == 'model':
        return partial(model, inputs, data_samples, mode='tensor')
    if part == 'backbone':
        return partial(model.backbone, inputs)
    if part == 'neck':
        if not getattr(model, 'with_neck', False):
            raise ConfigError(f'{type(model).__name__} has no neck: '
                             "use part='backbone' or 'model'")
        return partial(model.extract_feat, inputs)
    raise ConfigError(f'part must be one of {PARTS}, got {part!r}')


def _timed_runs(run: Callable[[], Any], num_runs: int,
                device: torch.device) -> Tuple[List[float], Optional[float]]:
    """Latencies (ms) of ``num_runs`` calls and the peak memory (MiB).

    Peak memory: CUDA: ``torch.cuda.max_memory_allocated`` over the runs.
    CPU: peak RSS during the runs minus the RSS right before them (see
    :class:`_PeakRSS`), at least 0; None without ``/proc``.
    """
    cuda = device.type == 'cuda'
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    times = []
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    baseline = _rss_bytes()
    with _PeakRSS() as rss:
        for _ in range(num_runs):
            sync()
            start = time.perf_counter()
            run()
            sync()
            times.append((time.perf_counter() - start) * 1e3)
    if cuda:
        peak = torch.cuda.max_memory_allocated(device) / 2**20
    elif baseline is None or rss.peak is None:
        peak = None
    else:
        peak = max(rss.peak - baseline, 0) / 2**20
    return times, peak


def _quartiles(values: Sequence[float]) -> Tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method='inclusive')
    return q1, median, q3


def benchmark(cfg: Config,
              shape: ShapeLike = None,
              part: str = 'model',
              num_warmup: int = 3,
              num_runs: int = 10,
              threads: Optional[int] = None,
              device: Union[str, torch.device, None] = None,
              seed: int = 0) -> dict:
    """Inference latency and peak memory of one image (batch size 1).

    Args:
        cfg (Config): an mmdet or mmseg config.
        shape (int | Sequence[int], optional): image ``(H, W)``; default
            800x1280 (det) or 512x2048 (seg); det pads to a multiple of 32.
        part (str): what to time, under ``torch.no_grad()``: 'model' (the
            ``mode='tensor'`` forward: for a two-stage detector backbone,
            neck, RPN with NMS and the RoI heads; for a segmentor backbone,
            neck and decode head), 'backbone' (``model.backbone(inputs)``)
            or 'neck' (backbone + neck, ``model.extract_feat(inputs)``).
        num_warmup (int): untimed runs first. Defaults to 3.
        num_runs (int): timed runs. Defaults to 10.
        threads (int, optional): ``torch.set_num_threads`` during the runs.
        device (str | torch.device, optional): default 'cuda' if available,
            else 'cpu'.
        seed (int): seed of the random weights and image. Defaults to 0.

    Returns:
        dict: ``part``, ``device``, ``input_shape`` ``(1, 3, Hp, Wp)``,
        ``threads`` (torch's number of threads during the runs),
        ``num_warmup``, ``num_runs``, ``latencies_ms`` (each run),
        ``latency_ms`` (median), ``latency_iqr_ms`` (interquartile range),
        ``images_per_s`` (``1000 / latency_ms``), ``peak_memory_mib`` and
        ``memory_measure`` (what the peak is: CUDA
        ``max_memory_allocated``, or on CPU the peak RSS increase during the
        timed runs over the RSS right before them, sampled every ~1 ms from
        ``/proc/self/statm``).
    """
    if part not in PARTS:
        raise ConfigError(f'part must be one of {PARTS}, got {part!r}')
    if num_runs < 1 or num_warmup < 0:
        raise ConfigError('need num_runs >= 1 and num_warmup >= 0')
    device = torch.device(device or
                          ('cuda' if torch.cuda.is_available() else 'cpu'))
    with _seeded(seed):
        model = build_model(cfg).to(device)
    inputs, data_samples = dummy_inputs(cfg, model, shape, seed=seed)
    run = _part_fn(model, part, inputs, data_samples)
    with _num_threads(threads), torch.no_grad():
        for _ in range(num_warmup):
            run()
        used_threads = torch.get_num_threads()
        times, peak = _timed_runs(run, num_runs, device)
    q1, median, q3 = _quartiles(times)
    return dict(
        part=part,
        device=str(device),
        input_shape=tuple(inputs.shape),
        threads=used_threads,
        num_warmup=num_warmup,
        num_runs=num_runs,
        latencies_ms=times,
        latency_ms=median,
        latency_iqr_ms=q3 - q1,
        images_per_s=1e3 / median,
        peak_memory_mib=peak,
        memory_measure=('cuda max_memory_allocated' if device.type == 'cuda'
                        else 'cpu peak RSS increase over pre-run RSS'),
    )

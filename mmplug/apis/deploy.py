"""Export a config's backbone (and neck) to ONNX and check it.

Shared by ``tools/deployment/export_onnx.py`` and the tests. The exported
graph has a fixed input size: every :class:`~mmplug.models.layers.ParC` is
baked for the map sizes of that input first
(:func:`~mmplug.models.layers.parc.fix_parc_sizes`), since the ParC kernels
are otherwise resized on the fly, which ONNX cannot express. The export uses
the TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``),
which needs no package beyond ``onnx``; the result is run with onnxruntime
and compared with PyTorch on the same input.
"""
import os.path as osp
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor, nn

from mmplug.apis.analysis import _num_threads, _seeded, resolve_shape
from mmplug.checkpoint import (compare_keys, extract_state_dict,
                               remove_prefixes)
from mmplug.errors import CheckpointMismatchError, ConfigError
from mmplug.models.layers.parc import fix_parc_sizes
from mmplug.testing import median_ms

#: ``part`` of :func:`export_onnx`.
PARTS = ('backbone', 'backbone+neck')

#: Largest difference allowed between onnxruntime's and PyTorch's outputs,
#: relative to each output's largest magnitude (at least 1).
ONNX_TOLERANCE = 1e-4

#: The ONNX opset exported (onnxruntime 1.16 and later run it).
OPSET = 17


class DeployModel(nn.Module):
    """A config's backbone, or backbone and neck, as one module whose
    forward returns a tuple of maps; its state-dict keys are the
    detector's or segmentor's (``backbone.*``, ``neck.*``), so their
    checkpoints load as they are.

    Args:
        backbone (nn.Module): the backbone.
        neck (nn.Module, optional): the neck on its outputs.
    """

    def __init__(self, backbone: nn.Module, neck: Optional[nn.Module] = None):
        super().__init__()
        self.backbone = backbone
        self.neck = neck

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """(N, 3, H, W) -> the backbone's (or neck's) maps."""
        outs = self.backbone(x)
        if self.neck is not None:
            outs = self.neck(outs)
        return tuple(outs)


def build_deploy_model(cfg: Config, part: str = 'backbone',
                       checkpoint: Optional[str] = None,
                       seed: int = 0) -> DeployModel:
    """The backbone (and neck) of ``cfg.model`` in eval mode.

    Args:
        cfg (Config): an mmdet or mmseg config.
        part (str): ``'backbone'`` or ``'backbone+neck'``.
        checkpoint (str, optional): a checkpoint of the config's model
            (``backbone.*`` and ``neck.*`` keys, e.g. from
            ``tools/train.py``); every key of the exported part must be in
            it with its shape. None: random weights (PyTorch's default
            initialisation, seeded by ``seed``).
        seed (int): seed of the random weights.

    Returns:
        DeployModel: in eval mode, SyncBN reverted to BN.

    Raises:
        ConfigError: ``part`` is unknown, or the config has no neck.
        CheckpointMismatchError: the checkpoint lacks keys of the part or
            has them with other shapes.
    """
    if part not in PARTS:
        raise ConfigError(f'part must be one of {PARTS}, got {part!r}')
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    neck_cfg = cfg.model.get('neck')
    if part == 'backbone+neck' and not neck_cfg:
        raise ConfigError(f'{cfg.model.type} in this config has no neck: '
                          "export part 'backbone'")
    with _seeded(seed):
        backbone = MODELS.build(cfg.model.backbone)
        neck = MODELS.build(neck_cfg) if part == 'backbone+neck' else None
    model = revert_sync_batchnorm(DeployModel(backbone, neck))
    if checkpoint is not None:
        load_part(model, checkpoint)
    return model.eval()


def load_part(model: DeployModel, checkpoint: str) -> None:
    """Load a detector's or segmentor's checkpoint into ``model``, refusing
    one that does not hold every key of it (heads and other parts of the
    checkpoint are ignored)."""
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state_dict = remove_prefixes(extract_state_dict(ckpt, checkpoint),
                                 ('module.', ))
    parts = tuple(f'{name}.' for name, _ in model.named_children())
    state_dict = {k: v for k, v in state_dict.items() if k.startswith(parts)}
    report = compare_keys(model.state_dict(), state_dict)
    if not report.fits():
        raise CheckpointMismatchError(
            f'checkpoint {checkpoint!r} does not fit the '
            f'{" and ".join(p[:-1] for p in parts)} of this config '
            f'(keys of a detector or segmentor expected):\n  '
            f'{report.describe()}')
    model.load_state_dict(state_dict)


def _ort_session(path: str, threads: Optional[int]) -> Any:
    try:
        import onnxruntime as ort
    except ImportError:
        raise ConfigError('checking the export needs onnxruntime (pip '
                          'install onnxruntime); or export without the '
                          'check (check=False, --no-check)') from None
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options,
                                providers=['CPUExecutionProvider'])


def export_onnx(cfg: Config,
                out: str,
                part: str = 'backbone',
                shape: Optional[Sequence[int]] = None,
                checkpoint: Optional[str] = None,
                check: bool = True,
                num_runs: int = 5,
                threads: Optional[int] = None,
                seed: int = 0) -> Dict[str, Any]:
    """Export the backbone (and neck) of a config to ONNX at a fixed input
    size, run it with onnxruntime and compare with PyTorch.

    Args:
        cfg (Config): an mmdet or mmseg config.
        out (str): the ``.onnx`` file to write.
        part (str): ``'backbone'`` or ``'backbone+neck'``.
        shape (Sequence[int], optional): input ``(H, W)`` (one int: square);
            default 800x1280 (det) or 512x2048 (seg). The graph is fixed to
            it (batch 1).
        checkpoint (str, optional): see :func:`build_deploy_model`.
        check (bool): run the exported file with onnxruntime, compare and
            time it. Defaults to True.
        num_runs (int): timed runs of each (median, after one warm-up).
        threads (int, optional): ``torch.set_num_threads`` and onnxruntime's
            intra-op threads for the timing (default: each one's default).
        seed (int): seed of the random input (and weights).

    Returns:
        dict: ``out``, ``input_shape`` ``(1, 3, H, W)``, ``output_shapes``;
        with ``check``: ``max_abs_diff`` (largest over the outputs),
        ``max_rel_diff`` (each output's largest difference over its largest
        magnitude, at least 1; the largest over outputs), ``ok``
        (``max_rel_diff <=`` :data:`ONNX_TOLERANCE`), ``eager_ms``,
        ``ort_ms`` and ``ort_over_eager``.
    """
    h, w = resolve_shape(cfg, shape)
    model = build_deploy_model(cfg, part, checkpoint, seed)
    x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(seed))
    fix_parc_sizes(model, x)
    with torch.no_grad():
        expected = model(x)
    names = [f'out{i}' for i in range(len(expected))]
    folder = osp.dirname(osp.abspath(out))
    if not osp.isdir(folder):
        raise FileNotFoundError(f'output folder does not exist: {folder}')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # tracer warnings on shape logic
        torch.onnx.export(model, (x, ), out, dynamo=False,
                          opset_version=OPSET, input_names=['input'],
                          output_names=names)
    result: Dict[str, Any] = dict(
        out=out, part=part, input_shape=tuple(x.shape),
        output_shapes=[tuple(y.shape) for y in expected])
    if not check:
        return result
    session = _ort_session(out, threads)
    feed = {'input': x.numpy()}
    got = session.run(names, feed)
    abs_diffs: List[float] = []
    rel_diffs: List[float] = []
    for y, z in zip(expected, got):
        diff = (y - torch.from_numpy(z)).abs().max().item()
        abs_diffs.append(diff)
        rel_diffs.append(diff / max(1., y.abs().max().item()))
    with _num_threads(threads), torch.no_grad():
        eager_ms = median_ms(lambda: model(x), num_runs)
    ort_ms = median_ms(lambda: session.run(names, feed), num_runs)
    result.update(
        max_abs_diff=max(abs_diffs),
        max_rel_diff=max(rel_diffs),
        ok=max(rel_diffs) <= ONNX_TOLERANCE,
        eager_ms=eager_ms,
        ort_ms=ort_ms,
        ort_over_eager=ort_ms / eager_ms)
    return result

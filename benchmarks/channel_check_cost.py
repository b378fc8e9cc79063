"""Cost of the build-time channel check
(:func:`mmplug.engine.channels.check_channels`): every config under
``configs/`` checked (none may be refused), with its time, and a Mask R-CNN
with SMT-L (80M parameters) checked on the meta device against building
its backbone on the CPU::

    python benchmarks/channel_check_cost.py
"""
import glob
import os.path as osp
import sys
import time
import warnings

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
warnings.filterwarnings('ignore')


def main():
    from mmplug.testing import import_mmpretrain_models
    import_mmpretrain_models()  # the ConvNeXt baselines' custom_imports
    import mmdet.models  # noqa: F401  (imported by any run anyway)
    import mmseg.models  # noqa: F401
    from mmengine.registry import MODELS, DefaultScope
    from mmplug.engine import channels
    from mmplug.apis.config import load_config

    paths = sorted(p for p in glob.glob(osp.join(REPO, 'configs/**/*.py'),
                                        recursive=True)
                   if '/_base_/' not in p)
    times, refused = [], []
    for path in paths:
        cfg = load_config(path)
        channels._CHECKED.clear()
        start = time.perf_counter()
        try:
            channels.check_channels(cfg)
        except channels.ChannelMismatchError as err:
            refused.append(f'{osp.relpath(path, REPO)}: {err}')
        times.append(time.perf_counter() - start)
    print(f'{len(paths)} configs checked, {len(refused)} refused; time per '
          f'config: median {sorted(times)[len(times) // 2]:.2f} s, max '
          f'{max(times):.2f} s')
    for line in refused:
        print('  refused:', line)

    cfg = load_config(osp.join(
        REPO, 'configs/smt/mask-rcnn_smt-b_fpn_ms-crop-3x_coco.py'))
    cfg.model.backbone.update(arch='large', init_cfg=None)
    cfg.model.neck.in_channels = [96, 192, 384, 768]
    for run in range(3):
        channels._CHECKED.clear()
        start = time.perf_counter()
        channels.check_channels(cfg)
        print(f'SMT-L Mask R-CNN, check on meta (run {run + 1}): '
              f'{time.perf_counter() - start:.2f} s')
    with DefaultScope.overwrite_default_scope('mmdet'):
        start = time.perf_counter()
        MODELS.build(cfg.model.backbone)
        print(f'SMT-L backbone built on the CPU, for comparison: '
              f'{time.perf_counter() - start:.2f} s')


if __name__ == '__main__':
    main()

"""What mmplug's dataset and sampler wrappers cost in data loading.

:class:`~mmplug.engine.MMPlugRunner` wraps every dataloader's dataset in
:class:`~mmplug.datasets.GuardedDataset` (per-sample seeding for exact
resume, errors that name the file, label checks) and its sampler in
:class:`~mmplug.datasets.SeededSampler`. This script times the demo
training dataloaders (Mask R-CNN on the demo COCO data, UPerNet on the demo
ADE20K data) built both ways, in alternating rounds, with ``num_workers=0``
(the loading runs in the timed process), and prints the data loading time
per iteration with and without the wrappers and the difference::

    python benchmarks/data_wrapper_cost.py [--rounds 5] [--iters 40]
"""
import argparse
import os.path as osp
import statistics
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmplug.datasets import make_demo_data  # noqa: E402
from mmplug.engine.runner import guard_dataloader  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    'det': ('configs/demo/mask-rcnn_r18_fpn_demo.py', 'coco/'),
    'seg': ('configs/demo/upernet_r18_demo.py', 'ade/ADEChallengeData2016'),
}


def dataloaders(task: str, root: str):
    """The demo config's training dataloader, plain and wrapped."""
    path, sub = CONFIGS[task]
    cfg = Config.fromfile(osp.join(REPO, path))
    loader = cfg.train_dataloader
    loader.num_workers, loader.persistent_workers = 0, False
    loader.dataset.data_root = osp.join(root, sub)
    if task == 'det':
        loader.pop('batch_sampler', None)  # same batches both ways
    import importlib
    importlib.import_module(f'{cfg.default_scope}.utils').register_all_modules(
        init_default_scope=False)
    DefaultScope.get_instance(f'wrapper-cost-{task}',
                              scope_name=cfg.default_scope)
    plain = Runner.build_dataloader(loader.to_dict(), seed=0)
    guarded = Runner.build_dataloader(guard_dataloader(loader.to_dict()),
                                      seed=0)
    return plain, guarded


def time_loader(loader, iters: int) -> float:
    """Seconds per batch over ``iters`` batches (epochs restart as
    needed)."""
    done, start = 0, time.perf_counter()
    while done < iters:
        for _ in loader:
            done += 1
            if done == iters:
                break
    return (time.perf_counter() - start) / iters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--iters', type=int, default=40,
                        help='batches per timing')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        make_demo_data(root, num_train=40, num_val=4, seed=0)
        for task in CONFIGS:
            plain, guarded = dataloaders(task, root)
            time_loader(plain, 4)  # warm-up (file cache, lazy init)
            time_loader(guarded, 4)
            times = {'plain': [], 'guarded': []}
            for _ in range(args.rounds):  # alternating: the same noise
                times['plain'].append(time_loader(plain, args.iters))
                times['guarded'].append(time_loader(guarded, args.iters))
            p, g = (statistics.median(times[k]) * 1e3
                    for k in ('plain', 'guarded'))
            print(f'{task}: data loading per iteration (batch '
                  f'{plain.batch_size}, median of {args.rounds} rounds of '
                  f'{args.iters}): plain {p:.1f} ms, wrapped {g:.1f} ms, '
                  f'difference {g - p:+.2f} ms ({(g - p) / p * 100:+.2f} %)')


if __name__ == '__main__':
    main()

"""Per-iteration seeding, so that a resumed run equals the uninterrupted
one bit for bit."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook

from mmplug.registry import HOOKS


def iteration_seed(seed: int, iteration: int) -> int:
    """The seed of one training iteration: a 32-bit hash of the run's seed
    and the iteration."""
    return int(np.random.SeedSequence([seed % 2**32, iteration,
                                       0x5EED]).generate_state(1)[0])


@HOOKS.register_module()
class IterationSeedHook(Hook):
    """Seed Python, NumPy and torch (CPU and every CUDA device) before each
    training iteration from the run's seed and the iteration number.

    mmengine seeds once, at start, and saves no random state, so a resumed
    run draws other random numbers (dropout, drop path, RoI sampling, batch
    augmentations) than the run it continues. With this hook the model's
    randomness in iteration ``i`` depends only on ``(seed, i)``; the data
    pipeline's is seeded per sample by :class:`mmplug.datasets.SeededSampler`.
    :class:`mmplug.engine.MMPlugRunner` adds both; ``randomness=dict(seed=N,
    deterministic=True)`` remains what makes two runs equal in the first
    place.
    """
    priority = 'VERY_HIGH'

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        seed = iteration_seed(runner.seed, runner.iter)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)  # every CUDA device too

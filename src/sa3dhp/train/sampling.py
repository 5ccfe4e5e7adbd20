"""Step-level determinism: every random draw and every batch of global step ``k`` comes from
``(seed, k)``, so a run killed at any moment and restarted repeats exactly what the uninterrupted
run would have done.

:func:`step_generator` / :func:`seed_step` (randomness of a step), :class:`EpochSampler` (the
batch of a step), :func:`cosine_lr` (its learning rate) and :func:`crash_hook` (lets tests kill
a run right after a given step).
"""

from __future__ import annotations

import math
import os
import random

import numpy as np
import torch
from torch.utils.data import DistributedSampler


def mix_seed(seed: int, step: int, *salt: int) -> int:
    """A well-mixed 63-bit seed from integers (NumPy SeedSequence; any sign accepted)."""
    words = [int(v) % 2**64 for v in (seed, step, *salt)]
    state = np.random.SeedSequence(words).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def step_generator(seed: int, step: int, *salt: int) -> torch.Generator:
    """A CPU generator whose state depends only on ``(seed, step, *salt)`` (e.g. salt = rank)."""
    return torch.Generator().manual_seed(mix_seed(seed, step, *salt))


def seed_step(seed: int, step: int, *salt: int) -> None:
    """Reseed Python's, NumPy's and torch's global RNGs (CPU and CUDA) from ``(seed, step,
    *salt)``, so that dropout and other global-RNG draws of a step do not depend on history."""
    s = mix_seed(seed, step, *salt)
    random.seed(s)
    np.random.seed(s % 2**32)  # noqa: NPY002
    torch.manual_seed(s)


class EpochSampler:
    """Batch indices of any global step, with :class:`~torch.utils.data.DistributedSampler`
    semantics and no replay on resume.

    Epoch ``e`` is ``DistributedSampler(range(num_samples), world_size, rank, shuffle=True,
    seed=seed, drop_last=drop_last)`` after ``set_epoch(e)`` -- a permutation drawn from
    ``seed + e``, dropped or padded to a multiple of ``world_size``, every ``world_size``-th
    index from ``rank`` -- cut into batches of ``batch_size // world_size`` (``batch_size`` is
    the global batch). With ``drop_last`` an incomplete last batch of an epoch is dropped,
    otherwise it is kept (smaller). When a rank's share is smaller than one batch, the share is
    repeated to fill one batch per epoch.

    Args:
        num_samples: dataset size.
        batch_size: global batch size over all ranks.
        seed: shuffling seed.
        rank, world_size: this process's rank and the number of processes.
        drop_last: drop incomplete tails (of the sampler and of the last batch).
    """

    def __init__(
        self,
        num_samples: int,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = True,
    ) -> None:
        if num_samples < 1:
            raise ValueError(f"EpochSampler needs num_samples >= 1, got {num_samples}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"EpochSampler: invalid rank {rank} for world_size {world_size}")
        if batch_size < world_size:
            raise ValueError(
                f"EpochSampler: global batch_size {batch_size} is smaller than world_size "
                f"{world_size}; use a batch_size of at least one sample per rank"
            )
        self.num_samples, self.batch_size, self.seed = num_samples, batch_size, seed
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last
        self.per_rank_batch = batch_size // world_size
        self._sampler = DistributedSampler(
            range(num_samples),
            num_replicas=world_size,
            rank=rank,
            shuffle=True,
            seed=seed,
            drop_last=drop_last,
        )
        self.per_rank = max(1, len(self._sampler))
        if self.per_rank < self.per_rank_batch:
            self.steps_per_epoch = 1
        elif drop_last:
            self.steps_per_epoch = self.per_rank // self.per_rank_batch
        else:
            self.steps_per_epoch = -(-self.per_rank // self.per_rank_batch)
        self._epoch, self._indices = -1, torch.empty(0, dtype=torch.long)

    def epoch_indices(self, epoch: int) -> torch.Tensor:
        """This rank's sample indices of ``epoch`` (cached for the current epoch)."""
        if epoch != self._epoch:
            self._sampler.set_epoch(epoch)
            idx = torch.tensor(list(iter(self._sampler)), dtype=torch.long)
            if len(idx) == 0:  # world_size > num_samples with drop_last: reuse the permutation
                g = torch.Generator().manual_seed(self.seed + epoch)
                idx = torch.randperm(self.num_samples, generator=g)
            if len(idx) < self.per_rank_batch:
                idx = idx.repeat(-(-self.per_rank_batch // len(idx)))[: self.per_rank_batch]
            self._epoch, self._indices = epoch, idx
        return self._indices

    def batch_indices(self, step: int) -> torch.Tensor:
        """``LongTensor`` of this rank's batch at global ``step`` (0-based)."""
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        epoch, i = divmod(step, self.steps_per_epoch)
        b = self.per_rank_batch
        return self.epoch_indices(epoch)[i * b : (i + 1) * b]


def cosine_lr(optimizer: torch.optim.Optimizer, base_lr: float, step: int, total: int) -> float:
    """Set every group's learning rate to the cosine schedule's value at ``step``; return it."""
    lr = base_lr * 0.5 * (1 + math.cos(math.pi * step / max(total, 1)))
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def crash_hook(step: int) -> None:
    """Test hook: with ``SA3DHP_CRASH_AT_STEP=k`` the process dies right after step ``k``,
    without any cleanup (simulates a kill between checkpoints)."""
    if os.environ.get("SA3DHP_CRASH_AT_STEP") == str(step):
        os._exit(17)

"""Mocap clips as arrays, and the motion windows sampled from them (the motion prior's batches
and its held-out metric)."""

from __future__ import annotations

import numpy as np
import torch


def clip_array(poses: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Reshape frame-level mocap ``(F, 17, 3)`` into ``(C, L, 17, 3)`` (equal-length clips)."""
    ids, counts = np.unique(clip, return_counts=True)
    if len(set(counts.tolist())) != 1:
        raise ValueError("mocap clips must all have the same length")
    return poses.reshape(len(ids), int(counts[0]), *poses.shape[1:])


def sample_windows(
    clips: torch.Tensor,
    n: int,
    seq_len: int,
    generator: torch.Generator,
    slow_fraction: float,
    backward_fraction: float,
) -> torch.Tensor:
    """``(n, seq_len, 17, 3)`` windows of ``clips`` ``(C, L, 17, 3)`` at 30 or 15 FPS."""
    c, length = clips.shape[:2]
    stride = torch.where(torch.rand(n, generator=generator) < slow_fraction, 2, 1)
    span = (seq_len - 1) * stride + 1
    start = (torch.rand(n, generator=generator) * (length - span + 1)).long()
    which = torch.randint(c, (n,), generator=generator)
    t = start[:, None] + stride[:, None] * torch.arange(seq_len)[None]
    out = clips[which[:, None], t]
    back = torch.rand(n, generator=generator) < backward_fraction
    out[back] = out[back].flip(1)
    return out

"""The held-out part of the mocap split, defined once.

The pose prior, the motion prior, the relation networks, the relation scorer and ``evaluate
prior`` all hold out the same mocap clips: the last ``data.mocap_holdout`` share of clips (at
least one), in clip order. No stage trains on a clip another stage reports as held out.
"""

from __future__ import annotations

import numpy as np


def num_heldout(num_clips: int, fraction: float) -> int:
    """How many of ``num_clips`` clips are held out: ``round(num_clips * fraction)``, >= 1.

    Raises:
        ValueError: fewer than two clips, or a fraction that would hold out every clip.
    """
    n_val = max(1, round(num_clips * fraction))
    if n_val >= num_clips:
        raise ValueError(
            f"data.mocap_holdout={fraction} holds out {n_val} of {num_clips} mocap clips; "
            "use a smaller share or more clips (data.mocap.clips)"
        )
    return n_val


def heldout_mask(clip: np.ndarray, fraction: float) -> np.ndarray:
    """``(F,)`` bool: the frames of the held-out clips (the last ones in clip order)."""
    clip = np.asarray(clip)
    ids = clip[np.sort(np.unique(clip, return_index=True)[1])]  # clip ids in order
    return np.isin(clip, ids[-num_heldout(len(ids), fraction) :])


def split_frames(poses: np.ndarray, clip: np.ndarray, fraction: float):
    """Frame-level ``(train, held_out)`` of ``poses`` ``(F, ...)`` by clip."""
    mask = heldout_mask(clip, fraction)
    return poses[~mask], poses[mask]


def split_clips(clips, fraction: float):
    """Clip-level ``(train, held_out)`` of ``clips`` ``(C, T, ...)`` (array or tensor)."""
    n_val = num_heldout(len(clips), fraction)
    return clips[:-n_val], clips[-n_val:]

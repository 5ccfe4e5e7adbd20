"""Temporal smoothing of predicted poses over a track: the One-Euro filter (Casiez et al., CHI
2012), a low-pass filter whose cut-off rises with speed, so still poses lose their jitter while
fast motion keeps up."""

from __future__ import annotations

import math

import numpy as np


class OneEuro:
    """One-Euro filter of arrays sampled at ``fps``.

    Args:
        fps: sampling rate (frames per second).
        min_cutoff: cut-off frequency (Hz) at rest; lower smooths more.
        beta: how fast the cut-off rises with speed (per unit of the signal per second; the
            default suits poses in mm).
        d_cutoff: cut-off (Hz) of the speed estimate.
    """

    def __init__(
        self, fps: float, min_cutoff: float = 1.0, beta: float = 0.004, d_cutoff: float = 1.0
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps={fps}: must be positive")
        self.dt = 1.0 / fps
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.x: np.ndarray | None = None
        self.dx: np.ndarray | None = None

    def _alpha(self, cutoff: np.ndarray | float) -> np.ndarray | float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / self.dt)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The filtered value of the next sample ``x``."""
        x = np.asarray(x, np.float64)
        if self.x is None:
            self.x, self.dx = x, np.zeros_like(x)
            return x.copy()
        dx = (x - self.x) / self.dt
        a_d = self._alpha(self.d_cutoff)
        self.dx = a_d * dx + (1 - a_d) * self.dx
        a = self._alpha(self.min_cutoff + self.beta * np.abs(self.dx))
        self.x = a * x + (1 - a) * self.x
        return self.x.copy()


def smooth_tracks(
    values: np.ndarray, tracks: np.ndarray, frames: np.ndarray, fps: float, **kwargs
) -> np.ndarray:
    """One-Euro-filter ``values`` ``(N, ...)`` along each track, in frame order.

    ``tracks`` and ``frames`` ``(N,)`` give each row's track id and frame index; a track that
    skips frames restarts its filter. ``kwargs`` go to :class:`OneEuro`.
    """
    out = np.asarray(values, np.float64).copy()
    for t in np.unique(tracks):
        rows = np.flatnonzero(tracks == t)
        rows = rows[np.argsort(frames[rows], kind="stable")]
        filt, last = OneEuro(fps, **kwargs), None
        for r in rows:
            if last is not None and frames[r] != last + 1:
                filt = OneEuro(fps, **kwargs)
            out[r] = filt(out[r])
            last = frames[r]
    return out.astype(np.asarray(values).dtype)

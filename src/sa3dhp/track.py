"""A greedy IoU tracker: the same person keeps one track id across the frames of a video."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of boxes ``(N, 4)`` and ``(M, 4)`` (x0, y0, x1, y1): ``(N, M)``."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    # np.maximum rather than np.clip / np.prod: this runs once per video frame, on a few boxes
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.maximum(w, 0.0) * np.maximum(h, 0.0)
    area_a = np.maximum(a[:, 2] - a[:, 0], 0.0) * np.maximum(a[:, 3] - a[:, 1], 0.0)
    area_b = np.maximum(b[:, 2] - b[:, 0], 0.0) * np.maximum(b[:, 3] - b[:, 1], 0.0)
    union = area_a[:, None] + area_b[None, :] - inter  # >= inter >= 0; 0 only when inter is
    return inter / np.maximum(union, 1e-9)


@dataclass
class IoUTracker:
    """Match each frame's boxes to the live tracks, best IoU first.

    A box with IoU >= ``min_iou`` to where a track is expected (its last box moved on at the
    track's velocity: per frame, a running mean of its last moves) continues it; any other box
    starts a new track. A track unmatched for more than ``max_age`` frames ends.
    """

    min_iou: float = 0.3
    max_age: int = 10
    _boxes: dict[int, np.ndarray] = field(default_factory=dict)
    _age: dict[int, int] = field(default_factory=dict)
    _hits: dict[int, int] = field(default_factory=dict)
    _vel: dict[int, np.ndarray] = field(default_factory=dict)
    _next: int = 0

    def _expected(self, t: int, ahead: int) -> np.ndarray:
        return self._boxes[t] + self._vel.get(t, 0.0) * ahead

    def live(self) -> list[int]:
        """The ids of the tracks that have not ended."""
        return list(self._boxes)

    def missed(self, max_gap: int, min_hits: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """The tracks the last :meth:`update` did not match, missed for at most ``max_gap``
        frames after at least ``min_hits`` matched ones: ids ``(M,)`` and their expected boxes
        ``(M, 4)``, the last ones moved on at the track's velocity (what gap filling carries
        forward; a one-frame false positive is not carried)."""
        ids = [
            t
            for t, a in self._age.items()
            if 1 <= a <= max_gap and self._hits.get(t, 0) >= min_hits
        ]
        boxes = np.array([self._expected(t, self._age[t]) for t in ids], np.float64)
        return np.array(ids, np.int64), boxes.reshape(-1, 4)

    def update(self, boxes: np.ndarray) -> np.ndarray:
        """Track ids ``(N,)`` of this frame's boxes ``(N, 4)``."""
        ids = np.full(len(boxes), -1, np.int64)
        live = list(self._boxes)
        if live and len(boxes):
            expected = np.stack([self._expected(t, self._age[t] + 1) for t in live])
            scores = iou(boxes, expected)
            for flat in np.argsort(-scores, axis=None):
                i, j = np.unravel_index(flat, scores.shape)
                if scores[i, j] < self.min_iou:
                    break
                if ids[i] < 0 and live[j] not in ids:
                    ids[i] = live[j]
        for i in np.flatnonzero(ids < 0):
            ids[i] = self._next
            self._next += 1
        for t in list(self._boxes):
            self._age[t] += 1
        for i, t in enumerate(ids):
            box, t = np.asarray(boxes[i], np.float64), int(t)
            if t in self._boxes:  # per frame since it was last seen, averaged with the last one
                v = (box - self._boxes[t]) / self._age[t]
                self._vel[t] = 0.5 * (self._vel[t] + v) if t in self._vel else v
            self._boxes[t] = box
            self._age[t] = 0
            self._hits[t] = self._hits.get(t, 0) + 1
        for t in [t for t, a in self._age.items() if a > self.max_age]:
            del self._boxes[t], self._age[t], self._hits[t]
            self._vel.pop(t, None)
        return ids

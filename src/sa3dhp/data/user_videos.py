"""A user's unlabelled videos as target clips for adaptation (``sa3dhp adapt --videos``).

Each video goes through the person detector and tracker (:mod:`sa3dhp.people`); each track's
run of consecutive frames, resampled to 30 FPS, is cut into clips of ``frames`` crops that
overlap by half (the paper builds its target this way from person-detected Sports-1M videos).
Clips need at least 60 frames, which the ``slow`` relation reads.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from sa3dhp import media as media_mod
from sa3dhp.data.world import MIN_TARGET_CLIP
from sa3dhp.detect import Detector
from sa3dhp.people import people_in

FPS = 30.0


def _runs(frames: list[int]) -> list[list[int]]:
    """Split sorted frame indices into runs of consecutive ones."""
    runs: list[list[int]] = []
    for f in frames:
        if runs and f == runs[-1][-1] + 1:
            runs[-1].append(f)
        else:
            runs.append([f])
    return runs


def _windows(n: int, length: int) -> list[int]:
    """Starts of clips of ``length`` over ``n`` frames, half-overlapping (the last one flush)."""
    if n < length:
        return []
    starts = list(range(0, n - length + 1, max(1, length // 2)))
    if starts[-1] != n - length:
        starts.append(n - length)
    return starts


def clips_from_videos(
    paths: list[str],
    detector: Detector,
    crop_scale: float,
    size: int,
    frames: int = MIN_TARGET_CLIP,
) -> tuple[np.ndarray, dict]:
    """Unlabelled clips ``(C, frames, S, S, 3)`` uint8 of every person track in ``paths``.

    Returns:
        The clips and a report: per video its frames, fps, tracks and clips.

    Raises:
        MediaError: an input is not a readable video, or no track lasts ``frames`` frames.
    """
    if frames < MIN_TARGET_CLIP:
        raise ValueError(f"clips need >= {MIN_TARGET_CLIP} frames (slow relation), got {frames}")
    items = media_mod.collect(paths)
    for item in items:
        if item.kind != "video":
            raise media_mod.MediaError(f"{item.path}: adapt --videos takes videos, not images")
    clips, report = [], {}
    for item in items:
        fps = media_mod.video_info(item.path).fps
        step = fps / FPS  # keep every step-th frame: 30 FPS
        tracks: dict[int, dict[int, np.ndarray]] = {}
        n = 0
        for people in people_in(item, detector, crop_scale, size, max_people=0):
            n = people.index + 1
            for t, crop in zip(people.tracks, people.crops, strict=True):
                tracks.setdefault(int(t), {})[people.index] = crop
        made = 0
        for by_frame in tracks.values():
            for run in _runs(sorted(by_frame)):
                keep = [run[round(i * step)] for i in range(int((len(run) - 1) / step) + 1)]
                for s in _windows(len(keep), frames):
                    clips.append(np.stack([by_frame[f] for f in keep[s : s + frames]]))
                    made += 1
        report[item.name] = {"frames": n, "fps": fps, "tracks": len(tracks), "clips": made}
    if not clips:
        raise media_mod.MediaError(
            f"{', '.join(paths)}: no person was followed for {frames} frames at 30 FPS "
            f"({frames / FPS:.0f} s), so there are no target clips; use longer videos or "
            "another --detector"
        )
    return np.stack(clips), report


def file_digest(path: str | Path) -> str:
    """The first 16 hex digits of the sha256 of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def videos_digest(paths: list[str]) -> dict[str, str]:
    """``{file name: digest}`` of the videos ``paths`` name (provenance)."""
    return {item.name: file_digest(item.path) for item in media_mod.collect(paths)}

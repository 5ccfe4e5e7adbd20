"""The people of an image or video, frame by frame: detected (:mod:`sa3dhp.detect`), followed
across frames (:mod:`sa3dhp.track`) and cut into the model's crops. ``predict`` turns them into
poses; ``adapt --videos`` turns their tracks into unlabelled target clips."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from sa3dhp import media as media_mod
from sa3dhp.detect import BoxesDetector, Detector, crop_from_box, cut_crop
from sa3dhp.progress import progress_disabled
from sa3dhp.track import IoUTracker, iou


@dataclass
class FramePeople:
    """One frame's people: ``N`` boxes ``(N, 4)``, scores ``(N,)``, track ids ``(N,)``, the
    crops ``(N, S, S, 3)`` uint8, and ``filled`` ``(N,)`` bool: boxes that gap filling put
    where a track was expected (score 0), not detected in this frame."""

    index: int
    boxes: np.ndarray
    scores: np.ndarray
    tracks: np.ndarray
    crops: np.ndarray
    filled: np.ndarray


def gap_boxes(
    tracker: IoUTracker, boxes: np.ndarray, fill_gaps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Track ids ``(M,)`` and boxes ``(M, 4)`` that gap filling adds to a frame whose detections
    are ``boxes`` (after ``tracker.update(boxes)``): the tracks missed for up to ``fill_gaps``
    frames at their expected boxes, except where a detection overlaps one (IoU >= 0.1: the
    person found again, under a new track)."""
    kept, last = tracker.missed(fill_gaps)
    if len(boxes) and len(kept):
        alone = iou(last, boxes).max(axis=1) < 0.1
        kept, last = kept[alone], last[alone]
    return kept, last


def people_in(
    item: media_mod.Media,
    detector: Detector,
    crop_scale: float,
    size: int,
    max_people: int = 0,
    prefetch: int = 64,
    fill_gaps: int = 0,
) -> Iterator[FramePeople]:
    """The people of each frame of ``item`` (an image: one frame; tracks are per video).

    ``max_people`` keeps the detector's best N boxes per frame (0: all). ``fill_gaps`` (videos):
    a track seen in at least 3 frames and missed by the detector for up to N frames keeps its
    expected box in those frames (:func:`gap_boxes`), unless a detection of the frame overlaps
    that box (IoU >= 0.1: the person found again, under a new track). Frames
    are decoded ``prefetch`` ahead in a background thread. A tqdm bar follows a video's frames.
    """
    if isinstance(detector, BoxesDetector):
        detector.select(item.name)
    total = media_mod.video_info(item.path).frames if item.kind == "video" else 1
    tracker = IoUTracker(max_age=max(10, fill_gaps))
    bar = tqdm(
        total=total or None,
        desc=item.name,
        unit="frame",
        disable=item.kind == "image" or progress_disabled(),
    )
    try:
        frames = media_mod.prefetch(media_mod.read_frames(item), prefetch)
        for index, frame in enumerate(frames):
            boxes, scores = detector(frame, index)
            if max_people > 0:
                boxes, scores = boxes[:max_people], scores[:max_people]
            boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
            scores = np.asarray(scores, np.float32).reshape(-1)
            tracks = tracker.update(boxes) if item.kind == "video" else np.arange(len(boxes))
            filled = np.zeros(len(boxes), bool)
            if fill_gaps > 0 and item.kind == "video":
                kept, last = gap_boxes(tracker, boxes, fill_gaps)
                boxes = np.concatenate([boxes, last.astype(np.float32)])
                scores = np.concatenate([scores, np.zeros(len(kept), np.float32)])
                tracks = np.concatenate([tracks, kept])
                filled = np.concatenate([filled, np.ones(len(kept), bool)])
            crops = [cut_crop(frame, crop_from_box(b, crop_scale), size) for b in boxes]
            yield FramePeople(
                index=index,
                boxes=boxes,
                scores=scores,
                tracks=np.asarray(tracks, np.int64),
                crops=np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8),
                filled=filled,
            )
            bar.update(1)
    finally:
        bar.close()

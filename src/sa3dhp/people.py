"""The people of an image or video, frame by frame: detected (:mod:`sa3dhp.detect`), followed
across frames (:mod:`sa3dhp.track`) and cut into the model's crops. ``predict`` turns them into
poses; ``adapt --videos`` turns their tracks into unlabelled target clips."""

from __future__ import annotations

from collections import deque
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


#: Frames over which a track's tallest box sets its height (:class:`TrackHeights`): chosen on
#: the validation videos of ``benchmarks/hog_validation.py`` (1 s at 30 FPS).
TRACK_HEIGHT_FRAMES = 30


class TrackHeights:
    """A track's box, as tall as the track's tallest box over its last ``frames`` detected
    frames, with its bottom and centre line kept and its aspect ratio too.

    The crop convention sizes the crop by the person's *standing* height, but a detector boxes
    what it sees: when a person crouches, bends or sits, the box shrinks and drops, while the
    feet (the box's bottom) stay where they were. Over a short window a person's standing
    height in pixels changes little, so the tallest recent box is a better estimate of it than
    the frame's own. The window is short (:data:`TRACK_HEIGHT_FRAMES`) because a person walking
    away shrinks for real; ``frames=0`` keeps the detector's boxes as they are.
    """

    def __init__(self, frames: int = TRACK_HEIGHT_FRAMES) -> None:
        self.frames = int(frames)
        self._seen: dict[int, deque] = {}

    def __call__(
        self, boxes: np.ndarray, tracks: np.ndarray, detected: np.ndarray | None = None
    ) -> np.ndarray:
        """Boxes ``(N, 4)`` of tracks ``(N,)`` -> the same boxes made as tall as their track's
        tallest recent one. Only ``detected`` boxes ``(N,)`` bool (default: all) enter the
        track's history; the others (filled gaps) only read it."""
        boxes = np.array(boxes, np.float32).reshape(-1, 4)
        if self.frames <= 0 or len(boxes) == 0:
            return boxes
        detected = np.ones(len(boxes), bool) if detected is None else detected
        heights = boxes[:, 3] - boxes[:, 1]
        for i, t in enumerate(np.asarray(tracks).tolist()):
            seen = self._seen.setdefault(int(t), deque(maxlen=self.frames))
            if detected[i]:
                seen.append(float(heights[i]))
            tall = max(seen, default=0.0)
            if tall > heights[i] > 0:
                half_w = (boxes[i, 2] - boxes[i, 0]) * tall / heights[i] / 2
                cx = (boxes[i, 0] + boxes[i, 2]) / 2
                boxes[i] = [cx - half_w, boxes[i, 3] - tall, cx + half_w, boxes[i, 3]]
        return boxes

    def forget(self, live: list[int]) -> None:
        """Drop the histories of tracks not in ``live`` (ended tracks), so that a long video's
        memory stays bounded by its live tracks."""
        keep = set(live)
        for t in [t for t in self._seen if t not in keep]:
            del self._seen[t]


def people_in(
    item: media_mod.Media,
    detector: Detector,
    crop_scale: float,
    size: int,
    max_people: int = 0,
    prefetch: int = 64,
    fill_gaps: int = 0,
    track_height: int = TRACK_HEIGHT_FRAMES,
) -> Iterator[FramePeople]:
    """The people of each frame of ``item`` (an image: one frame; tracks are per video).

    ``max_people`` keeps the detector's best N boxes per frame (0: all). ``fill_gaps`` (videos):
    a track seen in at least 3 frames and missed by the detector for up to N frames keeps its
    expected box in those frames (:func:`gap_boxes`), unless a detection of the frame overlaps
    that box (IoU >= 0.1: the person found again, under a new track). ``track_height``
    (videos): a box is made as tall as its track's tallest box over its last N detections, its
    bottom kept (:class:`TrackHeights`; the tracker still matches the detector's own). Frames
    are decoded ``prefetch`` ahead in a background thread. A tqdm bar follows a video's frames.
    """
    if isinstance(detector, BoxesDetector):
        detector.select(item.name)
    total = media_mod.video_info(item.path).frames if item.kind == "video" else 1
    tracker = IoUTracker(max_age=max(10, fill_gaps))
    heights = TrackHeights(track_height if item.kind == "video" else 0)
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
            boxes = heights(boxes, tracks, ~filled)
            if item.kind == "video":
                heights.forget(tracker.live())
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

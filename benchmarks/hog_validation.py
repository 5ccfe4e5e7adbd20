"""Choose the HOG detector's settings on *validation* videos (seeds 310-321), never on the
videos of ``benchmarks/predict_video.py`` (seeds 200-211), which only report the chosen setting.

    .venv/bin/python benchmarks/hog_validation.py

Each video is 640x480 with a 300-pixel person crop, 120 frames, target look, as the benchmark's;
twelve of them (:data:`SEEDS`).
HOG runs once per frame and window step (every window with its SVM margin kept); the settings
are then applied offline, exactly as ``sa3dhp.detect.HogDetector`` and ``sa3dhp.people`` apply
them: a minimum margin, NMS and nested-box suppression, the IoU tracker, the gap filling of
``predict --fill-gaps N`` (a track missed for up to N frames keeps its last box) and the track
heights of ``predict --track-height N`` (a box as tall as its track's tallest over its last N
detections, its bottom kept; ``sa3dhp.people.TrackHeights``). A frame counts
as found when a box has IoU > 0.5 with the true box; a miss is either a frame with no box or
one whose boxes do not fit the person (all IoU <= 0.5). ``misses`` describes, for the detector's
default settings and its own boxes, the best box of each frame against the true one (its
height over the standing height, its centre's offset in standing heights: x right, y down) and
the person's joints (their vertical extent over the standing height), in found and in missed
frames; and the share of frames whose boxes fit the *tight* box of the joints instead (their
extent widened by 6 % of the standing height, 9 % above the head joint, 3 % below the
ankles), a detection benchmark's box rather than the crop convention's. Writes
``benchmarks/results/hog_validation.json``.
"""

from __future__ import annotations

import itertools
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sa3dhp.data.video import synthetic_video, write_synthetic_video
from sa3dhp.data.world import WorldConfig
from sa3dhp.detect import HogDetector, select_people
from sa3dhp.media import read_video
from sa3dhp.people import TrackHeights, gap_boxes
from sa3dhp.track import IoUTracker, iou

#: twelve videos (one subject and motion each): the share found varies from video to video with
#: the motion, and three videos (an earlier version: 310-312) measured 96 % where twelve give less
SEEDS = tuple(range(310, 322))


def _found(per_frame: list, truth: np.ndarray, min_score: float, gaps: int, tall: int) -> tuple:
    """Share of frames found, boxes filled, and the misses: frames with no box at all, and
    frames whose boxes all have IoU <= 0.5 with the true one (the box does not fit)."""
    tracker, found, filled, no_box = IoUTracker(max_age=max(10, gaps)), 0, 0, 0
    heights = TrackHeights(tall)
    for f, (boxes, scores) in enumerate(per_frame):
        boxes, _ = select_people(boxes, scores, min_score)
        ids = tracker.update(boxes)
        kept, extra = gap_boxes(tracker, boxes, gaps) if gaps else (ids[:0], np.zeros((0, 4)))
        filled += len(extra)
        allb = np.concatenate([boxes.reshape(-1, 4), extra.reshape(-1, 4)])
        detected = np.arange(len(allb)) < len(boxes)
        allb = heights(allb, np.concatenate([ids, kept]), detected)
        no_box += len(allb) == 0
        if len(allb) and iou(allb, truth[f : f + 1]).max() > 0.5:
            found += 1
    n = len(per_frame)
    return found / n, filled, no_box / n, (n - found - no_box) / n


def _quantiles(x: list) -> list:
    return [round(float(v), 2) for v in np.percentile(x, [10, 50, 90])]


def _misses(raw: list, truths: list, joints: list) -> dict:
    """How the detector's own best box sits against the true one, in found and missed frames."""
    rows: dict = {"found": [], "missed": []}
    tight_fit = frames = 0
    min_score = HogDetector().min_score
    for per_frame, truth, j2d in zip(raw, truths, joints, strict=True):
        for f, (boxes, scores) in enumerate(per_frame):
            boxes, _ = select_people(boxes, scores, min_score)
            frames += 1
            if len(boxes) == 0:
                continue
            t, h = truth[f], truth[f, 3] - truth[f, 1]
            lo, hi = j2d[f].min(0), j2d[f].max(0)
            tight = np.array(
                [lo[0] - 0.06 * h, lo[1] - 0.09 * h, hi[0] + 0.06 * h, hi[1] + 0.03 * h]
            )
            tight_fit += iou(boxes, tight[None]).max() > 0.5
            fit = iou(boxes, t[None])[:, 0]
            b = boxes[fit.argmax()]
            offset = ((b[:2] + b[2:]) - (t[:2] + t[2:])) / 2 / h
            rows["found" if fit.max() > 0.5 else "missed"].append(
                [(b[3] - b[1]) / h, offset[0], offset[1], (hi[1] - lo[1]) / h]
            )
    out: dict = {"tight_joint_box_found_share": round(tight_fit / frames, 3)}
    for k, v in rows.items():
        a = np.array(v).reshape(-1, 4)
        out[k] = {
            "frames": len(a),
            "box_height_over_standing_q10_50_90": _quantiles(a[:, 0]),
            "centre_dx_over_standing_q10_50_90": _quantiles(a[:, 1]),
            "centre_dy_over_standing_q10_50_90": _quantiles(a[:, 2]),
            "joints_height_over_standing_q10_50_90": _quantiles(a[:, 3]),
        }
    return out


def main() -> None:
    world = WorldConfig()
    out: dict = {"what": "HOG: share of validation frames where the person is found", "rows": []}
    tmp = tempfile.mkdtemp()
    for stride in (4, 8):
        det = HogDetector(stride=stride)
        raw, truths, joints, t0 = [], [], [], time.perf_counter()
        for seed in SEEDS:
            video = synthetic_video(world, 120, 640, 480, person_px=300, seed=seed)
            path = write_synthetic_video(video, Path(tmp) / f"v{seed}.mp4")["video"]
            raw.append([det.windows(f) for f in read_video(path)])  # as predict reads it
            truths.append(video.boxes)
            joints.append(video.joints_2d)
        seconds = time.perf_counter() - t0
        if stride == HogDetector().stride:
            out["misses"] = _misses(raw, truths, joints)
        grid = itertools.product((0.5, 0.25, 0.0), (0, 5, 15), (0, 30, 60))
        for min_score, gaps, tall in grid:
            res = [_found(r, t, min_score, gaps, tall) for r, t in zip(raw, truths, strict=True)]
            shares = [r[0] for r in res]
            out["rows"].append(
                {
                    "stride": stride,
                    "min_score": min_score,
                    "fill_gaps": gaps,
                    "track_height": tall,
                    "found_share": round(float(np.mean(shares)), 3),
                    "per_video": [round(s, 3) for s in shares],
                    "filled_boxes": sum(r[1] for r in res),
                    "missed_no_box_share": round(float(np.mean([r[2] for r in res])), 3),
                    "missed_box_not_fitting_share": round(float(np.mean([r[3] for r in res])), 3),
                }
            )
        out[f"hog_seconds_per_frame_stride{stride}"] = round(seconds / (120 * len(SEEDS)), 3)
    out["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    Path("benchmarks/results/hog_validation.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

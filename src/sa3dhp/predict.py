"""``sa3dhp predict``: 3D poses of the people in a user's images and videos.

Per input: read the frames (:mod:`sa3dhp.media`), find people and follow them across a video's
frames, cut the model's crop from each box (:mod:`sa3dhp.people`; in a background thread, a
batch ahead, where a processor is idle: :func:`background_helps`), predict the 17x3 pose in
batches (:mod:`sa3dhp.inference`), optionally smooth each track (:mod:`sa3dhp.smooth`), and
write, into ``--out``:

* ``predictions.jsonl``: one object per frame, ``{"source": file, "frame": i, "people":
  [{"track", "box": [x0, y0, x1, y1], "score", "filled", "pose_mm": 17 x [x, y, z],
  "joints_2d": 17 x [u, v]}]}`` (``filled``: the box was carried forward by ``--fill-gaps``);
* ``predictions.npz``: the same, one row per person and frame (:data:`NPZ_KEYS`);
* ``summary.json``: inputs, frames, people found, frames without a person, timings;
* with ``--render``: ``<name>.mp4`` per video and ``<name>.png`` per image (:mod:`sa3dhp.overlay`).

``pose_mm`` is root-relative (pelvis at the origin), camera frame: x right, y down, z forward.
``joints_2d`` maps the pose into the image under weak perspective: the box centre plus the
pose's x, y scaled by the box height over the person's height (from the predicted bone
lengths). Everything is written into a temporary folder first and moved into ``--out`` at the
end, so a failed run leaves nothing half-written there.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from sa3dhp import media as media_mod
from sa3dhp import skeleton as sk
from sa3dhp.data.motion.style import CANONICAL_HEIGHT_MM
from sa3dhp.detect import make_detector
from sa3dhp.device import autocast, resolve_device
from sa3dhp.inference import fold_batchnorm, load_image_model, predict_poses
from sa3dhp.people import TRACK_HEIGHT_FRAMES, people_in
from sa3dhp.smooth import smooth_tracks

log = logging.getLogger(__name__)

#: Arrays of ``predictions.npz``, one row per person and frame.
NPZ_KEYS = {
    "source": "(N,) str: the input file's name",
    "frame": "(N,) int: frame index in that input (0 for an image)",
    "track": "(N,) int: track id within that input",
    "box": "(N, 4) float: x0, y0, x1, y1 in image pixels",
    "score": "(N,) float: the detector's score (0 for a filled box)",
    "filled": "(N,) bool: the box is where a track was expected, over a detector miss",
    "pose_mm": "(N, 17, 3) float: root-relative pose, camera frame, mm",
    "joints_2d": "(N, 17, 2) float: the pose's joints in image pixels",
}
DEFAULT_CROP_SCALE = 1.7


@dataclass
class PredictOptions:
    """How ``sa3dhp predict`` finds people and what it writes."""

    detector: str = "hog"  # hog | torchvision | boxes | full
    boxes: str | None = None  # the boxes file of --detector boxes
    detector_weights: str | None = None  # a torchvision detector's state dict
    min_score: float | None = None  # detector score threshold (default: the detector's own)
    hog_stride: int = 4  # HOG's window step: 8 is about 3x faster (see detect.HogDetector)
    max_people: int = 0  # keep the best N boxes per frame (0: all)
    fill_gaps: int = 0  # videos: a track missed for up to N frames keeps its expected box
    track_height: int = TRACK_HEIGHT_FRAMES  # videos: a box as tall as its track's last N (0: off)
    batch: int = 64
    smooth: bool = False  # One-Euro filter over each track's poses
    render: bool = False
    device: str = "auto"
    crop_scale: float | None = None  # default: the model's own
    background: bool | None = None  # decode and crop in a background thread (None: auto)


@dataclass
class _Rows:
    source: list[str] = field(default_factory=list)
    frame: list[int] = field(default_factory=list)
    track: list[int] = field(default_factory=list)
    box: list[np.ndarray] = field(default_factory=list)
    score: list[float] = field(default_factory=list)
    filled: list[bool] = field(default_factory=list)
    pose_mm: list[np.ndarray] = field(default_factory=list)


def person_height_mm(poses: np.ndarray) -> np.ndarray:
    """Standing height ``(N,)`` mm of poses ``(N, 17, 3)``, from their bone lengths."""
    ratio = sk.bone_lengths(poses).sum(-1) / sk.canonical_bone_lengths().sum()
    return CANONICAL_HEIGHT_MM * ratio


def joints_to_image(poses: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Weak-perspective image joints ``(N, 17, 2)`` of poses ``(N, 17, 3)`` in boxes ``(N, 4)``."""
    if len(poses) == 0:
        return np.zeros((0, sk.NUM_JOINTS, 2), np.float32)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    scale = (boxes[:, 3] - boxes[:, 1]) / person_height_mm(poses)
    return (centre[:, None] + poses[..., :2] * scale[:, None, None]).astype(np.float32)


class _Model:
    """G and its decoder on a device, turning uint8 crops into poses in batches."""

    def __init__(self, path: str, device: str) -> None:
        self.device = resolve_device(device)
        if Path(path).is_dir():
            path = str(Path(path) / "checkpoint.safetensors")
        self.model, self.prior, _ = load_image_model(path, self.device)
        fold_batchnorm(self.model)  # the same function, fewer passes over the activations
        self.size = int(getattr(self.model, "crop_size", None) or 64)
        self.crop_scale = float(getattr(self.model, "crop_scale", None) or DEFAULT_CROP_SCALE)

    @torch.no_grad()
    def __call__(self, crops: np.ndarray) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, sk.NUM_JOINTS, 3), np.float32)
        x = torch.as_tensor(crops).permute(0, 3, 1, 2).to(self.device)
        with autocast(self.device, self.device.type == "cuda"):
            return predict_poses(self.model, self.prior, x).float().cpu().numpy()


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the OS has one)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores or 1


def background_helps(device: torch.device) -> bool:
    """Whether decoding, detection and cropping should run in a background thread beside G:
    only when G leaves a processor idle, i.e. G runs on a GPU, or torch's threads leave a CPU
    core free. Otherwise the thread only competes with G's: on two cores G ran about 20 %
    slower beside it and ``predict`` was no faster (``benchmarks/predict_overlap.py``)."""
    if device.type != "cpu":
        return True
    return usable_cores() > torch.get_num_threads()


def _fps(item: media_mod.Media) -> float:
    return media_mod.video_info(item.path).fps if item.kind == "video" else 30.0


def predict_files(
    inputs: list[str], model_path: str, out_dir: str | Path, opts: PredictOptions | None = None
) -> dict:
    """Predict every person in ``inputs`` (files, folders, globs) with the model at
    ``model_path`` (a model file or a G checkpoint) and write the outputs into ``out_dir``.

    Returns:
        The summary written to ``summary.json``.

    Raises:
        MediaError, DetectorError, CheckpointError: an input, the detector or the model cannot
            be used (nothing is written then).
    """
    opts = opts or PredictOptions()
    t0 = time.perf_counter()
    items = media_mod.collect(inputs)
    for item in items:
        if item.kind == "image":
            media_mod.read_image(item.path)  # fail on a bad image before any work
        else:
            media_mod.video_info(item.path)
    model = _Model(model_path, opts.device)
    crop_scale = opts.crop_scale or model.crop_scale
    detector = make_detector(
        opts.detector, opts.boxes, opts.detector_weights, opts.min_score, model.device,
        opts.hog_stride,
    )  # fmt: skip
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise media_mod.MediaError(f"--out {out_dir}: is a file, not a folder")
    tmp = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        summary = _run(items, model, detector, crop_scale, opts, tmp)
        summary["seconds"] = round(time.perf_counter() - t0, 2)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
        out_dir.mkdir(parents=True, exist_ok=True)
        for f in sorted(tmp.iterdir()):
            os.replace(f, out_dir / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary


def _run(
    items: list[media_mod.Media],
    model: _Model,
    detector,
    crop_scale: float,
    opts: PredictOptions,
    tmp: Path,
) -> dict:
    rows, fps_of, frames_of = _Rows(), {}, {}
    background = background_helps(model.device) if opts.background is None else opts.background
    no_person = 0
    t_model = 0.0
    for item in items:
        fps_of[item.name] = _fps(item)
        crops: list[np.ndarray] = []
        n = 0
        # where a processor is idle (background_helps), decoding, detection, tracking and
        # cropping run a batch ahead in a background thread while this one runs G (both
        # release the GIL in their native code); otherwise all of it runs here, in turn
        ahead = opts.batch if background else 0
        found = people_in(
            item, detector, crop_scale, model.size, opts.max_people, prefetch=ahead,
            fill_gaps=opts.fill_gaps, track_height=opts.track_height,
        )  # fmt: skip
        for people in media_mod.prefetch(found, ahead):
            if len(people.boxes) == 0:
                no_person += 1
            for i in range(len(people.boxes)):
                crops.append(people.crops[i])
                rows.source.append(item.name)
                rows.frame.append(people.index)
                rows.track.append(int(people.tracks[i]))
                rows.box.append(people.boxes[i])
                rows.score.append(float(people.scores[i]))
                rows.filled.append(bool(people.filled[i]))
            if len(crops) >= opts.batch:
                t1 = time.perf_counter()
                rows.pose_mm += list(model(np.stack(crops)))
                t_model += time.perf_counter() - t1
                crops = []
            n = people.index + 1
        if crops:
            t1 = time.perf_counter()
            rows.pose_mm += list(model(np.stack(crops)))
            t_model += time.perf_counter() - t1
        frames_of[item.name] = n
    arrays = _arrays(rows)
    if opts.smooth and len(arrays["frame"]):
        arrays["pose_mm"] = _smooth(arrays, fps_of)
    arrays["joints_2d"] = joints_to_image(arrays["pose_mm"], arrays["box"])
    np.savez(tmp / "predictions.npz", **arrays)
    _write_jsonl(tmp / "predictions.jsonl", arrays, frames_of)
    rendered = []
    if opts.render:
        from sa3dhp.overlay import render_outputs

        rendered = render_outputs(items, arrays, fps_of, tmp)
    total = sum(frames_of.values())
    return {
        "inputs": [str(i.path) for i in items],
        "frames": total,
        "people": len(arrays["frame"]),
        "frames_without_person": no_person,
        "filled_boxes": int(arrays["filled"].sum()),
        "fill_gaps": opts.fill_gaps,
        "track_height": opts.track_height,
        "detector": opts.detector,
        "crop_scale": crop_scale,
        "crop_size": model.size,
        "device": str(model.device),
        "smooth": opts.smooth,
        "model_seconds": round(t_model, 2),
        "background_thread": background,
        "rendered": rendered,
    }


def _arrays(rows: _Rows) -> dict[str, np.ndarray]:
    return {
        "source": np.array(rows.source, dtype=str),
        "frame": np.array(rows.frame, np.int64),
        "track": np.array(rows.track, np.int64),
        "box": np.array(rows.box, np.float32).reshape(-1, 4),
        "score": np.array(rows.score, np.float32),
        "filled": np.array(rows.filled, bool),
        "pose_mm": np.array(rows.pose_mm, np.float32).reshape(-1, sk.NUM_JOINTS, 3),
    }


def _smooth(arrays: dict[str, np.ndarray], fps_of: dict[str, float]) -> np.ndarray:
    poses = arrays["pose_mm"].copy()
    for name, fps in fps_of.items():
        sel = arrays["source"] == name
        if sel.any():
            poses[sel] = smooth_tracks(poses[sel], arrays["track"][sel], arrays["frame"][sel], fps)
    return poses


def _write_jsonl(path: Path, arrays: dict[str, np.ndarray], frames_of: dict[str, int]) -> None:
    # rounded and turned into Python lists once for all rows, not row by row
    cols = {
        "track": arrays["track"].tolist(),
        "box": np.round(arrays["box"].astype(np.float64), 1).tolist(),
        "score": np.round(arrays["score"].astype(np.float64), 3).tolist(),
        "filled": arrays["filled"].tolist(),
        "pose_mm": np.round(arrays["pose_mm"].astype(np.float64), 1).tolist(),
        "joints_2d": np.round(arrays["joints_2d"].astype(np.float64), 1).tolist(),
    }
    frame, source = arrays["frame"].tolist(), arrays["source"].tolist()
    with path.open("w") as f:
        for name, n in frames_of.items():
            by_frame: dict[int, list[int]] = {}
            for r in (r for r, s in enumerate(source) if s == name):
                by_frame.setdefault(frame[r], []).append(r)
            for i in range(n):
                people = [{k: v[r] for k, v in cols.items()} for r in by_frame.get(i, [])]
                f.write(json.dumps({"source": name, "frame": i, "people": people}) + "\n")

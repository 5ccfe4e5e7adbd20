"""A synthetic video with its ground truth: one person of the synthetic world moving across a
larger frame with a background, as a camera would film them.

For tests, benchmarks and trying ``sa3dhp predict`` without a video of one's own
(``sa3dhp data video --out person.mp4``). The person is drawn by the world's renderer
(:mod:`sa3dhp.data.render`) in the person-centred crop of :mod:`sa3dhp.camera` and composited,
through its silhouette, onto the frame where that crop lies, so cutting the frame at the true
crop box gives back the renderer's crop (outside the body, the frame's background shows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sa3dhp.camera import Intrinsics, project
from sa3dhp.data import motion as motion_mod
from sa3dhp.data import render as render_mod
from sa3dhp.data.world import WorldConfig, appearance_style, motion_style


@dataclass
class SyntheticVideo:
    """Frames and their truth (``T`` frames of ``H x W``)."""

    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    crops: np.ndarray  # (T, S, S, 3) uint8: the renderer's crops, resized to the world's size
    masks: np.ndarray  # (T, S, S) bool: the body's silhouette in those crops
    poses: np.ndarray  # (T, 17, 3) root-relative, camera frame, mm
    roots: np.ndarray  # (T, 3) pelvis, camera frame, mm
    boxes: np.ndarray  # (T, 4) x0, y0, x1, y1: the person box of the crop convention
    joints_2d: np.ndarray  # (T, 17, 2) image pixels (continuous)
    intrinsics: Intrinsics
    extent_mm: float  # crop side at the pelvis depth (crop_scale x height)
    fps: float = 30.0


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A static scene: a vertical gradient (sky to floor) with a few blurred blocks."""
    top, bottom = rng.uniform(40, 220, (2, 3))
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    img = np.broadcast_to(top + (bottom - top) * t, (height, width, 3)).astype(np.uint8).copy()
    for _ in range(int(rng.integers(3, 8))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        w = int(rng.integers(width // 12, width // 3))
        h = int(rng.integers(height // 12, height // 2))
        colour = tuple(int(c) for c in rng.uniform(30, 230, 3))
        cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), colour, -1)
    return cv2.GaussianBlur(img, (0, 0), 1.5)


def synthetic_video(
    cfg: WorldConfig | None = None,
    frames: int = 60,
    width: int = 320,
    height: int = 240,
    person_px: int | None = None,
    domain: str = "target",
    seed: int = 0,
) -> SyntheticVideo:
    """Render one person moving left to right across a ``width x height`` frame at 30 FPS.

    Args:
        cfg: the world whose subjects, motions and look to use (default: the demo's).
        frames: number of frames.
        person_px: side of the person's crop in the frame, pixels (default: ``cfg.size``, the
            crop size models are trained on; larger makes the person easier to detect).
        domain: ``source`` or ``target`` look and motion.
        seed: seed of the subject, motion, look and background.
    """
    cfg = cfg or WorldConfig()
    side = int(person_px or cfg.size)
    if side > min(width, height):
        raise ValueError(f"person_px={side} does not fit a {width}x{height} frame")
    rng = np.random.default_rng([seed, 424242])
    subject = motion_mod.sample_subject(rng)
    motion = motion_mod.generate_motion(subject, frames, motion_style(cfg, domain), rng)
    extent = cfg.crop_scale * float(subject.height_mm)
    depth = float(np.mean(cfg.depth_mm))
    intr = Intrinsics(focal=side * depth / extent, cx=width / 2.0, cy=height / 2.0)
    # the crop's top-left corner moves on whole pixels, so pasting is exact
    left = np.linspace(0, width - side, frames).round()
    top = np.full(frames, (height - side) // 2, dtype=np.float64)
    centre = np.stack([left + side / 2.0, top + side / 2.0], axis=1)
    roots = np.concatenate(
        [(centre - [intr.cx, intr.cy]) * depth / intr.focal, np.full((frames, 1), depth)], axis=1
    ).astype(np.float32)
    renderer = render_mod.Renderer(side, appearance_style(cfg, domain), seed=seed)
    appearance = renderer.sample_appearance(rng)
    crops, masks = renderer.render(motion.poses, roots, extent, appearance, rng, return_masks=True)
    background = _background(rng, width, height)
    video = np.repeat(background[None], frames, axis=0)
    for f in range(frames):
        x0, y0 = int(left[f]), int(top[f])
        patch = video[f, y0 : y0 + side, x0 : x0 + side]
        patch[masks[f]] = crops[f][masks[f]]
    person_h = side / cfg.crop_scale  # the standing height in pixels
    half = np.array([person_h / 4, person_h / 2])
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    if side != cfg.size:
        size = (cfg.size, cfg.size)
        crops = np.stack([cv2.resize(c, size, interpolation=cv2.INTER_AREA) for c in crops])
        masks = np.stack(
            [cv2.resize(m.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) for m in masks]
        ).astype(bool)
    return SyntheticVideo(
        frames=video,
        crops=crops,
        masks=masks,
        poses=motion.poses.astype(np.float32),
        roots=roots,
        boxes=boxes,
        joints_2d=project(roots[:, None] + motion.poses, intr).astype(np.float32),
        intrinsics=intr,
        extent_mm=extent,
    )


def write_synthetic_video(video: SyntheticVideo, path: str | Path) -> dict[str, Path]:
    """Write ``video`` as ``path`` (MP4), its true boxes as ``<stem>.boxes.json`` (the format of
    ``predict --detector boxes``) and its truth as ``<stem>.truth.npz`` (poses, roots, boxes,
    joints_2d, crops, focal, extent_mm)."""
    from sa3dhp.media import write_video

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video(path, video.frames, video.fps)
    boxes = path.with_name(f"{path.stem}.boxes.json")
    table = {str(i): [[round(float(v), 2) for v in b]] for i, b in enumerate(video.boxes)}
    boxes.write_text(json.dumps(table) + "\n")
    truth = path.with_name(f"{path.stem}.truth.npz")
    np.savez(
        truth,
        poses=video.poses,
        roots=video.roots,
        boxes=video.boxes,
        joints_2d=video.joints_2d,
        crops=video.crops,
        focal=video.intrinsics.focal,
        extent_mm=video.extent_mm,
    )
    return {"video": path, "boxes": boxes, "truth": truth}

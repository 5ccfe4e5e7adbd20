"""What ``sa3dhp predict --render`` draws (OpenCV, fast enough for every frame of a video).

Each output frame is the supplement's Figure 4 layout: the input frame with each person's box,
track id and 2D skeleton, then two square panels of the same height with the 3D poses seen from
the camera and from the side (turned 90 degrees about the vertical axis). Left limbs are blue,
right limbs red.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from sa3dhp import media as media_mod
from sa3dhp import skeleton as sk

_LEFT, _RIGHT, _CENTRE = (31, 119, 180), (214, 39, 40), (90, 90, 90)
_PANEL_BG = (245, 245, 245)


def _colour(child: int) -> tuple[int, int, int]:
    name = sk.JOINT_NAMES[child]
    if child in sk.LEFT_JOINTS or name.startswith("l_"):
        return _LEFT
    if child in sk.RIGHT_JOINTS or name.startswith("r_"):
        return _RIGHT
    return _CENTRE


def draw_skeleton(img: np.ndarray, joints: np.ndarray, thickness: int = 2) -> None:
    """Draw ``(17, 2)`` pixel joints on an RGB image, in place."""
    if not np.all(np.isfinite(joints)):
        return
    pts = np.round(joints).astype(np.int64)
    for c, par in enumerate(sk.PARENTS):
        if par >= 0:
            p, q = (int(v) for v in pts[par]), (int(v) for v in pts[c])
            cv2.line(img, tuple(p), tuple(q), _colour(c), thickness, cv2.LINE_AA)


def pose_panel(poses: np.ndarray, side: int, view: str, radius_mm: float = 1100.0) -> np.ndarray:
    """A ``side x side`` RGB panel of root-relative poses ``(N, 17, 3)`` mm, orthographic, seen
    from the ``camera`` (x right, y down) or from the ``side`` (z right, y down)."""
    panel = np.empty((side, side, 3), np.uint8)
    panel[:] = _PANEL_BG
    scale = side / (2 * radius_mm)
    for pose in poses:
        uv = pose[:, [0, 1]] if view == "camera" else pose[:, [2, 1]]
        draw_skeleton(panel, side / 2 + uv * scale, max(1, side // 120))
    label = "camera view" if view == "camera" else "side view"
    cv2.putText(panel, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (60, 60, 60), 1, cv2.LINE_AA)
    return panel


def render_frame(
    frame: np.ndarray,
    boxes: np.ndarray,
    tracks: np.ndarray,
    poses: np.ndarray,
    joints_2d: np.ndarray,
) -> np.ndarray:
    """One output frame: the annotated input beside the camera-view and side-view panels."""
    img = frame.copy()
    h = img.shape[0]
    thick = max(1, h // 240)
    for box, track, joints in zip(boxes, tracks, joints_2d, strict=True):
        x0, y0, x1, y1 = (round(float(v)) for v in box)
        cv2.rectangle(img, (x0, y0), (x1, y1), (255, 200, 0), thick)
        cv2.putText(
            img, f"#{int(track)}", (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
            (255, 200, 0), 1, cv2.LINE_AA,
        )  # fmt: skip
        draw_skeleton(img, joints, thick + 1)
    return np.concatenate([img, pose_panel(poses, h, "camera"), pose_panel(poses, h, "side")], 1)


def render_outputs(
    items: list[media_mod.Media], arrays: dict[str, np.ndarray], fps_of: dict[str, float], out: Path
) -> list[str]:
    """Write ``<name>.mp4`` per video and ``<name>.png`` per image into ``out``; their names."""
    written = []
    for item in items:
        sel = arrays["source"] == item.name

        def frame_of(i: int, img: np.ndarray, sel=sel) -> np.ndarray:
            rows = np.flatnonzero(sel & (arrays["frame"] == i))
            return render_frame(
                img, arrays["box"][rows], arrays["track"][rows], arrays["pose_mm"][rows],
                arrays["joints_2d"][rows],
            )  # fmt: skip

        stem = Path(item.name).stem
        if item.kind == "image":
            image = frame_of(0, media_mod.read_image(item.path))
            path = media_mod.write_image(out / f"{stem}.png", image)
        else:
            frames = [frame_of(i, f) for i, f in enumerate(media_mod.read_video(item.path))]
            path = media_mod.write_video(out / f"{stem}.mp4", frames, fps_of[item.name])
        written.append(path.name)
    return written

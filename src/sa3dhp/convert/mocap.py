"""What every mocap converter shares: world-frame joints -> our 17 joints in virtual cameras ->
a ``mocap`` split in the :mod:`sa3dhp.data.store` format.

A mocap format gives joint positions in its own world frame and units. The converter maps them
to our 17 joints (``(T, 17, 3)`` mm, world frame with a known up axis), then:

1. resamples each sequence to ``fps`` (linear interpolation of joint positions);
2. cuts it into clips of ``clip_frames`` frames (the store's mocap clips have one length; the
   remainder is dropped);
3. places each clip in a virtual camera: yaw uniform in ``yaw_deg``, elevation in
   ``elevation_deg`` (positive: the camera looks down), at ``distance_mm`` from the clip's mean
   pelvis position; the pose becomes root-relative in the camera frame (x right, y down,
   z forward), and the pelvis position is kept as ``roots``.

The defaults cover the target cameras of the synthetic world (its depths are 3.5-7 m and its
elevations stay within about 30 degrees).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sa3dhp import skeleton as sk


class ConvertError(ValueError):
    """An input cannot be converted (one line naming the file and what was expected)."""


@dataclass
class MocapConvertConfig:
    """How mocap sequences become camera-frame clips."""

    fps: float = 30.0
    clip_frames: int = 60
    yaw_deg: list[float] = field(default_factory=lambda: [0.0, 360.0])
    elevation_deg: list[float] = field(default_factory=lambda: [-10.0, 30.0])
    distance_mm: list[float] = field(default_factory=lambda: [3500.0, 7000.0])
    seed: int = 0


def axis_rotation(axis: str, deg: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` right-handed rotations about ``axis`` (X, Y or Z) by ``deg`` ``(...)``."""
    t = np.deg2rad(np.asarray(deg, dtype=np.float64))
    c, s = np.cos(t), np.sin(t)
    i = "XYZ".index(axis)
    j, k = (i + 1) % 3, (i + 2) % 3
    out = np.zeros((*t.shape, 3, 3))
    out[..., i, i] = 1.0
    out[..., j, j], out[..., k, k] = c, c
    out[..., j, k], out[..., k, j] = -s, s
    return out


def matmul3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched ``a @ b`` of ``(..., 3, 3)`` matrices."""
    return np.matmul(a, b)


def input_files(inputs: list[str], suffixes: tuple[str, ...], what: str) -> list[Path]:
    """The files ``inputs`` name: files as given, folders searched (recursively, sorted) for
    names ending in ``suffixes``.

    Raises:
        ConvertError: an input that does not exist, or no file at all.
    """
    files: list[Path] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.name.lower().endswith(suffixes))
        elif path.is_file():
            files.append(path)
        else:
            raise ConvertError(f"{path}: no such file or folder")
    if not files:
        raise ConvertError(f"{', '.join(inputs)}: no {' / '.join(suffixes)} files for {what}")
    return files


def resample(joints: np.ndarray, src_fps: float, fps: float) -> np.ndarray:
    """``(T, J, 3)`` joints sampled at ``src_fps`` -> at ``fps``, linearly interpolated."""
    if src_fps <= 0:
        raise ConvertError(f"frame rate {src_fps}: must be positive")
    n = len(joints)
    if n < 2 or abs(src_fps - fps) < 1e-3 * fps:  # e.g. Frame Time 0.0333333 is 30 FPS
        return joints.astype(np.float64)
    t = np.arange(0.0, (n - 1) / src_fps + 1e-9, 1.0 / fps) * src_fps
    lo = np.clip(np.floor(t).astype(np.int64), 0, n - 1)
    hi = np.clip(lo + 1, 0, n - 1)
    w = (t - lo)[:, None, None]
    return joints[lo] * (1 - w) + joints[hi] * w


def to_y_down(joints: np.ndarray, up: str) -> np.ndarray:
    """World joints with ``up`` = ``y`` or ``z`` -> a frame with y down (x kept, right-handed)."""
    if up == "y":
        return joints * np.array([1.0, -1.0, -1.0])
    if up == "z":
        return np.stack([joints[..., 0], -joints[..., 2], joints[..., 1]], axis=-1)
    raise ConvertError(f"up axis {up!r}: use y or z")


def _camera(yaw: float, elevation: float) -> np.ndarray:
    """World (y down) -> camera rotation: turn about the vertical by ``yaw``, then tilt down."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    ry = np.array([[cy, 0.0, -sy], [0.0, 1.0, 0.0], [sy, 0.0, cy]])
    ce, se = np.cos(elevation), np.sin(elevation)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, ce, -se], [0.0, se, ce]])
    return rx @ ry


def place_in_cameras(
    clips: list[np.ndarray], cfg: MocapConvertConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Clips of world joints ``(L, 17, 3)`` mm (y down) -> root-relative camera-frame poses
    ``(C, L, 17, 3)`` and pelvis positions ``(C, L, 3)``, one random camera per clip."""
    rng = np.random.default_rng([cfg.seed, 5150])
    poses, roots = [], []
    for clip in clips:
        yaw = np.deg2rad(rng.uniform(*cfg.yaw_deg))
        elev = np.deg2rad(rng.uniform(*cfg.elevation_deg))
        rot = _camera(yaw, elev)
        centre = clip[:, sk.PELVIS].mean(axis=0)
        cam = (clip - centre) @ rot.T + np.array([0.0, 0.0, rng.uniform(*cfg.distance_mm)])
        roots.append(cam[:, sk.PELVIS])
        poses.append(cam - cam[:, sk.PELVIS : sk.PELVIS + 1])
    return np.stack(poses).astype(np.float32), np.stack(roots).astype(np.float32)


def check_joints(joints: np.ndarray, name: str) -> np.ndarray:
    """Refuse NaN or infinite joints, and poses whose legs are not an adult's (unit errors)."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (sk.NUM_JOINTS, 3):
        raise ConvertError(f"{name}: expected (T, 17, 3) joints, got {joints.shape}")
    if not np.all(np.isfinite(joints)):
        bad = int(np.flatnonzero(~np.isfinite(joints).all(axis=(1, 2)))[0])
        raise ConvertError(f"{name}: frame {bad} has NaN or infinite joints")
    femur = np.linalg.norm(joints[:, sk.L_KNEE] - joints[:, sk.L_HIP], axis=-1).mean()
    if not 250.0 <= femur <= 700.0:
        raise ConvertError(
            f"{name}: the femur measures {femur:.1f} mm after conversion (an adult's is "
            "350-550 mm): the units are wrong; give --units"
        )
    return joints


def mocap_split(
    sequences: list[tuple[str, np.ndarray, float]], cfg: MocapConvertConfig
) -> tuple[dict[str, np.ndarray], dict]:
    """``[(name, world joints (T, 17, 3) mm y-down, fps)]`` -> the arrays and meta of a labelled
    pose-only split (clips of ``cfg.clip_frames`` at ``cfg.fps``)."""
    clips, subject, names = [], [], []
    for s, (name, joints, fps) in enumerate(sequences):
        joints = resample(check_joints(joints, name), fps, cfg.fps)
        for start in range(0, len(joints) - cfg.clip_frames + 1, cfg.clip_frames):
            clips.append(joints[start : start + cfg.clip_frames])
            subject.append(s)
        names.append(name)
    if not clips:
        raise ConvertError(
            f"{', '.join(n for n, _, _ in sequences)}: no sequence lasts {cfg.clip_frames} "
            f"frames at {cfg.fps:g} FPS; use longer takes or a smaller clip_frames"
        )
    poses, roots = place_in_cameras(clips, cfg)
    c, length = poses.shape[:2]
    arrays = {
        "poses": poses.reshape(c * length, sk.NUM_JOINTS, 3),
        "roots": roots.reshape(c * length, 3),
        "clip": np.repeat(np.arange(c), length),
        "frame": np.tile(np.arange(length), c),
        "action": np.full(c * length, -1),
        "subject": np.repeat(np.array(subject), length),
    }
    meta = {
        "split": "mocap",
        "labelled": True,
        "fps": cfg.fps,
        "image_size": None,
        "clip_length": cfg.clip_frames,
        "actions": [],
        "subjects": names,
    }
    return arrays, meta

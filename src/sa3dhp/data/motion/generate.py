"""Clips: chained, blended action segments, balance over the feet, whole-body orientation and the
camera elevation (:func:`generate_motion`)."""

from __future__ import annotations

import numpy as np

from sa3dhp import skeleton as sk
from sa3dhp.camera import inplane_rotation
from sa3dhp.data.motion.actions import _segment_angles, _smooth01
from sa3dhp.data.motion.body import (
    ANGLE_NAMES,
    _rot_x,
    _rot_y,
    _rot_z,
    clip_angles,
    pose_from_angles,
)
from sa3dhp.data.motion.style import ACTIONS, FPS, Motion, MotionStyle, Subject

#: Segment mass fractions (Dempster-like) for the centre of mass: (joint a, joint b, mass, t),
#: the segment's centre of mass at ``a + t (b - a)``.
_MASSES: tuple[tuple[int, int, float, float], ...] = (
    (sk.PELVIS, sk.SPINE, 0.14, 0.5),
    (sk.SPINE, sk.THORAX, 0.30, 0.5),
    (sk.NECK, sk.HEAD, 0.08, 0.3),
    (sk.L_SHOULDER, sk.L_ELBOW, 0.028, 0.45),
    (sk.R_SHOULDER, sk.R_ELBOW, 0.028, 0.45),
    (sk.L_ELBOW, sk.L_WRIST, 0.022, 0.6),
    (sk.R_ELBOW, sk.R_WRIST, 0.022, 0.6),
    (sk.L_HIP, sk.L_KNEE, 0.10, 0.45),
    (sk.R_HIP, sk.R_KNEE, 0.10, 0.45),
    (sk.L_KNEE, sk.L_ANKLE, 0.06, 0.6),
    (sk.R_KNEE, sk.R_ANKLE, 0.06, 0.6),
)
_BALANCE_LIMITS_DEG = {"pitch": (-35.0, 75.0), "roll": (-25.0, 25.0)}
_BALANCE_SMOOTH_S = 0.2  # std of the Gaussian low-pass on the balance tilt
_FOOT_FORWARD_MM = 40.0  # centre of the foot's support, ahead of the ankle

#: How much an action turns the body (multiplies a random yaw rate up to ``yaw_rate_deg_s``).
_TURNING: dict[str, float] = dict.fromkeys(ACTIONS, 0.25) | {"walk": 1.0, "run": 1.0}
#: Dancers spin on the spot at up to this rate (deg/s).
_DANCE_SPIN_DEG_S = 120.0
#: Peak angular rate (deg/s) a transition may add; longer transitions for bigger pose changes.
_BLEND_RATE_DEG_S = 120.0
_TRANSITION_MAX_S = 1.5


# --------------------------------------------------------------------------------------------
# whole-body orientation
# --------------------------------------------------------------------------------------------


def _gaussian_smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Low-pass a ``(T,)`` signal with a Gaussian (edges padded by reflection)."""
    radius = int(3 * sigma_frames)
    if radius < 1 or len(x) < 2:
        return x
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    return np.convolve(np.pad(x, radius, mode="reflect"), k / k.sum(), mode="valid")


def _balance(body: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Tilt ``(T, 3, 3)`` putting the centre of mass of body-frame poses ``(T, 17, 3)`` above
    the supporting ankle(s) (the lower one when one foot is lifted), scaled by ``weight`` (T,)."""
    com = sum(m * (body[:, i] + f * (body[:, j] - body[:, i])) for i, j, m, f in _MASSES)
    com = com / sum(m for *_, m, _ in _MASSES)
    ankles = body[:, [sk.L_ANKLE, sk.R_ANKLE]] + np.array([0.0, 0.0, _FOOT_FORWARD_MM])
    tilt = np.broadcast_to(np.eye(3), (len(body), 3, 3))
    for _ in range(2):  # the lower ankle depends on the tilt: refine once
        height = np.einsum("tj,tkj->tk", tilt[:, 1], ankles)  # world up = row 1 of tilt
        w_left = 1.0 / (1.0 + np.exp(np.clip((height[:, 0] - height[:, 1]) / 60.0, -50, 50)))
        support = w_left[:, None] * ankles[:, 0] + (1 - w_left[:, None]) * ankles[:, 1]
        v = com - support
        pitch = np.degrees(np.arctan2(v[:, 2], v[:, 1]))
        roll = np.degrees(np.arctan2(v[:, 0], np.hypot(v[:, 1], v[:, 2])))
        pitch = np.clip(weight * pitch, *_BALANCE_LIMITS_DEG["pitch"])
        roll = np.clip(weight * roll, *_BALANCE_LIMITS_DEG["roll"])
        sigma = _BALANCE_SMOOTH_S * FPS
        pitch, roll = _gaussian_smooth(pitch, sigma), _gaussian_smooth(roll, sigma)
        tilt = _rot_z(np.deg2rad(roll)) @ _rot_x(np.deg2rad(-pitch))
    return tilt


def _orientation(
    t: np.ndarray, style: MotionStyle, rng: np.random.Generator, yaw: np.ndarray
) -> np.ndarray:
    """Body -> camera rotations ``(T, 3, 3)``: yaw, small pitch/roll, camera elevation, and
    the camera's roll about its optical axis (drawn only where ``camera_roll_deg`` is not
    ``(0, 0)``, so that other worlds keep their random stream)."""
    wob = np.deg2rad(style.pitch_roll_deg)
    pitch = rng.uniform(-wob, wob) + 0.3 * wob * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t)
    roll = rng.uniform(-wob, wob) + 0.3 * wob * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t)
    world = _rot_y(yaw) @ _rot_x(pitch) @ _rot_z(roll)
    elevation = _rot_x(np.deg2rad(rng.uniform(*style.elevation_deg)))  # camera-frame x axis
    camera = elevation @ sk.BODY_TO_CAMERA.astype(np.float64)
    if style.camera_roll_deg != (0.0, 0.0):
        camera = inplane_rotation(rng.uniform(*style.camera_roll_deg)) @ camera
    return camera[None] @ world


# --------------------------------------------------------------------------------------------
# clips
# --------------------------------------------------------------------------------------------


def _segments(n: int, style: MotionStyle, rng: np.random.Generator) -> list[tuple[int, int, str]]:
    """Consecutive ``(start, end, action)`` covering ``[0, n)``, none shorter than the minimum
    segment length unless the clip itself is shorter."""
    names = [k for k, w in style.action_weights.items() if w > 0]
    w = np.array([style.action_weights[k] for k in names], dtype=np.float64)
    w /= w.sum()
    shortest = max(1, round(style.segment_seconds[0] * FPS))
    bounds = [0]
    while bounds[-1] < n:
        bounds.append(bounds[-1] + max(1, round(rng.uniform(*style.segment_seconds) * FPS)))
    bounds[-1] = n
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < shortest:
        del bounds[-2]
    picks = rng.choice(len(names), size=len(bounds) - 1, p=w)
    return [(s, e, names[k]) for s, e, k in zip(bounds[:-1], bounds[1:], picks, strict=True)]


def generate_motion(
    subject: Subject, num_frames: int, style: MotionStyle, rng: np.random.Generator
) -> Motion:
    """A clip of ``num_frames`` frames at 30 FPS (deterministic for a given ``rng`` state).

    Args:
        subject: bone lengths of the person (:func:`sample_subject`).
        num_frames: ``T >= 1``.
        style: the domain's :class:`MotionStyle`.
        rng: source of all randomness.

    Returns:
        :class:`Motion` with poses ``(T, 17, 3)``, actions ``(T,)`` and angles ``{name: (T,)}``.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    n = int(num_frames)
    t = np.arange(n) / FPS
    segs = _segments(n, style, rng)
    half = int(np.ceil(_TRANSITION_MAX_S * FPS / 2)) + 1
    channels = (*ANGLE_NAMES, "balance")
    # angles of each segment over its own span widened by half the longest transition
    spans, seg_angles = [], []
    for s, e, name in segs:
        lo, hi = max(0, s - half), min(n, e + half)
        spans.append((lo, hi))
        seg_angles.append(_segment_angles(name, t[lo:hi], style, rng))
    # blend weights: smooth ramps centred on each boundary, longer for larger pose changes
    ramps = []  # (boundary frame, width in frames) between segments k and k + 1
    for k in range(len(segs) - 1):
        b = segs[k + 1][0]
        prev, nxt = seg_angles[k], seg_angles[k + 1]
        diff = max(abs(prev[c][b - spans[k][0]] - nxt[c][b - spans[k + 1][0]]) for c in ANGLE_NAMES)
        width = max(style.transition_seconds, 0.5 * np.pi * diff / _BLEND_RATE_DEG_S)
        width = min(width * FPS, _TRANSITION_MAX_S * FPS, segs[k][1] - segs[k][0])
        ramps.append((b, max(1.0, min(width, segs[k + 1][1] - segs[k + 1][0]))))

    def ramp(k: int, f: np.ndarray) -> np.ndarray:  # 0 -> 1 across boundary k
        b, width = ramps[k]
        return _smooth01(np.pi * np.clip((f - b + width / 2) / width, 0.0, 1.0))

    angles = {c: np.zeros(n) for c in channels}
    actions = np.zeros(n, dtype=np.int8)
    yaw_rate = np.zeros(n)
    for k, ((s, e, name), (lo, hi)) in enumerate(zip(segs, spans, strict=True)):
        f = np.arange(lo, hi, dtype=np.float64)
        weight = np.ones(hi - lo)
        if k > 0:
            weight *= ramp(k - 1, f)
        if k < len(segs) - 1:
            weight *= 1.0 - ramp(k, f)
        for c in channels:
            angles[c][lo:hi] += weight * seg_angles[k][c]
        actions[s:e] = ACTIONS.index(name)
        rate = rng.uniform(-1, 1) * style.yaw_rate_deg_s * _TURNING[name]
        if name == "dance":
            rate = rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 1.0) * _DANCE_SPIN_DEG_S
        yaw_rate[lo:hi] += weight * rate
    balance = np.clip(angles.pop("balance"), 0.0, 1.0)
    angles = clip_angles(angles)
    body = pose_from_angles(angles, subject.bone_lengths)
    yaw = rng.uniform(0, 2 * np.pi) + np.deg2rad(np.cumsum(yaw_rate) / FPS)
    rotation = _orientation(t, style, rng, yaw) @ _balance(body, balance)
    cam = np.einsum("tij,tkj->tki", rotation, body)
    return Motion(
        poses=cam.astype(np.float32),
        actions=actions,
        angles={k: v.astype(np.float32) for k, v in angles.items()},
    )

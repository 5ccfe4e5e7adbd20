"""Is a pose humanly possible? Checks computed from the 17 joint positions alone.

Used to test the synthetic world's generator, to judge poses decoded from random latents by the
pose prior, and to score relations. Every threshold is in :data:`LIMITS` (degrees / mm), set
with a margin around what the generator's anatomical limits produce. Hip angles are measured in
the torso frame of :mod:`sa3dhp.kinematics` (*left* = right hip -> left hip, *up* = pelvis ->
thorax made orthogonal, *forward* = left x up), which stays well defined for poses decoded by a
network (a frame from the small pelvis-to-hip offset would not).

What joints cannot tell: a hinge's twist. A knee bending forward is caught (its hinge axis
would point to the body's right), but an elbow bent "backwards" looks like a normal bend with
the upper arm twisted, so elbows are only checked for over-flexion; the generator itself never
extends an elbow past straight.
"""

from __future__ import annotations

import numpy as np

from sa3dhp import skeleton as sk

#: Thresholds (inclusive bounds). Angles in degrees, distances in mm.
LIMITS: dict[str, float] = {
    "knee_max_flexion": 160.0,  # angle between thigh and shin
    "knee_hinge_min_cos": -0.2,  # cos(knee axis, pelvis left axis); < 0 = knee bent forward
    "knee_hinge_min_flexion": 20.0,  # the hinge axis is only defined once the knee bends
    "elbow_max_flexion": 160.0,
    "hip_min_flexion": -40.0,  # thigh behind the torso (extension), torso frame
    "hip_max_flexion": 170.0,  # knee to chest when bending over
    "hip_min_abduction": -20.0,  # thigh across the midline (adduction)
    "hip_max_abduction": 60.0,
    "spine_max_bend": 50.0,  # angle between pelvis->spine and spine->thorax
    "neck_max_bend": 45.0,  # angle between spine->thorax and neck->head
    "legs_min_distance": 40.0,  # centre lines of the two legs' segments
    "arm_torso_min_distance": 45.0,  # arm segments vs the pelvis->thorax centre line
}

_LEG_SEGMENTS = {
    "l_thigh": (sk.L_HIP, sk.L_KNEE),
    "l_shin": (sk.L_KNEE, sk.L_ANKLE),
    "r_thigh": (sk.R_HIP, sk.R_KNEE),
    "r_shin": (sk.R_KNEE, sk.R_ANKLE),
}
_ARM_SEGMENTS = {
    "l_forearm": (sk.L_ELBOW, sk.L_WRIST),
    "r_forearm": (sk.R_ELBOW, sk.R_WRIST),
    "l_upper_arm": (sk.L_SHOULDER, sk.L_ELBOW),
    "r_upper_arm": (sk.R_SHOULDER, sk.R_ELBOW),
}


def _check(poses: np.ndarray) -> np.ndarray:
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim == 2:
        poses = poses[None]
    if poses.ndim != 3 or poses.shape[1:] != (sk.NUM_JOINTS, 3):
        raise ValueError(f"poses must have shape (N, 17, 3), got {poses.shape}")
    if not np.all(np.isfinite(poses)):
        raise ValueError("poses contain NaN or infinite values")
    return poses


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors ``(..., 3)``."""
    cos = (_unit(a) * _unit(b)).sum(-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def torso_axes(poses: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left, up, forward unit axes ``(N, 3)`` of the torso frame."""
    left = _unit(poses[:, sk.L_HIP] - poses[:, sk.R_HIP])
    up = poses[:, sk.THORAX] - poses[:, sk.PELVIS]
    up = _unit(up - (up * left).sum(-1, keepdims=True) * left)
    return left, up, np.cross(left, up)


def joint_angle_limits(poses: np.ndarray) -> dict[str, np.ndarray]:
    """Each check, ``(N,)`` bool, True where the pose is within the limit."""
    p = _check(poses)
    left, up, fwd = torso_axes(p)
    out: dict[str, np.ndarray] = {}
    knee_ok, hinge_ok, hip_ok = [], [], []
    for side, (hip, knee, ankle) in (
        ("l", (sk.L_HIP, sk.L_KNEE, sk.L_ANKLE)),
        ("r", (sk.R_HIP, sk.R_KNEE, sk.R_ANKLE)),
    ):
        thigh, shin = p[:, knee] - p[:, hip], p[:, ankle] - p[:, knee]
        flexion = _angle(thigh, shin)
        knee_ok.append(flexion <= LIMITS["knee_max_flexion"])
        axis = _unit(np.cross(thigh, shin))
        bent = flexion > LIMITS["knee_hinge_min_flexion"]
        hinge_ok.append(~bent | ((axis * left).sum(-1) >= LIMITS["knee_hinge_min_cos"]))
        d = _unit(thigh)
        sgn = 1.0 if side == "l" else -1.0
        hip_flex = np.degrees(np.arctan2((d * fwd).sum(-1), -(d * up).sum(-1)))
        hip_abd = np.degrees(np.arcsin(np.clip(sgn * (d * left).sum(-1), -1, 1)))
        hip_ok.append(
            (hip_flex >= LIMITS["hip_min_flexion"])
            & (hip_flex <= LIMITS["hip_max_flexion"])
            & (hip_abd >= LIMITS["hip_min_abduction"])
            & (hip_abd <= LIMITS["hip_max_abduction"])
        )
    out["knee_flexion"] = knee_ok[0] & knee_ok[1]
    out["knee_hinge"] = hinge_ok[0] & hinge_ok[1]
    out["hip"] = hip_ok[0] & hip_ok[1]
    elbows = [
        _angle(p[:, e] - p[:, s], p[:, w] - p[:, e])
        for s, e, w in (
            (sk.L_SHOULDER, sk.L_ELBOW, sk.L_WRIST),
            (sk.R_SHOULDER, sk.R_ELBOW, sk.R_WRIST),
        )
    ]
    out["elbow_flexion"] = (elbows[0] <= LIMITS["elbow_max_flexion"]) & (
        elbows[1] <= LIMITS["elbow_max_flexion"]
    )
    spine = _angle(p[:, sk.SPINE] - p[:, sk.PELVIS], p[:, sk.THORAX] - p[:, sk.SPINE])
    out["spine"] = spine <= LIMITS["spine_max_bend"]
    neck = _angle(p[:, sk.THORAX] - p[:, sk.SPINE], p[:, sk.HEAD] - p[:, sk.NECK])
    out["neck"] = neck <= LIMITS["neck_max_bend"]
    return out


def segment_distance(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """Minimum distance between segments ``[a0, a1]`` and ``[b0, b1]``: ``(N, 3)`` -> ``(N,)``."""
    d1, d2, r = a1 - a0, b1 - b0, a0 - b0
    a, e = (d1 * d1).sum(-1), (d2 * d2).sum(-1)
    b, c, f = (d1 * d2).sum(-1), (d1 * r).sum(-1), (d2 * r).sum(-1)
    denom = np.maximum(a * e - b * b, 1e-12)
    s = np.clip((b * f - c * e) / denom, 0.0, 1.0)
    t = np.clip((b * s + f) / np.maximum(e, 1e-12), 0.0, 1.0)
    s = np.clip((b * t - c) / np.maximum(a, 1e-12), 0.0, 1.0)
    return np.linalg.norm(a0 + d1 * s[:, None] - (b0 + d2 * t[:, None]), axis=-1)


def limb_intersections(poses: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: True where limbs pass through each other (or through the torso)."""
    p = _check(poses)
    hit = np.zeros(len(p), dtype=bool)
    for a in ("l_thigh", "l_shin"):
        for b in ("r_thigh", "r_shin"):
            (i0, i1), (j0, j1) = _LEG_SEGMENTS[a], _LEG_SEGMENTS[b]
            d = segment_distance(p[:, i0], p[:, i1], p[:, j0], p[:, j1])
            hit |= d < LIMITS["legs_min_distance"]
    for i0, i1 in _ARM_SEGMENTS.values():
        d = segment_distance(p[:, i0], p[:, i1], p[:, sk.PELVIS], p[:, sk.THORAX])
        hit |= d < LIMITS["arm_torso_min_distance"]
    return hit


def is_plausible(poses: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: every joint-angle limit holds and no limbs intersect."""
    checks = joint_angle_limits(poses)
    ok = np.logical_and.reduce(list(checks.values()))
    return ok & ~limb_intersections(poses)


def plausibility_report(poses: np.ndarray) -> dict[str, float]:
    """Share of poses passing each check, and ``plausible`` overall (fractions in [0, 1])."""
    checks = joint_angle_limits(poses)
    report = {k: float(v.mean()) for k, v in checks.items()}
    report["no_intersection"] = float((~limb_intersections(poses)).mean())
    report["plausible"] = float(is_plausible(poses).mean())
    return report

"""Is a pose humanly possible? Checks computed from the 17 joint positions alone.

Used to test the synthetic world's generator, to judge poses decoded from random latents by the
pose prior, and to score relations. Inputs are batches ``(N, 17, 3)`` (a single ``(17, 3)`` pose
is treated as ``N = 1``) of root-relative joints in mm, any global orientation: every measure is
view-invariant. Every threshold is in :data:`LIMITS`, set with a margin around what the
generator's anatomical limits (:data:`sa3dhp.data.motion.ANGLE_LIMITS`) produce, and well inside
what clearly broken poses show.

Hip angles are measured in the one *torso frame* of :mod:`sa3dhp.kinematics` (*up* = pelvis ->
thorax, *left* = right hip -> left hip made orthogonal to it, *forward* = left x up), which stays
well defined for poses decoded by a network (a frame from the short pelvis-to-hip offsets alone
would not). Hip flexion is the thigh's angle from "straight down" towards forward in the sagittal
plane, hip abduction its elevation out of that plane towards its own side.

What joints cannot tell: a hinge's twist. A knee bending forward is caught (its hinge axis, thigh
x shin, would point to the body's right instead of its left), but an elbow bent "backwards"
looks exactly like a normal bend with the upper arm rotated, so elbows are only checked for
over-flexion; the generator itself never extends an elbow past straight.

Limb intersections are judged on the limbs' centre lines (segments between joints): two limb
segments that are not attached to each other, or an arm segment and the torso's centre line
(pelvis -> thorax), closer than a few centimetres pass through each other -- real limbs are
several centimetres thick.
"""

from __future__ import annotations

import numpy as np
import torch

from sa3dhp import skeleton as sk
from sa3dhp.kinematics import pose_torso_frame

#: Thresholds (inclusive bounds). Angles in degrees, distances in mm.
LIMITS: dict[str, float] = {
    # knee flexion: angle between the thigh (hip -> knee) and shin (knee -> ankle) directions,
    # 0 = straight. Generator <= 150; real knees stop at ~155 (calf against thigh).
    "knee_max_flexion": 160.0,
    # knee hinge direction: cos between the knee's axis (thigh x shin, normalised) and the
    # torso's left axis. A normal bend gives ~ +1 (turned by hip rotation and abduction:
    # >= 0.9 in the generator, ~ 0 sitting cross-legged); a knee bent forward gives ~ -1.
    "knee_hinge_min_cos": -0.2,
    # ... checked only once the knee is bent this much (the axis is undefined when straight).
    "knee_hinge_min_flexion": 20.0,
    # elbow flexion: angle between upper arm and forearm, 0 = straight. Generator <= 150; the
    # forearm cannot fold further into the biceps than ~150-155.
    "elbow_max_flexion": 160.0,
    # hip flexion in the torso frame (see module doc): < 0 thigh behind the torso (extension,
    # anatomical max ~ -30); up to ~ 150 when the trunk folds over the thigh (deep squat, knee
    # to chest). Generator: -25 .. 150.
    "hip_min_flexion": -40.0,
    "hip_max_flexion": 170.0,
    # hip abduction in the torso frame: < 0 thigh across the midline (adduction, anatomical
    # max ~ -20 with the other leg out of the way), up to ~ 45-50 in a straddle jump.
    # Generator: -4 .. 35.
    "hip_min_abduction": -20.0,
    "hip_max_abduction": 60.0,
    # spine: angle between the lower (pelvis -> spine) and upper (spine -> thorax) spine bones.
    # The generator splits its <= 80 deg trunk bend over the two, in practice <= 35.
    "spine_max_bend": 50.0,
    # neck: angle between the upper spine (spine -> thorax) and the head (neck -> head).
    # Generator <= 45 flexion / 30 extension about the rest offset (~ 5), in practice <= 30.
    "neck_max_bend": 45.0,
    # limb segments not attached to each other (upper arms, forearms, thighs, shins of both
    # sides): centre lines closer than this pass through each other (limbs are 80-180 mm
    # thick). Generator: >= ~60 (forearm over the thigh in a deep squat).
    "limb_min_distance": 40.0,
    # an arm segment vs the torso centre line (pelvis -> thorax): the torso is ~200 mm deep and
    # ~300 mm wide, so an arm closer than this to its centre line is inside it. Generator:
    # >= ~110.
    "arm_torso_min_distance": 70.0,
}

#: Limb segments (joint pairs) checked for intersections.
LIMB_SEGMENTS: dict[str, tuple[int, int]] = {
    "l_upper_arm": (sk.L_SHOULDER, sk.L_ELBOW),
    "l_forearm": (sk.L_ELBOW, sk.L_WRIST),
    "r_upper_arm": (sk.R_SHOULDER, sk.R_ELBOW),
    "r_forearm": (sk.R_ELBOW, sk.R_WRIST),
    "l_thigh": (sk.L_HIP, sk.L_KNEE),
    "l_shin": (sk.L_KNEE, sk.L_ANKLE),
    "r_thigh": (sk.R_HIP, sk.R_KNEE),
    "r_shin": (sk.R_KNEE, sk.R_ANKLE),
}
#: Pairs of :data:`LIMB_SEGMENTS` that do not share a joint (26 pairs).
LIMB_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (a, b)
    for i, a in enumerate(LIMB_SEGMENTS)
    for b in list(LIMB_SEGMENTS)[i + 1 :]
    if not set(LIMB_SEGMENTS[a]) & set(LIMB_SEGMENTS[b])
)
_ARMS = ("l_upper_arm", "l_forearm", "r_upper_arm", "r_forearm")
_SIDES = (
    ("l", sk.L_HIP, sk.L_KNEE, sk.L_ANKLE, sk.L_SHOULDER, sk.L_ELBOW, sk.L_WRIST, 1.0),
    ("r", sk.R_HIP, sk.R_KNEE, sk.R_ANKLE, sk.R_SHOULDER, sk.R_ELBOW, sk.R_WRIST, -1.0),
)


def _check(poses: np.ndarray) -> np.ndarray:
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim == 2:
        poses = poses[None]
    if poses.ndim != 3 or poses.shape[1:] != (sk.NUM_JOINTS, 3):
        raise ValueError(f"poses must have shape (N, 17, 3) or (17, 3), got {poses.shape}")
    if not np.all(np.isfinite(poses)):
        raise ValueError("poses of shape (N, 17, 3) contain NaN or infinite values")
    return poses


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors ``(..., 3)``."""
    cos = (_unit(a) * _unit(b)).sum(-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def torso_axes(poses: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left, up, forward unit axes ``(N, 3)`` of the torso frame
    (:func:`sa3dhp.kinematics.pose_torso_frame`) of poses ``(N, 17, 3)``."""
    frame = pose_torso_frame(_check(poses))
    return frame[..., 0], frame[..., 1], frame[..., 2]


def joint_angles(poses: np.ndarray) -> dict[str, np.ndarray]:
    """The measured quantities behind :func:`joint_angle_limits`, each ``(N,)`` float.

    Keys: ``{l,r}_knee_flexion``, ``{l,r}_knee_hinge_cos``, ``{l,r}_hip_flexion``,
    ``{l,r}_hip_abduction``, ``{l,r}_elbow_flexion``, ``spine_bend``, ``neck_bend`` (degrees,
    except the cosines; see :data:`LIMITS` for their definitions).
    """
    p = _check(poses)
    left, up, fwd = torso_axes(p)
    out: dict[str, np.ndarray] = {}
    for s, hip, knee, ankle, shoulder, elbow, wrist, sgn in _SIDES:
        thigh, shin = p[:, knee] - p[:, hip], p[:, ankle] - p[:, knee]
        out[f"{s}_knee_flexion"] = _angle(thigh, shin)
        out[f"{s}_knee_hinge_cos"] = (_unit(np.cross(thigh, shin)) * left).sum(-1)
        d = _unit(thigh)
        out[f"{s}_hip_flexion"] = np.degrees(np.arctan2((d * fwd).sum(-1), -(d * up).sum(-1)))
        out[f"{s}_hip_abduction"] = np.degrees(np.arcsin(np.clip(sgn * (d * left).sum(-1), -1, 1)))
        out[f"{s}_elbow_flexion"] = _angle(p[:, elbow] - p[:, shoulder], p[:, wrist] - p[:, elbow])
    out["spine_bend"] = _angle(p[:, sk.SPINE] - p[:, sk.PELVIS], p[:, sk.THORAX] - p[:, sk.SPINE])
    out["neck_bend"] = _angle(p[:, sk.THORAX] - p[:, sk.SPINE], p[:, sk.HEAD] - p[:, sk.NECK])
    return out


def joint_angle_limits(poses: np.ndarray) -> dict[str, np.ndarray]:
    """Each joint-angle check, ``(N,)`` bool, True where the pose is within :data:`LIMITS`.

    Keys: ``knee_flexion``, ``knee_hinge``, ``hip``, ``elbow_flexion``, ``spine``, ``neck``
    (both sides must pass).
    """
    m = joint_angles(poses)
    lim = LIMITS

    def both(ok) -> np.ndarray:
        return ok("l") & ok("r")

    return {
        "knee_flexion": both(lambda s: m[f"{s}_knee_flexion"] <= lim["knee_max_flexion"]),
        "knee_hinge": both(
            lambda s: (
                (m[f"{s}_knee_flexion"] < lim["knee_hinge_min_flexion"])
                | (m[f"{s}_knee_hinge_cos"] >= lim["knee_hinge_min_cos"])
            )
        ),
        "hip": both(
            lambda s: (
                (m[f"{s}_hip_flexion"] >= lim["hip_min_flexion"])
                & (m[f"{s}_hip_flexion"] <= lim["hip_max_flexion"])
                & (m[f"{s}_hip_abduction"] >= lim["hip_min_abduction"])
                & (m[f"{s}_hip_abduction"] <= lim["hip_max_abduction"])
            )
        ),
        "elbow_flexion": both(lambda s: m[f"{s}_elbow_flexion"] <= lim["elbow_max_flexion"]),
        "spine": m["spine_bend"] <= lim["spine_max_bend"],
        "neck": m["neck_bend"] <= lim["neck_max_bend"],
    }


def _point_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = b - a
    t = np.clip(((p - a) * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-12), 0.0, 1.0)
    return np.linalg.norm(a + t[..., None] * d - p, axis=-1)


def segment_distance(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """Exact minimum distance between segments ``[a0, a1]`` and ``[b0, b1]``.

    Args:
        a0, a1, b0, b1: ``(..., 3)`` end points (broadcast together).

    Returns:
        ``(...)`` distances.
    """
    a0, a1, b0, b1 = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (a0, a1, b0, b1))
    )
    # the minimum is at an end point of one segment, or at an interior critical point
    best = np.minimum.reduce(
        [
            _point_segment(a0, b0, b1),
            _point_segment(a1, b0, b1),
            _point_segment(b0, a0, a1),
            _point_segment(b1, a0, a1),
        ]
    )
    d1, d2, r = a1 - a0, b1 - b0, a0 - b0
    a, e, b = (d1 * d1).sum(-1), (d2 * d2).sum(-1), (d1 * d2).sum(-1)
    c, f = (d1 * r).sum(-1), (d2 * r).sum(-1)
    denom = a * e - b * b
    ok = denom > 1e-9 * np.maximum(a * e, 1e-12)  # not parallel
    safe = np.where(ok, denom, 1.0)
    s = (b * f - c * e) / safe
    t = (a * f - b * c) / safe
    inside = ok & (s >= 0) & (s <= 1) & (t >= 0) & (t <= 1)
    interior = np.linalg.norm(a0 + s[..., None] * d1 - (b0 + t[..., None] * d2), axis=-1)
    return np.where(inside, np.minimum(best, interior), best)


def limb_distances(poses: np.ndarray) -> dict[str, np.ndarray]:
    """Centre-line distances ``(N,)`` mm of every pair of :data:`LIMB_PAIRS` (key ``"a|b"``)
    and of every arm segment to the torso centre line (key ``"arm|torso"``)."""
    p = _check(poses)
    out: dict[str, np.ndarray] = {}
    for a, b in LIMB_PAIRS:
        (i0, i1), (j0, j1) = LIMB_SEGMENTS[a], LIMB_SEGMENTS[b]
        out[f"{a}|{b}"] = segment_distance(p[:, i0], p[:, i1], p[:, j0], p[:, j1])
    for arm in _ARMS:
        i0, i1 = LIMB_SEGMENTS[arm]
        out[f"{arm}|torso"] = segment_distance(p[:, i0], p[:, i1], p[:, sk.PELVIS], p[:, sk.THORAX])
    return out


def limb_intersections(
    poses: np.ndarray,
    min_distance_mm: float = LIMITS["limb_min_distance"],
    torso_distance_mm: float = LIMITS["arm_torso_min_distance"],
) -> np.ndarray:
    """``(N,)`` bool: True where two limbs pass through each other or an arm through the torso.

    Args:
        poses: ``(N, 17, 3)`` mm.
        min_distance_mm: limb segments (of :data:`LIMB_PAIRS`) closer than this intersect.
        torso_distance_mm: arm segments closer than this to pelvis -> thorax intersect.
    """
    hit = np.zeros(len(_check(poses)), dtype=bool)
    for key, d in limb_distances(poses).items():
        hit |= d < (torso_distance_mm if key.endswith("|torso") else min_distance_mm)
    return hit


def is_plausible(poses: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: every joint-angle limit holds and no limbs intersect."""
    checks = joint_angle_limits(poses)
    return np.logical_and.reduce(list(checks.values())) & ~limb_intersections(poses)


def plausibility_report(poses: np.ndarray) -> dict[str, float]:
    """Share of poses (in [0, 1]) passing each check of :func:`joint_angle_limits`,
    ``no_intersection`` and ``plausible`` (all of them)."""
    checks = joint_angle_limits(poses)
    report = {k: float(v.mean()) for k, v in checks.items()}
    report["no_intersection"] = float((~limb_intersections(poses)).mean())
    report["plausible"] = float(is_plausible(poses).mean())
    return report


# ---------------------------------------------------------------------------------------------
# A differentiable version of the checks, used as a training penalty (torch only)


def _t_unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-6)


def _t_angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Angle in radians between ``(..., 3)`` vectors; atan2 keeps the gradient finite at 0."""
    return torch.atan2(torch.cross(a, b, dim=-1).norm(dim=-1), (a * b).sum(-1))


def _t_segment_distance(
    a0: torch.Tensor, a1: torch.Tensor, b0: torch.Tensor, b1: torch.Tensor
) -> torch.Tensor:
    """Distance between segments ``[a0, a1]`` and ``[b0, b1]`` ``(..., 3)``: the closest pair of
    the lines, each parameter clamped to its segment and the other re-solved (exact for
    non-parallel segments; a close upper bound for near-parallel ones)."""
    d1, d2, r = a1 - a0, b1 - b0, a0 - b0
    a, e = (d1 * d1).sum(-1).clamp_min(1e-6), (d2 * d2).sum(-1).clamp_min(1e-6)
    b, c, f = (d1 * d2).sum(-1), (d1 * r).sum(-1), (d2 * r).sum(-1)
    denom = (a * e - b * b).clamp_min(1e-6 * a * e)
    s = ((b * f - c * e) / denom).clamp(0, 1)
    t = ((b * s + f) / e).clamp(0, 1)
    s = ((b * t - c) / a).clamp(0, 1)
    return (a0 + s[..., None] * d1 - b0 - t[..., None] * d2).norm(dim=-1)


def violation(
    poses: torch.Tensor, margin_deg: float = 5.0, margin_mm: float = 10.0
) -> torch.Tensor:
    """How far each pose is outside :data:`LIMITS`, ``(N,)``, differentiable (torch).

    The sum of hinge terms, one per check of :func:`is_plausible`, each tightened by a margin:
    angles in radians, the knee-hinge cosine as it is, distances in units of 100 mm. Zero for a
    pose that passes every check with the margins to spare, except that the knee-hinge term
    also acts below the check's minimum flexion, weighted by the sine of the knee's flexion (so
    it fades out for a straight knee, whose hinge axis is undefined).

    Args:
        poses: ``(N, 17, 3)`` mm.
        margin_deg: angle margin inside each angular limit.
        margin_mm: distance margin above each intersection limit.
    """
    lim, m = LIMITS, np.radians(margin_deg)
    p = poses
    frame = pose_torso_frame(p)
    left, up, fwd = frame[..., 0], frame[..., 1], frame[..., 2]
    relu = torch.relu
    terms = []
    for _, hip, knee, ankle, shoulder, elbow, wrist, sgn in _SIDES:
        thigh, shin = p[:, knee] - p[:, hip], p[:, ankle] - p[:, knee]
        terms.append(relu(_t_angle(thigh, shin) - np.radians(lim["knee_max_flexion"]) + m))
        axis = torch.cross(_t_unit(thigh), _t_unit(shin), dim=-1)  # |axis| = sin(flexion)
        cos_min = lim["knee_hinge_min_cos"] + np.sin(m)
        terms.append(relu(cos_min * axis.norm(dim=-1) - (axis * left).sum(-1)))
        d = _t_unit(thigh)
        flex = torch.atan2((d * fwd).sum(-1), -(d * up).sum(-1))
        terms.append(relu(np.radians(lim["hip_min_flexion"]) + m - flex))
        terms.append(relu(flex - np.radians(lim["hip_max_flexion"]) + m))
        abd = torch.asin((sgn * (d * left).sum(-1)).clamp(-0.999, 0.999))
        terms.append(relu(np.radians(lim["hip_min_abduction"]) + m - abd))
        terms.append(relu(abd - np.radians(lim["hip_max_abduction"]) + m))
        elbow_flex = _t_angle(p[:, elbow] - p[:, shoulder], p[:, wrist] - p[:, elbow])
        terms.append(relu(elbow_flex - np.radians(lim["elbow_max_flexion"]) + m))
    lower, upper = p[:, sk.SPINE] - p[:, sk.PELVIS], p[:, sk.THORAX] - p[:, sk.SPINE]
    terms.append(relu(_t_angle(lower, upper) - np.radians(lim["spine_max_bend"]) + m))
    head = p[:, sk.HEAD] - p[:, sk.NECK]
    terms.append(relu(_t_angle(upper, head) - np.radians(lim["neck_max_bend"]) + m))
    pairs = list(LIMB_PAIRS) + [(arm, "torso") for arm in _ARMS]
    seg = {**LIMB_SEGMENTS, "torso": (sk.PELVIS, sk.THORAX)}
    ia, ib = (
        [[seg[a][k] for a, _ in pairs] for k in (0, 1)],
        [[seg[b][k] for _, b in pairs] for k in (0, 1)],
    )
    dist = _t_segment_distance(p[:, ia[0]], p[:, ia[1]], p[:, ib[0]], p[:, ib[1]])  # (N, P)
    need = torch.tensor(
        [
            lim["arm_torso_min_distance"] if b == "torso" else lim["limb_min_distance"]
            for _, b in pairs
        ],
        dtype=p.dtype,
        device=p.device,
    )
    terms.append(relu(need + margin_mm - dist).sum(-1) / 100.0)
    return torch.stack(terms, -1).sum(-1)

"""The body: joint-angle channels and their anatomical limits (:data:`ANGLE_LIMITS`,
:func:`clip_angles`), vectorised rotations, and forward kinematics from angles and bone lengths
(:func:`pose_from_angles`)."""

from __future__ import annotations

import numpy as np

from sa3dhp import skeleton as sk

#: Joint-angle limits in degrees (inclusive). Sign conventions: hip/shoulder flexion moves the
#: limb forward, abduction moves it away from the body's midline, rotation/twist > 0 turns the
#: limb outwards about its long axis, knee/elbow flexion bends the hinge (0 = straight), spine
#: bend > 0 leans forward, spine side > 0 leans to the left, neck flexion > 0 looks down.
ANGLE_LIMITS: dict[str, tuple[float, float]] = {
    "hip_flexion": (-25.0, 125.0),
    "hip_abduction": (-4.0, 50.0),
    "hip_rotation": (-25.0, 35.0),
    "knee_flexion": (0.0, 150.0),
    "shoulder_flexion": (-50.0, 180.0),
    "shoulder_abduction": (-5.0, 180.0),
    "shoulder_twist": (-20.0, 85.0),
    "elbow_flexion": (0.0, 150.0),
    "spine_bend": (-20.0, 80.0),
    "spine_side": (-30.0, 30.0),
    "spine_twist": (-40.0, 40.0),
    "neck_flexion": (-30.0, 45.0),
    "neck_turn": (-60.0, 60.0),
}
_SIDED: tuple[str, ...] = (
    "hip_flexion",
    "hip_abduction",
    "hip_rotation",
    "knee_flexion",
    "shoulder_flexion",
    "shoulder_abduction",
    "shoulder_twist",
    "elbow_flexion",
)
_CENTRAL: tuple[str, ...] = ("spine_bend", "spine_side", "spine_twist", "neck_flexion", "neck_turn")
#: Names of the angle channels of a motion (``l_``/``r_`` prefixed for sided joints).
ANGLE_NAMES: tuple[str, ...] = (
    *(f"{s}_{n}" for n in _SIDED for s in ("l", "r")),
    *_CENTRAL,
)

# --------------------------------------------------------------------------------------------
# rotations, vectorised: angles (...,) in radians -> (..., 3, 3)
# --------------------------------------------------------------------------------------------

#: Angle channels (degrees) by name, each ``(n,)`` over the frames of a clip.
Angles = dict[str, np.ndarray]


def _rot(axis: int, a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    r = np.zeros((*a.shape, 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    r[..., axis, axis] = 1.0
    r[..., i, i], r[..., i, j], r[..., j, i], r[..., j, j] = c, -s, s, c
    return r


def _rot_x(a: np.ndarray) -> np.ndarray:
    """About the left axis: for ``a > 0`` up tilts towards forward."""
    return _rot(0, a)


def _rot_y(a: np.ndarray) -> np.ndarray:
    """About the up axis: for ``a > 0`` forward turns towards the left."""
    return _rot(1, a)


def _rot_z(a: np.ndarray) -> np.ndarray:
    """About the forward axis: for ``a > 0`` up tilts towards the right."""
    return _rot(2, a)


def clip_angles(angles: Angles) -> Angles:
    """Clip every channel of :data:`ANGLE_NAMES` to :data:`ANGLE_LIMITS` (others unchanged)."""
    out = {}
    for name, v in angles.items():
        key = name[2:] if name[:2] in ("l_", "r_") else name
        out[name] = np.clip(v, *ANGLE_LIMITS[key]) if key in ANGLE_LIMITS else v
    return out


# --------------------------------------------------------------------------------------------
# forward kinematics from angles
# --------------------------------------------------------------------------------------------


def _rest(j: int) -> np.ndarray:
    d = np.asarray(sk.REST_DIRECTIONS_BODY[j], dtype=np.float64)
    return d / np.linalg.norm(d)


def pose_from_angles(angles: Angles, lengths: np.ndarray) -> np.ndarray:
    """Body-frame poses from joint angles, pelvis upright and facing forward (no clipping).

    Args:
        angles: ``{name: (T,)}`` degrees for every name of :data:`ANGLE_NAMES`.
        lengths: ``(17,)`` bone lengths in mm (index = child joint).

    Returns:
        ``(T, 17, 3)`` float64 mm, pelvis at the origin, body frame (left, up, forward).
    """
    r = {k: np.deg2rad(np.asarray(angles[k], dtype=np.float64)) for k in ANGLE_NAMES}
    lengths = np.asarray(lengths, dtype=np.float64)
    t = len(r["spine_bend"])
    p = np.zeros((t, sk.NUM_JOINTS, 3))

    def put(j: int, frame: np.ndarray, rest: np.ndarray | None = None) -> None:
        d = _rest(j) if rest is None else rest
        p[:, j] = p[:, sk.PARENTS[j]] + lengths[j] * (frame @ d)

    half = _rot_y(r["spine_twist"] / 2) @ _rot_x(r["spine_bend"] / 2) @ _rot_z(-r["spine_side"] / 2)
    ident = np.broadcast_to(np.eye(3), (t, 3, 3))
    for j in (sk.L_HIP, sk.R_HIP):
        put(j, ident)
    put(sk.SPINE, half)
    torso = half @ half
    put(sk.THORAX, torso)
    neck = torso @ _rot_y(r["neck_turn"]) @ _rot_x(r["neck_flexion"])
    put(sk.NECK, neck)
    put(sk.HEAD, neck)
    down = np.array([0.0, -1.0, 0.0])
    for s, sgn in (("l", 1.0), ("r", -1.0)):
        knee, ankle = (sk.L_KNEE, sk.L_ANKLE) if s == "l" else (sk.R_KNEE, sk.R_ANKLE)
        hip = (
            _rot_x(-r[f"{s}_hip_flexion"])
            @ _rot_z(sgn * r[f"{s}_hip_abduction"])
            @ _rot_y(sgn * r[f"{s}_hip_rotation"])
        )
        put(knee, hip, down)
        put(ankle, hip @ _rot_x(r[f"{s}_knee_flexion"]))
        sho, elb, wri = (
            (sk.L_SHOULDER, sk.L_ELBOW, sk.L_WRIST)
            if s == "l"
            else (sk.R_SHOULDER, sk.R_ELBOW, sk.R_WRIST)
        )
        put(sho, torso)
        arm = (
            torso
            @ _rot_x(-r[f"{s}_shoulder_flexion"])
            @ _rot_z(sgn * r[f"{s}_shoulder_abduction"])
            @ _rot_y(sgn * r[f"{s}_shoulder_twist"])
        )
        put(elb, arm, down)
        put(wri, arm @ _rot_x(-r[f"{s}_elbow_flexion"]), down)
    return p

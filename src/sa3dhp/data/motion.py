"""Procedural human motion on the 17-joint skeleton, driven by joint rotations.

Every frame is built by forward kinematics from joint angles (root orientation; spine bend,
side bend and twist; neck; 3-DOF hips and shoulders; 1-DOF hinge knees and elbows) and a
subject's bone lengths, so bone lengths are exactly constant within a subject. Anatomical limits
(:data:`ANGLE_LIMITS`) are enforced by clipping every angle: knees and elbows only flex
(0-150 deg), hips cannot adduct enough for the legs to cross, and so on.

A clip chains segments of actions (:data:`ACTIONS`) with randomised speed, amplitude and phase,
blended over ``transition_seconds``. :class:`MotionStyle` sets the action mix, amplitude and
camera elevation of a domain: :func:`mocap_style` (balanced), :func:`source_style` (everyday,
SURREAL-like) and :func:`target_style` (athletic, more extreme, other camera elevations).

Body frame while building: x = the person's left, y = up, z = forward. Output: root-relative
poses in the camera frame (x right, y down, z forward), mm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sa3dhp import skeleton as sk

ACTIONS: tuple[str, ...] = (
    "walk",
    "run",
    "jump",
    "squat",
    "wave",
    "kick",
    "punch",
    "bend_reach",
    "jumping_jacks",
    "dance",
    "sit_stand",
    "throw",
    "lunge",
)
FPS = 30
CANONICAL_HEIGHT_MM = 1720.0

#: Joint-angle limits in degrees (inclusive). Sign conventions: hip/shoulder flexion moves the
#: limb forward, abduction moves it away from the body's midline, knee/elbow flexion bends the
#: hinge (0 = straight), spine bend > 0 leans forward, neck flexion > 0 looks down.
ANGLE_LIMITS: dict[str, tuple[float, float]] = {
    "hip_flexion": (-25.0, 125.0),
    "hip_abduction": (-4.0, 50.0),
    "hip_rotation": (-30.0, 30.0),
    "knee_flexion": (0.0, 150.0),
    "shoulder_flexion": (-50.0, 180.0),
    "shoulder_abduction": (-5.0, 180.0),
    "shoulder_twist": (-80.0, 80.0),
    "elbow_flexion": (0.0, 150.0),
    "spine_bend": (-20.0, 80.0),
    "spine_side": (-30.0, 30.0),
    "spine_twist": (-40.0, 40.0),
    "neck_flexion": (-30.0, 45.0),
    "neck_turn": (-60.0, 60.0),
}
SIDED = ("hip_flexion", "hip_abduction", "hip_rotation", "knee_flexion")
SIDED += ("shoulder_flexion", "shoulder_abduction", "shoulder_twist", "elbow_flexion")
#: Names of the angle channels of a motion (``l_``/``r_`` prefixed for sided joints).
ANGLE_NAMES: tuple[str, ...] = tuple(
    [f"{s}_{n}" for n in SIDED for s in ("l", "r")]
    + ["spine_bend", "spine_side", "spine_twist", "neck_flexion", "neck_turn"]
)


@dataclass
class Subject:
    """A person: bone lengths ``(17,)`` mm (index = child joint) and height in mm."""

    bone_lengths: np.ndarray
    height_mm: float


@dataclass
class Motion:
    """A generated clip: poses ``(T, 17, 3)`` mm (root-relative, camera frame), actions ``(T,)``
    indices into :data:`ACTIONS`, and the joint angles ``{name: (T,)}`` in degrees."""

    poses: np.ndarray
    actions: np.ndarray
    angles: dict[str, np.ndarray]


@dataclass
class MotionStyle:
    """The pose/motion distribution of a domain."""

    action_weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ACTIONS, 1.0))
    elevation_deg: tuple[float, float] = (-5.0, 25.0)  # camera above (+) / below (-) the person
    pitch_roll_deg: float = 6.0  # max whole-body pitch and roll
    amplitude: tuple[float, float] = (0.6, 1.3)  # scale of action amplitudes
    speed: tuple[float, float] = (0.8, 1.25)  # scale of action frequencies
    segment_seconds: tuple[float, float] = (1.5, 4.0)
    transition_seconds: float = 0.5
    yaw_rate_deg_s: float = 40.0  # max slow turning speed

    def __post_init__(self) -> None:
        unknown = set(self.action_weights) - set(ACTIONS)
        if unknown:
            raise ValueError(
                f"action_weights: unknown action(s) {sorted(unknown)}; allowed: {list(ACTIONS)}"
            )
        if any(w < 0 for w in self.action_weights.values()) or not any(
            w > 0 for w in self.action_weights.values()
        ):
            raise ValueError("action_weights: weights must be >= 0 with at least one > 0")
        for name in ("elevation_deg", "amplitude", "speed", "segment_seconds"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name}: need min <= max, got {(lo, hi)}")
        if not -45 <= self.elevation_deg[0] and self.elevation_deg[1] <= 60:
            raise ValueError(f"elevation_deg: must lie in [-45, 60], got {self.elevation_deg}")
        if self.amplitude[0] <= 0 or self.amplitude[1] > 1.6:
            raise ValueError(f"amplitude: must lie in (0, 1.6], got {self.amplitude}")
        if self.speed[0] <= 0:
            raise ValueError(f"speed: must be > 0, got {self.speed}")
        if self.segment_seconds[0] <= 0 or self.transition_seconds < 0:
            raise ValueError("segment_seconds must be > 0 and transition_seconds >= 0")
        if not 0 <= self.pitch_roll_deg <= 30:
            raise ValueError(f"pitch_roll_deg: must lie in [0, 30], got {self.pitch_roll_deg}")
        if self.yaw_rate_deg_s < 0:
            raise ValueError(f"yaw_rate_deg_s: must be >= 0, got {self.yaw_rate_deg_s}")


def mocap_style() -> MotionStyle:
    """Unpaired mocap (CMU-like): every action, the full amplitude range."""
    return MotionStyle()


def source_style() -> MotionStyle:
    """Labelled source (SURREAL-like): everyday actions, moderate amplitude, near-level camera."""
    weights = dict.fromkeys(ACTIONS, 0.5)
    weights.update(walk=3.0, wave=2.0, squat=2.0, sit_stand=2.0, bend_reach=2.0, punch=1.0)
    return MotionStyle(action_weights=weights, elevation_deg=(0.0, 15.0), amplitude=(0.6, 1.0))


def target_style() -> MotionStyle:
    """Target ("in the wild" sports): athletic, more extreme poses, higher and lower cameras."""
    weights = dict.fromkeys(ACTIONS, 0.3)
    weights.update(run=3.0, jump=3.0, kick=3.0, throw=2.0, jumping_jacks=2.0, dance=2.0, lunge=2.0)
    weights.update(punch=1.5, squat=1.0)
    return MotionStyle(
        action_weights=weights,
        elevation_deg=(-10.0, 35.0),
        amplitude=(0.9, 1.3),
        speed=(0.9, 1.4),
        yaw_rate_deg_s=90.0,
    )


def sample_subject(rng: np.random.Generator) -> Subject:
    """A subject 1.5-1.95 m tall with a few percent of left/right-symmetric proportion jitter."""
    height = float(rng.uniform(1500.0, 1950.0))
    lengths = sk.canonical_bone_lengths() * (height / CANONICAL_HEIGHT_MM)
    jitter = np.clip(rng.normal(0.0, 0.03, sk.NUM_JOINTS), -0.07, 0.07)
    jitter[list(sk.RIGHT_JOINTS)] = jitter[[sk.FLIP_PERMUTATION[j] for j in sk.RIGHT_JOINTS]]
    return Subject(bone_lengths=(lengths * (1 + jitter)).astype(np.float32), height_mm=height)


# --------------------------------------------------------------------------------------------
# rotations (vectorised over time): angles in radians, arrays (T,) -> (T, 3, 3)
# --------------------------------------------------------------------------------------------


def _rot(axis: int, a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    r = np.zeros((*a.shape, 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    r[..., axis, axis] = 1.0
    r[..., i, i], r[..., i, j], r[..., j, i], r[..., j, j] = c, -s, s, c
    return r


def rot_x(a):  # about the left axis: up tilts towards forward for a > 0
    return _rot(0, a)


def rot_y(a):  # about the up axis
    return _rot(1, a)


def rot_z(a):  # about the forward axis: down tilts towards the left for a > 0
    return _rot(2, a)


# --------------------------------------------------------------------------------------------
# actions: each maps (time (T,), amplitude, side, rng) to angle channels in degrees
# --------------------------------------------------------------------------------------------

Angles = dict[str, np.ndarray]


def _idle(t: np.ndarray, rng: np.random.Generator) -> Angles:
    sway = np.sin(2 * np.pi * rng.uniform(0.1, 0.3) * t + rng.uniform(0, 6.3))
    a: Angles = {n: np.zeros_like(t) for n in ANGLE_NAMES}
    for s in ("l", "r"):
        a[f"{s}_shoulder_abduction"] += rng.uniform(3, 12)
        a[f"{s}_elbow_flexion"] += rng.uniform(5, 25)
        a[f"{s}_hip_abduction"] += rng.uniform(0, 6)
        a[f"{s}_knee_flexion"] += rng.uniform(0, 8)
        a[f"{s}_hip_flexion"] += rng.uniform(-3, 6)
    a["spine_side"] += 3 * sway
    a["neck_turn"] += rng.uniform(-25, 25) + 10 * sway
    a["neck_flexion"] += rng.uniform(-5, 20)
    return a


def _smooth01(x: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(x)


def _act_walk(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * freq * t + rng.uniform(0, 6.3)
    for s, sgn in (("l", 1.0), ("r", -1.0)):
        p = ph if sgn > 0 else ph + np.pi
        a[f"{s}_hip_flexion"] = 5 + 25 * amp * np.sin(p)
        a[f"{s}_knee_flexion"] = 8 + 50 * amp * np.clip(np.sin(p + 1.9), 0, None) ** 1.5
        a[f"{s}_shoulder_flexion"] = -22 * amp * np.sin(p)
        a[f"{s}_elbow_flexion"] = 15 + 20 * amp * (0.5 + 0.5 * np.sin(p + np.pi))
        a[f"{s}_shoulder_abduction"] = 8 + 0 * p
    a["spine_twist"] = 6 * amp * np.sin(ph)
    a["spine_bend"] = 4 + 0 * ph


def _act_run(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * 1.2 * freq * t + rng.uniform(0, 6.3)
    for s, sgn in (("l", 1.0), ("r", -1.0)):
        p = ph if sgn > 0 else ph + np.pi
        a[f"{s}_hip_flexion"] = 15 + 40 * amp * np.sin(p)
        a[f"{s}_knee_flexion"] = 20 + 85 * amp * np.clip(np.sin(p + 1.7), 0, None)
        a[f"{s}_shoulder_flexion"] = -45 * amp * np.sin(p)
        a[f"{s}_elbow_flexion"] = 85 + 15 * np.sin(p)
        a[f"{s}_shoulder_abduction"] = 10 + 0 * p
    a["spine_bend"] = 10 + 5 * amp + 0 * ph
    a["spine_twist"] = 10 * amp * np.sin(ph)


def _act_jump(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * 0.6 * freq * t + rng.uniform(0, 6.3)
    c = _smooth01(ph) ** 1.5  # crouch depth
    for s in ("l", "r"):
        a[f"{s}_hip_flexion"] = 75 * amp * c
        a[f"{s}_knee_flexion"] = 2 + 105 * amp * c
        a[f"{s}_shoulder_flexion"] = 165 * amp * (1 - c) ** 2 - 40 * c
        a[f"{s}_elbow_flexion"] = 10 + 20 * c
        a[f"{s}_hip_abduction"] = 5 + 5 * c
    a["spine_bend"] = 35 * amp * c
    a["neck_flexion"] = -10 * (1 - c)


def _act_squat(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * 0.35 * freq * t + rng.uniform(0, 6.3)
    c = _smooth01(ph)
    for s in ("l", "r"):
        a[f"{s}_hip_flexion"] = 100 * amp * c
        a[f"{s}_knee_flexion"] = 3 + 115 * amp * c
        a[f"{s}_hip_abduction"] = 12 + 10 * c
        a[f"{s}_shoulder_flexion"] = 85 * c
        a[f"{s}_elbow_flexion"] = 10 + 10 * c
    a["spine_bend"] = 30 * amp * c


def _act_wave(t, amp, freq, side, rng, a):
    s = side
    a[f"{s}_shoulder_abduction"] = rng.uniform(95, 140) + 0 * t
    a[f"{s}_shoulder_twist"] = 70 + 0 * t  # turns the elbow's hinge so the forearm points up
    a[f"{s}_elbow_flexion"] = 55 + 30 * amp * np.sin(2 * np.pi * 1.6 * freq * t)
    a["neck_turn"] = (20 if s == "l" else -20) + 0 * t


def _act_kick(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * 0.4 * freq * t + rng.uniform(0, 6.3)
    p = np.clip(np.sin(ph), 0, None) ** 2
    pre = np.clip(np.sin(ph + 0.9), 0, None)
    o = "r" if side == "l" else "l"
    a[f"{side}_hip_flexion"] = -10 + 105 * amp * p
    a[f"{side}_knee_flexion"] = 5 + 75 * pre * (1 - p)
    a[f"{o}_knee_flexion"] = 10 + 10 * p
    for s in ("l", "r"):
        a[f"{s}_shoulder_abduction"] = 35 + 25 * p
        a[f"{s}_elbow_flexion"] = 40 + 0 * p
    a["spine_bend"] = -12 * p


def _act_punch(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * 1.2 * freq * t + rng.uniform(0, 6.3)
    for s, off in (("l", 0.0), ("r", np.pi)):
        p = np.clip(np.sin(ph + off), 0, None) ** 2
        a[f"{s}_shoulder_flexion"] = 35 + 55 * amp * p
        a[f"{s}_shoulder_abduction"] = 15 - 10 * p
        a[f"{s}_elbow_flexion"] = 130 - 120 * p
        a[f"{s}_knee_flexion"] = 15 + 0 * p
        a[f"{s}_hip_flexion"] = 10 + 0 * p
        a[f"{s}_hip_abduction"] = 12 + 0 * p
    a["spine_twist"] = 25 * amp * np.sin(ph)
    a["spine_bend"] = 8 + 0 * ph


def _act_bend_reach(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * 0.3 * freq * t + rng.uniform(0, 6.3)
    c = _smooth01(ph)
    for s in ("l", "r"):
        a[f"{s}_hip_flexion"] = 45 * amp * c
        a[f"{s}_knee_flexion"] = 5 + 15 * c
        a[f"{s}_shoulder_flexion"] = 20 + 70 * c
        a[f"{s}_hip_abduction"] = 8 + 0 * c
    a[f"{side}_shoulder_flexion"] = 30 + 100 * c
    a["spine_bend"] = 65 * amp * c
    a["spine_twist"] = (12 if side == "l" else -12) * c
    a["neck_flexion"] = -15 * c


def _act_jumping_jacks(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * freq * t + rng.uniform(0, 6.3)
    c = _smooth01(ph)
    for s in ("l", "r"):
        a[f"{s}_shoulder_abduction"] = 15 + 140 * amp * c
        a[f"{s}_hip_abduction"] = 2 + 25 * amp * c
        a[f"{s}_knee_flexion"] = 5 + 15 * (1 - c)
        a[f"{s}_elbow_flexion"] = 10 + 10 * (1 - c)


def _act_dance(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * 0.8 * freq * t + rng.uniform(0, 6.3)
    for s, off in (("l", 0.0), ("r", np.pi / 2)):
        a[f"{s}_shoulder_abduction"] = 70 + 50 * amp * np.sin(ph + off)
        a[f"{s}_shoulder_flexion"] = 30 + 40 * amp * np.sin(ph + off + 1.0)
        a[f"{s}_elbow_flexion"] = 50 + 40 * np.sin(2 * ph + off)
        a[f"{s}_hip_flexion"] = 15 + 20 * amp * np.sin(2 * ph + off)
        a[f"{s}_knee_flexion"] = 20 + 20 * (1 + np.sin(2 * ph + off))
        a[f"{s}_hip_abduction"] = 10 + 0 * ph
    a["spine_side"] = 18 * amp * np.sin(ph)
    a["spine_twist"] = 20 * np.sin(ph + 0.5)


def _act_sit_stand(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * 0.22 * freq * t + rng.uniform(0, 6.3)
    c = _smooth01(ph)
    for s in ("l", "r"):
        a[f"{s}_hip_flexion"] = 90 * c
        a[f"{s}_knee_flexion"] = 3 + 92 * c
        a[f"{s}_hip_abduction"] = 6 + 6 * c
        a[f"{s}_shoulder_flexion"] = 35 * c
        a[f"{s}_elbow_flexion"] = 20 + 40 * c
    a["spine_bend"] = 25 * amp * c * (1 - 0.5 * c)


def _act_throw(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * 0.55 * freq * t + rng.uniform(0, 6.3)
    w = np.sin(ph)
    o = "r" if side == "l" else "l"
    a[f"{side}_shoulder_abduction"] = 80 + 15 * w
    a[f"{side}_shoulder_flexion"] = 20 + 70 * amp * np.clip(w, 0, None) - 55 * np.clip(-w, 0, None)
    a[f"{side}_shoulder_twist"] = 50 * np.clip(-w, 0, None)
    a[f"{side}_elbow_flexion"] = 95 - 70 * np.clip(w, 0, None)
    a[f"{o}_shoulder_flexion"] = 45 - 30 * w
    a[f"{o}_shoulder_abduction"] = 25 + 0 * w
    a[f"{o}_hip_flexion"] = 25 + 10 * w
    a[f"{o}_knee_flexion"] = 20 + 15 * np.clip(w, 0, None)
    a[f"{side}_hip_flexion"] = -10 - 5 * w
    a[f"{side}_knee_flexion"] = 10 + 0 * w
    a["spine_twist"] = (30 if side == "l" else -30) * amp * w
    a["spine_bend"] = 10 + 15 * np.clip(w, 0, None)


def _act_lunge(t, amp, freq, side, rng, a):
    ph = 2 * np.pi * 0.35 * freq * t + rng.uniform(0, 6.3)
    c = _smooth01(ph)
    o = "r" if side == "l" else "l"
    a[f"{side}_hip_flexion"] = 85 * amp * c
    a[f"{side}_knee_flexion"] = 3 + 90 * amp * c
    a[f"{o}_hip_flexion"] = -22 * c
    a[f"{o}_knee_flexion"] = 5 + 75 * c
    for s in ("l", "r"):
        a[f"{s}_shoulder_abduction"] = 20 + 50 * c
        a[f"{s}_elbow_flexion"] = 20 + 60 * c
        a[f"{s}_hip_abduction"] = 6 + 0 * c
    a["spine_bend"] = 5 + 10 * c


_ACTION_FNS: dict[str, Callable] = {
    "walk": _act_walk,
    "run": _act_run,
    "jump": _act_jump,
    "squat": _act_squat,
    "wave": _act_wave,
    "kick": _act_kick,
    "punch": _act_punch,
    "bend_reach": _act_bend_reach,
    "jumping_jacks": _act_jumping_jacks,
    "dance": _act_dance,
    "sit_stand": _act_sit_stand,
    "throw": _act_throw,
    "lunge": _act_lunge,
}


def _segment_angles(
    action: str, t: np.ndarray, style: MotionStyle, rng: np.random.Generator
) -> Angles:
    a = _idle(t, rng)
    amp = rng.uniform(*style.amplitude)
    freq = rng.uniform(*style.speed)
    side = "l" if rng.random() < 0.5 else "r"
    _ACTION_FNS[action](t, amp, freq, side, rng, a)
    return a


def clip_angles(angles: Angles) -> Angles:
    """Clip every channel to :data:`ANGLE_LIMITS`."""
    out = {}
    for name, v in angles.items():
        key = name[2:] if name[:2] in ("l_", "r_") else name
        lo, hi = ANGLE_LIMITS[key]
        out[name] = np.clip(v, lo, hi)
    return out


# --------------------------------------------------------------------------------------------
# forward kinematics from angles
# --------------------------------------------------------------------------------------------


def _rest(j: int) -> np.ndarray:
    d = np.asarray(sk.REST_DIRECTIONS_BODY[j], dtype=np.float64)
    return d / np.linalg.norm(d)


def pose_from_angles(angles: Angles, lengths: np.ndarray) -> np.ndarray:
    """Body-frame poses ``(T, 17, 3)`` mm from angle channels (degrees) and bone lengths."""
    r = {k: np.deg2rad(v) for k, v in angles.items()}
    t = len(next(iter(r.values())))
    p = np.zeros((t, sk.NUM_JOINTS, 3))

    def put(j: int, frame: np.ndarray, rest: np.ndarray | None = None) -> None:
        d = _rest(j) if rest is None else rest
        p[:, j] = p[:, sk.PARENTS[j]] + lengths[j] * (frame @ d)

    half = rot_y(r["spine_twist"] / 2) @ rot_x(r["spine_bend"] / 2) @ rot_z(r["spine_side"] / 2)
    ident = np.broadcast_to(np.eye(3), (t, 3, 3))
    for j in (sk.L_HIP, sk.R_HIP):
        put(j, ident)
    put(sk.SPINE, half)
    torso = half @ half
    put(sk.THORAX, torso)
    neck = torso @ rot_y(r["neck_turn"]) @ rot_x(r["neck_flexion"])
    put(sk.NECK, neck)
    put(sk.HEAD, neck)
    down = np.array([0.0, -1.0, 0.0])
    for s, sgn in (("l", 1.0), ("r", -1.0)):
        knee, ankle = (sk.L_KNEE, sk.L_ANKLE) if s == "l" else (sk.R_KNEE, sk.R_ANKLE)
        r_hip = (
            rot_x(-r[f"{s}_hip_flexion"])
            @ rot_z(sgn * r[f"{s}_hip_abduction"])
            @ rot_y(sgn * r[f"{s}_hip_rotation"])
        )
        put(knee, r_hip, down)
        put(ankle, r_hip @ rot_x(r[f"{s}_knee_flexion"]), _rest(ankle))
        sho, elb, wri = (
            (sk.L_SHOULDER, sk.L_ELBOW, sk.L_WRIST)
            if s == "l"
            else (sk.R_SHOULDER, sk.R_ELBOW, sk.R_WRIST)
        )
        put(sho, torso)
        r_sh = (
            torso
            @ rot_x(-r[f"{s}_shoulder_flexion"])
            @ rot_z(sgn * r[f"{s}_shoulder_abduction"])
            @ rot_y(sgn * r[f"{s}_shoulder_twist"])
        )
        put(elb, r_sh, down)
        put(wri, r_sh @ rot_x(-r[f"{s}_elbow_flexion"]), down)
    return p


def _orientation(
    t: np.ndarray, style: MotionStyle, rng: np.random.Generator, spin: np.ndarray
) -> np.ndarray:
    """Body -> camera rotations ``(T, 3, 3)``: yaw, small pitch/roll, camera elevation."""
    yaw = rng.uniform(0, 2 * np.pi) + np.deg2rad(rng.uniform(-1, 1) * style.yaw_rate_deg_s) * t
    yaw = yaw + spin
    wob = np.deg2rad(style.pitch_roll_deg)
    pitch = rng.uniform(-wob, wob) + 0.3 * wob * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t)
    roll = rng.uniform(-wob, wob) + 0.3 * wob * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t)
    world = rot_y(yaw) @ rot_x(pitch) @ rot_z(roll)
    elevation = rot_x(np.deg2rad(rng.uniform(*style.elevation_deg)))  # camera-frame x axis
    return elevation[None] @ sk.BODY_TO_CAMERA.astype(np.float64)[None] @ world


def _segments(n: int, style: MotionStyle, rng: np.random.Generator) -> list[tuple[int, int, str]]:
    names = list(style.action_weights)
    w = np.array([style.action_weights[k] for k in names], dtype=np.float64)
    w /= w.sum()
    out, start = [], 0
    while start < n:
        length = int(rng.uniform(*style.segment_seconds) * FPS)
        out.append((start, min(n, start + max(length, 1)), names[rng.choice(len(names), p=w)]))
        start += max(length, 1)
    return out


def generate_motion(
    subject: Subject, num_frames: int, style: MotionStyle, rng: np.random.Generator
) -> Motion:
    """A clip of ``num_frames`` frames at 30 FPS (deterministic for a given ``rng`` state)."""
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    t = np.arange(num_frames) / FPS
    segs = _segments(num_frames, style, rng)
    trans = max(1, int(style.transition_seconds * FPS))
    weights = np.zeros((len(segs), num_frames))
    actions = np.zeros(num_frames, dtype=np.int8)
    for k, (s, e, name) in enumerate(segs):
        ramp_in = np.clip((np.arange(num_frames) - s + trans / 2) / trans, 0, 1) if k else 1.0
        last = k == len(segs) - 1
        ramp_out = 1.0 if last else np.clip((e + trans / 2 - np.arange(num_frames)) / trans, 0, 1)
        weights[k] = _smooth01(np.pi * np.minimum(ramp_in, ramp_out))
        actions[s:e] = ACTIONS.index(name)
    weights /= weights.sum(0, keepdims=True)
    angles = {n: np.zeros(num_frames) for n in ANGLE_NAMES}
    spin = np.zeros(num_frames)
    for k, (_, _, name) in enumerate(segs):
        seg = _segment_angles(name, t, style, rng)
        for n in ANGLE_NAMES:
            angles[n] += weights[k] * seg[n]
        if name == "dance":  # dancers turn on the spot
            rate = np.deg2rad(rng.uniform(-120, 120))
            spin += np.cumsum(weights[k]) / FPS * rate
    angles = clip_angles(angles)
    body = pose_from_angles(angles, subject.bone_lengths.astype(np.float64))
    cam = np.einsum("tij,tkj->tki", _orientation(t, style, rng, spin), body)
    return Motion(
        poses=cam.astype(np.float32),
        actions=actions,
        angles={k: v.astype(np.float32) for k, v in angles.items()},
    )

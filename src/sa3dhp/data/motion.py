"""Procedural human motion on the 17-joint skeleton, driven by joint rotations.

Every frame is built by forward kinematics (:func:`pose_from_angles`) from joint angles (spine
bend, side bend and twist; neck flexion and turn; 3-DOF hips and shoulders; 1-DOF hinge knees and
elbows) and a subject's bone lengths, so bone lengths are exactly constant within a subject.
Anatomical limits (:data:`ANGLE_LIMITS`) are enforced by clipping every angle channel: knees and
elbows only flex (0-150 deg), hips cannot adduct far enough for the legs to cross, shoulders
cannot rotate inwards far enough to drive the forearm through the torso, and so on.

A clip chains segments of actions (:data:`ACTIONS`) with randomised speed, amplitude, phase and
side, blended over ``transition_seconds`` (longer when the two poses differ a lot, so no joint
jumps). A small smooth posture noise on every channel keeps repetitions from being identical.

Whole-body orientation, in order of application:

1. *balance*: the pelvis is tilted (pitch and roll, low-pass filtered) so that the body's centre
   of mass lies above the supporting ankle(s) -- people bend over, squat and kick with their
   legs under them, they do not fold around a fixed pelvis. It is off while seated (the chair
   carries the weight) and mostly off in a deep lunge (both feet do).
2. a random small pitch/roll wobble (``pitch_roll_deg``) and a yaw over the full circle that
   drifts slowly (walkers turn; dancers spin on the spot);
3. :data:`~sa3dhp.skeleton.BODY_TO_CAMERA` and the camera elevation: a rotation about the camera
   x axis by ``elevation_deg`` (> 0: camera above the person, looking down).

:class:`MotionStyle` sets the action mix, amplitude, speed and camera elevation of a domain:
:func:`mocap_style` (balanced), :func:`source_style` (everyday, SURREAL-like) and
:func:`target_style` (athletic, more extreme poses, other camera elevations).

Body frame while building: x = the person's left, y = up, z = forward. Output: root-relative
poses in the camera frame (x right, y down, z forward), float32 mm.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
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
#: Height (mm) of a person with the canonical Human3.6M bone lengths.
CANONICAL_HEIGHT_MM = 1720.0
#: Range of subject heights (mm) drawn by :func:`sample_subject`.
HEIGHT_RANGE_MM: tuple[float, float] = (1500.0, 1950.0)

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

#: Cycle frequency (Hz, at speed 1) of each action: a stride, a wave, a squat, ...
_CYCLE_HZ: dict[str, float] = {
    "walk": 0.9,
    "run": 1.35,
    "jump": 0.4,
    "squat": 0.3,
    "wave": 1.5,
    "kick": 0.4,
    "punch": 1.0,
    "bend_reach": 0.25,
    "jumping_jacks": 0.9,
    "dance": 0.7,
    "sit_stand": 0.2,
    "throw": 0.45,
    "lunge": 0.3,
}
#: How much an action turns the body (multiplies a random yaw rate up to ``yaw_rate_deg_s``).
_TURNING: dict[str, float] = dict.fromkeys(ACTIONS, 0.25) | {"walk": 1.0, "run": 1.0}
#: Dancers spin on the spot at up to this rate (deg/s).
_DANCE_SPIN_DEG_S = 120.0
#: Peak angular rate (deg/s) a transition may add; longer transitions for bigger pose changes.
_BLEND_RATE_DEG_S = 120.0
_TRANSITION_MAX_S = 1.5
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


@dataclass
class Subject:
    """A person: ``bone_lengths`` ``(17,)`` mm (index = child joint, 0 for the pelvis, like
    :func:`sa3dhp.skeleton.canonical_bone_lengths`) and ``height_mm``."""

    bone_lengths: np.ndarray
    height_mm: float


@dataclass
class Motion:
    """A generated clip.

    Attributes:
        poses: ``(T, 17, 3)`` float32 mm, root-relative, camera frame.
        actions: ``(T,)`` int8 indices into :data:`ACTIONS`.
        angles: ``{name: (T,)}`` float32 joint angles in degrees, names :data:`ANGLE_NAMES`.
    """

    poses: np.ndarray
    actions: np.ndarray
    angles: dict[str, np.ndarray]


def _pair(name: str, value: object, lo: float, hi: float) -> tuple[float, float]:
    """``value`` as a ``(min, max)`` float pair within ``[lo, hi]``, else ValueError."""
    ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
    ok = ok and all(isinstance(v, numbers.Real) and math.isfinite(v) for v in value)
    if not ok or not lo <= value[0] <= value[1] <= hi:
        raise ValueError(
            f"MotionStyle.{name}={value!r}: must be a pair (min, max) of numbers with "
            f"{lo} <= min <= max <= {hi}"
        )
    return float(value[0]), float(value[1])


def _number(name: str, value: object, lo: float, hi: float) -> float:
    """``value`` as a float within ``[lo, hi]``, else ValueError."""
    if not (isinstance(value, numbers.Real) and math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"MotionStyle.{name}={value!r}: must be a number in [{lo}, {hi}]")
    return float(value)


@dataclass
class MotionStyle:
    """The pose/motion distribution of a domain (validated on construction).

    Attributes:
        action_weights: relative frequency of each action (names from :data:`ACTIONS`; missing
            actions never occur).
        elevation_deg: range of the camera elevation (> 0: camera above, looking down).
        pitch_roll_deg: maximum random whole-body pitch and roll on top of the balance.
        amplitude: range of the per-segment amplitude scale (larger = more extreme poses).
        speed: range of the per-segment speed scale (multiplies each action's cycle rate).
        segment_seconds: range of the duration of one action segment.
        transition_seconds: minimum blend time between segments.
        yaw_rate_deg_s: maximum slow turning speed (walking and running turn fully, other
            actions at a quarter of it).
    """

    action_weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ACTIONS, 1.0))
    elevation_deg: tuple[float, float] = (-5.0, 25.0)
    pitch_roll_deg: float = 6.0
    amplitude: tuple[float, float] = (0.6, 1.3)
    speed: tuple[float, float] = (0.8, 1.2)
    segment_seconds: tuple[float, float] = (1.5, 4.0)
    transition_seconds: float = 0.5
    yaw_rate_deg_s: float = 40.0

    def __post_init__(self) -> None:
        weights = self.action_weights
        if not isinstance(weights, Mapping) or set(weights) - set(ACTIONS):
            unknown = (
                sorted(set(weights) - set(ACTIONS)) if isinstance(weights, Mapping) else weights
            )
            raise ValueError(
                f"MotionStyle.action_weights: unknown action(s) {unknown!r}; "
                f"allowed: {list(ACTIONS)}"
            )
        values = list(weights.values())
        if not all(isinstance(w, numbers.Real) and math.isfinite(w) and w >= 0 for w in values) or (
            not any(w > 0 for w in values)
        ):
            raise ValueError(
                f"MotionStyle.action_weights={dict(weights)!r}: weights must be finite numbers "
                f">= 0, at least one > 0 (actions: {list(ACTIONS)})"
            )
        self.action_weights = {k: float(w) for k, w in weights.items()}
        self.elevation_deg = _pair("elevation_deg", self.elevation_deg, -60.0, 60.0)
        self.amplitude = _pair("amplitude", self.amplitude, 0.05, 1.5)
        self.speed = _pair("speed", self.speed, 0.1, 3.0)
        self.segment_seconds = _pair("segment_seconds", self.segment_seconds, 0.5, 60.0)
        self.pitch_roll_deg = _number("pitch_roll_deg", self.pitch_roll_deg, 0.0, 30.0)
        self.transition_seconds = _number(
            "transition_seconds", self.transition_seconds, 0.1, min(2.0, self.segment_seconds[0])
        )
        self.yaw_rate_deg_s = _number("yaw_rate_deg_s", self.yaw_rate_deg_s, 0.0, 360.0)


def mocap_style() -> MotionStyle:
    """Unpaired mocap (CMU-like): every action equally often, the full amplitude range."""
    return MotionStyle()


def source_style() -> MotionStyle:
    """Labelled source (SURREAL-like): everyday actions, moderate amplitude, near-level camera."""
    weights = dict.fromkeys(ACTIONS, 0.4)
    weights.update(walk=3.0, wave=2.0, squat=2.0, sit_stand=2.0, bend_reach=2.0, punch=1.0)
    return MotionStyle(
        action_weights=weights,
        elevation_deg=(0.0, 15.0),
        amplitude=(0.6, 1.0),
        speed=(0.8, 1.1),
    )


def target_style(elevation_deg: tuple[float, float] = (0.0, 25.0)) -> MotionStyle:
    """Target ("in the wild" sports): athletic, more extreme poses, faster turns. Its cameras
    (0-25 degrees down) overlap the source's (0-15) and lie inside what the mocap covers (-5 to
    25), so the gap is one of appearance and of pose and motion, which the method claims to
    bridge (generator version 6; version 5's cameras are :func:`high_camera_target_style`)."""
    weights = dict.fromkeys(ACTIONS, 0.3)
    weights.update(run=3.0, jump=3.0, kick=3.0, throw=2.0, jumping_jacks=2.0, dance=2.0, lunge=2.0)
    weights.update(punch=1.5, squat=1.0)
    return MotionStyle(
        action_weights=weights,
        elevation_deg=elevation_deg,
        amplitude=(0.9, 1.3),
        speed=(0.9, 1.2),
        yaw_rate_deg_s=90.0,
    )


def high_camera_target_style() -> MotionStyle:
    """The stress target: :func:`target_style` filmed from cameras mounted higher (10-45 degrees
    down, like broadcast or surveillance views; generator version 5's default). Views from
    above 25 degrees lie outside the mocap and no relation of the catalogue changes the
    camera's elevation, so this is reported as a stress row, not as the headline."""
    return target_style(elevation_deg=(10.0, 45.0))


def sample_subject(rng: np.random.Generator) -> Subject:
    """A subject 1.5-1.95 m tall (uniform) with a few percent of left/right-symmetric
    per-bone proportion jitter (std 3 %, at most 7 %)."""
    height = float(rng.uniform(*HEIGHT_RANGE_MM))
    lengths = sk.canonical_bone_lengths() * (height / CANONICAL_HEIGHT_MM)
    jitter = np.clip(rng.normal(0.0, 0.03, sk.NUM_JOINTS), -0.07, 0.07)
    jitter[list(sk.RIGHT_JOINTS)] = jitter[[sk.FLIP_PERMUTATION[j] for j in sk.RIGHT_JOINTS]]
    return Subject(bone_lengths=(lengths * (1 + jitter)).astype(np.float32), height_mm=height)


# --------------------------------------------------------------------------------------------
# rotations, vectorised: angles (...,) in radians -> (..., 3, 3)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# actions: each takes the phase ph (n,) in radians (one cycle = 2 pi), the amplitude scale, the
# leading side ("l"/"r") and the rng, and overwrites angle channels (degrees) of ``a``; the
# channel "balance" (1 = centre of mass over the feet, 0 = seated) may be set too.
# --------------------------------------------------------------------------------------------

Angles = dict[str, np.ndarray]


def _smooth01(x: np.ndarray) -> np.ndarray:
    """0 at x = 0, 1 at x = pi, smooth and periodic."""
    return 0.5 - 0.5 * np.cos(x)


def _pos(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, None)


def _other(side: str) -> str:
    return "r" if side == "l" else "l"


def _idle(n: int, t: np.ndarray, rng: np.random.Generator) -> Angles:
    """A relaxed standing posture with a random personal touch, plus slow sway."""
    sway = np.sin(2 * np.pi * rng.uniform(0.1, 0.3) * t + rng.uniform(0, 2 * np.pi))
    a: Angles = {name: np.zeros(n) for name in ANGLE_NAMES}
    for s in ("l", "r"):
        a[f"{s}_shoulder_abduction"] += rng.uniform(10, 16)  # hands clear the thighs
        a[f"{s}_shoulder_flexion"] += rng.uniform(-5, 10)
        a[f"{s}_shoulder_twist"] += rng.uniform(0, 20)
        a[f"{s}_elbow_flexion"] += rng.uniform(5, 25)
        a[f"{s}_hip_abduction"] += rng.uniform(1, 7)
        a[f"{s}_hip_rotation"] += rng.uniform(-5, 15)
        a[f"{s}_knee_flexion"] += rng.uniform(0, 8)
        a[f"{s}_hip_flexion"] += rng.uniform(-3, 6)
    a["spine_side"] += 3 * sway
    a["neck_turn"] += rng.uniform(-25, 25) + 8 * sway
    a["neck_flexion"] += rng.uniform(-5, 20)
    a["balance"] = np.ones(n)
    return a


def _legs_alternating(ph: np.ndarray) -> tuple[tuple[str, np.ndarray], ...]:
    return (("l", ph), ("r", ph + np.pi))


def _act_walk(ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles) -> None:
    for s, p in _legs_alternating(ph):
        a[f"{s}_hip_flexion"] = 5 + 20 * amp * np.sin(p)
        # knee: ~15 deg at loading, ~60 deg in early swing (thigh moving forward)
        swing = _pos(np.cos(p - 0.2)) ** 2
        load = _pos(np.cos(p - 2.2)) ** 4
        a[f"{s}_knee_flexion"] = 4 + 52 * min(amp, 1.15) * swing + 10 * load
        a[f"{s}_shoulder_flexion"] = 2 - 18 * amp * np.sin(p)
        a[f"{s}_elbow_flexion"] = 15 + 15 * amp * (0.5 - 0.5 * np.sin(p))
        a[f"{s}_shoulder_abduction"] = 13 + 0 * p
    a["spine_twist"] = 5 * amp * np.sin(ph)
    a["spine_bend"] = 3 + 0 * ph


def _act_run(ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles) -> None:
    for s, p in _legs_alternating(ph):
        a[f"{s}_hip_flexion"] = 20 + 30 * amp * np.sin(p)
        a[f"{s}_knee_flexion"] = 20 + 75 * min(amp, 1.15) * _pos(np.cos(p - 0.3)) ** 1.5
        a[f"{s}_shoulder_flexion"] = 5 - 40 * amp * np.sin(p)
        a[f"{s}_elbow_flexion"] = 85 + 15 * np.sin(p)
        a[f"{s}_shoulder_abduction"] = 13 + 0 * p
    a["spine_bend"] = 8 + 5 * amp + 0 * ph
    a["spine_twist"] = 8 * amp * np.sin(ph)
    a["neck_flexion"] = 0 * ph


def _act_jump(ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles) -> None:
    crouch = _pos(np.sin(ph)) ** 1.5  # first half of the cycle: load, arms swing back
    reach = _pos(np.sin(ph - 0.55 * np.pi)) ** 2  # then extend: arms up, body straight
    for s in ("l", "r"):
        a[f"{s}_hip_flexion"] = 80 * amp * crouch - 5 * reach
        a[f"{s}_knee_flexion"] = 3 + 100 * amp * crouch
        a[f"{s}_hip_abduction"] = 6 + 4 * crouch
        a[f"{s}_shoulder_flexion"] = -40 * crouch + 150 * min(amp, 1.1) * reach
        a[f"{s}_shoulder_abduction"] = 13 + 8 * reach
        a[f"{s}_elbow_flexion"] = 12 + 15 * crouch
    a["spine_bend"] = 30 * amp * crouch - 8 * reach
    a["neck_flexion"] = 5 * crouch - 15 * reach


def _act_squat(ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles) -> None:
    c = _smooth01(ph)
    for s in ("l", "r"):
        a[f"{s}_hip_flexion"] = 100 * amp * c
        a[f"{s}_knee_flexion"] = 3 + 115 * amp * c
        a[f"{s}_hip_abduction"] = 10 + 10 * c
        a[f"{s}_hip_rotation"] = 10 + 0 * c
        a[f"{s}_shoulder_flexion"] = 85 * c
        a[f"{s}_shoulder_abduction"] = 13 + 0 * c
        a[f"{s}_elbow_flexion"] = 10 + 10 * c
    a["spine_bend"] = 25 * amp * c
    a["neck_flexion"] = -10 * c


def _act_wave(ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles) -> None:
    both = rng.random() < 0.25
    for s in (side, _other(side)) if both else (side,):
        a[f"{s}_shoulder_abduction"] = rng.uniform(100, 140) + 0 * ph
        a[f"{s}_shoulder_flexion"] = rng.uniform(0, 25) + 0 * ph
        a[f"{s}_shoulder_twist"] = 70 + 0 * ph  # turns the hinge so the forearm points up
        a[f"{s}_elbow_flexion"] = 55 + 30 * amp * np.sin(ph)
    a["neck_turn"] = (20 if side == "l" else -20) + 0 * ph


def _act_kick(ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles) -> None:
    p = _pos(np.sin(ph)) ** 2  # the kick
    chamber = _pos(np.sin(ph + 0.9))  # knee drawn up just before
    o = _other(side)
    a[f"{side}_hip_flexion"] = -10 + 100 * amp * p + 25 * chamber * (1 - p)
    a[f"{side}_knee_flexion"] = 5 + 80 * chamber * (1 - p)
    a[f"{o}_knee_flexion"] = 10 + 10 * p
    a[f"{o}_hip_flexion"] = 5 + 0 * p
    for s in ("l", "r"):
        a[f"{s}_shoulder_abduction"] = 30 + 25 * p
        a[f"{s}_shoulder_flexion"] = 15 + 0 * p
        a[f"{s}_elbow_flexion"] = 45 + 0 * p
    a["spine_bend"] = -10 * p


def _act_punch(ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles) -> None:
    lead = 1.0 if side == "l" else -1.0
    for s, off in (("l", 0.0), ("r", np.pi)):
        p = _pos(np.sin(ph + off)) ** 2
        a[f"{s}_shoulder_flexion"] = 35 + 55 * amp * p
        a[f"{s}_shoulder_abduction"] = 15 - 10 * p
        a[f"{s}_shoulder_twist"] = 10 + 0 * p
        a[f"{s}_elbow_flexion"] = 130 - 120 * p
        a[f"{s}_knee_flexion"] = 18 + 0 * p
        a[f"{s}_hip_abduction"] = 10 + 0 * p
    a[f"{side}_hip_flexion"] = 20 + 0 * ph
    a[f"{_other(side)}_hip_flexion"] = -8 + 0 * ph
    a["spine_twist"] = 25 * amp * np.sin(ph) - 10 * lead
    a["spine_bend"] = 8 + 0 * ph
    a["neck_flexion"] = 10 + 0 * ph


def _act_bend_reach(
    ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles
) -> None:
    c = _smooth01(ph)
    bend = 60 * amp * c
    hips = 50 * amp * c
    for s in ("l", "r"):
        a[f"{s}_hip_flexion"] = hips
        a[f"{s}_knee_flexion"] = 3 + 12 * c
        a[f"{s}_hip_abduction"] = 6 + 0 * c
        a[f"{s}_shoulder_flexion"] = 10 + 0.9 * (bend + hips) * c  # arms hang towards the floor
        a[f"{s}_shoulder_abduction"] = 12 + 0 * c
        a[f"{s}_elbow_flexion"] = 10 + 0 * c
    a[f"{side}_shoulder_flexion"] = a[f"{side}_shoulder_flexion"] + 30 * c  # the reaching arm
    a["spine_bend"] = bend
    a["spine_twist"] = (12 if side == "l" else -12) * c
    a["neck_flexion"] = -15 * c


def _act_jumping_jacks(
    ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles
) -> None:
    c = _smooth01(ph)
    for s in ("l", "r"):
        a[f"{s}_shoulder_abduction"] = 14 + 130 * amp * c
        a[f"{s}_shoulder_flexion"] = 5 + 0 * c
        a[f"{s}_hip_abduction"] = 3 + 22 * amp * c
        a[f"{s}_knee_flexion"] = 5 + 15 * (1 - c)
        a[f"{s}_elbow_flexion"] = 10 + 10 * (1 - c)


def _act_dance(ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles) -> None:
    arm_lag = rng.uniform(0.3, 2.0)
    for s, off in (("l", 0.0), ("r", arm_lag)):
        a[f"{s}_shoulder_abduction"] = 70 + 50 * amp * np.sin(ph + off)
        a[f"{s}_shoulder_flexion"] = 30 + 40 * amp * np.sin(ph + off + 1.0)
        a[f"{s}_shoulder_twist"] = 20 + 20 * np.sin(ph + off)
        a[f"{s}_elbow_flexion"] = 55 + 40 * np.sin(2 * ph + off)
    for s, p in _legs_alternating(2 * ph):
        a[f"{s}_hip_flexion"] = 12 + 18 * amp * _pos(np.sin(p))
        a[f"{s}_knee_flexion"] = 10 + 35 * amp * _pos(np.sin(p))
        a[f"{s}_hip_abduction"] = 8 + 0 * p
    a["spine_side"] = 15 * amp * np.sin(ph)
    a["spine_twist"] = 20 * np.sin(ph + 0.5)
    a["neck_turn"] = 20 * np.sin(ph + 1.5)


def _act_sit_stand(
    ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles
) -> None:
    c = _smooth01(ph)  # 1 = seated on a chair
    rising = np.sin(ph) ** 2  # lean forward while getting up or sitting down
    for s in ("l", "r"):
        a[f"{s}_hip_flexion"] = 90 * c + 10 * rising
        a[f"{s}_knee_flexion"] = 3 + 92 * c
        a[f"{s}_hip_abduction"] = 6 + 6 * c
        a[f"{s}_shoulder_flexion"] = 30 * c + 15 * rising
        a[f"{s}_elbow_flexion"] = 20 + 40 * c
    a["spine_bend"] = 8 * c + 25 * amp * rising
    a["balance"] = 1 - c**2  # the chair carries a seated person


def _act_throw(ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles) -> None:
    w = np.sin(ph)  # < 0: wind-up, > 0: release and follow-through
    fwd, back = _pos(w), _pos(-w)
    o = _other(side)
    a[f"{side}_shoulder_abduction"] = 80 + 10 * w
    a[f"{side}_shoulder_flexion"] = 20 + 70 * amp * fwd - 45 * back
    a[f"{side}_shoulder_twist"] = 20 + 50 * back
    a[f"{side}_elbow_flexion"] = 95 - 70 * fwd
    a[f"{o}_shoulder_flexion"] = 45 - 30 * w
    a[f"{o}_shoulder_abduction"] = 25 + 0 * w
    a[f"{o}_hip_flexion"] = 25 + 10 * w
    a[f"{o}_knee_flexion"] = 20 + 15 * fwd
    a[f"{side}_hip_flexion"] = -10 - 5 * w
    a[f"{side}_knee_flexion"] = 10 + 10 * back
    a["spine_twist"] = (30 if side == "l" else -30) * amp * w
    a["spine_bend"] = 10 + 15 * fwd
    a["neck_turn"] = (-15 if side == "l" else 15) * w


def _act_lunge(ph: np.ndarray, amp: float, side: str, rng: np.random.Generator, a: Angles) -> None:
    c = _smooth01(ph)
    o = _other(side)
    a[f"{side}_hip_flexion"] = 85 * amp * c
    a[f"{side}_knee_flexion"] = 3 + 90 * amp * c
    a[f"{o}_hip_flexion"] = -20 * c
    a[f"{o}_knee_flexion"] = 5 + 80 * c
    for s in ("l", "r"):
        a[f"{s}_shoulder_abduction"] = 20 + 40 * c
        a[f"{s}_elbow_flexion"] = 20 + 50 * c
        a[f"{s}_hip_abduction"] = 6 + 0 * c
    a["spine_bend"] = 5 + 5 * c
    a["balance"] = 1 - 0.8 * c  # the weight is shared by both feet in a deep lunge


_ACTION_FNS: dict[str, Callable[[np.ndarray, float, str, np.random.Generator, Angles], None]] = {
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
    """Angle channels (degrees) and "balance" of one action segment over times ``t`` (n,) s."""
    a = _idle(len(t), t, rng)
    amp = float(rng.uniform(*style.amplitude))
    speed = float(rng.uniform(*style.speed))
    side = "l" if rng.random() < 0.5 else "r"
    ph = 2 * np.pi * _CYCLE_HZ[action] * speed * t + rng.uniform(0, 2 * np.pi)
    _ACTION_FNS[action](ph, amp, side, rng, a)
    for name in ANGLE_NAMES:  # smooth posture noise, a few degrees
        freq = rng.uniform(0.1, 0.6)
        a[name] = a[name] + rng.uniform(1.0, 3.0) * np.sin(
            2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)
        )
    return a


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
    """Body -> camera rotations ``(T, 3, 3)``: yaw, small pitch/roll, camera elevation."""
    wob = np.deg2rad(style.pitch_roll_deg)
    pitch = rng.uniform(-wob, wob) + 0.3 * wob * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t)
    roll = rng.uniform(-wob, wob) + 0.3 * wob * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t)
    world = _rot_y(yaw) @ _rot_x(pitch) @ _rot_z(roll)
    elevation = _rot_x(np.deg2rad(rng.uniform(*style.elevation_deg)))  # camera-frame x axis
    return elevation[None] @ sk.BODY_TO_CAMERA.astype(np.float64)[None] @ world


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

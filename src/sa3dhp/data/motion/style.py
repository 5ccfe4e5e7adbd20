"""Who moves and how a domain moves: :class:`Subject`, :class:`Motion`, :class:`MotionStyle` and
its presets (:func:`mocap_style`, :func:`source_style`, :func:`target_style`,
:func:`high_camera_target_style`), and :func:`sample_subject`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
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
        camera_roll_deg: range of the camera's roll about its optical axis, one angle per clip
            (> 0: the image of the body turns counter-clockwise, as the in-plane relation
            turns it); ``(0, 0)``, the default, draws nothing, so worlds without a roll are
            generated exactly as before the option existed.
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
    camera_roll_deg: tuple[float, float] = (0.0, 0.0)
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
        self.camera_roll_deg = _pair("camera_roll_deg", self.camera_roll_deg, -90.0, 90.0)
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

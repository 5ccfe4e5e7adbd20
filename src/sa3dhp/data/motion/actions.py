"""The 13 actions. Each takes the phase ``ph`` (n,) in radians (one cycle = 2 pi), the amplitude
scale, the leading side ("l"/"r") and the rng, and overwrites angle channels (degrees) of ``a``;
the channel "balance" (1 = centre of mass over the feet, 0 = seated) may be set too.
:func:`_segment_angles` builds one segment of an action."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sa3dhp.data.motion.body import ANGLE_NAMES, Angles
from sa3dhp.data.motion.style import MotionStyle

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

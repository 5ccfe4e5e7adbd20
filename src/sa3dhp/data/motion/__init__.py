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

Modules: :mod:`.style` (subjects, styles and presets), :mod:`.body` (angle channels, limits,
forward kinematics), :mod:`.actions` (the 13 actions), :mod:`.generate` (clips).
"""

from sa3dhp.data.motion.body import ANGLE_LIMITS, ANGLE_NAMES, Angles, clip_angles, pose_from_angles
from sa3dhp.data.motion.generate import generate_motion
from sa3dhp.data.motion.style import (
    ACTIONS,
    CANONICAL_HEIGHT_MM,
    FPS,
    HEIGHT_RANGE_MM,
    Motion,
    MotionStyle,
    Subject,
    high_camera_target_style,
    mocap_style,
    sample_subject,
    source_style,
    target_style,
)

__all__ = [
    "ACTIONS",
    "ANGLE_LIMITS",
    "ANGLE_NAMES",
    "CANONICAL_HEIGHT_MM",
    "FPS",
    "HEIGHT_RANGE_MM",
    "Angles",
    "Motion",
    "MotionStyle",
    "Subject",
    "clip_angles",
    "generate_motion",
    "high_camera_target_style",
    "mocap_style",
    "pose_from_angles",
    "sample_subject",
    "source_style",
    "target_style",
]

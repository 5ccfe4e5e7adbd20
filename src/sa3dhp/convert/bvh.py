"""BVH motion files (CMU-derived, LAFAN1-style): any channel order, CRLF or LF line endings.

A BVH file is a HIERARCHY of joints (``OFFSET`` from the parent, ``CHANNELS`` in any order,
``End Site`` leaves) and a MOTION block (``Frames``, ``Frame Time``, one line of channel values
per frame). Each joint's local transform is its offset, then its translation channels, then its
rotation channels composed in the order they are listed (``Zrotation Xrotation Yrotation`` is
R = Rz Rx Ry, intrinsic), in degrees. Our 17 joints are read by name (:data:`JOINT_NAMES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sa3dhp import skeleton as sk
from sa3dhp.convert.mocap import ConvertError, axis_rotation, matmul3

#: For each of our joints, the BVH joint names that give it, first match wins; ``@end`` means the
#: end site of that joint (the head's top). spine, thorax and neck are approximate: BVH spines
#: have 1-3 segments and no joint at the thorax of Human3.6M.
JOINT_NAMES: dict[str, tuple[str, ...]] = {
    "pelvis": ("Hips", "hip", "Root", "pelvis"),
    "r_hip": ("RightUpLeg", "RightHip", "rthigh", "RThigh"),
    "r_knee": ("RightLeg", "RightKnee", "rshin", "RShin"),
    "r_ankle": ("RightFoot", "RightAnkle", "rfoot", "RFoot"),
    "l_hip": ("LeftUpLeg", "LeftHip", "lthigh", "LThigh"),
    "l_knee": ("LeftLeg", "LeftKnee", "lshin", "LShin"),
    "l_ankle": ("LeftFoot", "LeftAnkle", "lfoot", "LFoot"),
    "spine": ("Spine", "LowerBack", "abdomen", "Chest"),
    "thorax": ("Spine2", "Spine1", "Chest2", "chest", "Chest"),
    "neck": ("Neck1", "Neck", "neck"),
    "head": ("Head@end", "Head", "head"),
    "l_shoulder": ("LeftArm", "LeftShoulder2", "lshldr", "LShldr"),
    "l_elbow": ("LeftForeArm", "LeftElbow", "lforearm", "LForeArm"),
    "l_wrist": ("LeftHand", "LeftWrist", "lhand", "LHand"),
    "r_shoulder": ("RightArm", "RightShoulder2", "rshldr", "RShldr"),
    "r_elbow": ("RightForeArm", "RightElbow", "rforearm", "RForeArm"),
    "r_wrist": ("RightHand", "RightWrist", "rhand", "RHand"),
}


@dataclass
class _Joint:
    name: str
    parent: int
    offset: np.ndarray
    channels: list[str] = field(default_factory=list)
    end: np.ndarray | None = None  # offset of its End Site


@dataclass
class BvhMotion:
    """A parsed BVH file: joints, their world positions ``(T, J, 3)`` and end sites."""

    names: list[str]
    positions: np.ndarray  # (T, J, 3) in the file's units and axes
    ends: dict[str, np.ndarray]  # joint name -> (T, 3) position of its End Site
    fps: float


def _numbers(text: str) -> np.ndarray:
    """Whitespace-separated floats of ``text`` (NaN and inf included), refusing other words."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a word that is not a number stops the parse
        try:
            return np.fromstring(text, dtype=np.float64, sep=" ")
        except (ValueError, DeprecationWarning):
            return np.array(text.split(), dtype=np.float64)


def _parse(path: Path) -> tuple[list[_Joint], np.ndarray, float]:
    try:
        text = path.read_text(errors="strict")
    except (OSError, UnicodeDecodeError) as e:
        raise ConvertError(f"{path}: not a readable BVH text file ({type(e).__name__})") from None
    head, sep, numbers = text.partition("Frame Time:")
    if sep:  # the channel values are parsed in bulk, the rest token by token
        first, _, numbers = numbers.lstrip().partition("\n")
        head = head + sep + " " + first
    tokens = head.split()
    if not tokens or tokens[0] != "HIERARCHY":
        raise ConvertError(f"{path}: not a BVH file (it must start with HIERARCHY)")
    joints: list[_Joint] = []
    stack: list[int] = []
    i = 1
    try:
        while tokens[i] != "MOTION":
            tok = tokens[i]
            if tok in ("ROOT", "JOINT"):
                parent = stack[-1] if stack else -1
                joints.append(_Joint(tokens[i + 1], parent, np.zeros(3)))
                i += 2
            elif tok == "End":  # End Site { OFFSET x y z }
                if tokens[i + 2] != "{" or tokens[i + 3] != "OFFSET":
                    raise ValueError("End Site without OFFSET")
                joints[stack[-1]].end = np.array(tokens[i + 4 : i + 7], dtype=np.float64)
                if tokens[i + 7] != "}":
                    raise ValueError("End Site not closed")
                i += 8
            elif tok == "{":
                stack.append(len(joints) - 1)
                i += 1
            elif tok == "}":
                stack.pop()
                i += 1
            elif tok == "OFFSET":
                joints[stack[-1]].offset = np.array(tokens[i + 1 : i + 4], dtype=np.float64)
                i += 4
            elif tok == "CHANNELS":
                n = int(tokens[i + 1])
                joints[stack[-1]].channels = tokens[i + 2 : i + 2 + n]
                i += 2 + n
            else:
                raise ValueError(f"unexpected {tok!r} in HIERARCHY")
        if tokens[i + 1] != "Frames:" or tokens[i + 3 : i + 5] != ["Frame", "Time:"]:
            raise ValueError("MOTION must give 'Frames:' and 'Frame Time:'")
        n_frames, frame_time = int(tokens[i + 2]), float(tokens[i + 5])
        values = _numbers(numbers)
    except (IndexError, ValueError) as e:
        raise ConvertError(f"{path}: broken BVH ({e})") from None
    n_channels = sum(len(j.channels) for j in joints)
    if n_frames < 1 or n_channels == 0 or values.size != n_frames * n_channels:
        raise ConvertError(
            f"{path}: the MOTION block has {values.size} values, expected {n_frames} frames x "
            f"{n_channels} channels (truncated or damaged file)"
        )
    if frame_time <= 0:
        raise ConvertError(f"{path}: Frame Time {frame_time} must be positive")
    return joints, values.reshape(n_frames, n_channels), 1.0 / frame_time


def read_bvh(path: str | Path) -> BvhMotion:
    """Parse a BVH file and run its forward kinematics.

    Raises:
        ConvertError: not a BVH file, broken hierarchy, or a motion block of the wrong size.
    """
    path = Path(path)
    joints, data, fps = _parse(path)
    t = len(data)
    world_r = [np.zeros((t, 3, 3))] * len(joints)
    world_p = [np.zeros((t, 3))] * len(joints)
    col = 0
    for j, joint in enumerate(joints):
        local_p = np.broadcast_to(joint.offset, (t, 3)).copy()
        local_r = np.broadcast_to(np.eye(3), (t, 3, 3)).copy()
        for ch in joint.channels:
            axis, kind = ch[0].upper(), ch[1:].lower()
            if kind == "position":
                local_p[:, "XYZ".index(axis)] += data[:, col]
            elif kind == "rotation":
                local_r = matmul3(local_r, axis_rotation(axis, data[:, col]))
            else:
                raise ConvertError(f"{path}: unknown channel {ch!r} of joint {joint.name}")
            col += 1
        if joint.parent < 0:
            world_r[j], world_p[j] = local_r, local_p
        else:
            pr, pp = world_r[joint.parent], world_p[joint.parent]
            world_r[j] = matmul3(pr, local_r)
            world_p[j] = pp + np.einsum("tij,tj->ti", pr, local_p)
    ends = {
        joint.name: world_p[j] + np.einsum("tij,j->ti", world_r[j], joint.end)
        for j, joint in enumerate(joints)
        if joint.end is not None
    }
    return BvhMotion([j.name for j in joints], np.stack(world_p, axis=1), ends, fps)


def to_h36m(motion: BvhMotion, path: str | Path) -> np.ndarray:
    """Our 17 joints ``(T, 17, 3)`` from a parsed BVH, by joint name (:data:`JOINT_NAMES`)."""
    index = {n.lower(): i for i, n in enumerate(motion.names)}
    ends = {n.lower(): v for n, v in motion.ends.items()}
    out = []
    for ours in sk.JOINT_NAMES:
        for cand in JOINT_NAMES[ours]:
            name, _, end = cand.partition("@")
            if end and name.lower() in ends:
                out.append(ends[name.lower()])
                break
            if not end and name.lower() in index:
                out.append(motion.positions[:, index[name.lower()]])
                break
        else:
            raise ConvertError(
                f"{path}: no BVH joint for our '{ours}' (looked for {', '.join(JOINT_NAMES[ours])}"
                f"; the file has {', '.join(motion.names[:12])}...)"
            )
    return np.stack(out, axis=1)

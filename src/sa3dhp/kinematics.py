"""Root-relative pose <-> local representation, and batched differentiable forward kinematics.

The local representation (METHOD.md, Components 1) splits a root-relative pose into

* ``root_vectors`` ``(..., 3, 3)``: the view-variant vectors pelvis->thorax ("neck" in the
  paper: the base of the neck, where the shoulders attach), pelvis->left hip and
  pelvis->right hip, in camera coordinates, mm;
* ``directions`` ``(..., 13, 3)``: every other bone (:data:`DIRECTION_JOINTS`) as a unit vector
  expressed in a *torso frame* built from the root vectors, so they do not change when the
  whole body turns (view-invariant);

and bone lengths ``(..., 13)`` for the bones in :data:`DIRECTION_JOINTS`.

Torso frame (our choice, METHOD.md allows it): ``e2`` = unit pelvis->thorax (up the spine),
``e1`` = the hip axis (right hip -> left hip) made orthogonal to ``e2`` (the person's left),
``e3 = e1 x e2`` (the person's forward). It is never degenerate for a human pose, unlike frames
built from a parent bone, which break down when a limb is straight. The spine->thorax bone is not
a free bone here: the thorax comes from its root vector.

All functions take torch tensors (differentiable, any leading batch shape) or numpy arrays
(computed in float64 and returned as numpy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sa3dhp import skeleton as sk

#: Joints whose bone (from their parent) is a unit direction in the local representation.
DIRECTION_JOINTS: tuple[int, ...] = (
    sk.SPINE,
    sk.R_KNEE,
    sk.R_ANKLE,
    sk.L_KNEE,
    sk.L_ANKLE,
    sk.NECK,
    sk.HEAD,
    sk.L_SHOULDER,
    sk.L_ELBOW,
    sk.L_WRIST,
    sk.R_SHOULDER,
    sk.R_ELBOW,
    sk.R_WRIST,
)
#: Joints given by the root vectors, in their order.
ROOT_VECTOR_JOINTS: tuple[int, ...] = (sk.THORAX, sk.L_HIP, sk.R_HIP)
NUM_DIRECTIONS = len(DIRECTION_JOINTS)
_EPS = 1e-8


@dataclass
class LocalPose:
    """Local representation of a batch of poses (torch tensors or numpy arrays).

    Attributes:
        root_vectors: ``(..., 3, 3)`` pelvis->thorax, pelvis->l_hip, pelvis->r_hip, mm.
        directions: ``(..., 13, 3)`` unit bone directions in the torso frame.
    """

    root_vectors: torch.Tensor | np.ndarray
    directions: torch.Tensor | np.ndarray


def _check_pose(pose: torch.Tensor) -> None:
    if pose.ndim < 2 or pose.shape[-2:] != (sk.NUM_JOINTS, 3):
        raise ValueError(f"pose must have shape (..., 17, 3), got {tuple(pose.shape)}")
    if not torch.isfinite(pose).all():
        raise ValueError("pose contains NaN or infinite values")


def _normalize(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(_EPS)


def torso_frame(root_vectors: torch.Tensor) -> torch.Tensor:
    """Torso frame from the root vectors.

    Args:
        root_vectors: ``(..., 3, 3)`` pelvis->thorax, pelvis->l_hip, pelvis->r_hip.

    Returns:
        ``(..., 3, 3)`` rotation whose columns are the axes ``e1`` (left), ``e2`` (up),
        ``e3`` (forward) in camera coordinates: ``camera = frame @ local``.
    """
    up = _normalize(root_vectors[..., 0, :])
    hip_axis = root_vectors[..., 1, :] - root_vectors[..., 2, :]
    left = _normalize(hip_axis - (hip_axis * up).sum(-1, keepdim=True) * up)
    forward = torch.cross(left, up, dim=-1)
    return torch.stack([left, up, forward], dim=-1)


def _as_torch(x: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, bool]:
    if isinstance(x, torch.Tensor):
        return x, False
    return torch.as_tensor(np.asarray(x, dtype=np.float64)), True


def pose_torso_frame(pose: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """:func:`torso_frame` of poses ``(..., 17, 3)`` (any origin) -> ``(..., 3, 3)``, columns
    left, up, forward; the one torso frame of the project (the local representation and the
    joint-angle checks of :mod:`sa3dhp.plausibility` both use it). Same array type as ``pose``."""
    y, was_numpy = _as_torch(pose)
    frame = torso_frame(y[..., list(ROOT_VECTOR_JOINTS), :] - y[..., :1, :])
    return frame.numpy() if was_numpy else frame


def depth_mirror(pose: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """Poses ``(..., 17, 3)`` made root-relative and mirrored in depth with left and right
    swapped: every joint keeps its x and y (so its 2D position under a weak-perspective camera)
    and the body faces the other way. Same array type and dtype as ``pose``; differentiable."""
    p = pose - pose[..., :1, :]
    if isinstance(p, torch.Tensor):
        p = p * p.new_tensor([1.0, 1.0, -1.0])
    else:
        p = p * np.array([1.0, 1.0, -1.0], dtype=p.dtype)
    return p[..., list(sk.FLIP_PERMUTATION), :]


def to_local(pose: torch.Tensor | np.ndarray) -> LocalPose:
    """Decompose root-relative poses into the local representation.

    Args:
        pose: ``(..., 17, 3)`` root-relative joints, mm, camera frame.

    Returns:
        :class:`LocalPose` of the same array type as ``pose``.
    """
    y, was_numpy = _as_torch(pose)
    _check_pose(y)
    y = y - y[..., :1, :]
    root_vectors = y[..., list(ROOT_VECTOR_JOINTS), :]
    frame = torso_frame(root_vectors)
    parents = [sk.PARENTS[j] for j in DIRECTION_JOINTS]
    bones = _normalize(y[..., list(DIRECTION_JOINTS), :] - y[..., parents, :])
    directions = bones @ frame  # (..., 13, 3): row-vector form of frame^T @ bone
    if was_numpy:
        return LocalPose(root_vectors.numpy(), directions.numpy())
    return LocalPose(root_vectors, directions)


def direction_bone_lengths(pose: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """Lengths of the bones of :data:`DIRECTION_JOINTS`, ``(..., 13)``, same type as ``pose``."""
    y, was_numpy = _as_torch(pose)
    _check_pose(y)
    parents = [sk.PARENTS[j] for j in DIRECTION_JOINTS]
    lengths = (y[..., list(DIRECTION_JOINTS), :] - y[..., parents, :]).norm(dim=-1)
    return lengths.numpy() if was_numpy else lengths


def canonical_direction_lengths() -> np.ndarray:
    """Canonical lengths (mm) of the bones of :data:`DIRECTION_JOINTS`, ``(13,)``."""
    return sk.canonical_bone_lengths()[list(DIRECTION_JOINTS)]


def forward_kinematics(
    local: LocalPose, bone_lengths: torch.Tensor | np.ndarray
) -> torch.Tensor | np.ndarray:
    """Rebuild root-relative poses from the local representation (differentiable).

    Directions need not be unit length (they are normalised here), so a network can output
    them raw. This is the exact inverse of :func:`to_local` when ``bone_lengths`` are the
    pose's own (:func:`direction_bone_lengths`).

    Args:
        local: root vectors ``(..., 3, 3)`` and directions ``(..., 13, 3)``.
        bone_lengths: ``(..., 13)`` or ``(13,)`` lengths in mm of the direction bones.

    Returns:
        ``(..., 17, 3)`` root-relative pose, mm, same array type as ``local.root_vectors``.
    """
    root_vectors, was_numpy = _as_torch(local.root_vectors)
    directions, _ = _as_torch(local.directions)
    lengths, _ = _as_torch(bone_lengths)
    directions = directions.to(root_vectors.dtype)
    lengths = lengths.to(root_vectors.dtype)
    if root_vectors.shape[-2:] != (3, 3) or directions.shape[-2:] != (NUM_DIRECTIONS, 3):
        raise ValueError(
            "local representation must have root_vectors (..., 3, 3) and directions "
            f"(..., 13, 3), got {tuple(root_vectors.shape)} and {tuple(directions.shape)}"
        )
    if lengths.shape[-1] != NUM_DIRECTIONS:
        raise ValueError(f"bone_lengths must have shape (..., 13), got {tuple(lengths.shape)}")
    frame = torso_frame(root_vectors)
    # bones in camera frame: (..., 13, 3), row-vector form of frame @ direction
    bones = _normalize(directions) @ frame.transpose(-1, -2) * lengths[..., None]
    joints: list[torch.Tensor | None] = [None] * sk.NUM_JOINTS
    joints[sk.PELVIS] = torch.zeros_like(root_vectors[..., 0, :])
    for k, j in enumerate(ROOT_VECTOR_JOINTS):
        joints[j] = root_vectors[..., k, :]
    bone_of = {j: k for k, j in enumerate(DIRECTION_JOINTS)}
    for j in range(sk.NUM_JOINTS):  # parents precede children in the joint order
        if joints[j] is None:
            joints[j] = joints[sk.PARENTS[j]] + bones[..., bone_of[j], :]
    pose = torch.stack(joints, dim=-2)  # type: ignore[arg-type]
    return pose.numpy() if was_numpy else pose

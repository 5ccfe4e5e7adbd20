"""The 17-joint Human3.6M skeleton: joint order, kinematic tree, flip permutation, bone lengths.

Every pose in sa3dhp is a ``(..., 17, 3)`` array in this joint order, in millimetres, in camera
coordinates (x right, y down, z forward, OpenCV convention), root-relative (pelvis at the origin)
unless a name says otherwise.

The module also holds documented mapping tables from the joint orders of other datasets
(SMPL-24 for 3DPW and SURREAL, MPI-INF-3DHP's 28-joint training and 17-joint test orders, the CMU
ASF skeleton) into this order, so that converters select the right joints.
"""

from __future__ import annotations

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis",  # 0
    "r_hip",  # 1
    "r_knee",  # 2
    "r_ankle",  # 3
    "l_hip",  # 4
    "l_knee",  # 5
    "l_ankle",  # 6
    "spine",  # 7
    "thorax",  # 8
    "neck",  # 9  (Human3.6M "Neck/Nose")
    "head",  # 10
    "l_shoulder",  # 11
    "l_elbow",  # 12
    "l_wrist",  # 13
    "r_shoulder",  # 14
    "r_elbow",  # 15
    "r_wrist",  # 16
)
NUM_JOINTS = len(JOINT_NAMES)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

PELVIS, R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE = 0, 1, 2, 3, 4, 5, 6
SPINE, THORAX, NECK, HEAD = 7, 8, 9, 10
L_SHOULDER, L_ELBOW, L_WRIST, R_SHOULDER, R_ELBOW, R_WRIST = 11, 12, 13, 14, 15, 16

#: Parent of every joint in the kinematic tree (-1 for the root).
PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)

#: Bones as (parent, child) pairs, in joint order of the child.
BONES: tuple[tuple[int, int], ...] = tuple((p, c) for c, p in enumerate(PARENTS) if p >= 0)

#: ``pose[FLIP_PERMUTATION]`` swaps every left joint with its right counterpart.
FLIP_PERMUTATION: tuple[int, ...] = (0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13)

#: Canonical bone lengths in mm (child joint -> length of the bone from its parent), the mean
#: Human3.6M training-subject proportions: a person about 1.72 m tall.
CANONICAL_BONE_LENGTHS: dict[int, float] = {
    R_HIP: 132.9,
    R_KNEE: 442.9,
    R_ANKLE: 454.2,
    L_HIP: 132.9,
    L_KNEE: 442.9,
    L_ANKLE: 454.2,
    SPINE: 233.4,
    THORAX: 257.1,
    NECK: 121.1,
    HEAD: 115.0,
    L_SHOULDER: 151.0,
    L_ELBOW: 278.9,
    L_WRIST: 251.7,
    R_SHOULDER: 151.0,
    R_ELBOW: 278.9,
    R_WRIST: 251.7,
}

#: Joint groups used for colouring and per-part breakdowns.
LEFT_JOINTS: tuple[int, ...] = (L_HIP, L_KNEE, L_ANKLE, L_SHOULDER, L_ELBOW, L_WRIST)
RIGHT_JOINTS: tuple[int, ...] = (R_HIP, R_KNEE, R_ANKLE, R_SHOULDER, R_ELBOW, R_WRIST)


def canonical_bone_lengths() -> np.ndarray:
    """Canonical length of the bone ending at each joint, ``(17,)`` mm (0 for the pelvis)."""
    out = np.zeros(NUM_JOINTS, dtype=np.float32)
    for j, length in CANONICAL_BONE_LENGTHS.items():
        out[j] = length
    return out


def bone_lengths(pose: np.ndarray) -> np.ndarray:
    """Length of the bone ending at each joint.

    Args:
        pose: ``(..., 17, 3)`` joints.

    Returns:
        ``(..., 17)`` lengths (0 for the pelvis), same units as ``pose``.
    """
    pose = np.asarray(pose)
    parents = np.array([max(p, 0) for p in PARENTS])
    return np.linalg.norm(pose - pose[..., parents, :], axis=-1)


def _check_permutation(perm: tuple[int, ...]) -> None:
    assert sorted(perm) == list(range(NUM_JOINTS))
    assert all(perm[perm[i]] == i for i in range(NUM_JOINTS))
    for child, parent in enumerate(PARENTS):
        if parent >= 0:
            assert PARENTS[perm[child]] == perm[parent]


_check_permutation(FLIP_PERMUTATION)


# ---------------------------------------------------------------------------------------------
# Mapping tables into the Human3.6M-17 order. Each table lists, for the 17 joints in our order,
# the index of the source joint. Where no source joint coincides with ours the choice is the
# conventional nearest one and is marked "approx." -- the exact way for SMPL is to regress
# Human3.6M joints from the mesh with the SMPL model's J_regressor_h36m, which needs model files
# that sa3dhp cannot ship.
# ---------------------------------------------------------------------------------------------

SMPL24_NAMES: tuple[str, ...] = (
    "pelvis",
    "l_hip",
    "r_hip",
    "spine1",
    "l_knee",
    "r_knee",
    "spine2",
    "l_ankle",
    "r_ankle",
    "spine3",
    "l_foot",
    "r_foot",
    "neck",
    "l_collar",
    "r_collar",
    "head",
    "l_shoulder",
    "r_shoulder",
    "l_elbow",
    "r_elbow",
    "l_wrist",
    "r_wrist",
    "l_hand",
    "r_hand",
)
#: SMPL-24 (3DPW, SURREAL) -> H36M-17. spine <- spine2, thorax <- neck, neck/nose <- head and
#: head <- head are approx. (SMPL has no head-top joint, so neck/nose and head coincide).
FROM_SMPL24: tuple[int, ...] = (0, 2, 5, 8, 1, 4, 7, 6, 12, 15, 15, 16, 18, 20, 17, 19, 21)

MPI_INF_3DHP_28_NAMES: tuple[str, ...] = (
    "spine3",
    "spine4",
    "spine2",
    "spine",
    "pelvis",
    "neck",
    "head",
    "head_top",
    "left_clavicle",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "left_hand",
    "right_clavicle",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "right_hand",
    "left_hip",
    "left_knee",
    "left_ankle",
    "left_foot",
    "left_toe",
    "right_hip",
    "right_knee",
    "right_ankle",
    "right_foot",
    "right_toe",
)
#: MPI-INF-3DHP training annotations (28 joints) -> H36M-17. thorax <- neck, neck/nose <- head,
#: head <- head_top: the convention of the 3DHP test protocol.
FROM_MPI_INF_3DHP_28: tuple[int, ...] = (
    4,
    23,
    24,
    25,
    18,
    19,
    20,
    3,
    5,
    6,
    7,
    9,
    10,
    11,
    14,
    15,
    16,
)

MPI_INF_3DHP_17_NAMES: tuple[str, ...] = (
    "head_top",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "pelvis",
    "spine",
    "head",
)
#: MPI-INF-3DHP test set (17 joints, ``univ_annot3``) -> H36M-17.
FROM_MPI_INF_3DHP_17: tuple[int, ...] = (14, 8, 9, 10, 11, 12, 13, 15, 1, 16, 0, 5, 6, 7, 2, 3, 4)

#: Human3.6M's 32 recorded joints (D3_Positions, 3d-pose-baseline's h5, VideoPose3D's npz) ->
#: H36M-17: Hip, RHip, RKnee, RFoot, LHip, LKnee, LFoot, Spine, Thorax, Neck/Nose, Head,
#: LShoulder, LElbow, LWrist, RShoulder, RElbow, RWrist (the 17 the field evaluates on).
FROM_H36M_32: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)

#: The CMU MoCap ASF skeleton: for each of our joints, the ASF bone whose *end* point gives the
#: joint position (``root`` is the root position). spine, thorax and neck/nose are approx.
FROM_CMU_ASF: tuple[str, ...] = (
    "root",
    "rhipjoint",
    "rfemur",
    "rtibia",
    "lhipjoint",
    "lfemur",
    "ltibia",
    "lowerback",
    "thorax",
    "upperneck",
    "head",
    "lclavicle",
    "lhumerus",
    "lradius",
    "rclavicle",
    "rhumerus",
    "rradius",
)


def select_joints(joints: np.ndarray, table: tuple[int, ...]) -> np.ndarray:
    """Reorder ``(..., J, D)`` joints of another dataset into ``(..., 17, D)`` with a table."""
    joints = np.asarray(joints)
    if joints.ndim < 2 or joints.shape[-2] <= max(table):
        raise ValueError(
            f"expected joints of shape (..., J, D) with J > {max(table)} for this table, "
            f"got {joints.shape}"
        )
    return joints[..., list(table), :]


#: Rest-pose bone directions in the *body* frame (x: the person's left, y: up, z: forward) for
#: the bone ending at each joint; the pelvis entry is unused.
REST_DIRECTIONS_BODY: dict[int, tuple[float, float, float]] = {
    R_HIP: (-1.0, -0.15, 0.0),
    R_KNEE: (0.0, -1.0, 0.0),
    R_ANKLE: (0.0, -1.0, -0.03),
    L_HIP: (1.0, -0.15, 0.0),
    L_KNEE: (0.0, -1.0, 0.0),
    L_ANKLE: (0.0, -1.0, -0.03),
    SPINE: (0.0, 1.0, 0.03),
    THORAX: (0.0, 1.0, -0.03),
    NECK: (0.0, 1.0, 0.25),
    HEAD: (0.0, 1.0, 0.05),
    L_SHOULDER: (1.0, -0.08, 0.0),
    L_ELBOW: (0.12, -1.0, 0.0),
    L_WRIST: (0.05, -1.0, 0.1),
    R_SHOULDER: (-1.0, -0.08, 0.0),
    R_ELBOW: (-0.12, -1.0, 0.0),
    R_WRIST: (-0.05, -1.0, 0.1),
}

#: Body frame (left, up, forward) -> camera frame (x right, y down, z forward) for a person
#: facing the camera: their left is the image's right, up is -y, forward is towards the camera.
BODY_TO_CAMERA = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]], dtype=np.float32)


def rest_pose(lengths: np.ndarray | None = None) -> np.ndarray:
    """A standing rest pose facing the camera, ``(17, 3)`` mm, root-relative, camera frame.

    Args:
        lengths: ``(17,)`` bone lengths (as :func:`canonical_bone_lengths`); canonical if None.
    """
    lengths = canonical_bone_lengths() if lengths is None else np.asarray(lengths, np.float32)
    pose = np.zeros((NUM_JOINTS, 3), dtype=np.float32)
    for j in range(1, NUM_JOINTS):  # parents precede children in this order
        d = np.asarray(REST_DIRECTIONS_BODY[j], dtype=np.float32)
        pose[j] = pose[PARENTS[j]] + lengths[j] * BODY_TO_CAMERA @ (d / np.linalg.norm(d))
    return pose

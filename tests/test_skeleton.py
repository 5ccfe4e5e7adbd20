import numpy as np
import pytest

from sa3dhp import skeleton as sk


def test_tree_is_topologically_ordered_and_has_16_bones():
    assert len(sk.JOINT_NAMES) == len(sk.PARENTS) == 17
    assert all(p < c for c, p in enumerate(sk.PARENTS) if p >= 0)
    assert len(sk.BONES) == 16


def test_flip_permutation_swaps_left_and_right_names():
    for i, j in enumerate(sk.FLIP_PERMUTATION):
        a, b = sk.JOINT_NAMES[i], sk.JOINT_NAMES[j]
        if a.startswith(("l_", "r_")):
            assert a[2:] == b[2:] and a[0] != b[0]
        else:
            assert i == j


def test_rest_pose_uses_given_bone_lengths_and_stands_upright():
    lengths = sk.canonical_bone_lengths() * 1.1
    pose = sk.rest_pose(lengths)
    np.testing.assert_allclose(sk.bone_lengths(pose)[1:], lengths[1:], rtol=1e-5)
    assert pose[sk.HEAD, 1] < pose[sk.PELVIS, 1] < pose[sk.L_ANKLE, 1]  # y points down
    assert pose[sk.L_HIP, 0] > 0 > pose[sk.R_HIP, 0]  # facing the camera: left is +x


@pytest.mark.parametrize(
    ("table", "names"),
    [
        (sk.FROM_MPI_INF_3DHP_28, sk.MPI_INF_3DHP_28_NAMES),
        (sk.FROM_MPI_INF_3DHP_17, sk.MPI_INF_3DHP_17_NAMES),
        (sk.FROM_SMPL24, sk.SMPL24_NAMES),
    ],
)
def test_mapping_tables_pick_same_side_joints(table, names):
    assert len(table) == 17
    for ours, theirs in zip(sk.JOINT_NAMES, (names[i] for i in table), strict=True):
        if ours.startswith("l_"):
            assert theirs.startswith(("l_", "left_")), (ours, theirs)
        elif ours.startswith("r_"):
            assert theirs.startswith(("r_", "right_")), (ours, theirs)
        if ours.split("_")[-1] in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"):
            assert theirs.endswith(ours.split("_")[-1])
    assert names[table[sk.PELVIS]] == "pelvis"


def test_3dhp_test_order_agrees_with_training_order():
    test_in_train = (7, 5, 14, 15, 16, 9, 10, 11, 23, 24, 25, 18, 19, 20, 4, 3, 6)  # protocol
    assert tuple(test_in_train[i] for i in sk.FROM_MPI_INF_3DHP_17) == sk.FROM_MPI_INF_3DHP_28


def test_cmu_table_covers_every_joint_once_per_side():
    assert len(sk.FROM_CMU_ASF) == 17 and sk.FROM_CMU_ASF[sk.PELVIS] == "root"
    for ours, bone in zip(sk.JOINT_NAMES, sk.FROM_CMU_ASF, strict=True):
        if ours.startswith(("l_", "r_")) and bone != "root":
            assert bone[0] == ours[0], (ours, bone)


def test_select_joints_checks_shape():
    joints = np.arange(28 * 3, dtype=float).reshape(28, 3)
    out = sk.select_joints(joints, sk.FROM_MPI_INF_3DHP_28)
    assert out.shape == (17, 3)
    np.testing.assert_array_equal(out[0], joints[4])
    with pytest.raises(ValueError, match=r"\(\.\.\., J, D\)"):
        sk.select_joints(np.zeros((10, 3)), sk.FROM_MPI_INF_3DHP_28)

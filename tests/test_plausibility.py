import numpy as np
import pytest

from sa3dhp import plausibility as pl
from sa3dhp import skeleton as sk
from sa3dhp.data import motion as M


def _pose(**angles) -> np.ndarray:
    """A body-frame pose from joint angles (degrees), facing the camera, NOT clipped to limits."""
    a = {n: np.zeros(1) for n in M.ANGLE_NAMES}
    for k, v in angles.items():
        a[k] = np.array([float(v)])
    return M.pose_from_angles(a, sk.canonical_bone_lengths().astype(float)) @ sk.BODY_TO_CAMERA.T


def test_normal_poses_pass():
    for angles in ({}, {"l_knee_flexion": 90, "l_hip_flexion": 60}, {"r_elbow_flexion": 120}):
        assert pl.is_plausible(_pose(**angles)).all(), angles


@pytest.mark.parametrize(
    ("angles", "check"),
    [
        ({"l_knee_flexion": -60}, "knee_hinge"),  # knee bent forward
        ({"r_knee_flexion": 175}, "knee_flexion"),
        ({"l_elbow_flexion": 175}, "elbow_flexion"),
        ({"r_hip_flexion": -80}, "hip"),  # leg far behind the body
        ({"l_hip_abduction": -40}, "hip"),  # leg across the midline
        ({"spine_bend": 170}, "spine"),
        ({"neck_flexion": -120}, "neck"),  # head bent far backwards
    ],
)
def test_broken_joint_angles_fail(angles, check):
    pose = _pose(**angles)
    assert not pl.joint_angle_limits(pose)[check][0]
    assert not pl.is_plausible(pose)[0]


def test_crossing_legs_and_arm_through_torso_intersect():
    crossed = _pose(l_hip_abduction=-25, r_hip_abduction=-25)
    assert pl.limb_intersections(crossed)[0]
    through = _pose()
    through[0, sk.L_ELBOW] = through[0, sk.SPINE] + np.array([60.0, 0.0, -150.0])
    through[0, sk.L_WRIST] = through[0, sk.SPINE] + np.array([-150.0, 0.0, 150.0])
    assert pl.limb_intersections(through)[0]
    assert not pl.limb_intersections(_pose())[0]


def test_segment_distance_hand_cases():
    z = np.zeros((1, 3))
    x = np.array([[1.0, 0, 0]])
    d = pl.segment_distance(z, x, np.array([[0.5, 1.0, 0]]), np.array([[0.5, 2.0, 0]]))
    assert d[0] == pytest.approx(1.0)
    d = pl.segment_distance(z, x, np.array([[0.5, -1.0, 0.3]]), np.array([[0.5, 1.0, 0.3]]))
    assert d[0] == pytest.approx(0.3)


def test_report_and_bad_input():
    poses = np.stack([_pose()[0], _pose(l_knee_flexion=-60)[0]])
    rep = pl.plausibility_report(poses)
    assert rep["plausible"] == pytest.approx(0.5) and rep["knee_hinge"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"\(N, 17, 3\)"):
        pl.is_plausible(np.zeros((3, 16, 3)))
    bad = _pose()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pl.is_plausible(bad)

import numpy as np
import pytest

from sa3dhp import plausibility as pl
from sa3dhp import skeleton as sk
from sa3dhp.data import motion as M


def _pose(**angles) -> np.ndarray:
    """A ``(1, 17, 3)`` camera-frame pose facing the camera from joint angles (degrees), NOT
    clipped to the generator's limits. Arms hang 12 deg out (clear of the thighs) by default."""
    a = {n: np.zeros(1) for n in M.ANGLE_NAMES}
    a["l_shoulder_abduction"] = a["r_shoulder_abduction"] = np.array([12.0])
    for k, v in angles.items():
        a[k] = np.array([float(v)])
    return M.pose_from_angles(a, sk.canonical_bone_lengths()) @ sk.BODY_TO_CAMERA.T


def _yaw(deg: float) -> np.ndarray:
    t = np.radians(deg)
    return np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])


@pytest.mark.parametrize(
    "angles",
    [
        {},
        {"l_knee_flexion": 90, "l_hip_flexion": 60},  # knee raised
        {"l_hip_flexion": 90, "r_hip_flexion": 90, "l_knee_flexion": 90, "r_knee_flexion": 90},
        {"r_elbow_flexion": 140, "r_shoulder_flexion": 30},  # hand to the shoulder
        {"l_shoulder_abduction": 170, "r_shoulder_abduction": 170},  # arms up
        {"spine_bend": 70, "neck_flexion": 40},  # bending over, looking down
        {"l_hip_abduction": 45, "r_hip_abduction": 45},  # straddle
    ],
)
def test_normal_poses_pass(angles):
    pose = _pose(**angles)
    assert pl.is_plausible(pose).all(), pl.plausibility_report(pose)


def test_skeleton_rest_pose_passes():
    assert pl.is_plausible(sk.rest_pose()).all()


@pytest.mark.parametrize(
    ("angles", "check"),
    [
        ({"l_knee_flexion": -60}, "knee_hinge"),  # knee bent forward
        ({"r_knee_flexion": -90, "r_hip_flexion": 40}, "knee_hinge"),
        ({"r_knee_flexion": 175}, "knee_flexion"),
        ({"l_elbow_flexion": 175}, "elbow_flexion"),
        ({"r_hip_flexion": -80}, "hip"),  # leg far behind the body
        ({"l_hip_abduction": -40}, "hip"),  # leg across the midline
        ({"r_hip_abduction": 85}, "hip"),  # leg straight out to the side
        ({"spine_bend": 170}, "spine"),  # folded in half at the spine
        ({"neck_flexion": -120}, "neck"),  # head bent far backwards
        ({"neck_flexion": 100}, "neck"),  # chin through the chest
    ],
)
def test_broken_joint_angles_fail(angles, check):
    pose = _pose(**angles)
    assert not pl.joint_angle_limits(pose)[check][0]
    assert not pl.is_plausible(pose)[0]
    turned = pose @ _yaw(130.0).T  # the checks do not depend on the view
    assert not pl.joint_angle_limits(turned)[check][0]


def test_hyperextended_elbow_is_indistinguishable_from_a_twisted_arm():
    """Why elbows are only checked for over-flexion: the same joint positions arise from an
    elbow bent 40 deg backwards and from a normal 40 deg bend with the upper arm turned 180."""
    backwards = _pose(l_elbow_flexion=-40)
    twisted = _pose(l_elbow_flexion=40, l_shoulder_twist=180)
    np.testing.assert_allclose(backwards, twisted, atol=1e-6)
    assert pl.is_plausible(backwards)[0]


def test_crossing_legs_and_arm_through_torso_intersect():
    crossed = _pose(l_hip_abduction=-25, r_hip_abduction=-25)  # thighs cross at the knees
    assert pl.limb_intersections(crossed)[0] and not pl.is_plausible(crossed)[0]
    # shin swung sideways through the other leg (knee bent, thigh turned outwards by 90 deg)
    through_leg = _pose(r_knee_flexion=90, r_hip_rotation=90)
    assert pl.limb_intersections(through_leg)[0]
    # forearm through the belly: upper arm hanging, hand pointing inwards across the body
    through_torso = _pose(l_shoulder_twist=-90, l_elbow_flexion=90)
    assert pl.limb_intersections(through_torso)[0] and not pl.is_plausible(through_torso)[0]
    # ... while the same forearm pointing forwards is fine, as is the rest pose
    assert not pl.limb_intersections(_pose(l_elbow_flexion=90))[0]
    assert not pl.limb_intersections(_pose())[0]
    # forearms crossed in front of the chest (folded arms): fine 5 cm apart, not 0 cm apart
    folded = _pose()[0]
    folded[sk.L_ELBOW] = folded[sk.THORAX] + [180.0, 230.0, -120.0]
    folded[sk.R_ELBOW] = folded[sk.THORAX] + [-180.0, 230.0, -120.0]
    folded[sk.L_WRIST] = folded[sk.THORAX] + [-150.0, 120.0, -230.0]
    folded[sk.R_WRIST] = folded[sk.THORAX] + [150.0, 120.0, -130.0]
    assert not pl.limb_intersections(folded)[0]
    folded[sk.R_WRIST] = folded[sk.THORAX] + [150.0, 120.0, -230.0]
    assert pl.limb_intersections(folded)[0]


def test_thresholds_are_parameters():
    pose = _pose(l_hip_abduction=-8, r_hip_abduction=-8)  # knees close together
    d = min(v.min() for v in pl.limb_distances(pose).values())
    assert pl.limb_intersections(pose, min_distance_mm=d + 1)[0]
    assert not pl.limb_intersections(pose, min_distance_mm=d - 1)[0]
    assert len(pl.LIMB_PAIRS) == 24  # 28 pairs of 8 limb segments, minus 4 joined ones


def test_segment_distance_hand_cases_and_brute_force():
    z = np.zeros((1, 3))
    x = np.array([[1.0, 0, 0]])
    d = pl.segment_distance(z, x, np.array([[0.5, 1.0, 0]]), np.array([[0.5, 2.0, 0]]))
    assert d[0] == pytest.approx(1.0)
    d = pl.segment_distance(z, x, np.array([[0.5, -1.0, 0.3]]), np.array([[0.5, 1.0, 0.3]]))
    assert d[0] == pytest.approx(0.3)
    d = pl.segment_distance(z, x, np.array([[2.0, 1.0, 0]]), np.array([[3.0, 1.0, 0]]))  # parallel
    assert d[0] == pytest.approx(np.sqrt(2.0))
    rng = np.random.default_rng(0)
    a0, a1, b0, b1 = rng.normal(size=(4, 300, 3))
    a1[:50] = a0[:50]  # degenerate segments (points)
    b1[50:100] = b0[50:100] + 2.0 * (a1[50:100] - a0[50:100])  # parallel
    exact = pl.segment_distance(a0, a1, b0, b1)
    s = np.linspace(0, 1, 101)
    pa = a0[:, None] + s[None, :, None] * (a1 - a0)[:, None]
    pb = b0[:, None] + s[None, :, None] * (b1 - b0)[:, None]
    brute = np.linalg.norm(pa[:, :, None] - pb[:, None], axis=-1).min(axis=(1, 2))
    assert (exact <= brute + 1e-9).all()
    assert np.abs(exact - brute).max() < 0.03


def test_report_and_bad_input():
    poses = np.concatenate([_pose(), _pose(l_knee_flexion=-60)])
    rep = pl.plausibility_report(poses)
    assert rep["plausible"] == pytest.approx(0.5) and rep["knee_hinge"] == pytest.approx(0.5)
    assert rep["no_intersection"] == pytest.approx(1.0)
    assert pl.is_plausible(poses[0]).shape == (1,)  # a single (17, 3) pose
    for shape in [(3, 16, 3), (17,), (2, 17, 2), (2, 2, 17, 3)]:
        with pytest.raises(ValueError, match=r"\(N, 17, 3\)"):
            pl.is_plausible(np.zeros(shape))
    bad = _pose()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pl.is_plausible(bad)


def test_measures_are_view_invariant():
    rng = np.random.default_rng(1)
    m = M.generate_motion(M.sample_subject(rng), 60, M.target_style(), rng)
    a = pl.joint_angles(m.poses)
    b = pl.joint_angles(m.poses @ _yaw(77.0).T)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], atol=1e-3)


def _violation(pose: np.ndarray, **kw) -> np.ndarray:
    import torch

    return pl.violation(torch.as_tensor(pose, dtype=torch.float64), **kw).numpy()


@pytest.mark.parametrize(
    ("angles", "check"),
    [
        ({"l_knee_flexion": -60}, "knee_hinge"),
        ({"r_knee_flexion": 175}, "knee_flexion"),
        ({"l_elbow_flexion": 175}, "elbow_flexion"),
        ({"r_hip_flexion": -80}, "hip"),
        ({"l_hip_abduction": -40}, "hip"),
        ({"spine_bend": 170}, "spine"),
        ({"neck_flexion": 100}, "neck"),
        ({"l_hip_abduction": -25, "r_hip_abduction": -25}, "intersection"),
    ],
)
def test_violation_is_positive_where_a_check_fails_and_pulls_back(angles, check):
    import torch

    pose = torch.as_tensor(_pose(**angles), dtype=torch.float64).requires_grad_(True)
    v = pl.violation(pose)
    assert v.item() > 0, check
    v.sum().backward()
    assert torch.isfinite(pose.grad).all() and pose.grad.abs().sum() > 0
    # a small step against the gradient lowers the violation
    with torch.no_grad():
        assert pl.violation(pose - 1.0 * pose.grad / pose.grad.norm()).item() < v.item()


def test_violation_is_zero_on_generated_motion_and_matches_the_checks():
    rng = np.random.default_rng(1)
    poses = np.concatenate(
        [M.generate_motion(M.sample_subject(rng), 60, M.mocap_style(), rng).poses for _ in range(8)]
    )
    assert (_violation(poses, margin_deg=0.0, margin_mm=0.0) == 0).all()
    noisy = poses + rng.normal(0, 60, poses.shape)
    zero = _violation(noisy - noisy[:, :1], margin_deg=0.0, margin_mm=0.0) == 0
    plausible = pl.is_plausible(noisy - noisy[:, :1])
    assert not (zero & ~plausible).any()  # zero penalty => passes every check
    # the knee-hinge term is stricter on near-straight knees, so the two agree on most poses
    assert (zero == plausible).mean() > 0.9
    # a margin makes the penalty stricter, never looser
    assert (_violation(noisy, margin_deg=5.0) >= _violation(noisy, margin_deg=0.0)).all()


def test_torch_segment_distance_matches_numpy():
    import torch

    rng = np.random.default_rng(2)
    a0, a1, b0, b1 = rng.normal(size=(4, 500, 3))
    exact = pl.segment_distance(a0, a1, b0, b1)
    ours = pl._t_segment_distance(*(torch.as_tensor(x) for x in (a0, a1, b0, b1))).numpy()
    np.testing.assert_allclose(ours, exact, atol=1e-9)

import numpy as np
import pytest

from sa3dhp import plausibility as pl
from sa3dhp import skeleton as sk
from sa3dhp.data import motion as M

STYLES = {"mocap": M.mocap_style, "source": M.source_style, "target": M.target_style}


def _sample(style: M.MotionStyle, n_clips: int, frames: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_clips):
        subject = M.sample_subject(rng)
        out.append((subject, M.generate_motion(subject, frames, style, rng)))
    return out


def test_deterministic_for_a_seed():
    a = _sample(M.mocap_style(), 3, 90, seed=5)
    b = _sample(M.mocap_style(), 3, 90, seed=5)
    for (_, ma), (_, mb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(ma.poses, mb.poses)
        np.testing.assert_array_equal(ma.actions, mb.actions)
    c = _sample(M.mocap_style(), 1, 90, seed=6)
    assert not np.allclose(a[0][1].poses, c[0][1].poses)


def test_bone_lengths_constant_within_a_subject():
    for subject, m in _sample(M.target_style(), 5, 300):
        lengths = sk.bone_lengths(m.poses)[:, 1:]
        assert (lengths.max(0) - lengths.min(0)).max() < 0.1
        np.testing.assert_allclose(lengths[0], subject.bone_lengths[1:], rtol=1e-4)


def test_subjects_vary_in_height_and_are_symmetric():
    rng = np.random.default_rng(0)
    subjects = [M.sample_subject(rng) for _ in range(500)]
    heights = np.array([s.height_mm for s in subjects])
    assert 1500 <= heights.min() < 1560 and 1890 < heights.max() <= 1950
    for s in subjects[:20]:
        np.testing.assert_allclose(s.bone_lengths, s.bone_lengths[list(sk.FLIP_PERMUTATION)])


@pytest.mark.parametrize("style", list(STYLES))
def test_joint_angle_limits_and_plausibility_hold_on_10000_poses(style):
    clips = _sample(STYLES[style](), 50, 200, seed=1)  # 10,000 poses
    for _, m in clips:
        for name, values in m.angles.items():
            key = name[2:] if name[:2] in ("l_", "r_") else name
            lo, hi = M.ANGLE_LIMITS[key]
            assert lo - 1e-3 <= values.min() and values.max() <= hi + 1e-3, name
    poses = np.concatenate([m.poses for _, m in clips])
    assert len(poses) == 10_000
    assert pl.is_plausible(poses).all(), pl.plausibility_report(poses)


def test_every_action_moves_and_transitions_are_smooth():
    rng = np.random.default_rng(2)
    for action in M.ACTIONS:
        style = M.MotionStyle(action_weights={action: 1.0})
        subject = M.sample_subject(rng)
        m = M.generate_motion(subject, 120, style, rng)
        assert (m.actions == M.ACTIONS.index(action)).all()
        speed = np.linalg.norm(np.diff(m.poses, axis=0), axis=-1)  # mm per frame
        assert speed.mean() > 2.0, action  # it moves
    for _, m in _sample(M.target_style(), 20, 300, seed=3):
        speed = np.linalg.norm(np.diff(m.poses, axis=0), axis=-1)
        # limbs of sprinters and kickers reach ~13 m/s relative to the pelvis; a jump at a
        # transition would teleport a joint by far more than 450 mm in one frame
        assert speed.max() < 450.0


def test_source_and_target_pose_distributions_differ():
    def knee_flexion(style):
        poses = np.concatenate([m.poses for _, m in _sample(style, 40, 100, seed=4)])
        thigh = poses[:, sk.L_KNEE] - poses[:, sk.L_HIP]
        shin = poses[:, sk.L_ANKLE] - poses[:, sk.L_KNEE]
        cos = (
            (thigh * shin).sum(-1) / np.linalg.norm(thigh, axis=-1) / np.linalg.norm(shin, axis=-1)
        )
        return np.degrees(np.arccos(np.clip(cos, -1, 1))).mean()

    assert knee_flexion(M.target_style()) > knee_flexion(M.source_style()) + 5.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action_weights": {"walk": 1.0, "moonwalk": 1.0}}, "action_weights"),
        ({"amplitude": (1.0, 0.5)}, "amplitude"),
        ({"speed": (-1.0, 1.0)}, "speed"),
        ({"elevation_deg": (-80.0, 10.0)}, "elevation_deg"),
    ],
)
def test_invalid_styles_are_refused(kwargs, field):
    with pytest.raises(ValueError, match=field):
        M.MotionStyle(**kwargs)

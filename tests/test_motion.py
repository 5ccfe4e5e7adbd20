import time

import numpy as np
import pytest

from sa3dhp import kinematics as kin
from sa3dhp import plausibility as pl
from sa3dhp import skeleton as sk
from sa3dhp.data import motion as M
from sa3dhp.data.motion import generate as motion_generate

STYLES = {"mocap": M.mocap_style, "source": M.source_style, "target": M.target_style}


def _sample(style: M.MotionStyle, n_clips: int, frames: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_clips):
        subject = M.sample_subject(rng)
        out.append((subject, M.generate_motion(subject, frames, style, rng)))
    return out


def _level(action: str, **kwargs) -> M.MotionStyle:
    """One action only, camera level, no wobble or turning."""
    defaults = dict(elevation_deg=(0.0, 0.0), pitch_roll_deg=0.0, yaw_rate_deg_s=0.0)
    return M.MotionStyle(action_weights={action: 1.0}, **(defaults | kwargs))


def test_output_types_and_shapes():
    (subject, m), *_ = _sample(M.mocap_style(), 1, 75)
    assert m.poses.shape == (75, 17, 3) and m.poses.dtype == np.float32
    assert m.actions.shape == (75,) and m.actions.dtype == np.int8
    assert set(m.angles) == set(M.ANGLE_NAMES)
    assert all(v.shape == (75,) and v.dtype == np.float32 for v in m.angles.values())
    np.testing.assert_array_equal(m.poses[:, sk.PELVIS], 0.0)  # root-relative
    assert M.generate_motion(subject, 1, M.mocap_style(), np.random.default_rng(0)).poses.shape[0]
    with pytest.raises(ValueError, match="num_frames"):
        M.generate_motion(subject, 0, M.mocap_style(), np.random.default_rng(0))


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


def test_subjects_vary_in_height_and_proportions_symmetrically():
    rng = np.random.default_rng(0)
    subjects = [M.sample_subject(rng) for _ in range(500)]
    heights = np.array([s.height_mm for s in subjects])
    assert 1500 <= heights.min() < 1560 and 1890 < heights.max() <= 1950
    ratios = np.stack([s.bone_lengths[1:] for s in subjects]) / heights[:, None]
    canonical = sk.canonical_bone_lengths()[1:] / M.CANONICAL_HEIGHT_MM
    jitter = ratios / canonical - 1
    assert np.abs(jitter).max() <= 0.07 + 1e-6 and jitter.std() > 0.02  # a few percent
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
    # hinge joints bend one way only: knees and elbows never straighter than straight
    for side in ("l", "r"):
        assert np.concatenate([m.angles[f"{side}_knee_flexion"] for _, m in clips]).min() >= 0
        assert np.concatenate([m.angles[f"{side}_elbow_flexion"] for _, m in clips]).min() >= 0


def test_every_action_appears_and_moves():
    rng = np.random.default_rng(2)
    seen = np.concatenate(
        [
            M.generate_motion(M.sample_subject(rng), 300, M.mocap_style(), rng).actions
            for _ in range(20)
        ]
    )
    assert set(np.unique(seen)) == set(range(len(M.ACTIONS)))
    for action in M.ACTIONS:
        m = M.generate_motion(M.sample_subject(rng), 120, _level(action), rng)
        assert (m.actions == M.ACTIONS.index(action)).all()
        speed = np.linalg.norm(np.diff(m.poses, axis=0), axis=-1)  # mm per frame
        assert speed.mean() > 1.5, action  # it moves
        assert speed.max() > 10.0, action


def test_actions_look_like_themselves():
    """A few signature features, measured in the world (camera level, no wobble)."""

    def frames(action, n=4, **kwargs):
        return [_sample(_level(action, **kwargs), 1, 150, seed=s)[0][1] for s in range(n)]

    # squats: knees bend deeply, and the feet stay under the body (balance), not in front
    for m in frames("squat", amplitude=(1.0, 1.0)):
        k = int(np.argmax(m.angles["l_knee_flexion"]))
        assert m.angles["l_knee_flexion"][k] > 90
        ankles = m.poses[k, [sk.L_ANKLE, sk.R_ANKLE]].mean(0)
        assert np.hypot(ankles[0], ankles[2]) < 250  # horizontal offset from the pelvis
    # jumping jacks: hands go above the head
    for m in frames("jumping_jacks", amplitude=(1.0, 1.0)):
        assert (m.poses[:, sk.L_WRIST, 1] < m.poses[:, sk.HEAD, 1]).any()  # y points down
    # every action keeps the head above the pelvis (people stay upright)
    for action in M.ACTIONS:
        for m in frames(action, n=2):
            assert (m.poses[:, sk.HEAD, 1] < m.poses[:, sk.PELVIS, 1]).all(), action


def test_blend_weights_sum_to_one(monkeypatch):
    """Every frame is a convex blend of the overlapping segments: constant segments stay put."""
    real = motion_generate._segment_angles

    def constant(action, t, style, rng):
        return {k: np.full(len(t), 1.0) for k in real(action, t, style, rng)}

    monkeypatch.setattr(motion_generate, "_segment_angles", constant)
    rng = np.random.default_rng(0)
    for n in (1, 7, 45, 200, 777):
        m = M.generate_motion(M.sample_subject(rng), n, M.mocap_style(), rng)
        for v in m.angles.values():
            np.testing.assert_allclose(v, 1.0, atol=1e-5)


def test_transitions_between_everyday_actions_are_smooth():
    everyday = dict.fromkeys(("squat", "bend_reach", "sit_stand", "lunge", "wave", "walk"), 1.0)
    style = M.MotionStyle(
        action_weights=everyday, amplitude=(0.6, 1.0), speed=(0.8, 1.0), segment_seconds=(1.5, 3.0)
    )
    clips = _sample(style, 40, 300, seed=3)
    assert sum(int((np.diff(m.actions) != 0).sum()) for _, m in clips) > 100  # many transitions
    for _, m in clips:
        speed = np.linalg.norm(np.diff(m.poses, axis=0), axis=-1)
        assert speed.max() < 120.0  # mm per frame at 30 FPS
    for _, m in _sample(M.target_style(), 20, 300, seed=3):
        speed = np.linalg.norm(np.diff(m.poses, axis=0), axis=-1)
        # sprinting feet and kicks reach ~ 9 m/s relative to the pelvis, never a teleport
        assert speed.max() < 350.0


def test_body_faces_every_direction_and_elevation_tilts_the_view():
    facing = []
    for _, m in _sample(M.mocap_style(), 60, 30, seed=7):
        left = m.poses[0, sk.L_HIP] - m.poses[0, sk.R_HIP]
        facing.append(np.degrees(np.arctan2(left[2], left[0])) % 360)
    hist, _ = np.histogram(facing, bins=8, range=(0, 360))
    assert (hist > 0).all()
    # camera above (elevation > 0): the person's up vector leans towards the camera (-z)
    for elevation, sign in ((30.0, -1.0), (-30.0, 1.0)):
        (_, m), *_ = _sample(_level("wave", elevation_deg=(elevation, elevation)), 1, 60)
        up = m.poses[:, sk.THORAX] - m.poses[:, sk.PELVIS]
        tilt = np.degrees(np.arcsin(up[:, 2] / np.linalg.norm(up, axis=-1)))
        assert (sign * tilt > 15).all(), (elevation, tilt.min(), tilt.max())


def test_source_and_target_pose_distributions_differ():
    def mean_directions(style, seed):
        poses = np.concatenate([m.poses for _, m in _sample(style, 300, 20, seed=seed)])
        return kin.to_local(poses).directions.mean(0)  # view-invariant (13, 3)

    src_a, src_b = mean_directions(M.source_style(), 1), mean_directions(M.source_style(), 2)
    tgt_a, tgt_b = mean_directions(M.target_style(), 1), mean_directions(M.target_style(), 2)
    same = max(np.linalg.norm(src_a - src_b), np.linalg.norm(tgt_a - tgt_b))
    assert np.linalg.norm(src_a - tgt_a) > 3 * same

    def arm_elevation(style):
        a = [m.angles["l_shoulder_abduction"] for _, m in _sample(style, 300, 20, seed=3)]
        return np.concatenate(a).mean()

    assert arm_elevation(M.target_style()) > arm_elevation(M.source_style()) + 5.0


def test_generation_is_fast():
    rng = np.random.default_rng(0)
    subject = M.sample_subject(rng)
    M.generate_motion(subject, 1000, M.target_style(), rng)  # warm-up
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        M.generate_motion(subject, 1000, M.target_style(), rng)
        best = min(best, time.perf_counter() - start)
    assert best < 0.2


def test_presets_and_validation_normalise_values():
    for make in STYLES.values():
        style = make()
        assert set(style.action_weights) <= set(M.ACTIONS)
        assert all(isinstance(v, float) for v in style.elevation_deg)
    target, source = M.target_style(), M.source_style()
    assert target.amplitude[1] >= 1.3 > source.amplitude[1]
    # the target's cameras overlap the source's and lie inside what the mocap covers ...
    mocap = M.mocap_style()
    assert target.elevation_deg[0] < source.elevation_deg[1] < target.elevation_deg[1]
    assert mocap.elevation_deg[0] <= target.elevation_deg[0] < target.elevation_deg[1]
    assert target.elevation_deg[1] <= mocap.elevation_deg[1]
    # ... and the stress target's look down from higher up, outside the mocap
    high = M.high_camera_target_style()
    assert high.elevation_deg[1] > mocap.elevation_deg[1] and high.amplitude == target.amplitude
    style = M.MotionStyle(amplitude=[0.5, 1], action_weights={"walk": 2})
    assert style.amplitude == (0.5, 1.0) and style.action_weights == {"walk": 2.0}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action_weights": {"walk": 1.0, "moonwalk": 1.0}}, "action_weights"),
        ({"action_weights": {"walk": -1.0}}, "action_weights"),
        ({"action_weights": {"walk": 0.0}}, "action_weights"),
        ({"amplitude": (1.0, 0.5)}, "amplitude"),
        ({"amplitude": (0.5, float("nan"))}, "amplitude"),
        ({"speed": (-1.0, 1.0)}, "speed"),
        ({"speed": (1.0,)}, "speed"),
        ({"elevation_deg": (-80.0, 10.0)}, "elevation_deg"),
        ({"elevation_deg": (-10.0, 80.0)}, "elevation_deg"),
        ({"segment_seconds": (0.0, 2.0)}, "segment_seconds"),
        ({"transition_seconds": -0.5}, "transition_seconds"),
        ({"pitch_roll_deg": -1.0}, "pitch_roll_deg"),
        ({"yaw_rate_deg_s": -10.0}, "yaw_rate_deg_s"),
    ],
)
def test_invalid_styles_are_refused(kwargs, field):
    with pytest.raises(ValueError, match=field):
        M.MotionStyle(**kwargs)


def test_unknown_action_error_lists_allowed_actions():
    with pytest.raises(ValueError, match="jumping_jacks"):
        M.MotionStyle(action_weights={"moonwalk": 1.0})


def test_camera_roll_turns_each_clip_about_the_optical_axis():
    """Two rolls drawn from the same stream differ by exactly the in-plane turn between them
    (the in-plane relation's pose action), for every frame of the clip."""
    from sa3dhp.camera import inplane_rotation

    def poses(roll: float) -> np.ndarray:
        style = M.target_style()
        style = M.MotionStyle(**{**style.__dict__, "camera_roll_deg": (roll, roll)})
        return _sample(style, 2, 20, seed=3)[1][1].poses.astype(np.float64)

    turned, upright = poses(30.0), poses(-10.0)
    expected = upright @ inplane_rotation(40.0).T
    np.testing.assert_allclose(turned, expected, atol=1e-2)
    assert np.abs(turned - upright).max() > 100.0  # the roll moved the joints by decimetres


def test_camera_roll_is_validated():
    with pytest.raises(ValueError, match="camera_roll_deg"):
        M.MotionStyle(camera_roll_deg=(10.0, -10.0))
    assert M.MotionStyle().camera_roll_deg == (0.0, 0.0)


def test_no_camera_roll_draws_nothing_so_older_worlds_are_unchanged():
    """Without a roll the orientation consumes the random stream exactly as before the option
    existed (5 uniform draws), so every world generated without it is unchanged."""

    class Counting:
        def __init__(self) -> None:
            self.rng, self.calls = np.random.default_rng(0), 0

        def uniform(self, *args):
            self.calls += 1
            return self.rng.uniform(*args)

    t, yaw = np.arange(10) / 30.0, np.zeros(10)
    counts = []
    for roll in ((0.0, 0.0), (-40.0, 40.0)):
        spy = Counting()
        motion_generate._orientation(t, M.MotionStyle(camera_roll_deg=roll), spy, yaw)
        counts.append(spy.calls)
    assert counts == [5, 6]

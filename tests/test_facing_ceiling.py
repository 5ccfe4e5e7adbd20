"""benchmarks/facing_ceiling.py (the depth mirror, turning a pose to another's facing, the
label-free temporal choice between each prediction and its depth mirror) and the bench profile
of benchmarks/facing_probe.py."""

import numpy as np
import pytest
import torch

from sa3dhp import skeleton as sk
from sa3dhp.config import load_config
from sa3dhp.kinematics import depth_mirror, pose_torso_frame
from tests.conftest import load_benchmark, random_poses

bench = load_benchmark("facing_ceiling")
orient = load_benchmark("orientation_errors")


def _rooted(poses: np.ndarray) -> np.ndarray:
    return poses - poses[:, :1]


def test_depth_mirror_keeps_the_image_and_turns_the_body_round():
    poses = _rooted(random_poses(20, seed=5))
    mirrored = depth_mirror(poses)
    back = mirrored[:, list(sk.FLIP_PERMUTATION)]  # undo the left/right swap
    assert np.allclose(back[..., :2], poses[..., :2])
    assert np.allclose(back[..., 2], -poses[..., 2])
    assert np.allclose(depth_mirror(mirrored), poses)
    fwd, fwd_m = pose_torso_frame(poses)[..., 2], pose_torso_frame(mirrored)[..., 2]
    assert np.allclose(fwd_m[:, 2], -fwd[:, 2])  # towards the camera <-> away from it
    assert np.allclose(fwd_m[:, :2], fwd[:, :2])


def test_with_facing_of_sets_the_yaw_error_and_keeps_the_rest():
    truth = _rooted(random_poses(30, seed=6))
    pred = _rooted(random_poses(30, seed=7))
    target = np.linspace(-3.0, 3.0, 30)
    turned = bench.with_facing_of(pred, truth, target)
    assert np.allclose(orient.yaw_errors(turned, truth), target, atol=1e-9)
    # a turn keeps every bone's length
    parents = [sk.PARENTS[j] for j in range(1, 17)]
    assert np.allclose(
        np.linalg.norm(turned[:, 1:] - turned[:, parents], axis=-1),
        np.linalg.norm(pred[:, 1:] - pred[:, parents], axis=-1),
    )
    row = bench.facing_row(bench.with_facing_of(truth, truth, target), truth)
    assert row["yaw_aligned_mpjpe"] < 0.1 and row["mpjpe"] > 50
    assert row["share_facing_over_90_wrong"] == round(float((np.abs(target) > np.pi / 2).mean()), 3)


def test_temporal_choice_repairs_a_jump_by_the_majority():
    pose = _rooted(random_poses(1, seed=8))
    up = pose_torso_frame(pose)[..., 1]
    turns = np.radians(np.arange(10) * 2.0)
    clip = np.concatenate([orient.turn_about(pose, up, np.array([a])) for a in turns])
    flickered = clip.copy()
    flickered[5] = depth_mirror(clip[5:6])[0]
    fixed, mirrored = bench.temporal_choice(flickered, lam=1.0)
    assert mirrored.tolist() == [i == 5 for i in range(10)]
    assert np.allclose(fixed, clip, atol=1e-4)
    # a run of 3 mirrored frames of 10: mirroring the shorter side back removes the jump
    run = clip.copy()
    run[7:] = depth_mirror(clip[7:])
    kept, mirrored = bench.temporal_choice(run, lam=1.0)
    assert mirrored.tolist() == [i >= 7 for i in range(10)]
    assert np.allclose(kept, clip, atol=1e-4)
    # a cost per mirrored frame larger than any jump keeps every prediction as it is
    _, none = bench.temporal_choice(flickered, lam=1e6)
    assert not none.any()


def test_share_axial_counts_front_and_back_views_alike():
    poses = _rooted(random_poses(200, seed=9))
    fwd = pose_torso_frame(poses)[..., 2]
    share = bench.share_axial(poses)
    assert 0 < share < 1
    assert share == round(float((np.degrees(np.arccos(np.abs(fwd[:, 2]))) < 30).mean()), 3)
    assert bench.share_axial(depth_mirror(poses)) == share  # away counts as towards


def test_aligned_error_for_half_is_the_oracles_when_gs_faces_right_and_none_when_it_never_does():
    truth = _rooted(random_poses(30, seed=10))
    rng = np.random.default_rng(0)
    oracle = truth + rng.normal(0, 20, truth.shape)
    oracle -= oracle[:, :1]
    own = bench.metrics.mpjpe(oracle, truth)
    right = np.zeros(30)
    # Gs facing right everywhere, twice the oracle's error: the oracle itself closes the half
    need = bench.aligned_error_for_half(oracle, truth, right, 2 * own, own)
    assert need == pytest.approx(bench.facing_row(oracle, truth)["yaw_aligned_mpjpe"], abs=0.2)
    # Gs facing backwards everywhere with a small gap: even the truth turned round misses it
    assert bench.aligned_error_for_half(oracle, truth, np.full(30, np.pi), own + 10, own) is None


def test_facing_probe_bench_profile_runs_on_bench_seed_2_in_its_own_directory():
    probe = load_benchmark("facing_probe")
    overrides = probe.SETTINGS["source_front_print_no_shading"]
    cfg = probe._config("bench", "x", overrides)
    assert cfg.out_dir == "out/facing_probe_bench/x" and cfg.seed == 2
    assert cfg.data.source_appearance["side_contrast"] == 0.0
    assert cfg.source.steps == load_config("bench").source.steps  # the bench's own Gs
    assert probe._config("demo", "x", []).out_dir == "out/facing_probe/x"


stability = load_benchmark("facing_stability")


def test_each_lcr_view_alone_keeps_the_crop_in_range_and_the_shift_moves_it():
    x = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    out = stability.transforms(x)
    assert len(out) == 8
    for name, xt in out.items():
        assert xt.shape == x.shape and xt.min() >= 0 and xt.max() <= 1, name
        assert not torch.equal(xt, x), name
    assert torch.equal(out["shift_3px_right"][..., 3:], x[..., :-3])


def test_the_mean_shift_is_read_against_gs_own_facing_direction():
    g = torch.Generator().manual_seed(1)
    gs_z = 0.02 * torch.randn(40, 32, generator=g)
    away = np.arange(40) < 15
    gs_z[torch.as_tensor(away), 0] += 0.8  # Gs's frames facing away sit further along e0
    row = stability.shift_row(gs_z - torch.eye(32)[0], gs_z, away)  # all moved towards "toward"
    assert row == {"mean_shift": 1.0, "cosine_with_gs_facing_away": pytest.approx(-1.0, abs=0.02)}
    assert stability.shift_row(gs_z, gs_z, away)["mean_shift"] == 0.0

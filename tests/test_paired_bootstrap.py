"""benchmarks/paired_bootstrap.py: per-clip paired differences and their interval."""

import numpy as np
import pytest

from tests.conftest import load_benchmark


def _write(path, pred, gt, clip):
    np.savez(path, pred=pred, gt=gt, clip=clip, frame=np.arange(len(clip)), action=clip)


def test_mpjpe_difference_and_interval_over_clips(tmp_path):
    bench = load_benchmark("paired_bootstrap")
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(60, 17, 3)) * 100
    clip = np.repeat(np.arange(6), 10)
    for run, shift in (("a", 30.0), ("b", 10.0), ("c", 10.0)):
        (tmp_path / run).mkdir()
        pred = gt.copy()
        pred[..., 0] += shift * (1 + clip[:, None] % 2)  # odd clips err twice as much
        for split in bench.SPLITS:
            _write(tmp_path / run / f"predictions_{split}.npz", pred, gt, clip)
    out = bench.compare(tmp_path, ["a:b", "b:c"])
    ab = out["a:b"]["target_val"]
    assert ab["a_mm"] == 45.0 and ab["b_mm"] == 15.0 and ab["diff_mm"] == 30.0
    assert 20.0 <= ab["ci95_mm"][0] < 30.0 < ab["ci95_mm"][1] <= 40.0  # clips differ: a spread
    assert out["b:c"]["target_test"]["ci95_mm"] == [0.0, 0.0]  # the same predictions


def test_the_seed_mean_difference_and_its_interval_over_clips(tmp_path):
    bench = load_benchmark("paired_bootstrap")
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(40, 17, 3)) * 100
    clip = np.repeat(np.arange(4), 10)
    runs = {}
    # seed 0: A errs 20 mm more than B; seed 1: 40 mm more, on every clip
    for seed, extra in ((0, 20.0), (1, 40.0)):
        for run, shift in (("a", 10.0 + extra), ("b", 10.0)):
            path = tmp_path / f"{run}{seed}"
            path.mkdir()
            pred = gt.copy()
            pred[..., 0] += shift
            _write(path / "predictions_target_val.npz", pred, gt, clip)
            runs.setdefault(run, []).append(path)
    out = bench.paired_over_seeds(runs["a"], runs["b"], "target_val")
    assert out["per_seed_mm"] == [20.0, 40.0] and out["diff_mm"] == 30.0 and out["seeds"] == 2
    assert out["same_sign_every_seed"] is True
    mixed = bench.paired_over_seeds(
        [runs["a"][0], runs["b"][1]], [runs["b"][0], runs["a"][1]], "target_val"
    )
    assert mixed["per_seed_mm"] == [20.0, -40.0] and mixed["same_sign_every_seed"] is False
    assert out["ci95_mm"] == [30.0, 30.0]  # every clip differs alike: the clips add no spread
    _write(runs["b"][1] / "predictions_target_val.npz", gt[:30], gt[:30], clip[:30])
    with pytest.raises(ValueError, match="cover other frames"):
        bench.paired_over_seeds(runs["a"], runs["b"], "target_val")


def test_resampling_subjects_widens_the_interval_when_a_subjects_clips_agree(tmp_path):
    bench = load_benchmark("paired_bootstrap")
    rng = np.random.default_rng(3)
    gt = rng.normal(size=(80, 17, 3)) * 100
    clip = np.repeat(np.arange(8), 10)
    subjects = clip // 4  # two subjects of four clips each
    for run, shift in (("a", 10.0 + 40.0 * (subjects == 0)), ("b", np.full(80, 10.0))):
        (tmp_path / run).mkdir()
        pred = gt.copy()
        pred[..., 0] += shift[:, None]
        _write(tmp_path / run / "predictions_target_val.npz", pred, gt, clip)
    out = bench.paired_over_seeds([tmp_path / "a"], [tmp_path / "b"], "target_val", subjects)
    assert out["diff_mm"] == 20.0 and out["subjects"] == 2 and out["clips"] == 8
    (lo, hi), (slo, shi) = out["ci95_mm"], out["ci95_mm_over_subjects"]
    assert slo == 0.0 and shi == 40.0  # either subject alone
    assert slo < lo < 20.0 < hi < shi


def test_group_sums_sums_and_counts_per_group():
    bench = load_benchmark("paired_bootstrap")
    sums, counts = bench.group_sums(np.array([1.0, 2.0, 3.0, 4.0]), np.array([7, 3, 7, 7]))
    assert sums.tolist() == [2.0, 8.0] and counts.tolist() == [1, 3]

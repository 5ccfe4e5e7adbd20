"""benchmarks/paired_bootstrap.py: per-clip paired differences and their interval."""

import numpy as np

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

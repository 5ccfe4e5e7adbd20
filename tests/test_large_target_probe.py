"""benchmarks/large_target_probe.py: the probe's world, grouping and pairing over seeds."""

from types import SimpleNamespace

import numpy as np

from sa3dhp.config import load_config
from sa3dhp.data.world import split_hash, world_hash
from tests.conftest import load_benchmark

probe = load_benchmark("large_target_probe")


def test_probe_world_is_another_sample_of_the_same_target():
    cfg = load_config("bench", ["seed=2"])
    world = probe.probe_world(cfg)
    assert world.seed != cfg.data.seed and world.target_val.clips == probe.CLIPS
    assert world_hash(world) != world_hash(cfg.data)
    assert split_hash(world, "target_val") != split_hash(cfg.data, "target_val")
    # the same styles: only the seed and the split's size differ
    for key in ("target_style", "target_look", "target_motion", "target_appearance", "size"):
        assert getattr(world, key) == getattr(cfg.data, key)


def test_pair_row_reads_a_shift_common_to_every_seed():
    rng = np.random.default_rng(0)
    n = 120
    data = SimpleNamespace(clip=np.repeat(np.arange(12), 10), subject=np.repeat(np.arange(4), 30))
    errs = {}
    for seed in probe.SEEDS:
        b = rng.uniform(50, 150, n)
        errs[seed] = {"a": b + 5.0 + rng.normal(0, 0.1, n), "b": b}
    row = probe.pair_row(errs, "a", "b", data)
    assert row["same_sign_every_seed"] and abs(row["diff_mm"] - 5.0) < 0.1
    assert row["clips"] == 12 and row["subjects"] == 4
    for key in ("ci95_mm", "ci95_mm_over_subjects"):
        lo, hi = row[key]
        assert 4.5 < lo <= 5.0 <= hi < 5.5
    assert all(abs(d - 5.0) < 0.1 for d in row["per_seed_mm"])
    # seeds that disagree in sign are not a difference, whatever the interval
    mixed = {
        s: {"a": e["b"] + (1.0 if s == probe.SEEDS[0] else -1.0), "b": e["b"]}
        for s, e in errs.items()
    }
    row = probe.pair_row(mixed, "a", "b", data)
    assert not row["same_sign_every_seed"] and sorted(set(row["per_seed_mm"])) == [-1.0, 1.0]

"""benchmarks/bench_seeds.py: the seeds' summary is their mean and sample std."""

import numpy as np
import pytest

from tests.conftest import load_benchmark


def _result(gs: float, oracle: float, adapted: float) -> dict:
    table = {row: {"mpjpe": 250.0, "pa_mpjpe": 200.0} for row in ("constant_source_mean",
             "constant_target_mean", "adabn")}  # fmt: skip
    table |= {
        "source_only": {"mpjpe": gs, "pa_mpjpe": gs / 2},
        "oracle": {"mpjpe": oracle, "pa_mpjpe": oracle / 2},
        "adapted": {"mpjpe": adapted, "pa_mpjpe": adapted / 2},
    }
    return {
        "target_test": table,
        "target_val": table,
        "source_val": {"source_only": {"mpjpe": 60.0, "pa_mpjpe": 30.0}},
        "timings_s": {"total": 100.0},
    }


def test_summary_is_mean_and_sample_std_and_gap_share():
    bench = load_benchmark("bench_seeds")
    out = bench.summarise({0: _result(200, 100, 150), 1: _result(220, 120, 270)})
    gs = out["target_test"]["source_only"]["mpjpe"]
    assert gs["per_seed"] == [200, 220]
    assert gs["mean"] == 210
    assert gs["std"] == pytest.approx(np.std([200, 220], ddof=1), abs=0.05)
    closed = out["target_test"]["gap_closed"]["adapted"]["mpjpe"]["per_seed"]
    assert closed == [50.0, -50.0]  # half the gap closed; half of it lost
    assert out["target_val"]["oracle_gain_percent"]["per_seed"] == [50.0, 45.5]

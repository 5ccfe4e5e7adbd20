"""benchmarks/cr_steps.py and bn_target_seeds.py: the pure parts of the two controls."""

import statistics
from pathlib import Path

import pytest

from tests.conftest import load_benchmark


def _row(mpjpe: float) -> dict:
    return {"mpjpe": {"mean": mpjpe, "std": 0.0, "n": 1}}


def test_cr_steps_pairs_each_count_with_the_row_of_as_many_cr_steps():
    cr = load_benchmark("cr_steps")
    mpjpe = (270, 256, 249, 248)
    rows = {label: _row(m) for label, m in zip(cr.MATCHED_ROWS.values(), mpjpe, strict=True)}
    test = {"cr_250": {"mpjpe": 240.0}, "cr_500": {"mpjpe": 262.0}}
    out = cr.matched(test, rows)
    assert set(out) == {"1000", "500", "250"}  # 333 was not run here
    assert out["1000"]["cr_alone_mpjpe"] == 270  # the ablation's own + L_CR row
    assert out["500"] == {
        "cr_alone_mpjpe": 262.0,
        "row": "+ L_z(flip)",
        "row_mpjpe": 256,
        "row_minus_cr_alone": -6.0,
    }
    assert out["250"]["row"] == "+ L_v(slow-backward)"
    assert out["250"]["row_minus_cr_alone"] == 8.0


def _table(gs: float, adabn: float, bn: float, oracle: float) -> dict:
    rows = {"source_only": gs, "adabn": adabn, "adapted_bn_target": bn, "oracle": oracle}
    return {"constant_source_mean": {"mpjpe": 250.0}} | {k: {"mpjpe": v} for k, v in rows.items()}


def test_bn_target_summary_is_mean_sample_std_and_gap_share():
    bn = load_benchmark("bn_target_seeds")
    out = bn.summarise({0: _table(200, 190, 150, 100), 2: _table(220, 200, 230, 120)})
    assert "constant_source_mean" not in out
    assert out["source_only"] == {
        "mean": 210,
        "std": pytest.approx(statistics.stdev([200, 220]), abs=0.05),
        "n": 2,
        "per_seed": [200, 220],
    }
    assert out["gap_closed_adapted_bn_target"]["mean"] == pytest.approx(0.2)  # 0.5 and -0.1
    assert out["gap_closed_adabn"]["mean"] == pytest.approx(0.15)  # 0.1 and 0.2


def test_bn_target_reads_each_seeds_own_label_trained_runs(tmp_path):
    from sa3dhp import ablate, pipeline
    from sa3dhp.config import load_config

    cfg = load_config("demo", ["seed=2", f"out_dir={tmp_path / 'b'}"])
    pipeline.stage_dir(cfg, pipeline.POSE_PRIOR_DIR).mkdir(parents=True)
    assert "ablate._seed_config" in Path(load_benchmark("bn_target_seeds").__file__).read_text()
    assert Path(ablate._seed_config(cfg, 2).out_dir) == tmp_path / "b"  # the config's own seed
    assert Path(ablate._seed_config(cfg, 0).out_dir) == tmp_path / "b/ablate/rows/baselines/seed0"

"""benchmarks/run_summaries.py: a run's final losses, spread and report-only curve from its logs."""

import json

from tests.conftest import load_benchmark


def test_summary_reads_the_runs_own_logs(tmp_path):
    bench = load_benchmark("run_summaries")
    lines = [
        {"step": 1, "L_CR": 4.0, "z_std": 0.4},
        {"step": 100, "L_CR": 3.0, "z_std": 0.3},
        {"step": 100, "target_val_mpjpe": 190.5, "target_val_z_std": 0.35},
        {"step": 200, "L_CR": 2.5, "z_std": 0.25},
    ]
    (tmp_path / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    (tmp_path / "metrics.json").write_text(json.dumps({"final_losses": {"L_CR": 2.5}}))
    out = bench.summarise(tmp_path)
    assert out["final_losses"] == {"L_CR": 2.5}
    assert out["z_std_train_first_last"] == [0.4, 0.25]
    assert out["target_val_mpjpe_by_step"] == {100: 190.5}
    assert out["train_time_s"] is None

"""How much of the source-only -> oracle gap each factor of the target causes, on target_val.

For each setting (a target world with one factor replaced by the source's), reuses the pose
prior and Gs that `make demo` trained (``out/demo``; the source splits do not depend on the
target settings, so Gs stays valid), fine-tunes the oracle on that world's ``target_oracle``
labels in ``out/bench_oracle_probe/<setting>``, evaluates Gs and the oracle on that world's
``target_val`` (never target_test: this probes the world) with the constant baselines beside
them, and appends one JSON line per setting to ``benchmarks/results/oracle_probe.jsonl``. Run
`make demo` first, then one setting or all (a few minutes each on 2 cores):

    .venv/bin/python benchmarks/oracle_probe.py [NAME ...]

``docs/history/oracle_probe_v4_v5_target_test.jsonl`` keeps the rows with which
generators v4 and v5 were designed; they read target_test, which this protocol no longer
allows, and their settings no longer exist.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import sweep

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.demo import label_means, results_table
from sa3dhp.runs import image_models

SETTINGS: dict[str, list[str]] = {
    "wild": [],  # the default target (generator v6)
    "source_look": ["data.target_look=source"],  # appearance replaced by the source's
    "source_motion": ["data.target_style=source"],  # poses, motion and cameras of the source
    "source_cameras": ["data.target_motion.elevation_deg=[0,15]"],  # cameras alone
    "wild_high_cameras": ["data.target_style=wild_high_cameras"],  # the stress target
}


def run(name: str, overrides: list[str]) -> dict:
    out_dir = Path("out/bench_oracle_probe") / name
    shutil.rmtree(out_dir, ignore_errors=True)
    demo = load_config("demo")
    for stage in (pipeline.POSE_PRIOR_DIR, pipeline.IMAGE_MODEL_DIRS["source"]):
        shutil.copytree(pipeline.stage_dir(demo, stage), out_dir / stage)
    cfg = load_config("demo", [*overrides, f"out_dir={out_dir}"])
    t0 = time.perf_counter()
    image_models.train_image_model(cfg, "oracle")
    ckpts = {
        row: pipeline.stage_dir(cfg, run) / "checkpoint.safetensors"
        for row, run in (("source_only", "source"), ("oracle", "oracle"))
    }
    table = results_table(cfg, "target_val", ckpts, label_means(cfg))
    gs, oracle = table["source_only"]["mpjpe"], table["oracle"]["mpjpe"]
    return {
        "name": name,
        "overrides": overrides,
        "target_val": table,
        "oracle_gain": round(1 - oracle / gs, 3),
        "total_s": round(time.perf_counter() - t0, 1),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


if __name__ == "__main__":
    sweep.main(SETTINGS, run, "oracle_probe.jsonl")

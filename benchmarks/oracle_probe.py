"""How much of the target an oracle can learn: Gs against the oracle on changed target worlds.

For each setting (overrides of the world's target look, target motion or the oracle's budget),
copies the pose prior and Gs that `make demo` trained (``out/demo``; the source splits do not
depend on the target settings, so Gs stays valid), fine-tunes the oracle on that world's
``target_oracle`` labels in ``out/bench_oracle_probe/<setting>``, evaluates Gs and the oracle on
that world's ``target_test`` and appends one JSON line per setting to
``benchmarks/results/oracle_probe.jsonl``. Run `make demo` first, then one setting or all
(about 1.5 minutes each on 2 cores):

    .venv/bin/python benchmarks/oracle_probe.py [NAME ...]
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import sweep

from sa3dhp import pipeline
from sa3dhp.config import load_config

A = "data.target_appearance."
#: The generator-v4 target look, as overrides of the v5 one.
V4_LOOK = [
    f"{A}distractors=[1,4]",
    f"{A}occluder_prob=0.15",
    f"{A}occluders=[1,1]",
    f"{A}blur_prob=0.25",
    f"{A}blur_length=[1.5,3.0]",
    f"{A}noise_std=[1.0,6.0]",
    f"{A}jpeg_prob=0.5",
    f"{A}jpeg_quality=[35,80]",
    f"{A}front_print_prob=0.0",
]
V4_ELEVATION = ["data.target_motion.elevation_deg=[-10,35]"]
SETTINGS: dict[str, list[str]] = {
    "v5": [],  # the default world
    "v5_without_print": [f"{A}front_print_prob=0.0"],
    "v5_with_v4_elevations": V4_ELEVATION,
    "v4": V4_LOOK + V4_ELEVATION,
}


def _mpjpe(cfg, variant: str) -> float:
    return round(pipeline.evaluate_image_model(cfg, variant=variant)["overall"]["mpjpe"], 2)


def run(name: str, overrides: list[str]) -> dict:
    out_dir = Path("out/bench_oracle_probe") / name
    shutil.rmtree(out_dir, ignore_errors=True)
    demo = load_config("demo")
    for stage in (pipeline.POSE_PRIOR_DIR, pipeline.IMAGE_MODEL_DIRS["source"]):
        shutil.copytree(pipeline.stage_dir(demo, stage), out_dir / stage)
    cfg = load_config("demo", [*overrides, f"out_dir={out_dir}"])
    t0 = time.perf_counter()
    pipeline.train_image_model(cfg, "oracle")
    gs, oracle = _mpjpe(cfg, "source"), _mpjpe(cfg, "oracle")
    return {
        "name": name,
        "overrides": overrides,
        "target_test_mpjpe": {"source_only": gs, "oracle": oracle},
        "oracle_gain": round(1 - oracle / gs, 3),
        "total_s": round(time.perf_counter() - t0, 1),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


if __name__ == "__main__":
    sweep.main(SETTINGS, run, "oracle_probe.jsonl")

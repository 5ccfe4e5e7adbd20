"""Motion-prior settings compared to choose the demo defaults, on the demo's pose prior.

Each setting trains the motion prior of the demo config with the listed overrides (spelled out,
so a setting means the same whatever the defaults become) on the pose prior that `make demo`
trained (``out/demo/pose_prior``), and reports the held-out motion reconstruction MPJPE at 30 and
15 FPS and the training time. One JSON line per setting is appended to
``benchmarks/results/motion_sweep.jsonl``. Run `make demo` first, then one setting or all
(about 6 minutes on 2 cores):

    .venv/bin/python benchmarks/motion_sweep.py [NAME ...]

Training times are only comparable between settings run alone on an idle machine.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.train import motion_prior

PAPER = ["motion_prior.skip=false", "motion_prior.lr=3e-3", "motion_prior.steps=1000"]
SETTINGS: dict[str, list[str]] = {
    "paper_bilstm_pair": PAPER,  # the previous default
    "skip_random_init_lr_3e-3": [
        "motion_prior.skip=true",
        "motion_prior.pca_windows=0",
        "motion_prior.lr=3e-3",
        "motion_prior.steps=1000",
    ],
    "skip_pca_init_lr_3e-3": [
        "motion_prior.skip=true",
        "motion_prior.pca_windows=4096",
        "motion_prior.lr=3e-3",
        "motion_prior.steps=1000",
    ],
    "skip_pca_init_lr_1e-3": [  # the default
        "motion_prior.skip=true",
        "motion_prior.pca_windows=4096",
        "motion_prior.lr=1e-3",
        "motion_prior.steps=1000",
    ],
    "skip_pca_init_lr_1e-3_no_yaw": [
        "motion_prior.skip=true",
        "motion_prior.pca_windows=4096",
        "motion_prior.lr=1e-3",
        "motion_prior.steps=1000",
        "motion_prior.augment_yaw=false",
    ],
    "skip_pca_init_lr_1e-3_2000_steps": [
        "motion_prior.skip=true",
        "motion_prior.pca_windows=4096",
        "motion_prior.lr=1e-3",
        "motion_prior.steps=2000",
    ],
}


def run(name: str, overrides: list[str]) -> dict:
    cfg = load_config("demo", overrides)
    mocap = load_split(cfg.data, "mocap", images=False)
    prior = pipeline.load_pose_prior(cfg)
    run_dir = Path("out/bench_motion_sweep") / name
    for f in run_dir.glob("checkpoint*"):  # always a fresh run
        f.unlink()
    t0 = time.perf_counter()
    out = motion_prior.train(cfg.motion_prior, prior, mocap.poses, mocap.clip, run_dir, cfg.seed)
    return {
        "name": name,
        "overrides": overrides,
        "motion_val_mpjpe": round(out["val_mpjpe"], 2),
        "motion_val_mpjpe_15fps": round(out["val_mpjpe_15fps"], 2),
        "motion_train_time_s": round(time.perf_counter() - t0, 1),
        "pose_prior": str(pipeline.stage_dir(cfg, pipeline.POSE_PRIOR_DIR)),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    names = sys.argv[1:] or list(SETTINGS)
    unknown = [n for n in names if n not in SETTINGS]
    if unknown:
        raise SystemExit(f"unknown setting(s) {unknown}; choose from {list(SETTINGS)}")
    path = Path("benchmarks/results/motion_sweep.jsonl")
    for name in names:
        row = run(name, SETTINGS[name])
        print(json.dumps(row), flush=True)
        with path.open("a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()

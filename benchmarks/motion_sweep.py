"""Motion-prior settings compared to choose the demo defaults, on the demo's pose prior.

Each setting trains the motion prior of the demo config with the listed overrides (spelled out,
so a setting means the same whatever the defaults become) on the pose prior that `make demo`
trained (``out/demo/pose_prior``), and reports the held-out motion reconstruction MPJPE at 30 and
15 FPS and the training time. One JSON line per setting is appended to
``benchmarks/results/motion_sweep.jsonl``, with the fit of the two motion relation networks of
the demo (``flip-backward``, ``slow-backward``; demo relation config) trained on that motion
prior. Run `make demo` first, then one setting or all (about 15 minutes on 2 cores):

    .venv/bin/python benchmarks/motion_sweep.py [NAME ...]

Training times are only comparable between settings run alone on an idle machine.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import sweep

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.runs import priors, relation_nets
from sa3dhp.train import motion_prior
from sa3dhp.train import relations as trel

REL = ["relations.steps=2000", "relations.lr=3e-3", "relations.windows_per_clip=6"]
PAPER = ["motion_prior.skip=false", "motion_prior.lr=3e-3", "motion_prior.steps=1000", *REL]
SKIP = ["motion_prior.skip=true", "motion_prior.pca_windows=4096", "motion_prior.steps=1000", *REL]
SETTINGS: dict[str, list[str]] = {
    "paper_bilstm_pair": PAPER,  # the default until 2026-12-01
    "skip_random_init_lr_3e-3": [*SKIP, "motion_prior.pca_windows=0", "motion_prior.lr=3e-3"],
    "skip_pca_whitened_lr_3e-3": [*SKIP, "motion_prior.pca_whitening=1", "motion_prior.lr=3e-3"],
    "skip_pca_whitened_lr_1e-3": [*SKIP, "motion_prior.pca_whitening=1", "motion_prior.lr=1e-3"],
    "skip_pca_whitening_0.5": [*SKIP, "motion_prior.pca_whitening=0.5", "motion_prior.lr=1e-3"],
    "skip_pca_whitening_0.25": [  # the default
        *SKIP,
        "motion_prior.pca_whitening=0.25",
        "motion_prior.lr=1e-3",
    ],
    "skip_pca_whitening_0": [*SKIP, "motion_prior.pca_whitening=0", "motion_prior.lr=1e-3"],
}
RELATIONS = ["flip-backward", "slow-backward"]


def run(name: str, overrides: list[str]) -> dict:
    cfg = load_config("demo", overrides)
    mocap = load_split(cfg.data, "mocap", images=False)
    prior = priors.load_pose_prior(cfg)
    run_dir = Path("out/bench_motion_sweep") / name
    for f in run_dir.glob("checkpoint*"):  # always a fresh run
        f.unlink()
    t0 = time.perf_counter()
    out = motion_prior.train(cfg.motion_prior, prior, mocap.poses, mocap.clip, run_dir, cfg.seed)
    train_time = time.perf_counter() - t0
    model = priors.load_motion_prior(cfg, checkpoint=run_dir / "checkpoint.safetensors")
    shutil.rmtree(run_dir / "relations", ignore_errors=True)
    rel = trel.train(
        cfg.relations,
        RELATIONS,
        prior,
        model,
        relation_nets.relation_data(cfg),
        run_dir / "relations",
    )
    return {
        "name": name,
        "overrides": overrides,
        "motion_val_mpjpe": round(out["val_mpjpe"], 2),
        "motion_val_mpjpe_15fps": round(out["val_mpjpe_15fps"], 2),
        "motion_train_time_s": round(train_time, 1),
        "relations": {
            r: {
                k: m[k]
                for k in ("held_out_relative_error", "decoded_mpjpe", "autoencoder_floor_mpjpe")
            }
            for r, m in rel.items()
        },
        "pose_prior": str(pipeline.stage_dir(cfg, pipeline.POSE_PRIOR_DIR)),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


if __name__ == "__main__":
    sweep.main(SETTINGS, run, "motion_sweep.jsonl")

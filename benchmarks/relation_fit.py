"""How the fit of the motion relation networks moves with their training budget and data.

Trains the networks of ``flip-backward`` and ``slow-backward`` on the priors that `make demo`
trained (``out/demo``) with each setting's overrides, in ``out/bench_relation_fit/<setting>``,
and appends one JSON line per setting to ``benchmarks/results/relation_fit.jsonl``: held-out
relative error, decoded MPJPE and the motion auto-encoder's own floor, per relation. Run
`make demo` first, then one setting or all (about 5 minutes on 2 cores):

    .venv/bin/python benchmarks/relation_fit.py [NAME ...]
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import sweep

from sa3dhp.config import load_config
from sa3dhp.runs import priors, relation_nets
from sa3dhp.train import relations as trel

RELATIONS = ["flip-backward", "slow-backward"]
SETTINGS: dict[str, list[str]] = {
    "600_steps_lr_1e-3": [  # the default until 2026-12-01
        "relations.steps=600",
        "relations.lr=1e-3",
        "relations.windows_per_clip=6",
    ],
    "2000_steps_lr_3e-3": [  # the default
        "relations.steps=2000",
        "relations.lr=3e-3",
        "relations.windows_per_clip=6",
    ],
    "2000_steps_lr_3e-3_18_windows_per_clip": [
        "relations.steps=2000",
        "relations.lr=3e-3",
        "relations.windows_per_clip=18",
    ],
}


def run(name: str, overrides: list[str]) -> dict:
    cfg = load_config("demo", overrides)
    run_dir = Path("out/bench_relation_fit") / name
    shutil.rmtree(run_dir, ignore_errors=True)
    t0 = time.perf_counter()
    metrics = trel.train(
        cfg.relations,
        RELATIONS,
        priors.load_pose_prior(cfg),
        priors.load_motion_prior(cfg),
        relation_nets.relation_data(cfg),
        run_dir,
        cfg.seed,
    )
    return {
        "name": name,
        "overrides": overrides,
        "relations": metrics,
        "total_s": round(time.perf_counter() - t0, 1),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


if __name__ == "__main__":
    sweep.main(SETTINGS, run, "relation_fit.jsonl")

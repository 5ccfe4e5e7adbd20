"""Pose-prior architecture choice: the MLP against the authors' kinematic-tree network.

Trains the pose prior of the demo config once per architecture (everything else equal) and
evaluates each like `sa3dhp evaluate prior`; writes ``benchmarks/results/prior_arch.json``.

    .venv/bin/python benchmarks/prior_arch.py [key=value overrides]
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sa3dhp.config import load_config
from sa3dhp.runs import prior_eval, priors


def main() -> None:
    base = load_config("demo", ["out_dir=out/bench_prior_arch", *sys.argv[1:]])
    results = {}
    for arch in ("mlp", "tree"):
        cfg = replace(base, out_dir=f"{base.out_dir}/{arch}")
        cfg.pose_prior = replace(cfg.pose_prior, arch=arch)
        t0 = time.perf_counter()
        train = priors.train_pose_prior(cfg)
        ev = prior_eval.evaluate_prior(cfg)
        results[arch] = {
            "train_time_s": round(time.perf_counter() - t0, 1),
            "val_mpjpe": round(train["val_mpjpe"], 2),
            "val_pa_mpjpe": round(train["val_pa_mpjpe"], 2),
            "latent_ks_max": ev["latent_ks"]["max"],
            "random_decodes_plausible": ev["random_decodes"]["plausible"],
        }
        print(arch, results[arch], flush=True)
    out = {
        "what": "pose prior, demo config, one run per architecture (2-core CPU)",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "overrides": sys.argv[1:],
        "results": results,
    }
    path = Path("benchmarks/results/prior_arch.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

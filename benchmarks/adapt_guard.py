"""Adaptation with and without our options (the collapse guard; target BatchNorm statistics,
``adapt.bn=target``), from the demo's Gs (run `make demo` first).

Runs (or, when finished, reuses: runs are keyed by what made them) three adaptations with the
demo's settings and target_val on the learning curve (``adapt.eval_every=40``, report only):
the paper's objective (``out/demo/adapted_curve``, the same run as the demo's ``adapted``) and
the same plus ``adapt.collapse_guard=1.0`` (``out/demo/adapted_guard``; the weight was fixed
before any run: the hinge and the L1 relation terms are both in latent units), and the paper's
objective with ``adapt.bn=target`` (``out/demo/adapted_bn_target``: AdaBN's statistics before the
first step, re-estimated every 40 steps; its cadence fixed before any run). Evaluates them,
with the constant rows, Gs and AdaBN beside them, on target_val (where they are compared) and on
target_test (the final evaluation), with the label-free diagnostics on target_val crops.

    .venv/bin/python benchmarks/adapt_guard.py          # the demo's Gs
    .venv/bin/python benchmarks/adapt_guard.py bench    # bench's Gs (after `make bench`)
    .venv/bin/python benchmarks/adapt_guard.py bench_seed2  # bench seed 2's Gs (out/bench_seed2)

Writes ``benchmarks/results/adapt_guard.json`` and ``docs/adapt_guard_curves.png``; with
``bench``, ``bench_adapt_guard.json`` and ``docs/bench_adapt_guard_curves.png``, the paper's
objective being the bench's own ``adapted`` run (its curve is already on target_val every 100
steps), the guard's run ``adapted_guard``, and the guard's run from the AdaBN model instead of
Gs (``adapted_adabn_guard``) and ``adapted_bn_target`` (every 100 steps), with the bench's
settings otherwise; ``bench_seed2`` writes ``bench_seed2_adapt_guard.json`` from bench seed 2's
run. Gs and AdaBN are the rows every option is read against.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from sa3dhp import pipeline, report
from sa3dhp.config import load_config
from sa3dhp.demo import label_means, results_table
from sa3dhp.runs import adaptation, diagnostics, image_models

_DEMO = {
    "paper_objective": ("adapted_curve", ["adapt.eval_every=40"]),
    "collapse_guard": ("adapted_guard", ["adapt.collapse_guard=1.0", "adapt.eval_every=40"]),
    # target BatchNorm statistics, re-estimated every 40 steps (adapt.bn=target)
    "bn_target": (
        "adapted_bn_target",
        ["adapt.bn=target", "adapt.bn_every=40", "adapt.eval_every=40"],
    ),
}
#: the bench's rows: its own ``adapted`` run is the paper's objective
_BENCH = {
    "paper_objective": ("adapted", []),
    "collapse_guard": ("adapted_guard", ["adapt.collapse_guard=1.0"]),
    # from the AdaBN model (Gs with target BatchNorm statistics; the statistics stay frozen)
    "adabn_then_guard": ("adapted_adabn_guard", ["adapt.collapse_guard=1.0"]),
    # target BatchNorm statistics, re-estimated every 100 steps (adapt.bn=target)
    "bn_target": ("adapted_bn_target", ["adapt.bn=target"]),
}
#: profile -> name -> (run directory under the profile's out_dir, overrides)
SETTINGS = {
    "demo": _DEMO,
    # the demo with a Gs trained 4x longer (source.steps=1600; fixed before any run), which sees
    # more: its Gs is trained by this script when missing; the priors and relation networks are
    # the demo's, copied from out/demo (run `make demo` first)
    "demo_mid": {k: _DEMO[k] for k in ("paper_objective", "bn_target")},
    "bench": _BENCH,
    "bench_seed2": _BENCH,
}
#: runs that start from another model than Gs: name -> that model's run directory
START_FROM = {"adabn_then_guard": "adabn"}
#: profile -> (built-in config, its overrides)
PROFILES = {
    "demo": ("demo", []),
    "demo_mid": ("demo", ["out_dir=out/demo_mid", "source.steps=1600"]),
    "bench": ("bench", []),
    # bench seed 2's own run (`sa3dhp demo --config bench seed=2 out_dir=out/bench_seed2
    # 'demo.stress_target=""'`): the same rows on a second Gs
    "bench_seed2": ("bench", ["seed=2", "out_dir=out/bench_seed2", 'demo.stress_target=""']),
}


def main() -> None:
    profile = sys.argv[1] if len(sys.argv) > 1 else "demo"
    prefix = "" if profile == "demo" else f"{profile}_"
    base, base_overrides = PROFILES[profile]
    checkpoints, runs = {}, {}
    cfg = load_config(base, base_overrides)
    if profile == "demo_mid":  # its own Gs and AdaBN; the other profiles' come from their runs
        for stage in ("pose_prior", "motion_prior", "relations"):
            if not pipeline.stage_dir(cfg, stage).exists():
                shutil.copytree(Path("out/demo") / stage, pipeline.stage_dir(cfg, stage))
        image_models.train_image_model(cfg, "source")
        adaptation.adabn(cfg)
    for name, (run, overrides) in SETTINGS[profile].items():
        cfg = load_config(base, [*base_overrides, *overrides])
        start = START_FROM.get(name)
        source = pipeline.stage_dir(cfg, start) / "checkpoint.safetensors" if start else None
        adaptation.adapt(cfg, run, source_ckpt=source)
        runs[name] = pipeline.stage_dir(cfg, run)
        checkpoints[name] = runs[name] / "checkpoint.safetensors"
    cfg = load_config(base, base_overrides)
    gs = {
        "source_only": pipeline.stage_dir(cfg, "source") / "checkpoint.safetensors",
        "adabn": pipeline.stage_dir(cfg, "adabn") / "checkpoint.safetensors",
    }
    out = {
        split: results_table(cfg, split, gs | checkpoints, label_means(cfg))
        for split in ("target_val", "target_test")
    }
    out["diagnostics_target_val"] = diagnostics.adaptation_diagnostics(cfg, gs | checkpoints)
    out["collapse_guard"] = 1.0
    out["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    dest = Path(f"benchmarks/results/{prefix}adapt_guard.json")
    dest.write_text(json.dumps(out, indent=1) + "\n")
    report.training_curves(runs, f"docs/{prefix}adapt_guard_curves.png")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

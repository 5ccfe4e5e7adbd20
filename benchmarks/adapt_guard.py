"""Adaptation with and without our collapse guard, from the demo's Gs (run `make demo` first).

Runs (or, when finished, reuses: runs are keyed by what made them) two adaptations with the
demo's settings and target_val on the learning curve (``adapt.eval_every=40``, report only):
the paper's objective (``out/demo/adapted_curve``, the same run as the demo's ``adapted``) and
the same plus ``adapt.collapse_guard=1.0`` (``out/demo/adapted_guard``; the weight was fixed
before any run: the hinge and the L1 relation terms are both in latent units). Evaluates both,
with the constant rows and Gs beside them, on target_val (where the two are compared) and on
target_test (the final evaluation), with the label-free diagnostics on target_val crops.

    .venv/bin/python benchmarks/adapt_guard.py

Writes ``benchmarks/results/adapt_guard.json`` and ``docs/adapt_guard_curves.png``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sa3dhp import pipeline, report
from sa3dhp.config import load_config
from sa3dhp.demo import label_means, results_table
from sa3dhp.runs import adaptation, diagnostics

#: name -> (run directory under out/demo, overrides)
SETTINGS = {
    "paper_objective": ("adapted_curve", []),
    "collapse_guard": ("adapted_guard", ["adapt.collapse_guard=1.0"]),
}


def main() -> None:
    checkpoints, runs = {}, {}
    for name, (run, overrides) in SETTINGS.items():
        cfg = load_config("demo", [*overrides, "adapt.eval_every=40"])
        adaptation.adapt(cfg, run)
        runs[name] = pipeline.stage_dir(cfg, run)
        checkpoints[name] = runs[name] / "checkpoint.safetensors"
    cfg = load_config("demo")
    gs = {"source_only": pipeline.stage_dir(cfg, "source") / "checkpoint.safetensors"}
    out = {
        split: results_table(cfg, split, gs | checkpoints, label_means(cfg))
        for split in ("target_val", "target_test")
    }
    out["diagnostics_target_val"] = diagnostics.adaptation_diagnostics(cfg, gs | checkpoints)
    out["collapse_guard"] = 1.0
    out["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    Path("benchmarks/results/adapt_guard.json").write_text(json.dumps(out, indent=1) + "\n")
    report.training_curves(runs, "docs/adapt_guard_curves.png")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

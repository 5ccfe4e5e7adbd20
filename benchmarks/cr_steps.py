"""Does ``ablate rows`` measure the relation terms, or only L_CR's shrinking share of the steps?

Adaptation takes one Adam step per term in turn, so at a fixed ``adapt.steps`` of 1,000 L_CR
gets 1,000, 500, 333 and 250 of them in the rows + L_CR, + L_z(flip), + L_v(flip-backward) and
+ L_v(slow-backward). This control runs L_CR alone for 250, 333 and 500 steps (the same number of
L_CR steps as those rows; nothing else changed) from bench seed 2's Gs and evaluates them with
the constant rows and Gs beside them. If L_CR alone at n steps matches the row with n L_CR
steps, the rows' improvement is L_CR's dilution, not the relation terms. The step counts were
fixed by the rows before any run; target_val is reported beside target_test, nothing is chosen.

    .venv/bin/python benchmarks/cr_steps.py   # needs out/bench_seed2 (see adapt_guard.py)

Writes ``benchmarks/results/bench_seed2_cr_steps.json``: ``target_val`` and ``target_test``
tables, and ``matched`` (per step count: L_CR alone against the ablation row with as many L_CR
steps, on target_test, read from ``bench_seed2_ablate_rows.json``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.demo import label_means, results_table
from sa3dhp.runs import adaptation

BASE = ("bench", ["seed=2", "out_dir=out/bench_seed2", 'demo.stress_target=""'])
#: L_CR steps -> the ``ablate rows`` row whose L_CR gets that many of its 1,000 steps
MATCHED_ROWS = {
    1000: "+ L_CR",
    500: "+ L_z(flip)",
    333: "+ L_v(flip-backward)",
    250: "+ L_v(slow-backward)",
}
ROWS_JSON = Path("benchmarks/results/bench_seed2_ablate_rows.json")


def matched(test: dict, rows: dict) -> dict[str, dict]:
    """Per L_CR step count: MPJPE of L_CR alone and of the row with as many L_CR steps."""
    out = {}
    for steps, row in MATCHED_ROWS.items():
        alone = test.get(f"cr_{steps}")
        if alone is None and steps == 1000:  # the ablation's own + L_CR run is L_CR alone
            alone = {"mpjpe": rows[row]["mpjpe"]["mean"]}
        if alone is None:
            continue
        with_terms = rows[row]["mpjpe"]["mean"]
        out[str(steps)] = {
            "cr_alone_mpjpe": alone["mpjpe"],
            "row": row,
            "row_mpjpe": with_terms,
            "row_minus_cr_alone": round(with_terms - alone["mpjpe"], 2),
        }
    return out


def main() -> None:
    base, overrides = BASE
    checkpoints = {}
    for steps in (250, 333, 500):
        cfg = load_config(base, [*overrides, f"adapt.steps={steps}"])
        adaptation.adapt(cfg, f"ablate_cr{steps}", ["cr"])
        checkpoints[f"cr_{steps}"] = pipeline.stage_dir(cfg, f"ablate_cr{steps}")
    cfg = load_config(base, overrides)
    ckpts = {"source_only": pipeline.stage_dir(cfg, "source") / "checkpoint.safetensors"}
    ckpts |= {k: v / "checkpoint.safetensors" for k, v in checkpoints.items()}
    out = {
        split: results_table(cfg, split, ckpts, label_means(cfg))
        for split in ("target_val", "target_test")
    }
    rows = json.loads(ROWS_JSON.read_text())["target_test"]
    out["matched"] = matched(out["target_test"], rows)
    out["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    dest = Path("benchmarks/results/bench_seed2_cr_steps.json")
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

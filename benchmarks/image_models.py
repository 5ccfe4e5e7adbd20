"""Collect the image-model results of a run directory into one JSON (no training here).

Run after `sa3dhp train source [--variant direct|oracle]` and `sa3dhp evaluate ...` for each:

    .venv/bin/python benchmarks/image_models.py [out/demo]

Writes ``benchmarks/results/image_models.json`` with each run's metrics, training time and the
domain-gap ratios that the source-training issue asks for.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo")
    rows = {}
    for name in (
        "source",
        "direct_regression",
        "oracle",
        "oracle_from_scratch",
        "adabn",
        "adapted",
    ):
        run = root / name
        if not run.is_dir():
            continue
        row = {"train_time_s": json.loads((run / "metrics.json").read_text())["train_time_s"]}
        for split in ("target_test", "source_val", "target_oracle"):
            path = run / f"metrics_{split}.json"
            if path.exists():
                overall = json.loads(path.read_text())["overall"]
                row[split] = {k: round(v, 2) for k, v in overall.items()}
        rows[name] = row
    src = rows["source"]
    out = {
        "what": "image models of the demo config (resnet18, 64 px, 2-core CPU)",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": rows,
        "target_over_source_val_mpjpe": round(
            src["target_test"]["mpjpe"] / src["source_val"]["mpjpe"], 3
        ),
    }
    if "oracle" in rows:
        oracle = rows["oracle"]["target_test"]["mpjpe"]
        out["oracle_gain_over_source_only"] = round(1 - oracle / src["target_test"]["mpjpe"], 3)
    path = Path("benchmarks/results/image_models.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

"""What adaptation runs did on their way, from their own logs (no training here).

    .venv/bin/python benchmarks/run_summaries.py OUT_DIR NAME RUN...

For each run directory ``OUT_DIR/RUN`` (e.g. ``adapted_bn_target`` or
``ablate/rows/plus_L_CR/seed2``): its final losses and training time (``metrics.json``), the
spread of G's outputs on its training batches at the first and last logged step (``z_std`` in
``history.jsonl``), and its report-only target_val curve where it has one. Writes
``benchmarks/results/<NAME>_runs.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sa3dhp.train.logging import read_history


def summarise(run_dir: Path) -> dict:
    history = read_history(run_dir)
    spread = [r["z_std"] for r in history if "z_std" in r]
    curve = {int(r["step"]): r["target_val_mpjpe"] for r in history if "target_val_mpjpe" in r}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {
        "final_losses": metrics.get("final_losses"),
        "train_time_s": metrics.get("train_time_s"),
        "z_std_train_first_last": [round(spread[0], 4), round(spread[-1], 4)] if spread else None,
        "target_val_mpjpe_by_step": curve or None,
    }


def main() -> None:
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    out_dir, name = Path(sys.argv[1]), sys.argv[2]
    out = {"out_dir": str(out_dir), "runs": {r: summarise(out_dir / r) for r in sys.argv[3:]}}
    dest = Path(f"benchmarks/results/{name}_runs.json")
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

"""The bench's seeds side by side: mean and standard deviation over its committed results.

    .venv/bin/python benchmarks/bench_seeds.py

Reads ``benchmarks/results/bench_results.json`` (seed 0) and ``bench_results_seed<k>.json``
(each seed's own priors, Gs, relation networks, oracle and adaptation) and writes
``benchmarks/results/bench_seeds.json``: per split and row, MPJPE and PA-MPJPE per seed, their
mean and their standard deviation over the seeds (n - 1 in the denominator), the share of the
source-only -> oracle gap that adaptation and AdaBN close, and Gs's source_val MPJPE.
No training or evaluation here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sa3dhp.demo import gap_closed
from sa3dhp.metrics import over_seeds

RESULTS = Path("benchmarks/results")
ROWS = ("constant_source_mean", "constant_target_mean", "oracle", "source_only", "adabn", "adapted")
METRICS = ("mpjpe", "pa_mpjpe")


def seed_files() -> dict[int, Path]:
    """Seed -> its committed results file."""
    files = {0: RESULTS / "bench_results.json"}
    for path in RESULTS.glob("bench_results_seed*.json"):
        files[int(re.search(r"seed(\d+)", path.name).group(1))] = path
    return dict(sorted(files.items()))


def spread(values: list[float]) -> dict:
    """Values per seed with their mean and sample standard deviation (n - 1), to 0.1."""
    return over_seeds(values, digits=1)


def summarise(results: dict[int, dict]) -> dict:
    runs = list(results.values())
    out: dict = {"seeds": list(results), "std": "sample standard deviation over seeds (n - 1)"}
    for split in ("target_test", "target_val"):
        out[split] = {
            row: {m: spread([r[split][row][m] for r in runs]) for m in METRICS} for row in ROWS
        }
        out[split]["gap_closed"] = {
            row: {m: spread([100 * gap_closed(r[split], m, row) for r in runs]) for m in METRICS}
            for row in ("adabn", "adapted")
        }
        out[split]["oracle_gain_percent"] = spread(
            [
                100 * (1 - r[split]["oracle"]["mpjpe"] / r[split]["source_only"]["mpjpe"])
                for r in runs
            ]
        )
    out["source_val_gs"] = {
        m: spread([r["source_val"]["source_only"][m] for r in runs]) for m in METRICS
    }
    out["wall_time_s"] = {seed: r["timings_s"]["total"] for seed, r in results.items()}
    return out


def main() -> None:
    results = {seed: json.loads(path.read_text()) for seed, path in seed_files().items()}
    out = summarise(results)
    dest = RESULTS / "bench_seeds.json"
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

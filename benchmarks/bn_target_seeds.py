"""``adapt.bn=target`` over three Gs: is its one bench result (seed 2) more than that seed?

Needs bench seed 2's run and its three-seed ``ablate rows`` (run first):

    .venv/bin/sa3dhp ablate rows --seeds 2,0,1 --config bench seed=2 out_dir=out/bench_seed2 \\
        'demo.stress_target=""'
    .venv/bin/python benchmarks/bn_target_seeds.py

For each seed it adapts that seed's Gs with the paper's loss set and ``adapt.bn=target`` (target
BatchNorm statistics before the first step, re-estimated every 100 steps; the setting of
``adapt_guard.py``, fixed before any run), exactly as ``ablate rows`` adapts: seed 2's Gs is
bench seed 2's own (its run ``adapted_bn_target`` is reused), seeds 0 and 1 are the Gs that
``ablate rows`` trained under ``out/bench_seed2/ablate/rows/baselines/seed<k>`` (on seed 2's
pose prior), and the motion prior and relation networks are seed 2's for all three. Evaluates
every seed's Gs, AdaBN and ``bn=target`` run, with the constant rows, on target_val and on
target_test (the final evaluation), and their mean and sample std (n - 1) over the seeds.

Writes ``benchmarks/results/bench_bn_target_seeds.json``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sa3dhp import ablate, pipeline
from sa3dhp.config import load_config
from sa3dhp.demo import gap_closed, label_means, results_table
from sa3dhp.metrics import over_seeds
from sa3dhp.runs import adaptation

BASE = ("bench", ["seed=2", "out_dir=out/bench_seed2", 'demo.stress_target=""'])
SEEDS = (0, 1, 2)


def summarise(per_seed: dict[int, dict], metric: str = "mpjpe") -> dict:
    """Mean and sample std over seeds of each row's ``metric`` and of the gap each row closes."""
    out: dict[str, dict] = {}
    rows = [r for r in per_seed[next(iter(per_seed))] if not r.startswith("constant")]
    for row in rows:
        values = [t[row][metric] for t in per_seed.values()]
        out[row] = over_seeds(values, digits=1)
    for row in ("adabn", "adapted_bn_target"):
        closed = [gap_closed(t, metric, row) for t in per_seed.values()]
        if None not in closed:
            out[f"gap_closed_{row}"] = over_seeds(closed, digits=3)
    return out


def main() -> None:
    base, overrides = BASE
    cfg = load_config(base, overrides)
    bn_cfg = load_config(base, [*overrides, "adapt.bn=target"])
    tables: dict[str, dict[int, dict]] = {"target_val": {}, "target_test": {}}
    constants = label_means(cfg)
    for seed in SEEDS:
        base_ckpts = seed_baselines(cfg, seed)
        name = bn_target_run(cfg, seed)
        adaptation.adapt(replace(bn_cfg, seed=seed), name, source_ckpt=base_ckpts["source_only"])
        ckpts = {
            "source_only": base_ckpts["source_only"],
            "adabn": base_ckpts["adabn"],
            "adapted_bn_target": pipeline.stage_dir(cfg, name) / pipeline.CHECKPOINT,
            "oracle": base_ckpts["oracle"],
        }
        for split in tables:
            tables[split][seed] = results_table(cfg, split, ckpts, constants)
    write_seed_tables("bench_bn_target_seeds.json", list(SEEDS), tables, summarise)


def seed_baselines(cfg, seed: int) -> dict[str, Path]:
    """Seed ``seed``'s label-trained models where ``ablate rows`` put them (bench seed 2's own
    runs for the config's seed): ``source_only`` (Gs), ``adabn`` and ``oracle``."""
    scfg = ablate._seed_config(cfg, seed)
    return {
        "source_only": pipeline.stage_dir(scfg, "source") / pipeline.CHECKPOINT,
        "adabn": pipeline.stage_dir(scfg, pipeline.ADABN_DIR) / pipeline.CHECKPOINT,
        "oracle": pipeline.stage_dir(scfg, "oracle") / pipeline.CHECKPOINT,
    }


def bn_target_run(cfg, seed: int) -> str:
    """The run of seed ``seed``'s ``adapt.bn=target`` adaptation (bench seed 2's own for the
    config's seed)."""
    return "adapted_bn_target" if seed == cfg.seed else f"ablate/bn_target/seed{seed}"


def write_seed_tables(
    name: str, seeds: list[int], tables: dict[str, dict[int, dict]], summary, **extra
) -> None:
    """Write ``benchmarks/results/<name>``: the seeds, each split's per-seed tables, their
    ``summary(per_seed)`` per split, ``extra`` and the date; print the summaries."""
    out = {
        **{k: v for k, v in extra.items() if k == "what"},
        "seeds": seeds,
        **{split: {str(k): v for k, v in t.items()} for split, t in tables.items()},
        "summary": {split: summary(t) for split, t in tables.items()},
        **{k: v for k, v in extra.items() if k != "what"},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    dest = Path("benchmarks/results") / name
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["summary"], indent=1))


if __name__ == "__main__":
    main()

"""Our facing options under target BatchNorm statistics: do the relation terms add anything to
AdaBN once neither the common shift nor facing can move G?

    .venv/bin/python benchmarks/facing_bn_target.py [--seeds 2,0,1]

Needs bench seed 2's run, its three-seed ``ablate rows`` and ``bn_target_seeds.py``.
``facing_sensitivity.py`` found that every term of the paper moves G's mean answer along facing,
that target statistics take that shift back, and that what is left is AdaBN's gain, not more.
``relation_facing.py`` found that our two facing options halve the full row's cost under the
source statistics. Here both together: the bench's adaptation (the paper's final set) with
``adapt.bn=target``, ``adapt.cr_positive=view_or_mirror`` and ``adapt.relation_facing=free``,
one setting fixed before any run, each seed from its own Gs, against ``adapt.bn=target`` alone
(``bn_target_seeds.py``'s runs), AdaBN and Gs. Every model is evaluated, with the constants and
the oracle, on target_val and on target_test (the final evaluation), with the label-free share
facing away on target_val, and paired over seeds, clips and subjects.
Writes ``benchmarks/results/bench_facing_bn_target.json``.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from bn_target_seeds import bn_target_run, seed_baselines, write_seed_tables
from cr_negatives import BASE, facing_away, summarise
from paired_bootstrap import SPLITS, paired_over_seeds, split_subjects

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.demo import label_means, results_table
from sa3dhp.runs import adaptation

OURS = [
    "adapt.bn=target",
    "adapt.cr_positive=view_or_mirror",
    "adapt.relation_facing=free",
]
RUN = "ablate/facing_bn_target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="2,0,1", help="comma-separated seeds (default 2,0,1)")
    seeds = [int(s) for s in parser.parse_args().seeds.split(",")]
    cfg = load_config(*BASE)
    ours_cfg = load_config(BASE[0], [*BASE[1], *OURS])
    constants = label_means(cfg)
    tables: dict[str, dict[int, dict]] = {"target_val": {}, "target_test": {}}
    away, runs = {}, {}
    for seed in seeds:
        base = seed_baselines(cfg, seed)
        run = f"{RUN}/seed{seed}"
        adaptation.adapt(replace(ours_cfg, seed=seed), run, source_ckpt=base["source_only"])
        ckpts = {
            "source_only": base["source_only"],
            "adabn": base["adabn"],
            "adapted_bn_target": pipeline.stage_dir(cfg, bn_target_run(cfg, seed))
            / pipeline.CHECKPOINT,
            "bn_target_facing_free": pipeline.stage_dir(cfg, run) / pipeline.CHECKPOINT,
            "oracle": base["oracle"],
        }
        for split in tables:
            tables[split][seed] = results_table(cfg, split, ckpts, constants)
        away[str(seed)] = facing_away(cfg, ckpts)
        runs[seed] = {name: Path(path).parent for name, path in ckpts.items()}
    subjects = split_subjects(cfg.data)
    paired = {
        f"bn_target_facing_free - {other}": {
            split: paired_over_seeds(
                [r["bn_target_facing_free"] for r in runs.values()],
                [r[other] for r in runs.values()],
                split,
                subjects[split],
            )
            for split in SPLITS
        }
        for other in ("adapted_bn_target", "adabn", "source_only")
    }
    write_seed_tables(
        "bench_facing_bn_target.json",
        seeds,
        tables,
        summarise,
        what=__doc__.split("\n")[0],
        settings={"overrides": OURS, "losses": list(cfg.adapt.losses)},
        share_facing_away_target_val=away,
        paired=paired,
    )


if __name__ == "__main__":
    main()

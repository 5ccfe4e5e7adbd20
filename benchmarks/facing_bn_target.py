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

from dataclasses import replace
from pathlib import Path

from bn_target_seeds import bn_target_run, seed_baselines
from cr_negatives import BASE, evaluate_study

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.runs import adaptation

OURS = [
    "adapt.bn=target",
    "adapt.cr_positive=view_or_mirror",
    "adapt.relation_facing=free",
]
RUN = "ablate/facing_bn_target"


def checkpoints_of(cfg, ours_cfg, seed: int) -> dict[str, Path]:
    """Seed ``seed``'s Gs, AdaBN, ``adapt.bn=target`` run, our run (adapted here, skipped when
    done) and oracle."""
    base = seed_baselines(cfg, seed)
    run = f"{RUN}/seed{seed}"
    adaptation.adapt(replace(ours_cfg, seed=seed), run, source_ckpt=base["source_only"])
    return {
        "source_only": base["source_only"],
        "adabn": base["adabn"],
        "adapted_bn_target": pipeline.stage_dir(cfg, bn_target_run(cfg, seed))
        / pipeline.CHECKPOINT,
        "bn_target_facing_free": pipeline.stage_dir(cfg, run) / pipeline.CHECKPOINT,
        "oracle": base["oracle"],
    }


def main() -> None:
    pairs = [("bn_target_facing_free", b) for b in ("adapted_bn_target", "adabn", "source_only")]
    evaluate_study(
        __doc__,
        OURS,
        checkpoints_of,
        pairs,
        "bench_facing_bn_target.json",
        settings={"overrides": OURS, "losses": list(load_config(*BASE).adapt.losses)},
    )


if __name__ == "__main__":
    main()

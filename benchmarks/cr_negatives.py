"""Our L_CR option ``adapt.cr_negatives=same_clip`` on the bench, against the paper's negatives.

    .venv/bin/python benchmarks/cr_negatives.py [--seeds 2,0,1]

Needs bench seed 2's run and its three-seed ``ablate rows`` (see ``bn_target_seeds.py``). The
paper's L_CR takes one frame per clip, so every negative is another clip, with its own person,
clothes and background, and the loss falls by telling clips apart by their look
(``facing_ceiling.py``: L_CR alone also turns almost every body towards the camera). With
``same_clip``, each anchor's negatives are the other frames of its own clip: same look, other
poses. Two settings, fixed before any run (8 clips x 8 frames = the bench's 64 frames; the
paper's batches hold 8 clips):

* ``cr_same_clip``: L_CR alone, against ``ablate rows``' + L_CR (the paper's negatives);
* ``rows_same_clip``: the ``ablate rows`` set (L_CR, L_z(flip), L_v(flip-backward),
  L_v(slow-backward)), against its last row.

Each seed adapts from its own Gs, as ``ablate rows`` does. Every run is evaluated, with the
constants, Gs, AdaBN and the oracle, on target_val and on target_test (the final evaluation),
with the label-free share of predictions facing away from the camera (the truth's beside it).
Writes ``benchmarks/results/bench_cr_negatives.json``.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from bn_target_seeds import seed_baselines, write_seed_tables
from facing_ceiling import share_away
from paired_bootstrap import paired_table, split_subjects

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.demo import gap_closed, label_means, results_table
from sa3dhp.inference import load_image_model, predict
from sa3dhp.metrics import over_seeds
from sa3dhp.runs import adaptation
from sa3dhp.train.adapt_terms import DEMO_LOSSES

BASE = ("bench", ["seed=2", "out_dir=out/bench_seed2", 'demo.stress_target=""'])
OURS = ["adapt.cr_negatives=same_clip", "adapt.cr_per_clip=8"]
#: our run name -> its losses, and the ``ablate rows`` run with the paper's negatives it faces
SETTINGS = {
    "cr_same_clip": (["cr"], "plus_L_CR"),
    "rows_same_clip": (list(DEMO_LOSSES), "plus_L_v_slow-backward"),
}
PAPER_NAMES = {"plus_L_CR": "cr_paper", "plus_L_v_slow-backward": "rows_paper"}


def seed_checkpoints(
    cfg, ours_cfg, seed: int, settings: dict = SETTINGS, study: str = "cr_negatives"
) -> dict[str, Path]:
    """Adapt seed ``seed``'s Gs with our ``settings`` (``{run name: (losses, the ablate rows
    run it faces)}``; skipped when done) into ``ablate/<study>/`` and name every model."""
    base = seed_baselines(cfg, seed)
    gs = base["source_only"]
    ckpts = {"source_only": gs, "adabn": base["adabn"]}
    for name, (losses, paper_row) in settings.items():
        paper = Path(cfg.out_dir) / f"ablate/rows/{paper_row}/seed{seed}" / pipeline.CHECKPOINT
        ckpts[PAPER_NAMES[paper_row]] = paper
        run = f"ablate/{study}/{name}/seed{seed}"
        adaptation.adapt(replace(ours_cfg, seed=seed), run, losses, source_ckpt=gs)
        ckpts[name] = pipeline.stage_dir(cfg, run) / pipeline.CHECKPOINT
    ckpts["oracle"] = base["oracle"]
    return ckpts


def facing_away(cfg, ckpts: dict[str, Path]) -> dict[str, float]:
    """Share of target_val predictions facing away from the camera, per model (label-free)."""
    data = load_split(cfg.data, "target_val")
    out = {"truth (uses target labels)": share_away(data.poses)}
    for name, ckpt in ckpts.items():
        model, prior, _ = load_image_model(ckpt)
        out[name] = share_away(predict(model, prior, data.images))
    return out


def summarise(per_seed: dict[int, dict]) -> dict:
    """Mean and sample std over seeds of each row's MPJPE and PA-MPJPE and of the gap closed."""
    first = per_seed[next(iter(per_seed))]
    out: dict[str, dict] = {}
    for row in (r for r in first if not r.startswith("constant")):
        out[row] = {
            m: over_seeds([t[row][m] for t in per_seed.values()], digits=1)
            for m in ("mpjpe", "pa_mpjpe")
        }
        if row not in ("source_only", "oracle"):
            closed = [gap_closed(t, "mpjpe", row) for t in per_seed.values()]
            out[row]["gap_closed"] = over_seeds(closed, digits=3)
    return out


def run_study(doc: str, overrides: list[str], settings: dict, study: str) -> None:
    """Adapt each seed of ``--seeds`` with ``overrides`` for each of ``settings`` (see
    :func:`seed_checkpoints`), evaluate every model on target_val and target_test, and write
    ``benchmarks/results/bench_<study>.json`` (``doc``: the script's docstring)."""
    pairs = [
        (name, other)
        for name, (_, paper_row) in settings.items()
        for other in (PAPER_NAMES[paper_row], "source_only", "adabn")
    ]
    evaluate_study(
        doc,
        overrides,
        lambda cfg, ours_cfg, seed: seed_checkpoints(cfg, ours_cfg, seed, settings, study),
        pairs,
        f"bench_{study}.json",
        settings={"overrides": overrides, "runs": {k: v[0] for k, v in settings.items()}},
    )


def evaluate_study(
    doc: str, overrides: list[str], checkpoints_of, pairs: list, name: str, **extra
) -> None:
    """For each seed of ``--seeds``: ``checkpoints_of(cfg, ours_cfg, seed)`` (``{row:
    checkpoint}``, adapting what it needs; ``ours_cfg`` = the bench config with ``overrides``),
    every row on target_val and target_test with the constants, and the share facing away.
    Writes ``benchmarks/results/<name>`` with ``extra`` and each ``(a, b)`` of ``pairs`` paired
    over seeds, clips and subjects (:func:`paired_bootstrap.paired_over_seeds`)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--seeds", default="2,0,1", help="comma-separated seeds (default 2,0,1)")
    seeds = [int(s) for s in parser.parse_args().seeds.split(",")]
    cfg = load_config(*BASE)
    ours_cfg = load_config(BASE[0], [*BASE[1], *overrides])
    constants = label_means(cfg)
    tables: dict[str, dict[int, dict]] = {"target_val": {}, "target_test": {}}
    away, runs = {}, {}
    for seed in seeds:
        ckpts = checkpoints_of(cfg, ours_cfg, seed)
        for split in tables:
            tables[split][seed] = results_table(cfg, split, ckpts, constants)
        away[str(seed)] = facing_away(cfg, ckpts)
        runs[seed] = {row: Path(path).parent for row, path in ckpts.items()}
    by_row = {row: [r[row] for r in runs.values()] for row in runs[seeds[0]]}
    paired = paired_table(by_row, pairs, split_subjects(cfg.data))
    write_seed_tables(
        name,
        seeds,
        tables,
        summarise,
        what=doc.split("\n")[0],
        **extra,
        share_facing_away_target_val=away,
        paired=paired,
    )


def main() -> None:
    run_study(__doc__, OURS, SETTINGS, "cr_negatives")


if __name__ == "__main__":
    main()

"""Exact relation teachers: is the damage the relation networks' or the objective's? (three seeds)

    .venv/bin/python benchmarks/exact_teacher.py

Needs what ``ablate rows`` (three seeds) and ``benchmarks/no_gap_control.py --by-term 2`` made;
their checkpoints are read, not retrained. Our control ``adapt.teacher=exact``
(:mod:`sa3dhp.train.exact_teacher`) replaces each relation network by the relation itself,
applied to G's own answer through the frozen priors; everything else is the supplement's full
row as ``ablate rows`` runs it. For a G that reads one frame at a time, the exact terms ask only
for flip consistency (G answers a mirrored crop with the mirror of its answer) and smoothness
(slow); backward asks nothing. Settings fixed before any run; target_test is not read.

* ``by_term`` (seed 2, :data:`TERM_STEPS` steps each, on the no-gap clips of
  ``no_gap_control``): each relation term of the row alone with the exact teacher, beside the
  same term with its network (``no_gap_control``'s runs), on that world's target_val and
  source_val.
* ``no_gap`` (three seeds): the full row with exact teachers on the no-gap clips, beside the
  full row with the networks.
* ``target`` (three seeds): the full row with exact teachers on the real target, beside Gs,
  AdaBN and ``ablate rows``' full row, on target_val and on the 60-subject sample of
  ``large_target_probe`` (``sample``).
* ``losses``: each run's first logged value of each term and the mean of its last quarter
  (label-free): how much an exact term asks of Gs, and how far the run took it.

Writes ``benchmarks/results/bench_exact_teacher.json``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import no_gap_control
from bn_target_seeds import seed_baselines
from facing_ceiling import BASE
from large_target_probe import model_rows, probe_world
from no_gap_control import NO_GAP, SPLITS, TERM_STEPS, seed_summary
from paired_bootstrap import paired_errors

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.demo import label_means
from sa3dhp.evaluate import constant_baselines
from sa3dhp.runs import adaptation
from sa3dhp.train.adapt_terms import DEMO_LOSSES

SEEDS = (2, 0, 1)
RELATION_TERMS = [t for t in DEMO_LOSSES if t != "cr"]
EXACT_RUN = "ablate/exact_teacher/{name}/seed{k}"
#: (A, B, models): MPJPE(A) - MPJPE(B), paired over seeds, clips and subjects
PAIRS = (
    ("exact_full_row", "network_full_row", "no_gap"),
    ("exact_full_row", "source_only", "no_gap"),
    ("exact_full_row", "network_full_row", "target"),
    ("exact_full_row", "source_only", "target"),
)


def exact(cfg, seed: int, steps: int | None = None):
    """``cfg`` for seed ``seed`` with ``adapt.teacher=exact`` (and ``steps`` when given)."""
    acfg = replace(cfg.adapt, teacher="exact", steps=steps or cfg.adapt.steps)
    return replace(cfg, seed=seed, adapt=acfg)


def adapt_exact(cfg, name: str, seed: int, losses: list[str], gs: Path, steps=None) -> Path:
    """Adapt ``gs`` with ``losses`` and exact teachers (run when missing); its checkpoint."""
    run = EXACT_RUN.format(name=name, k=seed)
    adaptation.adapt(exact(cfg, seed, steps), run, losses, source_ckpt=gs)
    return Path(cfg.out_dir) / run / pipeline.CHECKPOINT


def losses_of(run: Path) -> dict[str, dict[str, float]]:
    """Each term's first logged value and the mean of its last quarter (``metrics.json``)."""
    first: dict[str, float] = {}
    for line in (run / "history.jsonl").read_text().splitlines():
        rec = json.loads(line)
        for k, v in rec.items():
            if k.startswith("L_") and k not in first:
                first[k] = round(v, 4)
    last = json.loads((run / "metrics.json").read_text())["final_losses"]
    return {k: {"first": first[k], "last_quarter": round(v, 4)} for k, v in last.items()}


def term_rows(cfg, ng_cfg, seed: int, data: dict) -> tuple[dict, dict]:
    """Seed ``seed``'s Gs adapted on the no-gap clips by each relation term alone, with its
    network (``no_gap_control``'s runs) and with the exact teacher; their rows and losses."""
    gs = seed_baselines(cfg, seed)["source_only"]
    networks = no_gap_control.term_models(cfg, ng_cfg, seed)
    ckpts = {"source_only": gs}
    for term in RELATION_TERMS:
        tag = "alone_" + term.replace(":", "_")
        ckpts[f"{term}, network"] = networks[term]
        ckpts[f"{term}, exact"] = adapt_exact(ng_cfg, tag, seed, [term], gs, TERM_STEPS)
    losses = {k: losses_of(p.parent) for k, p in ckpts.items() if k != "source_only"}
    return model_rows(ckpts, data)[0], losses


def seed_models(cfg, ng_cfg, seed: int) -> tuple[dict, dict]:
    """Seed ``seed``'s models on the no-gap clips and on the real target's (exact runs made
    when missing), beside ``no_gap_control``'s: Gs and the full row with the networks, on the
    no-gap clips and on the real target (``ablate rows``)."""
    networks = no_gap_control.seed_models(cfg, ng_cfg, seed)
    gs = networks["source_only"]
    no_gap = {
        "source_only": gs,
        "network_full_row": networks["full_row_no_gap"],
        "exact_full_row": adapt_exact(ng_cfg, "no_gap_full_row", seed, list(DEMO_LOSSES), gs),
    }
    target = {
        "source_only": gs,
        "adabn": seed_baselines(cfg, seed)["adabn"],
        "network_full_row": networks["full_row_target"],
        "exact_full_row": adapt_exact(cfg, "full_row", seed, list(DEMO_LOSSES), gs),
    }
    return no_gap, target


def main() -> None:
    cfg = load_config(BASE[0], BASE[1])
    ng_cfg = load_config(BASE[0], [*BASE[1], *NO_GAP])
    sets = {
        "no_gap": {split: load_split(ng_cfg.data, split) for split in SPLITS},
        "target": {
            "target_val": load_split(cfg.data, "target_val"),
            "sample": load_split(probe_world(cfg), "target_val"),
        },
    }
    tables: dict[str, dict] = {"no_gap": {}, "target": {}}
    errs: dict[str, dict] = {"no_gap": {}, "target": {}}
    losses: dict[str, dict] = {"no_gap": {}, "target": {}}
    for seed in SEEDS:
        for models, ckpts in zip(("no_gap", "target"), seed_models(cfg, ng_cfg, seed), strict=True):
            tables[models][seed], e = model_rows(ckpts, sets[models])
            errs[models][seed] = e
            losses[models][seed] = losses_of(ckpts["exact_full_row"].parent)
            print(seed, models, json.dumps(tables[models][seed]), flush=True)
    paired = {}
    for a, b, models in PAIRS:
        for split, d in sets[models].items():
            e = [errs[models][s][split] for s in SEEDS]
            row = paired_errors([x[a] for x in e], [x[b] for x in e], d.clip, d.subject)
            paired[f"{models}/{split}: {a} - {b}"] = row
    by_term, term_losses = term_rows(cfg, ng_cfg, SEEDS[0], sets["no_gap"])
    constants = {
        f"{models}/{split}": {
            k: {m: round(v[m], 1) for m in ("mpjpe", "pa_mpjpe")}
            for k, v in constant_baselines(
                *label_means(ng_cfg if models == "no_gap" else cfg), d.poses - d.poses[:, :1]
            ).items()
        }
        for models, splits in sets.items()
        for split, d in splits.items()
    }
    out = {
        "what": __doc__.split("\n\n")[0],
        "seeds": list(SEEDS),
        "losses_of_the_row": list(DEMO_LOSSES),
        "no_gap_world": NO_GAP,
        "constants": constants,
        "summary": {m: seed_summary([tables[m][s] for s in SEEDS]) for m in tables},
        "per_seed": {m: {str(s): t for s, t in tables[m].items()} for m in tables},
        "paired": paired,
        "by_term": {"seed": SEEDS[0], "steps": TERM_STEPS, **by_term, "losses": term_losses},
        "losses": {m: {str(s): v for s, v in losses[m].items()} for m in losses},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    dest = Path("benchmarks/results/bench_exact_teacher.json")
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["summary"], indent=1))
    print(json.dumps(paired, indent=1))
    print(json.dumps(out["by_term"], indent=1))
    print("wrote", dest)


if __name__ == "__main__":
    main()

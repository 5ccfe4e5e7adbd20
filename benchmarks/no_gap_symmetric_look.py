"""Without a gap or the flip confound: does the objective still damage Gs? (probe, three seeds)

    .venv/bin/python benchmarks/no_gap_symmetric_look.py [--seeds 2,0,1]

Needs ``benchmarks/facing_probe.py --bench`` (its Gs, trained at the bench's scale, seed 2, on
a source whose look shows facing as the target's does: a print on the front of every top and
no left/right shading, ``source_front_print_no_shading``). On that look a mirrored crop is a
rendering of the mirrored scene, so the flip relation holds on the images, which it does not on
the bench's source look (``no_gap_control.py``'s ``flip_check``). Gs is adapted, with the
supplement's full row as ``ablate rows`` runs it, on unlabelled clips of its own source domain
(:data:`NO_GAP_SAME_LOOK`: the target takes the source's motion, cameras and this look), with
the relation networks (the paper's) and with our exact teachers (``adapt.teacher=exact``); and
with each term of the row alone for ``no_gap_control.TERM_STEPS`` steps, both ways (the first
seed only; ``by_term``). AdaBN runs
on the same clips. Everything is measured on that world's target_val (source-domain data,
labelled) and source_val, beside the constant rows; plus, label-free, how Gs answers a mirrored
crop on this look (``flip_check``). Settings fixed before any run; target_test is not read.
Seed 2's Gs is the facing probe's; the other seeds' are trained here with the same settings,
where ``ablate rows`` puts other seeds' label-trained runs (about 20 minutes each on 2 cores).

Writes ``benchmarks/results/bench_no_gap_symmetric_look.json``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from facing_probe import SETTINGS, _config
from large_target_probe import model_rows
from no_gap_control import NO_GAP, SPLITS, TERM_STEPS, flip_check, seed_summary
from paired_bootstrap import paired_errors

from sa3dhp import ablate, pipeline
from sa3dhp.data.synth import load_split
from sa3dhp.demo import label_means
from sa3dhp.evaluate import constant_baselines
from sa3dhp.runs import adaptation
from sa3dhp.train.adapt_terms import DEMO_LOSSES

LOOK = "source_front_print_no_shading"
#: the target takes the source's look too: the target's own appearance overrides, set alike
NO_GAP_SAME_LOOK = [
    *NO_GAP,
    *(o.replace("data.source_appearance.", "data.target_appearance.") for o in SETTINGS[LOOK]),
]
RUN = "ablate/no_gap_same_look/seed{k}/{name}"
#: (A, B): MPJPE(A) - MPJPE(B) on the same frames, with intervals over clips and subjects
PAIRS = (
    ("adabn", "source_only"),
    ("full_row", "source_only"),
    ("full_row_exact", "source_only"),
    ("full_row_exact", "full_row"),
)


def world():
    """The probe's config (bench scale, seed 2) with the no-gap target of the same look."""
    return _config("bench", LOOK, [*SETTINGS[LOOK], *NO_GAP_SAME_LOOK])


def gs_of(cfg, seed: int) -> Path:
    """Seed ``seed``'s Gs on this look: the facing probe's for its seed (2), else trained with
    the same settings where ``ablate rows`` puts other seeds' (run when missing)."""
    gs = pipeline.stage_dir(cfg, "source") / pipeline.CHECKPOINT
    if seed == cfg.seed and not gs.exists():
        raise SystemExit(f"{gs} is missing: run benchmarks/facing_probe.py --bench")
    return gs if seed == cfg.seed else ablate._gs(cfg, seed)


def models(cfg, seed: int, by_term: bool, runs: str = RUN) -> dict[str, Path]:
    """Seed ``seed``'s Gs, AdaBN and full row (networks, exact teachers) on ``cfg``'s target
    clips (here the no-gap ones), and with ``by_term`` each term alone (run when missing, in
    ``runs`` under ``cfg.out_dir``)."""
    gs = gs_of(cfg, seed)
    scfg, out = replace(cfg, seed=seed), {"source_only": gs}

    def adapt(name: str, losses: list[str], teacher: str, steps: int | None = None) -> None:
        acfg = replace(cfg.adapt, teacher=teacher, steps=steps or cfg.adapt.steps)
        run = runs.format(k=seed, name=name)
        adaptation.adapt(replace(scfg, adapt=acfg), run, losses, source_ckpt=gs)
        out[name] = Path(cfg.out_dir) / run / pipeline.CHECKPOINT

    adaptation.adabn(scfg, runs.format(k=seed, name="adabn"), source_ckpt=gs)
    out["adabn"] = Path(cfg.out_dir) / runs.format(k=seed, name="adabn") / pipeline.CHECKPOINT
    adapt("full_row", list(DEMO_LOSSES), "network")
    adapt("full_row_exact", list(DEMO_LOSSES), "exact")
    for term in DEMO_LOSSES if by_term else ():
        tag = "alone_" + term.replace(":", "_")
        adapt(tag, [term], "network", TERM_STEPS)
        if term != "cr":  # L_CR has no teacher
            adapt(tag + "_exact", [term], "exact", TERM_STEPS)
    return out


def constant_rows(cfg, data: dict) -> dict:
    """The constant rows (MPJPE, PA-MPJPE, mm) on each labelled split of ``data``."""
    return {
        split: {
            k: {m: round(v[m], 1) for m in ("mpjpe", "pa_mpjpe")}
            for k, v in constant_baselines(*label_means(cfg), d.poses - d.poses[:, :1]).items()
        }
        for split, d in data.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="2,0,1", help="the first also runs each term alone")
    seeds = [int(s) for s in parser.parse_args().seeds.split(",")]
    cfg = world()
    data = {split: load_split(cfg.data, split) for split in SPLITS}
    tables, errs, flips = {}, {}, {}
    for i, seed in enumerate(seeds):
        ckpts = models(cfg, seed, by_term=i == 0)
        tables[seed], errs[seed] = model_rows(ckpts, data)
        flips[seed] = flip_check(ckpts["source_only"], data["target_val"].images)
        print(seed, json.dumps(tables[seed]), flush=True)
    main_rows = ("source_only", "adabn", "full_row", "full_row_exact")
    per_seed = {
        s: {split: {n: t[split][n] for n in main_rows} for split in t} for s, t in tables.items()
    }
    paired = {
        f"{split}: {a} - {b}": paired_errors(
            [errs[s][split][a] for s in seeds],
            [errs[s][split][b] for s in seeds],
            d.clip,
            d.subject,
        )
        for split, d in data.items()
        for a, b in PAIRS
    }
    out = {
        "what": __doc__.split("\n\n")[0],
        "seeds": seeds,
        "look": {LOOK: SETTINGS[LOOK]},
        "world": NO_GAP_SAME_LOOK,
        "constants": constant_rows(cfg, data),
        "summary": seed_summary([per_seed[s] for s in seeds]),
        "per_seed": {str(s): v for s, v in per_seed.items()},
        "paired": paired,
        "flip_check": seed_summary([flips[s] for s in seeds]),
        "by_term": {"seed": seeds[0], "steps": TERM_STEPS, **tables[seeds[0]]},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    dest = Path("benchmarks/results/bench_no_gap_symmetric_look.json")
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["summary"], indent=1))
    print(json.dumps(paired, indent=1))
    print("wrote", dest)


if __name__ == "__main__":
    main()

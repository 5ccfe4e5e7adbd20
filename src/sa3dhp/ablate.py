"""``sa3dhp ablate rows|inplane``: the supplement's ablation tables, each row an actual run.

``rows``: oracle, direct regression, Gs source-only, AdaBN, then adaptation with the losses added
one at a time (+L_CR, +L_z(flip), +L_v(flip-backward), +L_v(slow-backward)), every row once per
seed. For the config's own seed the image models trained on labels (Gs, direct, oracle) are the
config's runs (``sa3dhp demo`` or ``train source``); for the other seeds they are trained again
(on the same pose prior). Every adaptation row starts from the config's own Gs, so its spread is
the spread of adaptation alone.

``inplane``: supplement Table 2, per relation tau: lower-order L_CR + L_z(tau) and higher-order
L_CR + L_z(tau) + L_v(tau-backward) (as the paper's flip row: 141.2 is the "+ L_z(flip)"
ablation row and 95.6 the "+ L_v(flip-backward)" one). Relation networks that are
missing are trained first. Every adaptation run lives in ``OUT_DIR/ablate/<table>/<row>/seed<k>``;
an interrupted table resumes (finished runs are only evaluated again) and the table files are
rewritten after every row.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from sa3dhp.config import Config

#: ``ablate rows``: label -> adaptation losses (cumulative, as in the supplement).
ROW_LOSSES: dict[str, list[str]] = {
    "+ L_CR": ["cr"],
    "+ L_z(flip)": ["cr", "z:flip"],
    "+ L_v(flip-backward)": ["cr", "z:flip", "v:flip-backward"],
    "+ L_v(slow-backward)": ["cr", "z:flip", "v:flip-backward", "v:slow-backward"],
}
#: Rows read from the config's runs (no adaptation): label -> run directory.
BASELINE_ROWS = {
    "Oracle": "oracle",
    "Direct regression, source only": "direct_regression",
    "Ours, source only (Gs)": "source",
}
#: The paper's MPJPE (S->H) for each row, for the side-by-side table.
PAPER_ROWS = {
    "Ours, source only (Gs)": 209.6,
    "+ L_CR": 172.1,
    "+ L_z(flip)": 141.2,
    "+ L_v(flip-backward)": 95.6,
    "+ L_v(slow-backward)": 86.8,
}
#: Supplement Table 2 (MPJPE): relation -> (lower-order, higher-order).
PAPER_TABLE2 = {
    "inplane10": (179.1, 130.5),
    "inplane25": (170.3, 123.2),
    "inplane50": (154.4, 110.1),
    "inplane75": (163.9, 115.6),
    "inplane100": (159.2, 114.1),
    "inplane125": (158.4, 115.4),
    "flip": (141.2, 95.6),
    "flip+inplane50": (139.7, 91.8),
}


def _mean_std(values: list[dict]) -> dict:
    out = {}
    for k in values[0]:
        v = np.array([m[k] for m in values], dtype=float)
        out[k] = {"mean": round(float(v.mean()), 2), "std": round(float(v.std()), 2), "n": len(v)}
    return out


def _evaluate(cfg: Config, ckpt: Path, test) -> dict:
    from sa3dhp.evaluate import evaluate_split

    m = evaluate_split(ckpt, test, device=cfg.device, figure=False)["overall"]
    return {k: round(v, 2) for k, v in m.items()}


def _adapt_row(cfg: Config, table: str, row: str, losses: list[str], seeds, test) -> dict:
    from sa3dhp import pipeline
    from sa3dhp.train import adapt as adapt_train

    names = adapt_train.relation_names(losses)
    if names:
        pipeline.train_relations(cfg, names)
    results = []
    slug = row.replace(" ", "").replace("+", "plus_").replace("(", "_").replace(")", "")
    for seed in seeds:
        run = f"ablate/{table}/{slug}/seed{seed}"
        scfg = replace(cfg, seed=seed)
        pipeline.adapt(scfg, run, losses)
        results.append(
            _evaluate(cfg, pipeline.stage_dir(cfg, run) / "checkpoint.safetensors", test)
        )
    return _mean_std(results)


def _baseline_runs(cfg: Config, seeds) -> dict[str, list[Path]]:
    """Checkpoints of the rows without adaptation (oracle, direct regression, Gs, AdaBN), one per
    seed: the config's own runs for its seed, and for every other seed fresh runs under
    ``OUT_DIR/ablate/rows/baselines/seed<k>`` that reuse the config's pose prior (finished ones
    are reused)."""
    import shutil

    from sa3dhp import pipeline

    runs: dict[str, list[Path]] = {label: [] for label in [*BASELINE_ROWS, "AdaBN"]}
    dirs = {**BASELINE_ROWS, "AdaBN": "adabn"}
    for seed in seeds:
        scfg = cfg
        if seed != cfg.seed:
            sub = Path(cfg.out_dir) / "ablate" / "rows" / "baselines" / f"seed{seed}"
            scfg = replace(cfg, seed=seed, out_dir=str(sub))
            prior = pipeline.stage_dir(scfg, pipeline.POSE_PRIOR_DIR)
            if not prior.exists():
                shutil.copytree(pipeline.stage_dir(cfg, pipeline.POSE_PRIOR_DIR), prior)
            for variant in ("source", "direct", "oracle"):
                pipeline.train_image_model(scfg, variant)
        pipeline.adabn(scfg)
        for label, run in dirs.items():
            runs[label].append(pipeline.stage_dir(scfg, run) / "checkpoint.safetensors")
    return runs


def ablate_rows(cfg: Config, seeds: list[int]) -> dict:
    """The supplement's ablation rows on target_test (mean and std over ``seeds``)."""
    from sa3dhp.data.synth import load_split

    test = load_split(cfg.data, "target_test")
    rows: dict[str, dict] = {}
    for label, ckpts in _baseline_runs(cfg, seeds).items():
        rows[label] = _mean_std([_evaluate(cfg, ckpt, test) for ckpt in ckpts])
    for label, losses in ROW_LOSSES.items():
        rows[label] = _adapt_row(cfg, "rows", label, losses, seeds, test)
        _write(cfg, "rows", {"seeds": list(seeds), "target_test": rows})  # partial table
    return _write(cfg, "rows", {"seeds": list(seeds), "target_test": rows}, paper=PAPER_ROWS)


def ablate_inplane(cfg: Config, seeds: list[int], angles=None) -> dict:
    """Supplement Table 2: L_CR + L_z(tau), and the same + L_v(tau-backward), per relation."""
    from sa3dhp.data.synth import load_split
    from sa3dhp.relations import INPLANE_ANGLES

    test = load_split(cfg.data, "target_test")
    relations = [f"inplane{a}" for a in (angles or INPLANE_ANGLES)] + ["flip", "flip+inplane50"]
    rows: dict[str, dict] = {}
    for r in relations:
        lower = _adapt_row(cfg, "inplane", f"z_{r}", ["cr", f"z:{r}"], seeds, test)
        higher = _adapt_row(
            cfg, "inplane", f"v_{r}", ["cr", f"z:{r}", f"v:{r}-backward"], seeds, test
        )
        rows[r] = {"lower_order": lower, "higher_order": higher}
        _write(cfg, "inplane", {"seeds": list(seeds), "target_test": rows})  # partial table
    return _write(cfg, "inplane", {"seeds": list(seeds), "target_test": rows})


def _write(cfg: Config, table: str, result: dict, paper: dict | None = None) -> dict:
    out = Path(cfg.out_dir) / "ablate"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{table}.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / f"{table}.md").write_text(markdown(table, result))
    return result


def markdown(table: str, result: dict) -> str:
    """The ablation table in the paper's layout, ours beside the paper's MPJPE."""
    from sa3dhp.report import _fmt

    rows = result["target_test"]
    if table == "rows":
        out = "| | MPJPE ↓ | PA-MPJPE ↓ | PCK ↑ | AUC ↑ | paper MPJPE (S→H) |\n"
        out += "|---|---:|---:|---:|---:|---:|\n"
        for label, m in rows.items():
            paper = PAPER_ROWS.get(label)
            cells = " | ".join(_fmt(m[k]) for k in ("mpjpe", "pa_mpjpe", "pck", "auc"))
            out += f"| {label} | {cells} | {paper if paper else ''} |\n"
        return out
    out = "| relation | lower-order L_z MPJPE | paper | higher-order L_v (-backward) MPJPE "
    out += "| paper |\n"
    out += "|---|---:|---:|---:|---:|\n"
    for r, m in rows.items():
        p = PAPER_TABLE2.get(r, ("", ""))
        low, high = (m[k]["mpjpe"] if k in m else None for k in ("lower_order", "higher_order"))
        out += (
            f"| {r} | {_fmt(low) if low else 'not run'} | {p[0]} "
            f"| {_fmt(high) if high else 'not run'} | {p[1]} |\n"
        )
    return out

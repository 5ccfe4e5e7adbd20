"""``sa3dhp ablate rows|inplane``: the supplement's ablation tables, each row an actual run.

``rows``: oracle, direct regression, Gs source-only, AdaBN, then adaptation with the losses added
one at a time (+L_CR, +L_z(flip), +L_v(flip-backward), +L_v(slow-backward)), every row once per
seed. For the config's own seed the image models trained on labels (Gs, direct, oracle) are the
config's runs (``sa3dhp demo`` or ``train source``); for the other seeds they are trained again
(on the same pose prior). Each seed's adaptation starts from that seed's own Gs, and every
adaptation row also reports its change against that Gs (``delta_vs_gs``, mean and std over the
seeds), which is the number to read: Gs itself varies over seeds by more than adaptation gains.
Every table carries the constant-pose baselines (mean source pose; mean target pose, which uses
target labels).

``inplane``: supplement Table 2, per relation tau: lower-order L_CR + L_z(tau) and higher-order
L_CR + L_z(tau) + L_v(tau-backward) (as the paper's flip row: 141.2 is the "+ L_z(flip)"
ablation row and 95.6 the "+ L_v(flip-backward)" one), and the paper's four trends in it, each
as comparisons paired over seeds (:func:`table2_trends`). Relation networks that are missing
are trained first. Every adaptation run lives in ``OUT_DIR/ablate/<table>/<row>/seed<k>``;
an interrupted table resumes (finished runs are only evaluated again) and the table files are
rewritten after every row.
"""

from __future__ import annotations

import json
from collections import Counter
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
#: The constant-pose rows of every table (``evaluate.constant_baselines`` keys -> labels).
CONSTANT_ROWS = {
    "constant_source_mean": "Constant: mean source pose",
    "constant_target_mean": "Constant: mean target pose (uses target labels)",
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
    """Per metric over seeds (:func:`sa3dhp.metrics.over_seeds`): mean, sample std (n - 1; 0
    for one seed), n and the per-seed values (in ``seeds`` order)."""
    from sa3dhp.metrics import over_seeds

    return {k: over_seeds([m[k] for m in values]) for k in values[0]}


def _evaluate(cfg: Config, ckpt: Path, test) -> dict:
    from sa3dhp.evaluate import evaluate_split

    m = evaluate_split(ckpt, test, device=cfg.device, figure=False)["overall"]
    return {k: round(v, 2) for k, v in m.items()}


def _seed_config(cfg: Config, seed: int) -> Config:
    """The config of ``seed``'s label-trained runs: the config's own runs for its seed, else
    ``OUT_DIR/ablate/rows/baselines/seed<k>`` with a copy of the config's pose prior."""
    import shutil

    from sa3dhp import pipeline

    if seed == cfg.seed:
        return cfg
    sub = Path(cfg.out_dir) / "ablate" / "rows" / "baselines" / f"seed{seed}"
    scfg = replace(cfg, seed=seed, out_dir=str(sub))
    prior = pipeline.stage_dir(scfg, pipeline.POSE_PRIOR_DIR)
    if not prior.exists():
        shutil.copytree(pipeline.stage_dir(cfg, pipeline.POSE_PRIOR_DIR), prior)
    return scfg


def _gs(cfg: Config, seed: int) -> Path:
    """``seed``'s Gs checkpoint, trained first if it is missing (finished runs are reused)."""
    from sa3dhp import pipeline
    from sa3dhp.runs import image_models

    scfg = _seed_config(cfg, seed)
    if seed != cfg.seed:
        image_models.train_image_model(scfg, "source")
    return pipeline.stage_dir(scfg, "source") / "checkpoint.safetensors"


def _adapt_row(
    cfg: Config, table: str, row: str, losses: list[str], seeds, test, gs: dict[int, dict]
) -> dict:
    """One adaptation row over ``seeds``, each from its own Gs (``gs[seed]`` = its metrics)."""
    from sa3dhp import pipeline
    from sa3dhp.runs import adaptation, relation_nets
    from sa3dhp.train import adapt_terms

    names = adapt_terms.relation_names(losses)
    if names:
        relation_nets.train_relations(cfg, names)
    results, deltas = [], []
    slug = row.replace(" ", "").replace("+", "plus_").replace("(", "_").replace(")", "")
    for seed in seeds:
        run = f"ablate/{table}/{slug}/seed{seed}"
        adaptation.adapt(replace(cfg, seed=seed), run, losses, source_ckpt=_gs(cfg, seed))
        m = _evaluate(cfg, pipeline.stage_dir(cfg, run) / "checkpoint.safetensors", test)
        results.append(m)
        deltas.append({k: round(m[k] - gs[seed][k], 2) for k in m})
    return {**_mean_std(results), "delta_vs_gs": _mean_std(deltas)}


def _constant_rows(cfg: Config, test) -> dict[str, dict]:
    from sa3dhp.demo import label_means
    from sa3dhp.evaluate import constant_baselines

    rows = constant_baselines(*label_means(cfg), test.poses)
    return {CONSTANT_ROWS[k]: _mean_std([v]) for k, v in rows.items()}


def _baseline_runs(cfg: Config, seeds) -> dict[str, list[Path]]:
    """Checkpoints of the rows without adaptation (oracle, direct regression, Gs, AdaBN), one per
    seed (:func:`_seed_config`; finished runs are reused)."""
    from sa3dhp import pipeline
    from sa3dhp.runs import adaptation, image_models

    runs: dict[str, list[Path]] = {label: [] for label in [*BASELINE_ROWS, "AdaBN"]}
    dirs = {**BASELINE_ROWS, "AdaBN": "adabn"}
    for seed in seeds:
        scfg = _seed_config(cfg, seed)
        for variant in ("source", "direct", "oracle"):  # the demo's own are reused
            image_models.train_image_model(scfg, variant)
        adaptation.adabn(scfg)
        for label, run in dirs.items():
            runs[label].append(pipeline.stage_dir(scfg, run) / "checkpoint.safetensors")
    return runs


def ablate_rows(cfg: Config, seeds: list[int]) -> dict:
    """The supplement's ablation rows on target_test (mean and std over ``seeds``)."""
    from sa3dhp.data.synth import load_split

    test = load_split(cfg.data, "target_test")
    rows: dict[str, dict] = _constant_rows(cfg, test)
    gs: dict[int, dict] = {}
    for label, ckpts in _baseline_runs(cfg, seeds).items():
        per_seed = [_evaluate(cfg, ckpt, test) for ckpt in ckpts]
        rows[label] = _mean_std(per_seed)
        if label == "Ours, source only (Gs)":
            gs = dict(zip(seeds, per_seed, strict=True))
    for label, losses in ROW_LOSSES.items():
        rows[label] = _adapt_row(cfg, "rows", label, losses, seeds, test, gs)
        _write(cfg, "rows", _rows_result(seeds, rows))  # partial table
    return _write(cfg, "rows", _rows_result(seeds, rows))


def _rows_result(seeds, rows: dict) -> dict:
    return {"seeds": list(seeds), "target_test": rows, "steps": row_steps(rows)}


def row_steps(rows: dict) -> list[dict]:
    """The supplement's claim for ``ablate rows``, paired over seeds (:func:`_paired`): each
    adaptation row beats the row before it (the first one: Gs), in the order of
    :data:`ROW_LOSSES`; rows not yet run are left out."""
    out, prev = [], "Ours, source only (Gs)"
    for label in ROW_LOSSES:
        if label not in rows or prev not in rows:
            break
        out.append(_paired(f"{label} < {prev}", rows[label], rows[prev]))
        prev = label
    return out


def ablate_inplane(cfg: Config, seeds: list[int], angles=None) -> dict:
    """Supplement Table 2: L_CR + L_z(tau), and the same + L_v(tau-backward), per relation."""
    from sa3dhp.data.synth import load_split
    from sa3dhp.relations import INPLANE_ANGLES

    test = load_split(cfg.data, "target_test")
    relations = [f"inplane{a}" for a in (angles or INPLANE_ANGLES)] + ["flip", "flip+inplane50"]
    gs = {seed: _evaluate(cfg, _gs(cfg, seed), test) for seed in seeds}
    rows: dict[str, dict] = {"Ours, source only (Gs)": _mean_std(list(gs.values()))}
    rows |= _constant_rows(cfg, test)
    for r in relations:
        lower = _adapt_row(cfg, "inplane", f"z_{r}", ["cr", f"z:{r}"], seeds, test, gs)
        higher = _adapt_row(
            cfg, "inplane", f"v_{r}", ["cr", f"z:{r}", f"v:{r}-backward"], seeds, test, gs
        )
        rows[r] = {"lower_order": lower, "higher_order": higher}
        _write(cfg, "inplane", _inplane_result(seeds, rows))  # partial table
    return _write(cfg, "inplane", _inplane_result(seeds, rows))


def _inplane_result(seeds, rows: dict) -> dict:
    return {"seeds": list(seeds), "target_test": rows, "trends": table2_trends(rows)}


def _paired(claim: str, better: dict, worse: dict) -> dict:
    """The claim that cell ``better`` has a lower MPJPE than cell ``worse``, paired over seeds:
    the per-seed differences ``better - worse`` and a verdict. ``reproduced``: lower in every
    seed; ``opposite``: higher in every seed; else ``within the seed spread``. One seed gives
    ``... (one seed)`` verdicts: its spread is unknown."""
    a, b = better["mpjpe"]["per_seed"], worse["mpjpe"]["per_seed"]
    d = [round(x - y, 2) for x, y in zip(a, b, strict=True)]
    if all(x < 0 for x in d):
        verdict = "reproduced"
    elif all(x > 0 for x in d):
        verdict = "opposite"
    else:
        verdict = "within the seed spread"
    if len(d) == 1 and verdict != "within the seed spread":
        verdict += " (one seed)"
    return {"claim": claim, "mean_mm": round(float(np.mean(d)), 2), "per_seed_mm": d,
            "verdict": verdict}  # fmt: skip


def table2_trends(rows: dict) -> dict[str, list[dict]]:
    """The supplement's four Table 2 trends, each as paired comparisons (:func:`_paired`) of
    this table's cells (``rows``: :func:`ablate_inplane`'s ``target_test``; cells not run are
    left out):

    1. ``higher_beats_lower``: per relation, the higher order against the lower;
    2. ``best_angle_50``: per order, in-plane 50 degrees against each other angle;
    3. ``flip_beats_inplane``: per order, flip against each in-plane angle;
    4. ``flip_plus_inplane50_best``: per order, flip+inplane50 against each other relation.
    """
    rel = {r: m for r, m in rows.items() if "lower_order" in m}
    out: dict[str, list[dict]] = {k: [] for k in TREND_CLAIMS}
    for r, m in rel.items():
        if m.get("lower_order") and m.get("higher_order"):
            out["higher_beats_lower"].append(
                _paired(f"{r}: higher < lower", m["higher_order"], m["lower_order"])
            )
    angles = [r for r in rel if r.startswith("inplane")]
    claims = (  # (trend, the claimed best relation, what it is compared with)
        ("best_angle_50", "inplane50", angles),
        ("flip_beats_inplane", "flip", angles),
        ("flip_plus_inplane50_best", "flip+inplane50", list(rel)),
    )
    for order in ("lower_order", "higher_order"):
        cell = {r: m[order] for r, m in rel.items() if m.get(order)}
        for key, best, others in claims:
            for r in others:
                if best in cell and r in cell and r != best:
                    out[key].append(_paired(f"{order}: {best} < {r}", cell[best], cell[r]))
    return out


#: What each trend of :func:`table2_trends` says (the supplement's words, shortened).
TREND_CLAIMS = {
    "higher_beats_lower": "Higher order (+ L_v(tau-backward)) beats lower order for every tau",
    "best_angle_50": "In-plane rotation works best near 50 degrees",
    "flip_beats_inplane": "Flip beats in-plane rotation",
    "flip_plus_inplane50_best": "Flip+inplane50 is the best relation",
}


def _trend_lines(trends: dict[str, list[dict]]) -> str:
    out = "\nThe paper's Table 2 trends, each comparison paired over seeds (reproduced: in every "
    out += "seed; opposite: the other way in every seed):\n\n"
    for i, (key, comps) in enumerate(trends.items(), 1):
        counts = Counter(c["verdict"] for c in comps)
        tally = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no cells run"
        out += f"{i}. *{TREND_CLAIMS[key]}*: {tally} (of {len(comps)} comparisons).\n"
    return out


def _write(cfg: Config, table: str, result: dict) -> dict:
    out = Path(cfg.out_dir) / "ablate"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{table}.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / f"{table}.md").write_text(markdown(table, result))
    return result


def _delta(m: dict | None) -> str:
    from sa3dhp.report import _fmt

    if not m or "delta_vs_gs" not in m:
        return ""
    d = m["delta_vs_gs"]["mpjpe"]
    return f"{'+' if d['mean'] >= 0 else ''}{_fmt(d)}"


def _noise_note(rows: dict, n: int) -> str:
    """The table's footnote: what the ± and Δ mean, and below what size a difference is noise
    (twice the largest seed std of the adaptation rows' Δ)."""
    deltas = [
        cell["delta_vs_gs"]["mpjpe"]["std"]
        for m in rows.values()
        for cell in (m.get("lower_order"), m.get("higher_order"), m)
        if cell and "delta_vs_gs" in cell
    ]
    note = f"\nMean ± sample std (n - 1) over {n} seed(s); "
    note += "Δ = MPJPE change against each seed's own Gs. "
    if n < 2 or not deltas:
        return note + "One seed per cell: the seed spread is unknown.\n"
    return note + (
        f"Differences between cells under {2 * max(deltas):.1f} mm (twice the largest seed std "
        "of Δ) are noise.\n"
    )


def markdown(table: str, result: dict) -> str:
    """The ablation table in the paper's layout, ours beside the paper's MPJPE; adaptation rows
    also show their MPJPE change against each seed's own Gs."""
    from sa3dhp.report import _fmt

    rows = result["target_test"]
    note = _noise_note(rows, len(result.get("seeds", [])) or 1)
    if table == "rows":
        out = "| | MPJPE ↓ | Δ MPJPE vs own Gs | PA-MPJPE ↓ | PCK ↑ | AUC ↑ | paper MPJPE (S→H) |\n"
        out += "|---|---:|---:|---:|---:|---:|---:|\n"
        for label, m in rows.items():
            paper = PAPER_ROWS.get(label)
            rest = " | ".join(_fmt(m[k]) for k in ("pa_mpjpe", "pck", "auc"))
            out += f"| {label} | {_fmt(m['mpjpe'])} | {_delta(m)} | {rest} | {paper or ''} |\n"
        steps = result.get("steps") or row_steps(rows)
        out += note + "\nEach added term against the row before it, paired over seeds:\n\n"
        for c in steps:
            per_seed = ", ".join(f"{d:+.1f}" for d in c["per_seed_mm"])
            out += f"- {c['claim']}: {c['mean_mm']:+.1f} mm (per seed {per_seed}): {c['verdict']}\n"
        return out
    out = "| relation | lower-order L_z MPJPE | Δ vs Gs | paper | higher-order L_v (-backward) "
    out += "MPJPE | Δ vs Gs | paper |\n"
    out += "|---|---:|---:|---:|---:|---:|---:|\n"
    for r, m in rows.items():
        if "lower_order" not in m:  # Gs and the constant rows
            out += f"| {r} | {_fmt(m['mpjpe'])} | | | | | |\n"
            continue
        p = PAPER_TABLE2.get(r, ("", ""))
        cells = []
        for k, paper in zip(("lower_order", "higher_order"), p, strict=True):
            cell = m.get(k)
            cells.append(f"{_fmt(cell['mpjpe']) if cell else 'not run'} | {_delta(cell)} | {paper}")
        out += f"| {r} | {' | '.join(cells)} |\n"
    return out + note + _trend_lines(result.get("trends") or table2_trends(rows))

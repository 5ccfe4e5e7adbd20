"""``sa3dhp demo``: the main job on the embedded synthetic world (``make demo``)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from sa3dhp.config import Config, save_config
from sa3dhp.device import machine

FIGURE_RELATIONS = (
    "flip",
    "inplane25",
    "inplane50",
    "inplane100",
    "flip+inplane50",
    "backward",
    "flip-backward",
    "slow-backward",
    "flip+inplane50-backward",
)


def example_motion(seed: int = 0, frames: int = 60) -> np.ndarray:
    """A ``(frames, 17, 3)`` mocap-style motion from the procedural generator."""
    from sa3dhp.data import motion as motion_mod

    rng = np.random.default_rng(seed)
    subject = motion_mod.sample_subject(rng)
    style = motion_mod.mocap_style()
    return motion_mod.generate_motion(subject, frames, style, rng).poses


def write_relations_figure(cfg: Config, path: Path) -> Path:
    """One pose and one motion under each relation of :data:`FIGURE_RELATIONS`."""
    from sa3dhp.viz import relations_figure

    motion = example_motion(cfg.seed)
    return relations_figure(motion[0], motion, FIGURE_RELATIONS, path)


#: Rows of the demo's results table: run directory (under ``out_dir``; None for the constant
#: baselines, which have no model) and label.
ROWS = {
    "constant_source_mean": (None, "Constant: mean pose of the source labels"),
    "constant_target_mean": (None, "Constant: mean pose of target labels (uses target labels)"),
    "oracle": ("oracle", "Oracle (G trained on target labels)"),
    "direct_regression": ("direct_regression", "Direct regression, source only"),
    "source_only": ("source", "Ours, source only (Gs)"),
    "adabn": ("adabn", "AdaBN (Gs, target BatchNorm statistics)"),
    "adapted": ("adapted", "Ours, adapted"),
}
#: Run directory of the stress target's own oracle (``demo.stress_target``).
STRESS_ORACLE_DIR = "stress_oracle"

#: Rows whose prediction figure the report shows (the others skip drawing it).
FIGURE_ROWS = ("source_only", "adapted")


def _timed(timings: dict, name: str, fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    timings[name] = round(time.perf_counter() - t0, 1)
    return out


def _rounded(metrics: dict) -> dict:
    return {k: round(v, 2) for k, v in metrics.items()}


def results_table(
    cfg: Config, split: str, checkpoints: dict[str, Path], constants: dict, figure_rows=()
) -> dict[str, dict]:
    """Every row on a labelled split of ``cfg.data``: the constant baselines, then each
    checkpoint (``{row: path}``)."""
    from sa3dhp.data.synth import load_split
    from sa3dhp.evaluate import constant_baselines, evaluate_split

    data = load_split(cfg.data, split)
    table = {k: _rounded(v) for k, v in constant_baselines(*constants, data.poses).items()}
    for row, ckpt in checkpoints.items():
        fig = row in figure_rows
        table[row] = _rounded(evaluate_split(ckpt, data, device=cfg.device, figure=fig)["overall"])
    return table


def label_means(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """The label sets the constant baselines average: ``source_train``'s and ``target_oracle``'s
    poses (the second uses target labels, as the oracle does)."""
    from sa3dhp.data.synth import load_split

    return (
        load_split(cfg.data, "source_train", images=False).poses,
        load_split(cfg.data, "target_oracle", images=False).poses,
    )


def gap_closed(table: dict, metric: str = "mpjpe", row: str = "adapted") -> float | None:
    """Share of the source-only -> oracle gap that ``row`` (default: adaptation) closes on
    ``metric``."""
    src, ada, ora = (table[k][metric] for k in ("source_only", row, "oracle"))
    return round((src - ada) / (src - ora), 3) if src != ora else None


def run_stress(cfg: Config, timings: dict) -> dict:
    """The stress target (``cfg.demo.stress_target``): its own oracle fine-tuned from Gs on its
    ``target_oracle``, and the constants, Gs, the adapted model and that oracle on its splits."""
    from sa3dhp import pipeline
    from sa3dhp.runs import image_models

    scfg = replace(cfg, data=replace(cfg.data, target_style=cfg.demo.stress_target))
    _timed(
        timings, "stress_oracle", image_models.train_image_model, scfg, "oracle", STRESS_ORACLE_DIR
    )
    ckpts = {
        row: pipeline.stage_dir(cfg, run) / "checkpoint.safetensors"
        for row, run in (("source_only", "source"), ("adapted", "adapted"))
    }
    ckpts["oracle"] = pipeline.stage_dir(cfg, STRESS_ORACLE_DIR) / "checkpoint.safetensors"
    constants = label_means(scfg)
    out = {"target_style": cfg.demo.stress_target}
    for split in ("target_val", "target_test"):
        out[split] = results_table(scfg, split, ckpts, constants)
    return out


def run_demo(cfg: Config) -> dict:
    """Every stage of Algorithm 1 on the synthetic world, evaluation, and the report.

    Writes ``results.json``, ``results.md`` and ``report.html`` under ``cfg.out_dir``. Every
    table carries the constant baselines; ``target_val`` is reported for probes and
    ``target_test`` is the final evaluation of these (fixed) settings.
    """
    from sa3dhp import pipeline
    from sa3dhp.data.synth import build_world
    from sa3dhp.runs import adaptation, image_models, prior_eval, priors, relation_nets
    from sa3dhp.runs.diagnostics import adaptation_diagnostics

    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out)
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    world = _timed(timings, "data", build_world, cfg.data)
    figure = _timed(timings, "relations_figure", write_relations_figure, cfg, out / "relations.png")
    results: dict = {}
    results["pose_prior"] = _timed(timings, "pose_prior", priors.train_pose_prior, cfg)
    results["motion_prior"] = _timed(timings, "motion_prior", priors.train_motion_prior, cfg)
    prior_eval = _timed(timings, "evaluate_prior", prior_eval.evaluate_prior, cfg)
    prior_eval.pop("latent_ks_per_dim")
    results["prior_eval"] = prior_eval
    variants = [("source", "source")]
    if cfg.demo.direct_regression:
        variants.append(("direct", "direct_regression"))
    for variant, stage in variants:
        results[stage] = _timed(timings, stage, image_models.train_image_model, cfg, variant)
    results["oracle"] = _timed(timings, "oracle", image_models.train_image_model, cfg, "oracle")
    results["relations"] = _timed(timings, "relations", relation_nets.train_relations, cfg)
    results["adabn"] = _timed(timings, "adabn", adaptation.adabn, cfg)
    results["adapted"] = _timed(timings, "adapt", adaptation.adapt, cfg)

    t0 = time.perf_counter()
    checkpoints = {
        row: pipeline.stage_dir(cfg, run) / "checkpoint.safetensors"
        for row, (run, _) in ROWS.items()
        if run is not None and (row != "direct_regression" or cfg.demo.direct_regression)
    }
    constants = label_means(cfg)
    tables = {
        split: results_table(cfg, split, checkpoints, constants, figs)
        for split, figs in (("target_val", ()), ("target_test", FIGURE_ROWS))
    }
    gs = {"source_only": checkpoints["source_only"]}
    source_val = results_table(cfg, "source_val", gs, constants)
    timings["evaluate"] = round(time.perf_counter() - t0, 1)
    stress = run_stress(cfg, timings) if cfg.demo.stress_target else None
    diagnostics = _timed(timings, "diagnostics", adaptation_diagnostics, cfg, checkpoints)
    timings["total"] = round(time.perf_counter() - t_start, 1)

    test = tables["target_test"]
    summary = {
        "target_test": test,
        "target_val": tables["target_val"],
        "source_val": source_val,
        "gap_closed": gap_closed(test),
        "gap_closed_pa_mpjpe": gap_closed(test, "pa_mpjpe"),
        "oracle_gain": round(1 - test["oracle"]["mpjpe"] / test["source_only"]["mpjpe"], 3),
        "domain_gap": round(test["source_only"]["mpjpe"] / source_val["source_only"]["mpjpe"], 3),
        "adaptation_losses": list(cfg.adapt.losses),
        "stress": stress,
        "diagnostics": diagnostics,
        "timings_s": timings,
        "machine": machine(),
        "world": str(world),
        "relations_figure": str(figure),
        **results,
    }
    (out / "results.json").write_text(json.dumps(summary, indent=1) + "\n")
    write_report(cfg, summary)
    return summary


def write_report(cfg: Config, summary: dict) -> Path:
    """``results.md`` and the self-contained ``report.html`` of a demo summary."""
    from sa3dhp import report
    from sa3dhp.pipeline import stage_dir

    out = Path(cfg.out_dir)
    labels = {k: v[1] for k, v in ROWS.items()}
    table = report.metrics_markdown(summary["target_test"], labels)
    val_table = report.metrics_markdown(summary["target_val"], labels)
    src_table = report.metrics_markdown(summary["source_val"], labels)
    stress = summary.get("stress")
    stress_title, stress_table = "", ""
    if stress:
        stress_labels = {**labels, "oracle": "Oracle on the stress target (its own labels)"}
        stress_title = f"Stress target ({stress['target_style']}), target_test"
        stress_table = report.metrics_markdown(stress["target_test"], stress_labels)
    stress_text = f"## {stress_title}\n\n{stress_table}\n" if stress else ""
    gap = summary.get("gap_closed")
    timing = "\n".join(f"{k}: {v} s" for k, v in summary["timings_s"].items())
    diag = json.dumps(summary.get("diagnostics", {}), indent=1)
    text = (
        f"# sa3dhp demo results\n\n## target_test\n\n{table}\n"
        f"Share of the source-only -> oracle gap closed by adaptation: {gap} (MPJPE), "
        f"{summary.get('gap_closed_pa_mpjpe')} (PA-MPJPE)\n\n"
        f"## target_val (for probes)\n\n{val_table}\n"
        f"## source_val\n\n{src_table}\n"
        f"{stress_text}"
        f"Adaptation losses: {', '.join(summary['adaptation_losses'])}\n\n"
        f"## Label-free diagnostics on target_val crops\n\n```\n{diag}\n```\n\n"
        f"## Timings\n\n```\n{timing}\n```\n"
    )
    (out / "results.md").write_text(text)
    runs = ["pose_prior", "motion_prior", "source", "oracle", "adapted"]
    curves = report.training_curves(
        {r: stage_dir(cfg, r) for r in runs}, out / "training_curves.png"
    )
    figures = [
        (curves, "training curves (history.jsonl of each stage)"),
        (stage_dir(cfg, "adapted") / "predictions_target_test.png", "adapted on target_test"),
        (stage_dir(cfg, "source") / "predictions_target_test.png", "Gs on target_test"),
        (stage_dir(cfg, "pose_prior") / "random_decodes.png", "random decodes of Dp"),
        (out / "relations.png", "the relations used"),
    ]
    sections = [
        ("target_test", table),
        ("target_val (for probes)", val_table),
        ("source_val", src_table),
        ("Adaptation", f"gap closed: {gap}\nlosses: {summary['adaptation_losses']}"),
        ("Label-free diagnostics", diag),
        ("Timings (s)", timing),
    ]
    if stress:
        sections.insert(3, (stress_title, stress_table))
    return report.html_report("sa3dhp demo", sections, figures, out / "report.html")

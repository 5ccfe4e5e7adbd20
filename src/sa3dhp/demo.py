"""``sa3dhp demo``: the main job on the embedded synthetic world (``make demo``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from sa3dhp.config import Config, save_config

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


#: Rows of the demo's results table: run directory (under ``out_dir``) and label.
ROWS = {
    "oracle": ("oracle", "Oracle (G trained on target labels)"),
    "direct_regression": ("direct_regression", "Direct regression, source only"),
    "source_only": ("source", "Ours, source only (Gs)"),
    "adabn": ("adabn", "AdaBN (Gs, target BatchNorm statistics)"),
    "adapted": ("adapted", "Ours, adapted"),
}


#: Rows whose prediction figure the report shows (the others skip drawing it).
FIGURE_ROWS = ("source_only", "adapted")


def _timed(timings: dict, name: str, fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    timings[name] = round(time.perf_counter() - t0, 1)
    return out


def run_demo(cfg: Config) -> dict:
    """Every stage of Algorithm 1 on the synthetic world, evaluation, and the report.

    Writes ``results.json``, ``results.md`` and ``report.html`` under ``cfg.out_dir``.
    """
    from sa3dhp import pipeline
    from sa3dhp.data.synth import build_world, load_split
    from sa3dhp.evaluate import evaluate_split

    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out)
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    world = _timed(timings, "data", build_world, cfg.data)
    figure = _timed(timings, "relations_figure", write_relations_figure, cfg, out / "relations.png")
    results: dict = {}
    results["pose_prior"] = _timed(timings, "pose_prior", pipeline.train_pose_prior, cfg)
    results["motion_prior"] = _timed(timings, "motion_prior", pipeline.train_motion_prior, cfg)
    prior_eval = _timed(timings, "evaluate_prior", pipeline.evaluate_prior, cfg)
    prior_eval.pop("latent_ks_per_dim")
    results["prior_eval"] = prior_eval
    for variant, stage in (("source", "source"), ("direct", "direct_regression")):
        results[stage] = _timed(timings, stage, pipeline.train_image_model, cfg, variant)
    results["oracle"] = _timed(timings, "oracle", pipeline.train_image_model, cfg, "oracle")
    results["relations"] = _timed(timings, "relations", pipeline.train_relations, cfg)
    results["adabn"] = _timed(timings, "adabn", pipeline.adabn, cfg)
    results["adapted"] = _timed(timings, "adapt", pipeline.adapt, cfg)

    t0 = time.perf_counter()
    test = load_split(cfg.data, "target_test")
    table: dict[str, dict] = {}
    checkpoints = {}
    for row, (run, _) in ROWS.items():
        ckpt = pipeline.stage_dir(cfg, run) / "checkpoint.safetensors"
        checkpoints[row] = ckpt
        figure = row in FIGURE_ROWS
        metrics = evaluate_split(ckpt, test, device=cfg.device, figure=figure)["overall"]
        table[row] = {k: round(v, 2) for k, v in metrics.items()}
    source_val = pipeline.evaluate_image_model(cfg, split="source_val")["overall"]
    timings["evaluate"] = round(time.perf_counter() - t0, 1)
    diagnostics = _timed(timings, "diagnostics", pipeline.adaptation_diagnostics, cfg, checkpoints)
    timings["total"] = round(time.perf_counter() - t_start, 1)

    src, ada, ora = (table[k]["mpjpe"] for k in ("source_only", "adapted", "oracle"))
    summary = {
        "target_test": table,
        "source_val": {"source_only": {k: round(v, 2) for k, v in source_val.items()}},
        "gap_closed": round((src - ada) / (src - ora), 3) if src != ora else None,
        "domain_gap": round(src / source_val["mpjpe"], 3),
        "adaptation_losses": list(cfg.adapt.losses),
        "diagnostics": diagnostics,
        "timings_s": timings,
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
    gap = summary.get("gap_closed")
    timing = "\n".join(f"{k}: {v} s" for k, v in summary["timings_s"].items())
    diag = json.dumps(summary.get("diagnostics", {}), indent=1)
    text = (
        f"# sa3dhp demo results\n\n## target_test\n\n{table}\n"
        f"Share of the source-only -> oracle gap closed by adaptation: {gap}\n\n"
        f"Adaptation losses: {', '.join(summary['adaptation_losses'])}\n\n"
        f"## Label-free diagnostics on target_test crops\n\n```\n{diag}\n```\n\n"
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
        ("Adaptation", f"gap closed: {gap}\nlosses: {summary['adaptation_losses']}"),
        ("Label-free diagnostics", diag),
        ("Timings (s)", timing),
    ]
    return report.html_report("sa3dhp demo", sections, figures, out / "report.html")

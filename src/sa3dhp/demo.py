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


def run_demo(cfg: Config) -> dict:
    """Run every stage that exists so far and write a summary under ``cfg.out_dir``."""
    from sa3dhp.data.synth import build_world

    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    world = build_world(cfg.data)
    timings["data"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    figure = write_relations_figure(cfg, out.parent / "relations.png")
    timings["relations_figure"] = round(time.perf_counter() - t0, 2)

    from sa3dhp import pipeline

    results: dict = {}
    for name, stage in (
        ("pose_prior", pipeline.train_pose_prior),
        ("motion_prior", pipeline.train_motion_prior),
    ):
        t0 = time.perf_counter()
        results[name] = stage(cfg)
        timings[name] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    prior_eval = pipeline.evaluate_prior(cfg)
    prior_eval.pop("latent_ks_per_dim")
    results["prior_eval"] = prior_eval
    timings["evaluate_prior"] = round(time.perf_counter() - t0, 2)

    summary = {
        "world": str(world),
        "relations_figure": str(figure),
        **results,
        "timings_s": timings,
    }
    (out / "results.json").write_text(json.dumps(summary, indent=1))
    return summary

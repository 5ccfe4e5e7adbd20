"""Does Gs tell which way a target person faces when the source shows the target's facing cue?

    .venv/bin/python benchmarks/facing_probe.py [NAME ...]   # after `make demo`
    .venv/bin/python benchmarks/facing_probe.py --adapt [NAME ...]  # then the rest of the demo
    .venv/bin/python benchmarks/facing_probe.py --bench [NAME ...]  # both, at the bench's scale

``benchmarks/orientation_errors.py`` found that most of the demo's source-only -> oracle gap
on target_val is the body's facing, and that Gs reads facing from the source's left/right
shading convention (left limbs lighter), which the target look does not have; the target's
own facing cue, a print on the front of the top, never appears on the source. Each setting
here changes only the *source* (:data:`SETTINGS`: its look, or for ``source_views`` the
augmentation Gs trains with), trains Gs on it with the demo's
settings and pose prior (copied from ``out/demo``) in ``out/facing_probe/<name>``, and measures
it on the demo's unchanged ``target_val`` (a probe of the world: never target_test) and on its
own ``source_val``, with the yaw rows of ``orientation_errors.py``. Appends one JSON line per
setting to ``benchmarks/results/facing_probe.jsonl``.

``--adapt [NAME ...]`` (default: every setting) then runs the rest of the demo on that setting's
world, from its Gs: the demo's motion prior and relation networks (learned on the mocap, which
no look changes; copied from ``out/demo``), the oracle (Gs fine-tuned on target_oracle labels),
AdaBN and the paper's adaptation with the demo's settings, and appends their rows on
``target_val`` only (the constant rows beside them; target_test is not read: the world is not
fixed) with the label-free diagnostics and the yaw rows.

``--bench [NAME ...]`` (default: ``source_front_print_no_shading``) does both at the bench's
scale, on bench seed 2's pose prior, motion prior and relation networks (copied from
``out/bench_seed2``) in ``out/facing_probe_bench/<name>``: Gs with the bench's settings, its
oracle, AdaBN, the paper's exact final set and our ``adapt.bn=target``, each measured on
target_val only. Appends one JSON line per setting to
``benchmarks/results/bench_facing_probe.jsonl``.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from orientation_errors import model_row

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.demo import gap_closed, label_means, results_table
from sa3dhp.runs import adaptation, diagnostics, image_models

SETTINGS: dict[str, list[str]] = {
    # the target's front print on every source top too, the shading convention kept
    "source_front_print": ["data.source_appearance.front_print_prob=1.0"],
    # the print, and no shading convention: facing shows only as it does on the target
    "source_front_print_no_shading": [
        "data.source_appearance.front_print_prob=1.0",
        "data.source_appearance.side_contrast=0.0",
    ],
    # not a look: the world unchanged, Gs trained on L_CR's pose-preserving views (blur, a shift
    # of up to 3 px) as well as the photometric jitter (facing_stability.py: Gs's facing on the
    # target does not survive those views, and L_CR then turns the bodies to the camera)
    "source_views": ["source.shift_px=3"],
}


#: profile -> (built-in config, its overrides, the run whose priors and relation networks the
#: probe copies, where the probe's runs go)
PROFILES = {
    "demo": ("demo", [], "out/demo", "out/facing_probe"),
    "bench": (
        "bench",
        ["seed=2", 'demo.stress_target=""'],
        "out/bench_seed2",
        "out/facing_probe_bench",
    ),
}


def _config(profile: str, name: str, overrides: list[str]):
    base, base_overrides, _, root = PROFILES[profile]
    return load_config(base, [*base_overrides, *overrides, f"out_dir={Path(root) / name}"])


def _copy_from_run(profile: str, cfg, stages) -> None:
    """Copy ``stages`` of the profile's run into ``cfg``'s out_dir where they are missing."""
    for stage in stages:
        if not pipeline.stage_dir(cfg, stage).exists():
            shutil.copytree(Path(PROFILES[profile][2]) / stage, pipeline.stage_dir(cfg, stage))


def run(name: str, overrides: list[str], profile: str = "demo") -> dict:
    cfg = _config(profile, name, overrides)
    if profile == "demo":  # a fresh Gs; the bench's long one resumes where it stopped
        shutil.rmtree(cfg.out_dir, ignore_errors=True)
    _copy_from_run(profile, cfg, [pipeline.POSE_PRIOR_DIR])
    t0 = time.perf_counter()
    image_models.train_image_model(cfg, "source")
    ckpt = pipeline.stage_dir(cfg, pipeline.IMAGE_MODEL_DIRS["source"]) / "checkpoint.safetensors"
    result: dict = {"name": name, "overrides": overrides}
    for split in ("target_val", "source_val"):
        data = load_split(cfg.data, split)
        result[f"gs_{split}"] = model_row(ckpt, data.images, data.poses)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    return result


def adapt_rows(name: str, overrides: list[str], profile: str = "demo") -> dict:
    cfg = _config(profile, name, overrides)
    _copy_from_run(profile, cfg, [pipeline.MOTION_PRIOR_DIR, "relations"])
    t0 = time.perf_counter()
    image_models.train_image_model(cfg, "oracle")
    adaptation.adabn(cfg)
    adaptation.adapt(cfg, "adapted")
    runs = [("source_only", "source"), ("adabn", "adabn"), ("adapted", "adapted")]
    if profile == "bench":  # our best option on the bench too
        adaptation.adapt(_config(profile, name, [*overrides, "adapt.bn=target"]), "bn_target")
        runs.append(("adapted_bn_target", "bn_target"))
    ckpts = {
        row_name: pipeline.stage_dir(cfg, run_name) / "checkpoint.safetensors"
        for row_name, run_name in [*runs, ("oracle", "oracle")]
    }
    table = results_table(cfg, "target_val", ckpts, label_means(cfg))
    data = load_split(cfg.data, "target_val")
    yaw = {k: model_row(ckpt, data.images, data.poses) for k, ckpt in ckpts.items()}
    return {
        "name": name,
        "overrides": overrides,
        "adapted_with": f"the {profile}'s settings (the paper's objective)",
        "target_val": table,
        "gap_closed_target_val": gap_closed(table),
        "yaw_target_val": yaw,
        "diagnostics_target_val": diagnostics.adaptation_diagnostics(cfg, ckpts),
        "seconds": round(time.perf_counter() - t0, 1),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def bench_rows(name: str, overrides: list[str]) -> dict:
    """:func:`run` then :func:`adapt_rows` at the bench's scale, as one record."""
    gs = run(name, overrides, "bench")
    rest = adapt_rows(name, overrides, "bench")
    return rest | {
        "gs_source_val": gs["gs_source_val"],
        "gs_seconds": gs["seconds"],
        "seconds": round(gs["seconds"] + rest["seconds"], 1),
    }


def main() -> None:
    args = sys.argv[1:]
    path = Path("benchmarks/results/facing_probe.jsonl")
    measure = run
    if args[:1] == ["--adapt"]:
        measure, args = adapt_rows, args[1:]
    if args[:1] == ["--bench"]:
        measure, args = bench_rows, args[1:] or ["source_front_print_no_shading"]
        path = Path("benchmarks/results/bench_facing_probe.jsonl")
    for name in args or list(SETTINGS):
        result = measure(name, SETTINGS[name])
        with path.open("a") as f:
            f.write(json.dumps(result) + "\n")
        print(json.dumps(result, indent=1), flush=True)


if __name__ == "__main__":
    main()

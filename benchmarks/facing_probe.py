"""Does Gs tell which way a target person faces when the source shows the target's facing cue?

    .venv/bin/python benchmarks/facing_probe.py [NAME ...]   # after `make demo`
    .venv/bin/python benchmarks/facing_probe.py --adapt [NAME ...]  # then the rest of the demo

``benchmarks/orientation_errors.py`` found that most of the demo's source-only -> oracle gap
on target_val is the body's facing, and that Gs reads facing from the source's left/right
shading convention (left limbs lighter), which the target look does not have; the target's
own facing cue, a print on the front of the top, never appears on the source. Each setting
here changes only the *source's* look (:data:`SETTINGS`), trains Gs on it with the demo's
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
}


def run(name: str, overrides: list[str]) -> dict:
    out_dir = Path("out/facing_probe") / name
    shutil.rmtree(out_dir, ignore_errors=True)
    demo = load_config("demo")
    shutil.copytree(
        pipeline.stage_dir(demo, pipeline.POSE_PRIOR_DIR), out_dir / pipeline.POSE_PRIOR_DIR
    )
    cfg = load_config("demo", [*overrides, f"out_dir={out_dir}"])
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


def adapt_rows(name: str, overrides: list[str]) -> dict:
    out_dir = Path("out/facing_probe") / name
    cfg = load_config("demo", [*overrides, f"out_dir={out_dir}"])
    for stage in (pipeline.MOTION_PRIOR_DIR, "relations"):
        if not pipeline.stage_dir(cfg, stage).exists():
            shutil.copytree(Path("out/demo") / stage, pipeline.stage_dir(cfg, stage))
    t0 = time.perf_counter()
    image_models.train_image_model(cfg, "oracle")
    adaptation.adabn(cfg)
    adaptation.adapt(cfg, "adapted")
    ckpts = {
        row_name: pipeline.stage_dir(cfg, run_name) / "checkpoint.safetensors"
        for row_name, run_name in (
            ("source_only", "source"),
            ("adabn", "adabn"),
            ("adapted", "adapted"),
            ("oracle", "oracle"),
        )
    }
    table = results_table(cfg, "target_val", ckpts, label_means(cfg))
    data = load_split(cfg.data, "target_val")
    yaw = {k: model_row(ckpt, data.images, data.poses) for k, ckpt in ckpts.items()}
    return {
        "name": name,
        "overrides": overrides,
        "adapted_with": "the demo's settings (the paper's objective)",
        "target_val": table,
        "gap_closed_target_val": gap_closed(table),
        "yaw_target_val": yaw,
        "diagnostics_target_val": diagnostics.adaptation_diagnostics(cfg, ckpts),
        "seconds": round(time.perf_counter() - t0, 1),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    args = sys.argv[1:]
    path = Path("benchmarks/results/facing_probe.jsonl")
    measure = run
    if args[:1] == ["--adapt"]:
        measure, args = adapt_rows, args[1:]
    for name in args or list(SETTINGS):
        result = measure(name, SETTINGS[name])
        with path.open("a") as f:
            f.write(json.dumps(result) + "\n")
        print(json.dumps(result, indent=1), flush=True)


if __name__ == "__main__":
    main()

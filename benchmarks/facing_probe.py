"""Does Gs tell which way a target person faces when the source shows the target's facing cue?

    .venv/bin/python benchmarks/facing_probe.py [NAME ...]   # after `make demo`

``benchmarks/orientation_errors.py`` found that most of the demo's source-only -> oracle gap
on target_val is the body's facing, and that Gs reads facing from the source's left/right
shading convention (left limbs lighter), which the target look does not have; the target's
own facing cue, a print on the front of the top, never appears on the source. Each setting
here changes only the *source's* look (:data:`SETTINGS`), trains Gs on it with the demo's
settings and pose prior (copied from ``out/demo``) in ``out/facing_probe/<name>``, and measures
it on the demo's unchanged ``target_val`` (a probe of the world: never target_test) and on its
own ``source_val``, with the yaw rows of ``orientation_errors.py``. Appends one JSON line per
setting to ``benchmarks/results/facing_probe.jsonl``.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from orientation_errors import row

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.inference import load_image_model, predict
from sa3dhp.runs import image_models

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
    model, prior, _ = load_image_model(ckpt)
    result: dict = {"name": name, "overrides": overrides}
    for split in ("target_val", "source_val"):
        data = load_split(cfg.data, split)
        r = row(predict(model, prior, data.images), data.poses - data.poses[:, :1])
        r.pop("_yaw_deg")
        result[f"gs_{split}"] = r
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    return result


def main() -> None:
    names = sys.argv[1:] or list(SETTINGS)
    path = Path("benchmarks/results/facing_probe.jsonl")
    for name in names:
        result = run(name, SETTINGS[name])
        with path.open("a") as f:
            f.write(json.dumps(result) + "\n")
        print(json.dumps(result, indent=1), flush=True)


if __name__ == "__main__":
    main()

"""Does `sa3dhp predict` gain from decoding and cropping in a background thread beside G?

    .venv/bin/python benchmarks/predict_overlap.py [G_RUN_DIR]   # default: out/demo/source

``predict`` with given boxes on the 1,024-frame 320x240 video of ``predict_video.py``'s
throughput part, with the background thread (``PredictOptions.background=True``) and without
(``False``: decoding, tracking and cropping in G's thread, in turn), beside the bare resnet18's
forward over the same 1,024 crops; alternated in 15 rounds (``rates.py``). Per mode: the rate,
each round's ratio over resnet18, and the seconds spent in G and its decoder within ``predict``
(``summary.json``'s ``model_seconds``), which show what the thread costs G. This is the
measurement behind ``predict.background_helps``, which the default (``background=None``)
follows; the machine's cores and torch's threads are recorded with it.

Writes ``benchmarks/results/predict_overlap.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import rates
import torch

from sa3dhp.data.world import WorldConfig
from sa3dhp.model_file import export_model
from sa3dhp.predict import PredictOptions, background_helps, predict_files, usable_cores

BATCH, ROUNDS = 64, 15
FRAMES = rates.SPEED_FRAMES
MODES = {"background_thread": True, "one_thread": False}


def main() -> None:
    run = Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo/source")
    os.environ.setdefault("SA3DHP_NO_PROGRESS", "1")
    world = WorldConfig()
    model_seconds: dict[str, list[float]] = {m: [] for m in MODES}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        path = str(export_model(run, tmp / "model.safetensors"))
        video, files = rates.speed_video(tmp, world)

        def predict(mode: str):
            opts = PredictOptions(
                detector="boxes", boxes=str(files["boxes"]), batch=BATCH, background=MODES[mode]
            )

            def once() -> int:
                summary = predict_files([str(files["video"])], path, tmp / mode, opts)
                model_seconds[mode].append(summary["model_seconds"])
                return FRAMES

            return once

        work = {m: predict(m) for m in MODES}
        work["resnet18"] = rates.resnet18_pass(video.crops, BATCH)
        runs = rates.alternating_rounds(work, ROUNDS)
    for v in model_seconds.values():
        del v[0]  # the warm-up's
    out = {
        "what": "predict with given boxes, with and without its background thread, 1,024 frames",
        "model": str(run),
        "cores": usable_cores(),
        "torch_threads": torch.get_num_threads(),
        "default_uses_background_thread": background_helps(torch.device("cpu")),
        "rounds": ROUNDS,
        "batch": BATCH,
        "crops_per_s_median": rates.medians(runs),
        "over_resnet18": {m: rates.ratio_of_rounds(runs[m], runs["resnet18"]) for m in MODES},
        "background_over_one_thread": rates.ratio_of_rounds(
            runs["background_thread"], runs["one_thread"]
        ),
        "model_seconds_median": {m: statistics.median(v) for m, v in model_seconds.items()},
        "model_seconds": model_seconds,
        "runs": {k: [round(x, 1) for x in v] for k, v in runs.items()},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    dest = Path("benchmarks/results/predict_overlap.json")
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(
        json.dumps({k: v for k, v in out.items() if k not in ("runs", "model_seconds")}, indent=1)
    )


if __name__ == "__main__":
    main()

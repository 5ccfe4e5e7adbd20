"""Where `sa3dhp predict`'s seconds go on a 1,024-frame video with given boxes, phase by phase.

    .venv/bin/python benchmarks/predict_profile.py [G_RUN_DIR]   # default: out/demo/source

The video and boxes are those of ``predict_video.py``'s throughput part (320x240, the person at
the training scale, 64-pixel crops, batch 64). Each phase runs alone, in this thread, five times
(medians): loading the model file (with BatchNorm folding), decoding the video, decoding plus
the boxes, tracking and cropping (``people.people_in``), G and its decoder on those crops in
batches, writing ``predictions.jsonl`` and ``.npz``. Then ``predict`` as a whole, and the bare
resnet18's and G's (folded) forward over the same 1,024 crops, alternated in 15 rounds
(``rates.py``): the median and quartiles of the rounds' ``predict`` over resnet18. From the
phases: ``predict``'s rate over resnet18's if its phases ran one after another, and if G and its
decoder were all it did.

Writes ``benchmarks/results/predict_profile.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rates
import torch

from sa3dhp import media
from sa3dhp.data.world import WorldConfig
from sa3dhp.detect import make_detector
from sa3dhp.model_file import export_model
from sa3dhp.people import people_in
from sa3dhp.predict import PredictOptions, _Model, _write_jsonl, predict_files

BATCH, REPEATS, ROUNDS = 64, 5, 15
FRAMES = rates.SPEED_FRAMES


def _median_seconds(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    run = Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo/source")
    os.environ.setdefault("SA3DHP_NO_PROGRESS", "1")
    world = WorldConfig()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        path = str(export_model(run, tmp / "model.safetensors"))
        _, files = rates.speed_video(tmp, world)
        item = media.collect([str(files["video"])])[0]
        model = _Model(path, "cpu")

        def people() -> list:
            detector = make_detector("boxes", str(files["boxes"]))
            return list(people_in(item, detector, model.crop_scale, model.size, prefetch=0))

        found = people()
        crops = np.concatenate([p.crops for p in found])
        opts = PredictOptions(detector="boxes", boxes=str(files["boxes"]), batch=BATCH)
        predict_files([str(files["video"])], path, tmp / "out", opts)  # the arrays it writes
        arrays = dict(np.load(tmp / "out" / "predictions.npz"))

        def write() -> None:
            np.savez(tmp / "p.npz", **arrays)
            _write_jsonl(tmp / "p.jsonl", arrays, {item.name: FRAMES})

        x8 = torch.as_tensor(crops).permute(0, 3, 1, 2)  # all 1,024 crops
        with torch.no_grad():
            seconds = {
                "load_model": _median_seconds(lambda: _Model(path, "cpu")),
                "decode": _median_seconds(lambda: list(media.read_frames(item))),
                "decode_boxes_track_crop": _median_seconds(people),
                "g_and_decoder": _median_seconds(
                    lambda: [model(crops[i : i + BATCH]) for i in range(0, FRAMES, BATCH)]
                ),
                "write_outputs": _median_seconds(write),
            }

        def whole() -> int:
            predict_files([str(files["video"])], path, tmp / "out", opts)
            return FRAMES

        runs = rates.alternating_rounds(
            {
                "predict": whole,
                "resnet18": rates.resnet18_pass(crops, BATCH),
                "g_folded": rates.forward_pass(model.model, x8, BATCH),
            },
            ROUNDS,
        )
    g = seconds["g_and_decoder"]
    rest = seconds["load_model"] + seconds["decode_boxes_track_crop"] + seconds["write_outputs"]
    med = rates.medians(runs)
    out = {
        "what": "predict's phases on a 1,024-frame 320x240 video with given boxes, each alone",
        "model": str(run),
        "threads": torch.get_num_threads(),
        "frames": FRAMES,
        "batch": BATCH,
        "seconds_median_of_5": {k: round(v, 4) for k, v in seconds.items()},
        "rounds": ROUNDS,
        "crops_per_s_median_of_rounds": med,
        "predict_over_resnet18": rates.ratio_of_rounds(runs["predict"], runs["resnet18"]),
        # the phases one after another (no overlap), and G plus its decoder alone, over resnet18
        "phases_in_series_over_resnet18": round(FRAMES / (g + rest) / med["resnet18"], 3),
        "g_and_decoder_alone_over_resnet18": round(FRAMES / g / med["resnet18"], 3),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    dest = Path("benchmarks/results/predict_profile.json")
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

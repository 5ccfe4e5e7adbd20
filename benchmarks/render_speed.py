"""Rendering speed of the synthetic world: crops per second on one core.

Renders clips of generated motion in both appearance styles at several crop sizes with
OpenCV limited to one thread, and writes the median over repeats to
``benchmarks/results/render_speed.json``.

    .venv/bin/python benchmarks/render_speed.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from sa3dhp.data import motion, render
from sa3dhp.data.synth import WorldConfig, _sample_roots


def measure(size: int, style: str, frames: int, clips: int, seed: int = 0) -> float:
    """Crops per second for ``clips`` clips of ``frames`` frames (rendering only)."""
    appearance = render.source_appearance() if style == "source" else render.target_appearance()
    motion_style = motion.source_style() if style == "source" else motion.target_style()
    renderer = render.Renderer(size, appearance, seed=seed)
    rng = np.random.default_rng(seed)
    jobs = []
    for _ in range(clips):
        subject = motion.sample_subject(rng)
        m = motion.generate_motion(subject, frames, motion_style, rng)
        jobs.append((m.poses, _sample_roots(rng, frames, WorldConfig()), 1.7 * subject.height_mm))
    t0 = time.perf_counter()
    for poses, roots, extent in jobs:
        renderer.render(poses, roots, extent, renderer.sample_appearance(rng), rng)
    return clips * frames / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/render_speed.json")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    results = {}
    for size in args.sizes:
        for style in ("source", "target"):
            runs = [
                measure(size, style, args.frames, args.clips, seed=r) for r in range(args.repeats)
            ]
            key = f"{style}_{size}px"
            results[key] = {
                "median_crops_per_s": round(statistics.median(runs), 1),
                "runs": [round(r, 1) for r in runs],
            }
            print(f"{key}: {results[key]['median_crops_per_s']} crops/s (one core)")
    out = {
        "what": "crops rendered per second on one core (cv2.setNumThreads(1)), median of repeats",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "opencv": cv2.__version__,
        },
        "settings": {"frames_per_clip": args.frames, "clips": args.clips, "repeats": args.repeats},
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Rendering speed of the synthetic world: crops per second on one core.

Renders clips of synthetic poses (the rest pose turned about the vertical axis, with swinging
limbs) at realistic pelvis positions (3-7 m away, off-centre) in both appearance styles at the
given crop sizes, with OpenCV limited to one thread, and writes the median over repeats to
``benchmarks/results/render_speed.json``. Timing covers ``sample_appearance`` and ``render``.

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

from sa3dhp import skeleton as sk
from sa3dhp.data import render


def _rotate_about(points: np.ndarray, centre: np.ndarray, axis: int, angle: np.ndarray):
    """Rotate ``(T, K, 3)`` points about ``centre`` ``(T, 3)`` by ``angle`` ``(T,)`` rad."""
    c, s = np.cos(angle), np.sin(angle)
    i, j = [k for k in range(3) if k != axis]
    rel = points - centre[:, None]
    out = rel.copy()
    out[..., i] = c[:, None] * rel[..., i] - s[:, None] * rel[..., j]
    out[..., j] = s[:, None] * rel[..., i] + c[:, None] * rel[..., j]
    return out + centre[:, None]


def synthetic_clip(rng: np.random.Generator, frames: int) -> tuple[np.ndarray, np.ndarray, float]:
    """A clip of ``(T, 17, 3)`` poses, ``(T, 3)`` roots and the crop extent (mm)."""
    scale = rng.uniform(0.88, 1.13)
    pose = np.repeat(sk.rest_pose()[None].astype(np.float64) * scale, frames, 0)
    t = np.arange(frames) / 30.0
    freq = rng.uniform(0.6, 1.6)
    chains = (
        (sk.L_SHOULDER, (sk.L_ELBOW, sk.L_WRIST)),
        (sk.R_SHOULDER, (sk.R_ELBOW, sk.R_WRIST)),
        (sk.L_HIP, (sk.L_KNEE, sk.L_ANKLE)),
        (sk.R_HIP, (sk.R_KNEE, sk.R_ANKLE)),
    )
    for k, (base, kids) in enumerate(chains):
        amp = rng.uniform(0.2, 1.2 if k < 2 else 0.6)
        angle = amp * np.sin(2 * np.pi * freq * t + np.pi * (k % 2) + rng.uniform(-0.3, 0.3))
        axis = 0 if rng.random() < 0.7 else 2  # swing forward/back or sideways
        pose[:, list(kids)] = _rotate_about(pose[:, list(kids)], pose[:, base], axis, angle)
        bend = rng.uniform(0, 1.2) * (0.5 + 0.5 * np.sin(2 * np.pi * freq * t + k))
        pose[:, [kids[1]]] = _rotate_about(pose[:, [kids[1]]], pose[:, kids[0]], 0, bend)
    yaw = rng.uniform(0, 2 * np.pi) + rng.uniform(-1, 1) * t
    pose = _rotate_about(pose, np.zeros((frames, 3)), 1, yaw)
    z = rng.uniform(3000, 7000)
    start = np.array([rng.uniform(-0.3, 0.3) * z, rng.uniform(-0.15, 0.15) * z, z])
    velocity = rng.normal(0, 1, 3) * rng.uniform(0, 400) / 30.0
    roots = start + np.arange(frames)[:, None] * velocity
    return pose, roots, 1.7 * 1720.0 * scale


def measure(size: int, style: str, frames: int, clips: int, seed: int) -> float:
    """Crops per second rendering ``clips`` clips of ``frames`` frames (appearance included)."""
    preset = render.source_appearance() if style == "source" else render.target_appearance()
    renderer = render.Renderer(size, preset, seed=seed)
    rng = np.random.default_rng(seed)
    jobs = [synthetic_clip(rng, frames) for _ in range(clips)]
    t0 = time.perf_counter()
    for poses, roots, extent in jobs:
        renderer.render(poses, roots, extent, renderer.sample_appearance(rng), rng)
    return clips * frames / (time.perf_counter() - t0)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs="+", default=[64, 128], help="crop sizes")
    parser.add_argument("--frames", type=int, default=60, help="frames per clip")
    parser.add_argument("--clips", type=int, default=10, help="clips per measurement")
    parser.add_argument("--repeats", type=int, default=5, help="measurements per setting")
    parser.add_argument("--out", default="benchmarks/results/render_speed.json")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    results = {}
    for size in args.size:
        for style in ("source", "target"):
            measure(size, style, args.frames, 1, seed=99)  # warm-up: texture banks, caches
            runs = [
                measure(size, style, args.frames, args.clips, seed=r) for r in range(args.repeats)
            ]
            key = f"{style}_{size}px"
            results[key] = {
                "median_crops_per_s": round(statistics.median(runs), 1),
                "runs": [round(r, 1) for r in runs],
            }
            print(f"{key}: {results[key]['median_crops_per_s']} crops/s (one core)", flush=True)
    out = {
        "what": "crops rendered per second on one core (cv2.setNumThreads(1)), median of repeats",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": _cpu_model(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "opencv": cv2.__version__,
        },
        "settings": {
            "frames_per_clip": args.frames,
            "clips": args.clips,
            "repeats": args.repeats,
            "timed": "sample_appearance + render (per clip), after one warm-up clip",
        },
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

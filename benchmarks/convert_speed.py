"""Converter throughput on a 100,000-frame mocap set (BVH and CMU ASF/AMC).

    .venv/bin/python benchmarks/convert_speed.py [FRAMES]   # default 100000

Writes the files first (the tests' CMU-like skeletons; the BVH with random angles at 120 FPS,
four decimals), then times ``sa3dhp.convert.convert`` alone: parsing, forward kinematics,
resampling to 30 FPS, virtual cameras and writing the split. Median of 3 runs. Writes
``benchmarks/results/convert_speed.json``.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sa3dhp.convert import convert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' real-format writers
from tests.test_convert import _write_asf_amc, _write_bvh


def _big_bvh(path: Path, frames: int) -> Path:
    """The tests' CMU-like hierarchy with ``frames`` frames of random angles, written with four
    decimals as motion-capture exports are."""
    _write_bvh(path, frames=1)
    head = path.read_text().split("MOTION")[0]
    n_channels = 6 + 3 * (head.count("JOINT"))
    rng = np.random.default_rng(0)
    values = rng.uniform(-30, 30, (frames, n_channels))
    values[:, :3] = [0.0, 100.0, 0.0]
    body = "\n".join(" ".join(f"{v:.4f}" for v in row) for row in values)
    path.write_text(f"{head}MOTION\nFrames: {frames}\nFrame Time: 0.0083333\n{body}\n")
    return path


def main() -> None:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    out: dict = {"what": "converter throughput, frames of the input per second", "frames": frames}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bvh = _big_bvh(tmp / "big.bvh", frames)
        amc_dir = tmp / "amc"
        amc_dir.mkdir()
        asf, amc = _write_asf_amc(amc_dir, frames=frames)
        for name, args in (
            ("bvh", (["bvh", [str(bvh)]], {})),
            ("cmu-amc", (["cmu-amc", [str(asf), str(amc)]], {"source_fps": 120.0})),
        ):
            times = []
            for r in range(3):
                t0 = time.perf_counter()
                convert(*args[0], tmp / f"out_{name}_{r}", **args[1])
                times.append(time.perf_counter() - t0)
            med = statistics.median(times)
            out[name] = {
                "seconds": round(med, 3),
                "frames_per_s": round(frames / med),
                "runs_s": [round(t, 3) for t in times],
            }
    out["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    Path("benchmarks/results/convert_speed.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

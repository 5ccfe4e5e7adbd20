"""Wall time of `sa3dhp data synth` with the demo config, from an empty cache (2 workers).

    .venv/bin/python benchmarks/synth_build.py

Writes ``benchmarks/results/synth_build.json``.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sa3dhp.config import load_config
from sa3dhp.data import synth


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config("demo", [f"data.cache_dir={tmp}"]).data
        per_split = {}
        t0 = time.perf_counter()
        for split in synth.SPLITS:
            t = time.perf_counter()
            synth.build_world(cfg, (split,), progress=False)
            per_split[split] = round(time.perf_counter() - t, 2)
        total = round(time.perf_counter() - t0, 2)
        sizes = {s: synth.load_split(cfg, s, images=False).meta["num_frames"] for s in synth.SPLITS}
    out = {
        "what": "seconds to build every split of the demo world from an empty cache",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "workers": cfg.workers,
        "total_s": total,
        "per_split_s": per_split,
        "frames": sizes,
    }
    path = Path("benchmarks/results/synth_build.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

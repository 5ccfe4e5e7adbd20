"""The command line shared by the sweep benchmarks (``prior_sweep``, ``motion_sweep``,
``relation_fit``): run the named settings (all by default) and append one JSON line each."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path


def main(settings: dict[str, list[str]], run: Callable[[str, list[str]], dict], out: str) -> None:
    """Run ``run(name, overrides)`` for each setting named on the command line (default: all),
    printing each row and appending it to ``benchmarks/results/<out>``."""
    names = sys.argv[1:] or list(settings)
    unknown = [n for n in names if n not in settings]
    if unknown:
        raise SystemExit(f"unknown setting(s) {unknown}; choose from {list(settings)}")
    path = Path("benchmarks/results") / out
    for name in names:
        row = run(name, settings[name])
        print(json.dumps(row), flush=True)
        with path.open("a") as f:
            f.write(json.dumps(row) + "\n")

"""Copy a finished demo's measured results into ``benchmarks/results/`` (no training here).

Run after ``make demo`` (and, for the ablation tables and relation scores, after
``sa3dhp ablate rows``, ``sa3dhp ablate inplane`` and ``sa3dhp relations score``):

    .venv/bin/python benchmarks/collect_demo.py [out/demo | out/bench | out/quick]

Writes ``demo_results.json`` (the demo's results.json), ``demo_prior_eval.json``,
``relations.json`` (relation-network metrics), and when present ``relation_scores.json``,
``ablate_rows.json`` and ``ablate_inplane.json``; then runs ``image_models.py`` on the same run.
For another profile's run directory (``out/bench``) every name starts with the profile's
(``bench_results.json``, ``bench_relations.json``, ...) and ``image_models.py`` is not run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

FILES = {
    "results.json": "demo_results.json",
    "pose_prior/prior_eval.json": "demo_prior_eval.json",
    "relations/metrics.json": "relations.json",
    "relations/score.json": "relation_scores.json",
    "ablate/rows.json": "ablate_rows.json",
    "ablate/inplane.json": "ablate_inplane.json",
}


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo")
    dest = Path(__file__).parent / "results"
    profile = root.name
    for src, name in FILES.items():
        if profile != "demo":
            name = f"{profile}_{name.removeprefix('demo_')}"
        if (root / src).exists():
            shutil.copyfile(root / src, dest / name)
            print(f"{root / src} -> {dest / name}")
    if profile == "demo":
        subprocess.run([sys.executable, str(Path(__file__).parent / "image_models.py"), str(root)])


if __name__ == "__main__":
    main()

"""Is one run better than another on a labelled target split, beyond the clips' own spread?

    .venv/bin/python benchmarks/paired_bootstrap.py OUT_DIR NAME [A:B ...]

For each pair ``A:B`` of run directories under ``OUT_DIR`` (default pairs: every adaptation
option of ``benchmarks/adapt_guard.py`` against Gs and against AdaBN), reads the predictions
that evaluation saved (``A/predictions_<split>.npz``) on ``target_val`` and ``target_test`` and
reports MPJPE(A) - MPJPE(B) with a 95 % interval from a paired bootstrap over clips (10,000
resamples of the split's clips, each resample scoring both runs on the same clips; seed 0).
A difference whose interval excludes 0 is one that the split's clips show; the interval says
nothing about seeds. Writes ``benchmarks/results/<NAME>_paired.json``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sa3dhp.metrics import joint_errors

SPLITS = ("target_val", "target_test")
RESAMPLES = 10_000
DEFAULT_PAIRS = [
    "adabn:source",
    "adapted:source",
    "adapted_guard:source",
    "adapted_adabn_guard:adabn",
    "adapted_bn_target:source",
    "adapted_bn_target:adabn",
]


def clip_errors(path: Path, groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-clip summed joint errors ``(C,)`` mm and frame counts ``(C,)`` of a predictions file,
    clips in sorted id order; with ``groups`` (one id per frame, e.g. the split's subjects),
    per group instead."""
    d = np.load(path)
    err = joint_errors(d["pred"], d["gt"]).mean(-1)  # (N,) per frame
    units, index = np.unique(d["clip"] if groups is None else groups, return_inverse=True)
    return np.bincount(index, err, len(units)), np.bincount(index, minlength=len(units))


def paired_bootstrap(
    sum_a: np.ndarray, sum_b: np.ndarray, count: np.ndarray, resamples: int = RESAMPLES
) -> dict:
    """MPJPE(A) - MPJPE(B) over frames, and its 95 % paired-bootstrap interval over clips."""
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(count), (resamples, len(count)))
    n = count[pick].sum(1)
    diff = (sum_a[pick].sum(1) - sum_b[pick].sum(1)) / n
    lo, hi = np.percentile(diff, [2.5, 97.5])
    return {
        "a_mm": round(float(sum_a.sum() / count.sum()), 2),
        "b_mm": round(float(sum_b.sum() / count.sum()), 2),
        "diff_mm": round(float((sum_a.sum() - sum_b.sum()) / count.sum()), 2),
        "ci95_mm": [round(float(lo), 2), round(float(hi), 2)],
        "clips": len(count),
    }


def paired_over_seeds(
    runs_a: list[Path], runs_b: list[Path], split: str, subjects: np.ndarray | None = None
) -> dict:
    """MPJPE(A) - MPJPE(B) on ``split``, the mean over seeds (``runs_a[i]`` faces ``runs_b[i]``,
    run directories of the same seed), with a 95 % paired-bootstrap interval over the split's
    clips (each resample scores every seed's two runs on the same clips), and each seed's own
    difference. The interval is the clips' spread of the seed mean, not the seeds': a
    difference holds only where it also has one sign in every seed (``same_sign_every_seed``).
    With ``subjects`` (the split's subject of each frame), also the interval from resampling
    the split's subjects instead of its clips (``ci95_mm_over_subjects``): a clip's frames share
    their person with the other clips of that subject, so the clips are not independent."""
    sums_a, sums_b, per_seed, count = [], [], [], None
    for a, b in zip(runs_a, runs_b, strict=True):
        sum_a, count_a = clip_errors(Path(a) / f"predictions_{split}.npz")
        sum_b, count_b = clip_errors(Path(b) / f"predictions_{split}.npz")
        if not np.array_equal(count_a, count_b) or (
            count is not None and not np.array_equal(count, count_a)
        ):
            raise ValueError(f"{a} and {b}: the runs' {split} predictions cover other frames")
        count = count_a
        sums_a.append(sum_a)
        sums_b.append(sum_b)
        per_seed.append(round(float((sum_a.sum() - sum_b.sum()) / count.sum()), 2))
    # the same clips in every seed: the seed mean of the differences is that of the sums
    out = paired_bootstrap(np.mean(sums_a, 0), np.mean(sums_b, 0), count)
    signs = {np.sign(d) for d in per_seed}
    if subjects is not None:
        by_subject = [
            [clip_errors(Path(r) / f"predictions_{split}.npz", subjects)[0] for r in runs]
            for runs in (runs_a, runs_b)
        ]
        count = clip_errors(Path(runs_a[0]) / f"predictions_{split}.npz", subjects)[1]
        wide = paired_bootstrap(*(np.mean(sums, 0) for sums in by_subject), count)
        out |= {"ci95_mm_over_subjects": wide["ci95_mm"], "subjects": len(count)}
    return {
        **out,
        "per_seed_mm": per_seed,
        "seeds": len(per_seed),
        "same_sign_every_seed": len(signs) == 1 and 0 not in signs,
    }


def paired_table(runs: dict[str, list[Path]], pairs: list, subjects: dict) -> dict:
    """``{"A - B": {split: paired_over_seeds(...)}}`` for each ``(A, B)`` of ``pairs`` on both
    splits; ``runs``: each row's run directories, one per seed, in the same seed order;
    ``subjects``: :func:`split_subjects`."""
    return {
        f"{a} - {b}": {
            split: paired_over_seeds(runs[a], runs[b], split, subjects[split]) for split in SPLITS
        }
        for a, b in pairs
    }


def split_subjects(world) -> dict[str, np.ndarray]:
    """Each labelled target split's subject of every frame ``{split: (N,)}`` for ``world``."""
    from sa3dhp.data.synth import load_split

    return {split: load_split(world, split, images=False).subject for split in SPLITS}


def compare(out_dir: Path, pairs: list[str]) -> dict:
    out: dict = {}
    for pair in pairs:
        a, b = pair.split(":")
        out[pair] = {}
        for split in SPLITS:
            sum_a, count_a = clip_errors(out_dir / a / f"predictions_{split}.npz")
            sum_b, count_b = clip_errors(out_dir / b / f"predictions_{split}.npz")
            if not np.array_equal(count_a, count_b):
                raise SystemExit(f"{pair}: the two runs' {split} predictions cover other frames")
            out[pair][split] = paired_bootstrap(sum_a, sum_b, count_a)
    return out


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    out_dir, name = Path(sys.argv[1]), sys.argv[2]
    result = {
        "out_dir": str(out_dir),
        "resamples": RESAMPLES,
        "pairs": compare(out_dir, sys.argv[3:] or DEFAULT_PAIRS),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    dest = Path(f"benchmarks/results/{name}_paired.json")
    dest.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

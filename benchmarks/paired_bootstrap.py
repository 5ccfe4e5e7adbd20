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


def group_sums(err: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Summed per-frame errors ``err`` ``(N,)`` and frame counts ``(G,)`` per group id of
    ``groups`` ``(N,)``, groups in sorted id order."""
    units, index = np.unique(groups, return_inverse=True)
    return np.bincount(index, err, len(units)), np.bincount(index, minlength=len(units))


def frame_errors(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame MPJPE ``(N,)`` mm and clip ids ``(N,)`` of a predictions file."""
    d = np.load(path)
    return joint_errors(d["pred"], d["gt"]).mean(-1), d["clip"]


def clip_errors(path: Path, groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-clip summed joint errors ``(C,)`` mm and frame counts ``(C,)`` of a predictions file,
    clips in sorted id order; with ``groups`` (one id per frame, e.g. the split's subjects),
    per group instead."""
    err, clip = frame_errors(path)
    return group_sums(err, clip if groups is None else groups)


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


def paired_errors(
    errs_a: list[np.ndarray],
    errs_b: list[np.ndarray],
    clips: np.ndarray,
    subjects: np.ndarray | None = None,
) -> dict:
    """MPJPE(A) - MPJPE(B) from per-frame errors ``(N,)`` of each seed (``errs_a[i]`` faces
    ``errs_b[i]``, the same frames of clips ``clips`` ``(N,)``): the mean over seeds with a
    95 % paired-bootstrap interval over the clips (each resample scores every seed's two runs
    on the same clips), and each seed's own difference. The interval is the clips' spread of
    the seed mean, not the seeds': a difference holds only where it also has one sign in every
    seed (``same_sign_every_seed``). With ``subjects`` (each frame's subject), also the
    interval from resampling subjects instead (``ci95_mm_over_subjects``): a clip's frames
    share their person with the other clips of that subject, so the clips are not
    independent."""
    sums = [[group_sums(e, clips)[0] for e in errs] for errs in (errs_a, errs_b)]
    count = group_sums(errs_a[0], clips)[1]
    per_seed = [
        round(float((a.sum() - b.sum()) / count.sum()), 2) for a, b in zip(*sums, strict=True)
    ]
    # the same clips in every seed: the seed mean of the differences is that of the sums
    out = paired_bootstrap(np.mean(sums[0], 0), np.mean(sums[1], 0), count)
    if subjects is not None:
        by_subject = [[group_sums(e, subjects)[0] for e in errs] for errs in (errs_a, errs_b)]
        count = group_sums(errs_a[0], subjects)[1]
        wide = paired_bootstrap(*(np.mean(s, 0) for s in by_subject), count)
        out |= {"ci95_mm_over_subjects": wide["ci95_mm"], "subjects": len(count)}
    signs = {np.sign(d) for d in per_seed}
    return {
        **out,
        "per_seed_mm": per_seed,
        "seeds": len(per_seed),
        "same_sign_every_seed": len(signs) == 1 and 0 not in signs,
    }


def paired_over_seeds(
    runs_a: list[Path], runs_b: list[Path], split: str, subjects: np.ndarray | None = None
) -> dict:
    """:func:`paired_errors` of run directories (``runs_a[i]`` faces ``runs_b[i]``, runs of
    the same seed) on ``split``, from the predictions their evaluation saved.

    Raises:
        ValueError: two runs' predictions cover other frames.
    """
    errs_a, errs_b, count, clips = [], [], None, None
    for a, b in zip(runs_a, runs_b, strict=True):
        err_a, clips = frame_errors(Path(a) / f"predictions_{split}.npz")
        err_b, clip_b = frame_errors(Path(b) / f"predictions_{split}.npz")
        count_a, count_b = group_sums(err_a, clips)[1], group_sums(err_b, clip_b)[1]
        if not np.array_equal(count_a, count_b) or (
            count is not None and not np.array_equal(count, count_a)
        ):
            raise ValueError(f"{a} and {b}: the runs' {split} predictions cover other frames")
        count = count_a
        errs_a.append(err_a)
        errs_b.append(err_b)
    return paired_errors(errs_a, errs_b, clips, subjects)


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

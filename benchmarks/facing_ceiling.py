"""How much of the bench's gap an adaptation could close without learning which way the body faces.

    .venv/bin/python benchmarks/facing_ceiling.py

Needs bench seed 2's run, its three-seed ``ablate rows`` and ``bn_target_seeds.py`` (their
checkpoints are read, nothing is trained). For each seed's Gs, AdaBN, the paper's adaptation
(``ablate rows``' last row), ``adapt.bn=target`` and oracle, on target_val and target_test:
MPJPE, the yaw-aligned MPJPE and the share of frames facing more than 90° the wrong way (see
``orientation_errors.py``). Then two ceilings, which use the labels and are analyses, not
models:

* *oracle with Gs's facing*: each oracle prediction turned about the true up axis so that its
  yaw error is Gs's. What an adaptation would measure if it became the oracle in everything
  but facing, and kept Gs's facing;
* *truth with Gs's facing*: the true pose turned by Gs's yaw error, a model perfect in all
  but facing that keeps Gs's facing.

Each is read as the share of Gs's gap to the oracle that it closes. And the yaw-aligned MPJPE
that a model keeping Gs's facing would need to close half the gap
(:func:`aligned_error_for_half`), against the oracle's own.

On target_val only (a probe), a label-free temporal repair of facing. Per clip, each frame
keeps its prediction or takes the prediction's depth mirror: the 3D pose that projects to the
same 2D joints facing the other way, with left and right swapped. The choice minimises the
summed MPJPE between consecutive frames plus ``lam`` mm per mirrored frame (a Viterbi pass).
Wrong facing that flickers within a clip would be repaired; wrong facing that persists would
not.

On target_val too, seed 2's L_CR-alone runs of ``cr_steps.py`` (:data:`CR_STEPS`) and its
runs of the paper's final set with source and target BatchNorm statistics (:data:`BN_RUNS_SEED2`).
Also the share of wrong-facing frames by the true facing angle (0°: facing the camera), as a
figure. Writes ``benchmarks/results/bench_facing_ceiling.json`` and
``docs/bench_facing_by_view.png``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from bn_target_seeds import bn_target_run, seed_baselines
from orientation_errors import turn_about, yaw_errors

from sa3dhp import metrics, pipeline
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.demo import label_means
from sa3dhp.inference import load_image_model, predict
from sa3dhp.kinematics import depth_mirror, pose_torso_frame
from sa3dhp.metrics import over_seeds

BASE = ("bench", ["seed=2", "out_dir=out/bench_seed2", 'demo.stress_target=""'])
SEEDS = (0, 1, 2)
LAMBDAS_MM = (0.0, 20.0, 50.0, 100.0)
VIEW_BINS_DEG = np.arange(-180, 181, 30)
#: ``ablate rows``' adaptation rows, each term added to the one before (the last is
#: ``adapted_paper``, whose checkpoint it is)
ABLATE_ROWS = ("plus_L_CR", "plus_L_z_flip", "plus_L_v_flip-backward")
#: the L_CR-alone runs of seed 2 (``benchmarks/cr_steps.py``, and + L_CR for 1,000 steps)
CR_STEPS = (250, 333, 500, 1000)
#: bench seed 2's runs of the paper's final set: source statistics (the bench's ``adapted``),
#: ``adapt.bn=target``, + collapse guard, and from AdaBN (its statistics kept) + collapse guard
BN_RUNS_SEED2 = ("adapted", "adapted_bn_target", "adapted_guard", "adapted_adabn_guard")
#: the rows of the by-view figure: name -> (colour, label)
VIEW_ROWS = {
    "source_only": ("C0", "Gs"),
    "adapted_paper": ("C3", "adapted: L_CR, L_z(flip), L_v(flip-bw), L_v(slow-bw)"),
    "oracle": ("C2", "oracle"),
}


def with_facing_of(poses: np.ndarray, truth: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Poses ``(N, 17, 3)`` turned about the true up axes so that their yaw error against
    ``truth`` becomes ``yaw`` ``(N,)`` radians."""
    up = pose_torso_frame(truth)[..., 1]
    return turn_about(poses - poses[:, :1], up, yaw - yaw_errors(poses, truth))


def aligned_error_for_half(
    oracle: np.ndarray, truth: np.ndarray, gs_yaw: np.ndarray, gs_mpjpe: float, oracle_mpjpe: float
) -> float | None:
    """The yaw-aligned MPJPE that a model keeping Gs's facing (yaw errors ``gs_yaw``) would need
    to close half the gap from ``gs_mpjpe`` to ``oracle_mpjpe``: its poses are the truth plus a
    share a of the oracle's own facing-corrected error, turned to Gs's facing, with a the
    largest share on a grid of 1 % whose MPJPE closes half the gap (None: not even a = 0)."""
    aligned = with_facing_of(oracle, truth, np.zeros(len(truth)))
    goal = gs_mpjpe - 0.5 * (gs_mpjpe - oracle_mpjpe)
    best = None
    for a in np.linspace(0.0, 1.0, 101):
        pose = truth + a * (aligned - truth)
        if metrics.mpjpe(with_facing_of(pose, truth, gs_yaw), truth) <= goal:
            best = round(metrics.mpjpe(pose, truth), 1)
    return best


def temporal_choice(poses: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Per frame of one clip ``(T, 17, 3)``, the prediction or its :func:`depth_mirror`,
    whichever path minimises the summed MPJPE between consecutive frames plus ``lam`` per
    mirrored frame. Returns the chosen poses and the mask of mirrored frames ``(T,)``."""
    cands = np.stack([poses - poses[:, :1], depth_mirror(poses)])  # (2, T, 17, 3)
    unary = np.array([0.0, lam])
    cost, back = unary.copy(), np.zeros((len(poses), 2), dtype=int)
    for t in range(1, len(poses)):
        step = np.linalg.norm(cands[:, None, t - 1] - cands[None, :, t], axis=-1).mean(-1)
        total = cost[:, None] + step  # (from, to)
        back[t] = total.argmin(0)
        cost = total.min(0) + unary
    path = np.zeros(len(poses), dtype=int)
    path[-1] = int(cost.argmin())
    for t in range(len(poses) - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return cands[path, np.arange(len(poses))], path.astype(bool)


def share_axial(poses: np.ndarray) -> float:
    """Share of poses ``(N, 17, 3)`` facing within 30° of the camera's axis, towards it or away
    (label-free when the poses are predictions): the views whose front and back project alike,
    and where the flip relation's fixed points lie (symmetric poses seen from the front or back)."""
    fwd = pose_torso_frame(poses)[..., 2]
    return round(float((np.abs(fwd[:, 2]) > np.cos(np.radians(30))).mean()), 3)


def forward_z(poses: np.ndarray) -> np.ndarray:
    """The depth component ``(N,)`` of each pose's forward axis, poses ``(N, 17, 3)`` (> 0:
    facing away from the camera)."""
    return pose_torso_frame(poses)[..., 2][:, 2]


def away_mask(poses: np.ndarray) -> np.ndarray:
    """Whether each pose of ``(N, 17, 3)`` faces away from the camera (forward along +z)."""
    return forward_z(poses) > 0


def share_away(poses: np.ndarray) -> float:
    """Share of poses ``(N, 17, 3)`` facing away from the camera (:func:`away_mask`); label-free
    when the poses are predictions."""
    return round(float(away_mask(poses).mean()), 3)


def facing_row(pred: np.ndarray, truth: np.ndarray) -> dict:
    """MPJPE, yaw-aligned MPJPE, wrong-facing share and :func:`share_axial` of predictions."""
    yaw = yaw_errors(pred, truth)
    aligned = with_facing_of(pred, truth, np.zeros(len(pred)))
    return {
        "mpjpe": round(metrics.mpjpe(pred, truth), 1),
        "yaw_aligned_mpjpe": round(metrics.mpjpe(aligned, truth), 1),
        "share_facing_over_90_wrong": round(float((np.abs(yaw) > np.pi / 2).mean()), 3),
        "share_facing_within_30_of_camera_axis": share_axial(pred),
        "share_facing_away": share_away(pred),
    }


def wrong_by_view(pred: np.ndarray, truth: np.ndarray) -> list[float | None]:
    """Share of frames facing > 90° wrong per bin of the true facing angle (0: the camera)."""
    fwd = pose_torso_frame(truth)[..., 2]
    view = np.degrees(np.arctan2(fwd[:, 0], -fwd[:, 2]))
    wrong = np.abs(yaw_errors(pred, truth)) > np.pi / 2
    bins = np.digitize(view, VIEW_BINS_DEG) - 1
    return [
        round(float(wrong[bins == b].mean()), 3) if (bins == b).any() else None
        for b in range(len(VIEW_BINS_DEG) - 1)
    ]


def checkpoints(cfg, seed: int) -> dict[str, Path]:
    """Seed ``seed``'s models, where bench seed 2, ``ablate rows`` and ``bn_target_seeds.py``
    put them."""
    base = seed_baselines(cfg, seed)
    return {
        "source_only": base["source_only"],
        "adabn": base["adabn"],
        "adapted_paper": Path(cfg.out_dir)
        / f"ablate/rows/plus_L_v_slow-backward/seed{seed}"
        / pipeline.CHECKPOINT,
        "adapted_bn_target": pipeline.stage_dir(cfg, bn_target_run(cfg, seed))
        / pipeline.CHECKPOINT,
        "oracle": base["oracle"],
    } | {
        f"ablate_{row}": Path(cfg.out_dir) / f"ablate/rows/{row}/seed{seed}" / pipeline.CHECKPOINT
        for row in ABLATE_ROWS
    }


def seed_tables(cfg, seed: int, splits: dict) -> tuple[dict, dict]:
    """One seed's rows on each split, and its wrong-facing shares by view on target_val."""
    preds = {split: {} for split in splits}
    for name, ckpt in checkpoints(cfg, seed).items():
        model, prior, _ = load_image_model(ckpt)
        for split, data in splits.items():
            preds[split][name] = predict(model, prior, data.images)
    tables, views = {}, {}
    for split, data in splits.items():
        truth = data.poses - data.poses[:, :1]
        p = preds[split]
        table = {name: facing_row(pred, truth) for name, pred in p.items()}
        gs_yaw = yaw_errors(p["source_only"], truth)
        ceilings = {
            "oracle_with_gs_facing": with_facing_of(p["oracle"], truth, gs_yaw),
            "truth_with_gs_facing": with_facing_of(truth, truth, gs_yaw),
        }
        table |= {name: facing_row(pred, truth) for name, pred in ceilings.items()}
        table["half_gap_needs_yaw_aligned_mpjpe"] = {
            "mpjpe": aligned_error_for_half(
                p["oracle"], truth, gs_yaw, table["source_only"]["mpjpe"], table["oracle"]["mpjpe"]
            )
        }
        gap = table["source_only"]["mpjpe"] - table["oracle"]["mpjpe"]
        for name in table:
            if name in ("source_only", "oracle", "half_gap_needs_yaw_aligned_mpjpe"):
                continue
            table[name]["gap_closed"] = round(
                (table["source_only"]["mpjpe"] - table[name]["mpjpe"]) / gap, 3
            )
        if split == "target_val":
            table["temporal_choice"] = {}
            for lam in LAMBDAS_MM:
                out, mirrored = p["source_only"].copy(), np.zeros(len(truth), dtype=bool)
                for c in np.unique(data.clip):
                    m = data.clip == c
                    out[m], mirrored[m] = temporal_choice(p["source_only"][m], lam)
                table["temporal_choice"][f"lam_{lam:g}"] = facing_row(out, truth) | {
                    "share_mirrored": round(float(mirrored.mean()), 3)
                }
            views = {n: wrong_by_view(p[n], truth) for n in VIEW_ROWS}
        tables[split] = table
    return tables, views


def rows_of_runs(cfg, runs: dict[str, str], data) -> dict[str, dict]:
    """:func:`facing_row` on split ``data`` of each run under ``cfg``'s out_dir, by name."""
    truth = data.poses - data.poses[:, :1]
    out = {}
    for name, run in runs.items():
        model, prior, _ = load_image_model(Path(cfg.out_dir) / run / pipeline.CHECKPOINT)
        out[name] = facing_row(predict(model, prior, data.images), truth)
    return out


def summary(per_seed: dict[int, dict]) -> dict:
    """Mean and sample std over seeds of every row's numbers (temporal rows included)."""
    first = per_seed[SEEDS[0]]
    out: dict = {}
    for row, fields in first.items():
        nested = row == "temporal_choice"
        for sub, vals in fields.items() if nested else [(None, fields)]:
            key = f"temporal_{sub}" if nested else row
            out[key] = {
                f: _over_seeds_or_none(
                    [
                        (t[row][sub] if nested else t[row])[f]  # type: ignore[index]
                        for t in per_seed.values()
                    ],
                    digits=3 if f.startswith(("share", "gap")) else 1,
                )
                for f in vals
            }
    return out


def _over_seeds_or_none(values: list, digits: int) -> dict | list:
    """:func:`over_seeds`, or the values as they are when a seed has none."""
    return values if None in values else over_seeds(values, digits=digits)


def figure(views: dict[int, dict], dest: str) -> None:
    """Wrong-facing share by true view of :data:`VIEW_ROWS`, each seed thin, the mean thick."""
    centres = VIEW_BINS_DEG[:-1] + 15
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, (colour, label) in VIEW_ROWS.items():
        curves = np.array([[np.nan if v is None else v for v in s[name]] for s in views.values()])
        for c in curves:
            ax.plot(centres, 100 * c, color=colour, alpha=0.3, linewidth=1)
        ax.plot(centres, 100 * np.nanmean(curves, 0), color=colour, linewidth=2, label=label)
    ax.set_xlabel("true facing, degrees from the camera (0: facing it, ±180: facing away)")
    ax.set_ylabel("frames facing > 90° wrong (%)")
    ax.set_xticks(VIEW_BINS_DEG)
    ax.set_title("bench, target_val, three seeds (thin: each seed)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(dest, dpi=110)


def main() -> None:
    cfg = load_config(*BASE)
    splits = {s: load_split(cfg.data, s) for s in ("target_val", "target_test")}
    source_mean, target_mean = (m.mean(0) for m in label_means(cfg))
    per_seed: dict[str, dict[int, dict]] = {s: {} for s in splits}
    views: dict[int, dict] = {}
    for seed in SEEDS:
        tables, views[seed] = seed_tables(cfg, seed, splits)
        for split in splits:
            per_seed[split][seed] = tables[split]
    # seed 2's L_CR-alone runs of the cr_steps control (benchmarks/cr_steps.py): 250, 333 and
    # 500 Adam steps; 1,000 is ablate rows' + L_CR. Target_val only (a probe)
    val = splits["target_val"]
    cr_runs = {
        str(steps): f"ablate_cr{steps}" if steps < 1000 else "ablate/rows/plus_L_CR/seed2"
        for steps in CR_STEPS
    }
    cr_alone = rows_of_runs(cfg, cr_runs, val)
    # seed 2's Gs adapted with the paper's exact final set (the bench's own runs), with the
    # source BatchNorm statistics (the paper's), target ones (adapt.bn=target), and the two
    # collapse-guard runs of adapt_guard.py. Target_val only (a probe)
    by_bn = rows_of_runs(cfg, {run: run for run in BN_RUNS_SEED2}, val)
    constants = {}
    for split, data in splits.items():
        truth = data.poses - data.poses[:, :1]
        constants[split] = {
            name: facing_row(np.ascontiguousarray(np.broadcast_to(m - m[:1], truth.shape)), truth)
            for name, m in (
                ("constant_source_mean", source_mean),
                ("constant_target_mean", target_mean),  # uses target labels
            )
        } | {
            "truth": {
                "share_facing_within_30_of_camera_axis": share_axial(truth),
                "share_facing_away": share_away(truth),
            }
        }
    out = {
        "what": __doc__.split("\n")[0],
        "seeds": list(SEEDS),
        "constants": constants,
        "per_seed": {s: {str(k): v for k, v in t.items()} for s, t in per_seed.items()},
        "summary": {s: summary(t) for s, t in per_seed.items()},
        "cr_alone_by_steps_seed2_target_val": cr_alone,
        "paper_set_by_batchnorm_seed2_target_val": by_bn,
        "wrong_facing_by_view_target_val": {
            "bins_deg": VIEW_BINS_DEG.tolist(),
            **{str(k): v for k, v in views.items()},
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    Path("benchmarks/results/bench_facing_ceiling.json").write_text(
        json.dumps(out, indent=1) + "\n"
    )
    figure(views, "docs/bench_facing_by_view.png")
    print(json.dumps(out["summary"], indent=1))


if __name__ == "__main__":
    main()

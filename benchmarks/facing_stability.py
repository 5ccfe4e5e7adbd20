"""Why the paper's L_CR turns the bodies towards the camera: on the target, Gs's facing does not
survive L_CR's two views of a frame.

    .venv/bin/python benchmarks/facing_stability.py [--figure]

Needs bench seed 2's run, its three-seed ``ablate rows``, ``bn_target_seeds.py`` and
``cr_negatives.py``. Reads target_val and source_val only (a probe: target_test is never read).
"Facing away" is read from a prediction alone (:func:`facing_ceiling.share_away`), so every
quantity here is label-free except the MPJPE and the share facing away when the truth faces
the camera or the reverse (``share_away_or_toward_wrong``), which read the labels for the
report.

1. *Views* (seeds 0, 1, 2): for Gs, AdaBN, L_CR alone (the paper's negatives: ``ablate rows``'
   + L_CR; ours: ``cr_negatives.py``'s ``same_clip``), ``ablate rows``' full row and
   ``adapt.bn=target``: the share of frames facing away; the share whose facing differs between
   two of L_CR's views (:func:`~sa3dhp.train.adapt_terms.pose_preserving`, the bench's
   ``shift_px``); the mean latent distance between the two views, and between frames of two
   clips (L_CR's positives and negatives).
2. *Transforms* (Gs, each seed): the share of frames whose facing flips under each of L_CR's
   augmentations, one at a time, at the end of its range.
3. *Shift*: each model's mean latent on target_val minus Gs's, its length, and its cosine with
   Gs's own facing direction (mean latent of the frames Gs sees facing away minus that of the
   rest; label-free).
   On seed 2 also the bench's ``adapted``: the paper's final set with the source statistics,
   beside ``adapt.bn=target`` (``adapted_paper`` is ``ablate rows``' last row, the supplement's
   full ablation row).
4. *Controls* (seed 2, L_CR alone, 1,000 steps from Gs, like ``ablate rows``' + L_CR):
   ``cr_on_source``: on unlabelled source_train clips instead of target_train, where Gs's facing
   survives the views; ``cr_no_shift``: on target_train with ``adapt.shift_px=0``, the
   augmentation that flips most. Settings fixed before any run.
5. *Gs trained on the views* (seed 2, when ``facing_probe.py --bench source_views`` has run):
   parts 1-3 for that Gs (``source.shift_px=3``), AdaBN, L_CR alone (run here, 1,000 steps),
   the paper's final set and ``adapt.bn=target`` from it.

Writes ``benchmarks/results/bench_facing_stability.json`` and ``docs/bench_facing_stability.png``
(``--figure``: only redraws the figure from that JSON).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from facing_ceiling import away_mask, checkpoints, share_away

from sa3dhp import metrics, pipeline
from sa3dhp.config import load_config
from sa3dhp.data.augment import blur3x3, pose_preserving
from sa3dhp.data.clips import clip_array
from sa3dhp.data.synth import load_split
from sa3dhp.data.world import split_hash
from sa3dhp.inference import load_image_model
from sa3dhp.metrics import over_seeds
from sa3dhp.runs import adaptation
from sa3dhp.train import adapt as adapt_train
from sa3dhp.train import source

BASE = ("bench", ["seed=2", "out_dir=out/bench_seed2", 'demo.stress_target=""'])
SEEDS = (0, 1, 2)
SPLITS = ("target_val", "source_val")
#: the models of part 1, as named by :func:`facing_ceiling.checkpoints` (+ ``cr_same_clip``)
MODELS = (
    "source_only",
    "adabn",
    "ablate_plus_L_CR",
    "cr_same_clip",
    "adapted_paper",
    "adapted_bn_target",
)
#: part 4's runs (seed 2, L_CR alone)
CONTROLS = ("cr_on_source", "cr_no_shift")
CONTROL_DIR = "ablate/facing_controls"
RESULT = Path("benchmarks/results/bench_facing_stability.json")
FIGURE = "docs/bench_facing_stability.png"
#: the Gs trained on L_CR's views, and the runs from it (``facing_probe.py --bench source_views``)
PROBE = Path("out/facing_probe_bench/source_views")
PROBE_RUNS = {
    "source_only": "source",
    "adabn": "adabn",
    "cr_alone": "cr_alone",
    "adapted_paper": "adapted",
    "adapted_bn_target": "bn_target",
}


def transforms(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each of L_CR's augmentations alone at the end of its range, on float crops
    ``(N, 3, S, S)`` in [0, 1] (:func:`~sa3dhp.data.augment.augment_images`, blur, shift)."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    gain = torch.tensor([1.15, 1.0, 1.0])[:, None, None]
    return {
        "contrast_x0.6": (x - mean) * 0.6 + mean,
        "contrast_x1.4": ((x - mean) * 1.4 + mean).clamp(0, 1),
        "brightness_x0.6": x * 0.6,
        "brightness_x1.4": (x * 1.4).clamp(0, 1),
        "red_gain_x1.15": (x * gain).clamp(0, 1),
        "noise_0.04": (x + 0.04 * noise).clamp(0, 1),
        "blur_3x3": blur3x3(x),
        "shift_3px_right": torch.roll(x, 3, dims=-1),
    }


@torch.no_grad()
def latents(model, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """G's latents ``(N, 32)`` of crops ``(N, 3, S, S)`` (uint8 or float in [0, 1])."""
    if not x.is_floating_point():
        x = x.float() / 255.0
    return torch.cat([model(x[i : i + batch]).float() for i in range(0, len(x), batch)])


@torch.no_grad()
def away_of(prior, z: torch.Tensor) -> np.ndarray:
    """Whether each decoded latent of ``z`` ``(N, 32)`` faces away from the camera ``(N,)``."""
    return away_mask(prior.decode(z).numpy())


def view_row(model, prior, images: np.ndarray, poses: np.ndarray, clip_len: int, shift_px: int):
    """Part 1's row of one model on one split (``images`` ``(N, S, S, 3)`` uint8, clips of
    ``clip_len`` frames in order), and its latents of the plain crops."""
    x8 = torch.as_tensor(images).permute(0, 3, 1, 2)
    z = latents(model, x8)
    gen = torch.Generator().manual_seed(0)
    za = latents(model, pose_preserving(x8, gen, shift_px))
    zb = latents(model, pose_preserving(x8, gen, shift_px))
    truth = poses - poses[:, :1]
    pred = prior.decode(z).numpy()
    away = away_mask(pred)
    return {
        "mpjpe": round(metrics.mpjpe(pred, truth), 1),
        "share_away_or_toward_wrong": round(float((away != away_mask(truth)).mean()), 3),
        "share_facing_away": round(float(away.mean()), 3),
        "share_facing_differs_between_views": round(
            float((away_of(prior, za) != away_of(prior, zb)).mean()), 3
        ),
        "latent_distance_between_views": round(float((za - zb).norm(dim=1).mean()), 3),
        "latent_distance_between_clips": round(
            float((za - za.roll(clip_len, 0)).norm(dim=1).mean()), 3
        ),
    }, z


def transform_row(model, prior, images: np.ndarray) -> dict[str, float]:
    """Part 2: share of frames whose facing flips under each of :func:`transforms`."""
    x = torch.as_tensor(images).permute(0, 3, 1, 2).float() / 255.0
    base = away_of(prior, latents(model, x))
    return {
        name: round(float((away_of(prior, latents(model, xt)) != base).mean()), 3)
        for name, xt in transforms(x).items()
    }


def facing_direction(z: torch.Tensor, away: np.ndarray) -> torch.Tensor:
    """G's facing direction ``(32,)``: the mean of latents ``z`` ``(N, 32)`` whose poses face
    away (``away`` ``(N,)``, :func:`facing_ceiling.away_mask`) minus that of the others."""
    mask = torch.as_tensor(away)
    return z[mask].mean(0) - z[~mask].mean(0)


def shift_row(z: torch.Tensor, gs_z: torch.Tensor, gs_away: np.ndarray) -> dict[str, float]:
    """Part 3: the length of the mean latent's shift from Gs's, and its cosine with Gs's facing
    direction (mean latent of Gs's frames facing away minus that of the others)."""
    d = z.mean(0) - gs_z.mean(0)
    facing = facing_direction(gs_z, gs_away)
    return {
        "mean_shift": round(float(d.norm()), 3),
        "cosine_with_gs_facing_away": round(float(F.cosine_similarity(d, facing, dim=0)), 3),
    }


def source_clips(cfg) -> torch.Tensor:
    """Unlabelled source_train clips ``(C, L, 3, S, S)`` uint8 (the labels are not read)."""
    data = load_split(cfg.data, "source_train")
    return torch.as_tensor(clip_array(data.images, data.clip)).permute(0, 1, 4, 2, 3)


def run_controls(cfg) -> dict[str, Path]:
    """Part 4's two L_CR-alone runs from seed 2's Gs (skipped when done)."""
    gs = checkpoints(cfg, cfg.seed)["source_only"]
    runs = {name: f"{CONTROL_DIR}/{name}/seed{cfg.seed}" for name in CONTROLS}
    adaptation.adapt(
        load_config(BASE[0], [*BASE[1], "adapt.shift_px=0"]), runs["cr_no_shift"], ["cr"], gs
    )
    run_dir = pipeline.stage_dir(cfg, runs["cr_on_source"])
    acfg = replace(cfg.adapt, losses=["cr"])
    # the record of an L_CR-alone adaptation, trained on source_train instead of target_train
    record = adaptation.adapt_record(cfg, ["cr"], gs)
    record["data"] = {"source_train": split_hash(cfg.data, "source_train")}
    pipeline.start_run(cfg, run_dir, adapt_train.STAGE, record, False)
    model, _ = adaptation._source_model(cfg, gs)
    extra = {"pose_prior": str(pipeline.pose_prior_path(cfg)), "init": str(gs)}
    adapt_train.train(
        acfg, model, None, {}, source_clips(cfg), run_dir, cfg.seed, cfg.device,
        arch=source.arch_of(cfg.source), extra=extra | {"clips": "source_train"},
        provenance=record,
    )  # fmt: skip
    return {name: pipeline.stage_dir(cfg, run) / pipeline.CHECKPOINT for name, run in runs.items()}


def seed_rows(cfg, seed: int, splits: dict, extra: dict[str, Path] | None = None) -> dict:
    """Parts 1-3 for seed ``seed``'s models (and ``extra`` ones) on each split."""
    ckpts = checkpoints(cfg, seed)
    ckpts["cr_same_clip"] = (
        Path(cfg.out_dir) / f"ablate/cr_negatives/cr_same_clip/seed{seed}" / pipeline.CHECKPOINT
    )
    return model_rows(cfg, {name: ckpts[name] for name in MODELS} | (extra or {}), splits)


def model_rows(cfg, ckpts: dict[str, Path], splits: dict) -> dict:
    """Parts 1-3 for the models ``ckpts`` (Gs first, named ``source_only``) on each split."""
    out: dict = {split: {"views": {}, "shift": {}} for split in splits}
    gs: dict[str, tuple] = {}
    for name, ckpt in ckpts.items():
        model, prior, _ = load_image_model(ckpt)
        for split, data in splits.items():
            clip_len = int(np.bincount(data.clip).max())
            row, z = view_row(model, prior, data.images, data.poses, clip_len, cfg.adapt.shift_px)
            out[split]["views"][name] = row
            if name == "source_only":
                gs[split] = (z, away_of(prior, z))
                out[split]["gs_transforms"] = transform_row(model, prior, data.images)
            else:
                out[split]["shift"][name] = shift_row(z, *gs[split])
    return out


def views_probe_rows(splits: dict) -> dict | None:
    """Parts 1-3 for the Gs trained on L_CR's views (``facing_probe.py --bench source_views``)
    and the models adapted from it, with L_CR alone added (skipped when done); None when the
    probe has not been run."""
    if not (PROBE / "source" / pipeline.CHECKPOINT).exists():
        return None
    cfg = load_config(
        "bench", ["seed=2", 'demo.stress_target=""', "source.shift_px=3", f"out_dir={PROBE}"]
    )
    adaptation.adapt(cfg, "cr_alone", ["cr"])
    runs = {name: PROBE / run / pipeline.CHECKPOINT for name, run in PROBE_RUNS.items()}
    return model_rows(cfg, runs, splits)


def summary(per_seed: dict[int, dict], split: str) -> dict:
    """Mean and sample std over seeds of every number of parts 1-3 on ``split``."""
    first = per_seed[next(iter(per_seed))][split]
    out: dict = {}
    tables = [t[split] for t in per_seed.values()]
    for part, rows in first.items():
        if part == "gs_transforms":
            out[part] = {k: over_seeds([t[part][k] for t in tables], 3) for k in rows}
            continue
        out[part] = {
            name: {k: over_seeds([t[part][name][k] for t in tables], 3) for k in row}
            for name, row in rows.items()
        }
    return out


#: the figure's right panel: (seed, part 1 model or control) -> label
FIGURE_ROWS = {
    "source_only": "Gs",
    "adabn": "AdaBN",
    "ablate_plus_L_CR": "L_CR alone",
    "cr_no_shift": "L_CR alone, no shift (seed 2)",
    "cr_on_source": "L_CR alone on source clips (seed 2)",
    "adapted_paper": "the supplement's full row",
    "paper_final_set": "the paper's final set",
    "adapted_bn_target": "the paper's final set, bn=target",
}


def figure(out: dict, dest: str) -> None:
    """Left: the share of Gs's frames whose facing flips under each of L_CR's views, target_val
    against source_val. Right: the share of target_val frames facing away, per model."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    for k, split in enumerate(SPLITS):
        rows = out["summary"][split]["gs_transforms"]
        names = ["two views", *rows]
        views = out["summary"][split]["views"]["source_only"]["share_facing_differs_between_views"]
        means = [views["mean"], *(rows[n]["mean"] for n in rows)]
        stds = [views["std"], *(rows[n]["std"] for n in rows)]
        y = np.arange(len(names)) + (0.2 if k else -0.2)
        left.barh(y, means, 0.4, xerr=stds, label=split, color=f"C{k}")
    left.set_yticks(np.arange(len(names)), names)
    left.invert_yaxis()
    left.set_xlabel("share of Gs's frames whose facing flips")
    left.legend()
    left.set_title("Gs's facing under L_CR's views (3 seeds)")
    seed2 = out["per_seed"]["2"]["target_val"]["views"]
    names = [n for n in FIGURE_ROWS if n in seed2]
    right.barh(np.arange(len(names)), [seed2[n]["share_facing_away"] for n in names], color="C3")
    right.axvline(out["truth_share_facing_away"]["target_val"], color="k", ls="--", label="truth")
    right.set_yticks(np.arange(len(names)), [FIGURE_ROWS[n] for n in names])
    right.invert_yaxis()
    right.set_xlabel("share of target_val frames facing away (label-free)")
    right.set_title("which way G turns the bodies (seed 2)")
    right.legend()
    fig.tight_layout()
    fig.savefig(dest, dpi=110)
    plt.close(fig)


def main() -> None:
    if sys.argv[1:] == ["--figure"]:  # redraw from the committed JSON
        figure(json.loads(RESULT.read_text()), FIGURE)
        return
    cfg = load_config(*BASE)
    torch.manual_seed(0)
    splits = {s: load_split(cfg.data, s) for s in SPLITS}
    controls = run_controls(cfg)
    # seed 2's run of the paper's final set with the source statistics (the bench's adapted),
    # beside its adapt.bn=target run (the three seeds' adapted_paper is the supplement's row)
    final_set = {"paper_final_set": pipeline.stage_dir(cfg, "adapted") / pipeline.CHECKPOINT}
    per_seed = {
        seed: seed_rows(cfg, seed, splits, controls | final_set if seed == cfg.seed else None)
        for seed in SEEDS
    }
    out = {
        "what": __doc__.split("\n")[0],
        "seeds": list(SEEDS),
        "truth_share_facing_away": {s: share_away(d.poses) for s, d in splits.items()},
        "per_seed": {str(k): v for k, v in per_seed.items()},
        "summary": {split: summary(per_seed, split) for split in splits},
        "controls_seed2": {"runs": {k: str(v) for k, v in controls.items()}},
        "gs_trained_on_views_seed2": views_probe_rows(splits),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULT.write_text(json.dumps(out, indent=1) + "\n")
    figure(out, FIGURE)
    for split in splits:
        print(split, json.dumps(out["per_seed"][str(cfg.seed)][split]["views"], indent=1))
    print("wrote", RESULT, "and", FIGURE)


if __name__ == "__main__":
    main()

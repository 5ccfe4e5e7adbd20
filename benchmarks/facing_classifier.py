"""Can a label-free facing repair help Gs? Two probes on target_val.

    .venv/bin/python benchmarks/facing_classifier.py

Needs bench seed 2's run and its three-seed ``ablate rows`` (their Gs and oracles are read).

1. *Sign-repair ceiling* (three seeds; uses the labels, an analysis, not a model). Where Gs has
   the body facing towards the camera and the truth faces away, or the reverse, Gs's pose is
   replaced by its :func:`~sa3dhp.kinematics.depth_mirror` (the pose with the same 2D joints
   facing the other way). This is what a perfect towards/away classifier could repair by
   mirroring; *off profile*, only where Gs's |forward·z| is at least 0.3 (near profile a
   mirror is a large change for a small error). Also the per-frame best of the pose and its
   mirror (*best of two*), which no classifier of towards/away reaches.
2. *Facing classifier from Gs's confident frames* (seed 2; label-free). On target_train, Gs's
   towards/away answer is taken as a pseudo-label where its predicted forward axis is
   :data:`CONFIDENT` (|forward·z| between 0.3 and 0.85, where Gs's answer is right most often
   on target_val); a small CNN learns it from the crops (horizontal flips keep the label), and
   Gs's pose is mirrored where the CNN disagrees with more than ``p`` confidence and Gs's
   forward axis is off profile (|forward·z| at least 0.3). Settings were fixed after one
   seed-2 try on target_val; target_test is not read.

Writes ``benchmarks/results/bench_facing_classifier.json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from bn_target_seeds import seed_baselines
from facing_ceiling import BASE, SEEDS, away_mask, forward_z

from sa3dhp import metrics
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.demo import label_means
from sa3dhp.evaluate import constant_baselines
from sa3dhp.inference import load_image_model, predict
from sa3dhp.kinematics import depth_mirror
from sa3dhp.metrics import over_seeds

#: Gs's pseudo-labels are kept where ``CONFIDENT[0] <= |forward_z| < CONFIDENT[1]``
CONFIDENT = (0.3, 0.85)
#: bins of the true |forward_z| (1: facing the camera's axis, towards it or away)
BINS = ((0.0, 0.3), (0.3, 0.6), (0.6, 0.85), (0.85, 1.01))
THRESHOLDS = (0.5, 0.7, 0.85, 0.95)
EPOCHS, BATCH, LR = 6, 128, 2e-3


def mirrored_where(poses: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Root-relative poses ``(N, 17, 3)``, replaced by their depth mirror where ``mask``."""
    return np.where(mask[:, None, None], depth_mirror(poses), poses - poses[:, :1])


def off_profile(pred: np.ndarray) -> np.ndarray:
    """Whether each pose's forward axis is :data:`CONFIDENT`'s lower bound or more from the
    image plane (near profile, towards/away is not a front/back question)."""
    return np.abs(forward_z(pred)) >= CONFIDENT[0]


def sign_repair(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """MPJPE of ``pred``, of its sign repair (in every frame, and only off profile) and of the
    per-frame best of it and its mirror."""
    wrong = away_mask(pred) != away_mask(truth)
    rel = truth - truth[:, :1]
    err = lambda p: np.linalg.norm(p - rel, axis=-1).mean(-1)  # noqa: E731
    best = np.minimum(err(pred - pred[:, :1]), err(depth_mirror(pred)))
    return {
        "mpjpe": round(metrics.mpjpe(pred, truth), 1),
        "sign_repaired": round(metrics.mpjpe(mirrored_where(pred, wrong), truth), 1),
        "sign_repaired_off_profile": round(
            metrics.mpjpe(mirrored_where(pred, wrong & off_profile(pred)), truth), 1
        ),
        "best_of_two": round(float(best.mean()), 1),
        "wrong_sign_share": round(float(wrong.mean()), 3),
    }


def accuracy_by_bin(
    away_pred: np.ndarray, truth_z: np.ndarray, bin_z: np.ndarray | None = None
) -> list[float | None]:
    """Share of right towards/away answers ``away_pred`` ``(N,)`` in each of :data:`BINS` of
    |``bin_z``| (default: the true forward_z ``truth_z``); None for an empty bin."""
    bin_z = np.abs(truth_z if bin_z is None else bin_z)
    out = []
    for lo, hi in BINS:
        m = (bin_z >= lo) & (bin_z < hi)
        right = away_pred[m] == (truth_z[m] > 0)
        out.append(round(float(right.mean()), 3) if m.any() else None)
    return out


def classifier() -> nn.Module:
    """A small CNN: 64x64 crops -> the logit of facing away."""

    def block(i: int, o: int) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)
        )

    return nn.Sequential(
        block(3, 32), block(32, 64), block(64, 96), block(96, 128),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(128, 1),
    )  # fmt: skip


def _prep(x: torch.Tensor) -> torch.Tensor:
    return (x.float() / 255 - 0.5) / 0.25


def train_classifier(images: np.ndarray, away: np.ndarray, seed: int = 0) -> nn.Module:
    """Fit :func:`classifier` to pseudo-labels ``away`` ``(N,)`` of crops ``(N, S, S, 3)``."""
    torch.manual_seed(seed)
    x = torch.as_tensor(images).permute(0, 3, 1, 2).contiguous()
    y = torch.as_tensor(away).float()
    net = classifier()
    opt = torch.optim.AdamW(net.parameters(), LR, weight_decay=1e-2)
    for _ in range(EPOCHS):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), BATCH):
            idx = perm[i : i + BATCH]
            xb = x[idx]
            flip = torch.rand(len(idx)) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(-1), xb)
            loss = F.binary_cross_entropy_with_logits(net(_prep(xb)).squeeze(1), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


@torch.no_grad()
def p_away(net: nn.Module, images: np.ndarray) -> np.ndarray:
    x = torch.as_tensor(images).permute(0, 3, 1, 2)
    return np.concatenate(
        [
            torch.sigmoid(net(_prep(x[i : i + 512]))).squeeze(1).numpy()
            for i in range(0, len(x), 512)
        ]
    )


def classifier_probe(cfg, gs_ckpt: Path, val) -> dict:
    """Part 2 on seed ``cfg.seed``'s Gs: the classifier's accuracy and the repaired MPJPE."""
    G, prior, _ = load_image_model(gs_ckpt)
    train = load_split(cfg.data, "target_train")  # unlabelled: only its crops are read
    z_train = forward_z(predict(G, prior, train.images))
    keep = (np.abs(z_train) >= CONFIDENT[0]) & (np.abs(z_train) < CONFIDENT[1])
    net = train_classifier(train.images[keep], z_train[keep] > 0, cfg.seed)
    pred = predict(G, prior, val.images)
    p = p_away(net, val.images)
    truth_z = forward_z(val.poses)
    repaired = {}
    for thr in THRESHOLDS:
        flip = (np.abs(p - 0.5) >= thr - 0.5) & ((p > 0.5) != away_mask(pred)) & off_profile(pred)
        repaired[str(thr)] = {
            "mirrored_share": round(float(flip.mean()), 3),
            "mpjpe": round(metrics.mpjpe(mirrored_where(pred, flip), val.poses), 1),
        }
    return {
        "pseudo_labelled_frames": int(keep.sum()),
        "gs_accuracy_by_predicted_bin": accuracy_by_bin(away_mask(pred), truth_z, forward_z(pred)),
        "accuracy_by_true_bin": {
            "gs": accuracy_by_bin(away_mask(pred), truth_z),
            "classifier": accuracy_by_bin(p > 0.5, truth_z),
        },
        "repaired_by_confidence": repaired,
    }


def main() -> None:
    cfg = load_config(BASE[0], BASE[1])
    val = load_split(cfg.data, "target_val")
    per_seed = {}
    for seed in SEEDS:
        rows = {}
        for name, ckpt in seed_baselines(cfg, seed).items():
            if name == "adabn":
                continue
            G, prior, _ = load_image_model(ckpt)
            rows[name] = sign_repair(predict(G, prior, val.images), val.poses)
        per_seed[seed] = rows
        print(seed, json.dumps(rows), flush=True)

    def closed(key: str) -> dict:
        vals = []
        for rows in per_seed.values():
            gs, ora = rows["source_only"]["mpjpe"], rows["oracle"]["mpjpe"]
            vals.append(100 * (gs - rows["source_only"][key]) / (gs - ora))
        return over_seeds(vals, 1)

    probe = classifier_probe(cfg, seed_baselines(cfg, cfg.seed)["source_only"], val)
    print(json.dumps(probe, indent=1), flush=True)
    out = {
        "what": __doc__.split("\n\n")[0],
        "split": "target_val",
        "constants": {
            k: round(v["mpjpe"], 1)
            for k, v in constant_baselines(*label_means(cfg), val.poses).items()
        },
        "sign_repair_ceiling": {str(k): v for k, v in per_seed.items()},
        "mpjpe_over_seeds": {
            f"{model}.{key}": over_seeds([rows[model][key] for rows in per_seed.values()], 1)
            for model in ("source_only", "oracle")
            for key in ("mpjpe", "sign_repaired", "sign_repaired_off_profile", "best_of_two")
        },
        "gap_closed_percent": {
            k: closed(k) for k in ("sign_repaired", "sign_repaired_off_profile", "best_of_two")
        },
        "classifier_seed": cfg.seed,
        "classifier": probe,
        "settings": {"confident": CONFIDENT, "epochs": EPOCHS, "batch": BATCH, "lr": LR},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    dest = Path("benchmarks/results/bench_facing_classifier.json")
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", dest)


if __name__ == "__main__":
    main()

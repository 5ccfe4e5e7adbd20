"""Where the demo's target error lies: in the body's facing (yaw), or in the rest of the pose.

    .venv/bin/python benchmarks/orientation_errors.py [RUN_DIR]   # default: out/demo

For each of the demo's models (Gs, AdaBN, the adapted model and the oracle) on ``target_val``
(a probe: never target_test), and for Gs on ``source_val``, compares each predicted pose with
its truth through their torso frames (``sa3dhp.kinematics.pose_torso_frame``):

* the *yaw error*: the signed angle, about the true torso's up axis, between the predicted and
  the true forward directions (both projected onto the plane normal to that axis); |yaw| > 90°
  means the model has the body facing the other way round;
* the *yaw-aligned MPJPE*: the MPJPE after turning each prediction about the true up axis
  through the pelvis by its yaw error; between MPJPE and it lies the error of facing alone, and
  between it and PA-MPJPE the rest of the global rotation (lean, tilt) and the scale.

Also the constant poses (the mean of the source labels, and the mean of the target labels,
which uses them), whose facing is the same for every frame.
Then, as probes of the world (:data:`PROBES`; each builds only that world's target_val), Gs on
the target's poses, motion and cameras drawn with another look: the source's, with and without
its left/right shading convention (left limbs lighter, right darker: ``side_contrast``), and the
target's own look with that convention added.
Writes ``benchmarks/results/orientation_errors.json`` and ``docs/orientation_errors.png``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sa3dhp import metrics
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.demo import label_means
from sa3dhp.inference import load_image_model, predict
from sa3dhp.kinematics import pose_torso_frame

ROWS = {"source_only": "source", "adabn": "adabn", "adapted": "adapted", "oracle": "oracle"}
#: Probe worlds: the default target's poses, motion and cameras with another look (Gs only).
PROBES = {
    "source look (left/right shading 0.28)": ["data.target_look=source"],
    "source look without left/right shading": [
        "data.target_look=source",
        "data.target_appearance.side_contrast=0.0",
    ],
    "target look with left/right shading 0.28": ["data.target_appearance.side_contrast=0.28"],
}


def yaw_errors(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Signed yaw error ``(N,)`` radians of poses ``(N, 17, 3)`` about the true torso's up axis."""
    fp, ft = pose_torso_frame(pred), pose_torso_frame(truth)  # columns: left, up, forward
    up = ft[..., 1]
    flat = lambda v: v - (v * up).sum(-1, keepdims=True) * up  # noqa: E731
    a, b = flat(ft[..., 2]), flat(fp[..., 2])
    return np.arctan2((np.cross(a, b) * up).sum(-1), (a * b).sum(-1))


def turn_about(poses: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Poses ``(N, 17, 3)`` turned about unit axes ``(N, 3)`` through the pelvis by ``angle``
    ``(N,)`` radians (Rodrigues)."""
    p = poses - poses[:, :1]
    k, c, s = axis[:, None], np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    return p * c + np.cross(k, p) * s + k * (k * p).sum(-1, keepdims=True) * (1 - c)


def row(pred: np.ndarray, truth: np.ndarray) -> dict:
    """The yaw rows of predictions ``(N, 17, 3)`` against root-relative truths ``(N, 17, 3)``."""
    yaw = yaw_errors(pred, truth)
    up = pose_torso_frame(truth)[..., 1]
    aligned = turn_about(pred, up, -yaw)
    deg = np.degrees(np.abs(yaw))
    return {
        "mpjpe": round(metrics.mpjpe(pred, truth), 1),
        "yaw_aligned_mpjpe": round(metrics.mpjpe(aligned, truth - truth[:, :1]), 1),
        "pa_mpjpe": round(metrics.pa_mpjpe(pred, truth), 1),
        "abs_yaw_error_deg_median": round(float(np.median(deg)), 1),
        "share_abs_yaw_error_over_45": round(float((deg > 45).mean()), 3),
        "share_abs_yaw_error_over_90": round(float((deg > 90).mean()), 3),
        "share_abs_yaw_error_over_135": round(float((deg > 135).mean()), 3),
        "mpjpe_where_yaw_error_under_45": round(metrics.mpjpe(pred[deg <= 45], truth[deg <= 45]), 1)
        if (deg <= 45).any()
        else None,
        "mpjpe_where_yaw_error_over_90": round(metrics.mpjpe(pred[deg > 90], truth[deg > 90]), 1)
        if (deg > 90).any()
        else None,
    }


def model_row(checkpoint: Path, images: np.ndarray, poses: np.ndarray) -> dict:
    """:func:`row` of the G checkpoint's predictions on crops ``images`` against ``poses``."""
    model, prior, _ = load_image_model(checkpoint)
    return row(predict(model, prior, images), poses - poses[:, :1])


def main() -> None:
    run = Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo")
    cfg = load_config("demo", [f"out_dir={run}"])
    source_mean, target_mean = (poses.mean(0) for poses in label_means(cfg))
    out: dict = {"what": __doc__.split("\n")[0], "run": str(run), "rows": {}}
    hist: dict[str, np.ndarray] = {}
    for split in ("target_val", "source_val"):
        data = load_split(cfg.data, split)
        truth = data.poses - data.poses[:, :1]
        table = {
            name: row(np.ascontiguousarray(np.broadcast_to(mean - mean[:1], truth.shape)), truth)
            for name, mean in (
                ("constant_source_mean", source_mean),
                ("constant_target_mean", target_mean),  # uses target labels
            )
        }
        for name, stage in ROWS.items():
            if split == "source_val" and name != "source_only":
                continue
            model, prior, _ = load_image_model(run / stage / "checkpoint.safetensors")
            pred = predict(model, prior, data.images)
            table[name] = row(pred, truth)
            hist[f"{name} ({split})"] = np.degrees(yaw_errors(pred, truth))
        facing_away = (pose_torso_frame(truth)[..., 2][:, 2] > 0).mean()  # forward along +z
        out["rows"][split] = {
            "frames": len(truth),
            "share_facing_away": round(float(facing_away), 3),
        }
        out["rows"][split] |= table
    gs = run / ROWS["source_only"] / "checkpoint.safetensors"
    out["probes_target_val_gs"] = {}
    for name, overrides in PROBES.items():
        probe = load_config("demo", [f"out_dir={run}", *overrides])
        data = load_split(probe.data, "target_val")
        r = model_row(gs, data.images, data.poses)
        out["probes_target_val_gs"][name] = {"overrides": overrides} | r
    out["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    Path("benchmarks/results/orientation_errors.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bins = np.linspace(-180, 180, 37)
    for name, label in (
        ("source_only (source_val)", "Gs on source_val"),
        ("source_only (target_val)", "Gs on target_val"),
        ("oracle (target_val)", "oracle on target_val"),
    ):
        ax.hist(hist[name], bins=bins, histtype="step", density=True, label=label, linewidth=1.5)
    ax.set_xlabel("yaw error (degrees): predicted facing minus true, about the torso's up axis")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig("docs/orientation_errors.png", dpi=110)


if __name__ == "__main__":
    main()

"""``sa3dhp evaluate``: an image model's 3D pose metrics on a labelled split.

Writes, next to the checkpoint (or to ``--out``): ``predictions_<split>.npz`` (pred, gt, clip,
frame, action), ``metrics_<split>.json`` and ``metrics_<split>.md`` (MPJPE, PA-MPJPE, N-MPJPE,
PCK@150 mm, AUC, per action and per joint) and ``predictions_<split>.png`` (crops with the
predicted and true skeletons, the 3D prediction against the truth, and a second view). Data
other than the run's own split of that name (a converted split, another world) is written as
``<split>-<its hash>`` instead, so that it never replaces the run's own results.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sa3dhp import metrics
from sa3dhp import skeleton as sk
from sa3dhp.camera import project_to_crop
from sa3dhp.data.store import Split
from sa3dhp.device import resolve_device
from sa3dhp.inference import load_image_model, predict
from sa3dhp.viz import plot_pose_2d, plot_pose_3d


def constant_metrics(pose: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """Every scalar metric of predicting the one pose ``pose`` ``(17, 3)`` for every frame of
    ``gt`` ``(N, 17, 3)``: the baseline of a model that sees nothing."""
    pred = np.broadcast_to(np.asarray(pose, dtype=np.float32), gt.shape)
    return metrics.all_metrics(pred, gt)


def constant_baselines(
    source_poses: np.ndarray, target_poses: np.ndarray, gt: np.ndarray
) -> dict[str, dict[str, float]]:
    """The constant-pose rows of every results table on labelled poses ``gt``:
    ``constant_source_mean`` (the mean of the source labels) and ``constant_target_mean`` (the
    mean of target labels, e.g. ``target_oracle``'s: it *uses target labels*)."""
    return {
        "constant_source_mean": constant_metrics(source_poses.mean(axis=0), gt),
        "constant_target_mean": constant_metrics(target_poses.mean(axis=0), gt),
    }


def metrics_table(pred: np.ndarray, gt: np.ndarray, actions: np.ndarray, names: list[str]) -> dict:
    """All metrics, per action and per joint."""
    labels = np.array([names[a] if a >= 0 else "unknown" for a in actions])
    return {
        "overall": metrics.all_metrics(pred, gt),
        "per_action": metrics.per_group(pred, gt, labels),
        "per_joint_mpjpe": dict(
            zip(sk.JOINT_NAMES, (float(v) for v in metrics.per_joint(pred, gt)), strict=True)
        ),
        "frames": len(gt),
    }


def to_markdown(table: dict, title: str) -> str:
    """The metrics table as Markdown."""
    cols = ("mpjpe", "pa_mpjpe", "n_mpjpe", "pck", "auc")
    lines = [
        f"### {title}\n",
        "| rows | frames | MPJPE | PA-MPJPE | N-MPJPE | PCK@150 | AUC |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [("**all**", {**table["overall"], "count": table["frames"]})]
    rows += sorted(table["per_action"].items())
    for name, m in rows:
        vals = " | ".join(f"{m[c]:.1f}" for c in cols)
        lines.append(f"| {name} | {int(m['count'])} | {vals} |")
    return "\n".join(lines) + "\n"


def predictions_figure(
    split: Split, pred: np.ndarray, path: Path, n: int = 6, seed: int = 0
) -> Path:
    """Crops with true (dashed) and predicted skeletons, 3D prediction vs truth, second view."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(pred), min(n, len(pred)), replace=False))
    size = split.meta["image_size"]
    fig = Figure(figsize=(7.5, 2.4 * len(idx)))
    for r, i in enumerate(idx):
        gt2d = project_to_crop(split.poses[i], split.roots[i], split.extent_mm[i], size)
        pr2d = project_to_crop(pred[i], split.roots[i], split.extent_mm[i], size)
        ax = fig.add_subplot(len(idx), 3, 3 * r + 1)
        ax.imshow(split.images[i], extent=(0, size, size, 0), interpolation="nearest")
        plot_pose_2d(ax, gt2d, style="--", lw=1.0)
        plot_pose_2d(ax, pr2d, lw=1.4)
        ax.set_xlim(0, size)
        ax.set_ylim(size, 0)
        ax.axis("off")
        err = float(np.linalg.norm(pred[i] - split.poses[i], axis=-1).mean())
        ax.set_title(f"frame {i}: MPJPE {err:.0f} mm", fontsize=7)
        for c, (azim, elev, label) in enumerate(
            ((-90.0, 10.0, "camera view"), (0.0, 10.0, "side view"))
        ):
            ax = fig.add_subplot(len(idx), 3, 3 * r + 2 + c, projection="3d")
            plot_pose_3d(ax, split.poses[i], style="--", azim=azim, elev=elev)
            plot_pose_3d(ax, pred[i], azim=azim, elev=elev, title=f"{label} (dashed: truth)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    return path


def run_world(checkpoint: Path):
    """The :class:`~sa3dhp.data.world.WorldConfig` of the run that made ``checkpoint``: the
    ``config.yaml`` beside it, or a model file's own record of its run's config; None when
    neither says."""
    from omegaconf import OmegaConf

    from sa3dhp import model_file
    from sa3dhp.data.world import WorldConfig

    try:
        if model_file.is_model_file(checkpoint):
            saved = model_file.read_metadata(checkpoint)["config"]
        elif (checkpoint.parent / "config.yaml").is_file():
            saved = OmegaConf.to_container(OmegaConf.load(checkpoint.parent / "config.yaml"))
        else:
            return None
        merged = OmegaConf.merge(OmegaConf.structured(WorldConfig), saved.get("data") or {})
        return OmegaConf.to_object(merged)
    except Exception:  # an old or foreign record: the world is unknown
        return None


def output_tag(checkpoint: Path, split: str, data_hash: str) -> str | None:
    """None when ``data_hash`` is that of the split named ``split`` in the checkpoint's own
    run (its outputs keep their usual names); otherwise ``data_hash``, which names them."""
    from sa3dhp.data.world import split_hash

    world = run_world(checkpoint)
    return None if world is not None and split_hash(world, split) == data_hash else data_hash


def evaluate_split(
    checkpoint: str | Path,
    split: Split,
    out_dir: str | Path | None = None,
    device: str = "auto",
    figure: bool = True,
    data_hash: str | None = None,
) -> dict:
    """Evaluate a G checkpoint on a labelled split and write the outputs (module docstring);
    ``figure=False`` skips the PNG (the slowest output after the predictions). ``data_hash``
    (default: the split's own ``split_hash``) identifies the data; on other data than the
    run's own split of that name the outputs are named ``<split>-<data_hash>``
    (:func:`output_tag`)."""
    if not split.labelled:
        raise ValueError(f"split '{split.meta.get('split')}' has no labels to evaluate against")
    data_hash = data_hash or split.meta.get("split_hash")
    tag = output_tag(Path(checkpoint), split.meta["split"], data_hash) if data_hash else None
    name = split.meta["split"] + (f"-{tag}" if tag else "")
    out_dir = Path(out_dir) if out_dir else Path(checkpoint).parent
    model, prior, info = load_image_model(checkpoint, resolve_device(device))
    pred = predict(model, prior, split.images)
    np.savez(
        out_dir / f"predictions_{name}.npz",
        pred=pred.astype(np.float32),
        gt=split.poses,
        clip=split.clip,
        frame=split.frame,
        action=split.action,
    )
    table = metrics_table(pred, split.poses, split.action, split.meta["actions"])
    table["checkpoint"] = str(checkpoint)
    table["trained_on"] = info["extra"].get("split")
    table["data"] = {"split": split.meta["split"], "split_hash": data_hash}
    table["metrics_file"] = str(out_dir / f"metrics_{name}.json")
    (out_dir / f"metrics_{name}.json").write_text(json.dumps(table, indent=1) + "\n")
    (out_dir / f"metrics_{name}.md").write_text(to_markdown(table, f"{checkpoint} on {name}"))
    if figure:
        predictions_figure(split, pred, out_dir / f"predictions_{name}.png")
    return table

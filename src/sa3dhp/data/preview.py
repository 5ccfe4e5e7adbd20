"""``sa3dhp data preview``: a PNG of source and target samples and one clip under each relation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sa3dhp import relations
from sa3dhp.data.synth import joints_in_crop, load_split
from sa3dhp.data.world import WorldConfig
from sa3dhp.viz import plot_pose_2d

PREVIEW_RELATIONS = ("flip", "inplane50", "flip+inplane50", "flip-backward", "slow-backward")


def _show(ax, img: np.ndarray, joints: np.ndarray | None = None, title: str = "") -> None:
    ax.imshow(img, extent=(0, img.shape[1], img.shape[0], 0), interpolation="nearest")
    if joints is not None:
        plot_pose_2d(ax, joints, lw=0.9)
    ax.set_xlim(0, img.shape[1])
    ax.set_ylim(img.shape[0], 0)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=6)


def _example_clip(cfg: WorldConfig, seed: int) -> np.ndarray:
    """A 60-frame target-style clip without occluders, so the relations are easy to see."""
    from sa3dhp.data.motion import generate_motion, sample_subject
    from sa3dhp.data.render import Renderer
    from sa3dhp.data.synth import _sample_roots
    from sa3dhp.data.world import appearance_style, motion_style

    rng = np.random.default_rng([seed, 60])
    style = replace(appearance_style(cfg, "target"), occluder_prob=0.0, noise_std=(2.0, 4.0))
    renderer = Renderer(cfg.size, style, seed=seed)
    subject = sample_subject(rng)
    motion = generate_motion(subject, 60, motion_style(cfg, "target"), rng)
    roots = _sample_roots(rng, 60, cfg)
    appearance = renderer.sample_appearance(rng)
    return renderer.render(motion.poses, roots, cfg.crop_scale * subject.height_mm, appearance, rng)


def write_preview(cfg: WorldConfig, path: Path, per_row: int = 8, seed: int = 0) -> Path:
    """Write the preview PNG (building the world if needed)."""
    rng = np.random.default_rng(seed)
    src = load_split(cfg, "source_train")
    test = load_split(cfg, "target_test")
    unl = load_split(cfg, "target_train")
    n_rel = len(PREVIEW_RELATIONS)
    rows = 3 + 2 * n_rel
    fig = Figure(figsize=(1.3 * per_row, 1.45 * rows))
    blocks = (
        ("source_train (labelled, SURREAL-like)", src, True),
        ("target_test (labelled, evaluation only)", test, True),
        ("target_train (unlabelled clips)", unl, False),
    )
    for r, (name, split, labelled) in enumerate(blocks):
        idx = np.sort(rng.choice(len(split), per_row, replace=False))
        joints = joints_in_crop(split) if labelled else None
        for k, i in enumerate(idx):
            ax = fig.add_subplot(rows, per_row, r * per_row + k + 1)
            _show(ax, split.images[i], None if joints is None else joints[i])
            if k == 0:
                ax.set_title(name, fontsize=7, loc="left")
    frames = _example_clip(cfg, seed)
    for k, name in enumerate(PREVIEW_RELATIONS):
        rel = relations.get(name)
        length = len(frames) // 2 if rel.slow else len(frames)
        source = frames[: rel.clip_length(length)]
        for row, (label, seq) in enumerate(
            (("anchor", rel.anchor_video(source)), (name, rel.video(source)))
        ):
            pick = np.linspace(0, len(seq) - 1, per_row).round().astype(int)
            for c, f in enumerate(pick):
                ax = fig.add_subplot(rows, per_row, (3 + 2 * k + row) * per_row + c + 1)
                _show(ax, seq[f], title=f"{label}, t={f}" if c == 0 else f"t={f}")
    fig.tight_layout(pad=0.3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path

"""Figures: 3D skeletons with a second view, 2D overlays, relation grids, training curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sa3dhp import relations as rel_mod
from sa3dhp import skeleton as sk

LEFT_COLOUR, RIGHT_COLOUR, CENTRE_COLOUR = "#1f77b4", "#d62728", "#444444"


def bone_colour(child: int) -> str:
    """Colour of the bone ending at ``child``: blue for left, red for right, grey otherwise."""
    if child in sk.LEFT_JOINTS or sk.JOINT_NAMES[child].startswith("l_"):
        return LEFT_COLOUR
    if child in sk.RIGHT_JOINTS or sk.JOINT_NAMES[child].startswith("r_"):
        return RIGHT_COLOUR
    return CENTRE_COLOUR


def plot_pose_3d(
    ax,
    pose: np.ndarray,
    *,
    title: str = "",
    azim: float = -90.0,
    elev: float = 10.0,
    style: str = "-",
    radius: float = 1000.0,
) -> None:
    """Draw a ``(17, 3)`` camera-frame pose (mm) on a 3D axis; ``azim=-90`` is the camera view."""
    p = np.asarray(pose, dtype=np.float64)
    xs, ys, zs = p[:, 0], p[:, 2], -p[:, 1]  # plot axes: x right, depth, up
    for c, par in enumerate(sk.PARENTS):
        if par >= 0:
            ax.plot(
                [xs[par], xs[c]], [ys[par], ys[c]], [zs[par], zs[c]], style, c=bone_colour(c), lw=2
            )
    ax.view_init(elev=elev, azim=azim)
    ax.set_xlim(-radius, radius)
    ax.set_ylim(-radius, radius)
    ax.set_zlim(-radius, radius)
    ax.set_box_aspect((1, 1, 1))
    ax.set_xticklabels([])
    ax.set_yticklabels([])
    ax.set_zticklabels([])
    if title:
        ax.set_title(title, fontsize=8)


def plot_pose_2d(ax, joints_2d: np.ndarray, *, style: str = "-", lw: float = 1.5) -> None:
    """Draw ``(17, 2)`` image-coordinate joints (y down) on a 2D axis."""
    j = np.asarray(joints_2d)
    for c, par in enumerate(sk.PARENTS):
        if par >= 0:
            ax.plot([j[par, 0], j[c, 0]], [j[par, 1], j[c, 1]], style, c=bone_colour(c), lw=lw)


def relations_figure(
    pose: np.ndarray, motion: np.ndarray, names: Sequence[str], path: str | Path
) -> Path:
    """One pose under each spatial relation (camera view and a second view) and a motion under
    each temporal relation (frame strips), saved as a PNG.

    Args:
        pose: ``(17, 3)`` root-relative pose, mm.
        motion: ``(T, 17, 3)`` motion with ``T`` a multiple of 4 (60 frames at 30 FPS).
        names: relation names (:func:`sa3dhp.relations.get`).
        path: output PNG.
    """
    rels = [rel_mod.get(n) for n in names]
    spatial = [r for r in rels if not r.is_temporal]
    temporal = [r for r in rels if r.is_temporal]
    cols = len(spatial) + 1
    rows = 2 + 2 * len(temporal)
    fig = Figure(figsize=(1.9 * cols, 1.9 * rows))
    for k, r in enumerate([rel_mod.get("identity"), *spatial]):
        y = r.pose(pose)
        ax = fig.add_subplot(rows, cols, k + 1, projection="3d")
        plot_pose_3d(ax, y, title=f"{r.name}\ncamera view")
        ax = fig.add_subplot(rows, cols, cols + k + 1, projection="3d")
        plot_pose_3d(ax, y, title="side view", azim=0.0, elev=15.0)
    for t, r in enumerate(temporal):
        length = motion.shape[0] // 2 if r.slow else motion.shape[0]
        src = motion[: r.clip_length(length)]
        for row, (label, seq) in enumerate(
            (("anchor", r.anchor_motion(src)), (r.name, r.motion(src)))
        ):
            ax = fig.add_subplot(rows, 1, 3 + 2 * t + row)
            frames = np.linspace(0, len(seq) - 1, 8).round().astype(int)
            for k, f in enumerate(frames):
                plot_pose_2d(ax, seq[f][:, :2] + np.array([900.0 * k, 0.0]), lw=1.2)
                ax.text(900.0 * k, -1100, f"t={f}", fontsize=6, ha="center")
            ax.set_aspect("equal")
            ax.invert_yaxis()
            ax.axis("off")
            ax.set_title(f"{label} (8 of {len(seq)} frames, camera view)", fontsize=8, loc="left")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def decoded_poses_figure(poses: np.ndarray, path: str | Path, cols: int = 8) -> Path:
    """A grid of 3D poses ``(N, 17, 3)`` (e.g. decodes of random latents), saved as a PNG."""
    n = len(poses)
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(1.8 * cols, 1.9 * rows))
    for i, pose in enumerate(poses):
        ax = fig.add_subplot(rows, cols, i + 1, projection="3d")
        plot_pose_3d(ax, pose, title=f"#{i}", elev=10.0, azim=-70.0)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    return path

"""Non-localness scoring of relations (``sa3dhp relations score``).

For each candidate relation tau, on held-out unpaired mocap (poses for spatial relations, 30-frame
motions for relations acting on time), with E = Ep (poses) or Em∘Ep (motions):

* **non-localness** ``d = mean ||E(u) - E(tau u)||``, and ``d_norm = d / mean ||E(u_i) - E(u_j)||``
  over random pairs of anchors (1 = as far as two unrelated samples);
* **plausibility**: a sample is *typical* when its nearest-neighbour distance to a reference set
  of training mocap (RMS joint distance, mm; motions compared on every third frame) is at most
  ``q95``, the 95th percentile of the same distance for held-out mocap. The plausibility of an
  end of the pair is the share of typical samples divided by that of held-out mocap itself
  (0.95), so untouched mocap scores exactly 1. A relation's plausibility is the lower of its two
  ends (the anchor differs from mocap only for ``slow``: a 15 FPS, double-speed motion);
* **fit**: the relation network's held-out relative error
  ``mean ||T(E(u)) - E(tau u)|| / mean ||E(u) - E(tau u)||`` (a trained network from
  ``train relations`` when one exists, else a quick fit of ``score_steps`` steps);
* **score** ``= d_norm x plausibility x max(0, 1 - fit)``: far-reaching relations whose both
  ends stay plausible and whose network can carry them rank first (METHOD.md, non-localness).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch

from sa3dhp import relation_pairs as pairs_mod
from sa3dhp import relations as rel
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.pose_prior import PosePrior
from sa3dhp.progress import progress_disabled

#: ``network(relation) -> (relation network, where it came from)``: the caller's way to a
#: relation's network (a trained one, or a quick fit); scoring itself trains nothing.
NetworkSource = Callable[[rel.Relation], tuple[torch.nn.Module, str]]

#: Frame stride of motions in the nearest-neighbour comparison.
MOTION_NN_STRIDE = 3


def candidates() -> list[str]:
    """The relations ``relations score`` considers by default (the catalogue)."""
    return rel.catalogue()


def _features(x: torch.Tensor) -> torch.Tensor:
    """Root-relative joints flattened; motions keep every ``MOTION_NN_STRIDE``-th frame."""
    x = x - x[..., :1, :]
    if x.ndim == 4:
        x = x[:, ::MOTION_NN_STRIDE]
    return x.flatten(1)


@torch.no_grad()
def nn_distance(queries: torch.Tensor, reference: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """RMS joint distance (mm) of each query to its nearest reference sample, ``(N,)``.

    ``queries`` and ``reference``: poses ``(N, 17, 3)`` or motions ``(N, T, 17, 3)``.
    """
    q, r = _features(queries), _features(reference)
    scale = (q.shape[1] / 3) ** 0.5
    out = [torch.cdist(c, r).min(dim=1).values for c in q.split(chunk)]
    return torch.cat(out) / scale


class Typicality:
    """Typicality under mocap (the plausibility term of the relation score; not the joint-limit
    checks of :mod:`sa3dhp.plausibility`): share of samples within the held-out 95th
    nearest-neighbour percentile.

    Args:
        reference: training poses or motions.
        held_out: held-out poses or motions of the same kind (sets ``q95``).
    """

    def __init__(self, reference: torch.Tensor, held_out: torch.Tensor) -> None:
        self.reference = reference
        d = nn_distance(held_out, reference)
        self.q95 = float(torch.quantile(d, 0.95))
        self.base = float((d <= self.q95).float().mean())

    def __call__(self, x: torch.Tensor) -> float:
        """Typicality of samples ``x`` (1 = as typical as held-out mocap)."""
        return float((nn_distance(x, self.reference) <= self.q95).float().mean()) / self.base


def _subsample(x: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    if n >= len(x):
        return x
    return x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]]


def score_relations(
    names: list[str],
    data: pairs_mod.RelationData,
    pose_prior: PosePrior,
    motion_prior: MotionPrior | None,
    network: NetworkSource,
    score_poses: int = 4_000,
    reference_poses: int = 20_000,
    windows_per_clip: int = 6,
    seed: int = 0,
    progress: bool = True,
) -> list[dict]:
    """Score every relation of ``names``; rows sorted by decreasing ``score``.

    ``score_poses`` held-out poses (or windows) are scored per candidate against a typicality
    reference of ``reference_poses`` training poses; ``windows_per_clip`` windows per held-out
    clip build the motion pairs."""
    from tqdm import tqdm

    seq_len = motion_prior.seq_len if motion_prior is not None else 30
    gen = torch.Generator().manual_seed(seed)
    pose_ref = _subsample(data.train_poses, reference_poses, seed)
    held_poses = _subsample(data.val_poses, score_poses, seed + 1)
    checks = {"z": Typicality(pose_ref, held_poses)}
    if motion_prior is not None:
        ident = rel.get("identity")
        per = max(1, reference_poses // (len(data.train_clips) * seq_len) + 1)
        ref_m, _ = pairs_mod.motion_pairs(ident, data.train_clips, seq_len, per, gen)
        held_m, _ = pairs_mod.motion_pairs(ident, data.val_clips, seq_len, windows_per_clip, gen)
        checks["v"] = Typicality(ref_m, held_m)
    rows = []
    disable = not progress or progress_disabled()
    for i, name in enumerate(tqdm(names, desc="relations score", disable=disable)):
        relation = rel.get(name)
        space = relation.space
        if space == "v" and motion_prior is None:
            raise ValueError(f"'{name}' acts on time: train the motion prior first")
        val = pairs_mod.build_pairs(
            relation, data, pose_prior, motion_prior, "val", score_poses,
            windows_per_clip, seed * 7919 + i,
        )  # fmt: skip
        u, u_tau = val["u"], val["u_tau"]
        d = float((u - u_tau).norm(dim=-1).mean())
        perm = torch.randperm(len(u), generator=gen)
        d_random = float((u - u[perm]).norm(dim=-1).mean())
        plaus_tau = checks[space](val["x_tau"])
        plaus_anchor = checks[space](val["x"]) if relation.slow else 1.0
        if relation == rel.get("identity"):
            fit, source = 0.0, "exact"
        else:
            net, source = network(relation)
            fit = pairs_mod.relative_error(net(u), u_tau, u)
        plaus = min(plaus_tau, plaus_anchor)
        d_norm = d / d_random if d_random > 0 else 0.0
        rows.append(
            {
                "relation": relation.name,
                "space": space,
                "nonlocalness": round(d, 4),
                "nonlocalness_norm": round(d_norm, 4),
                "plausibility": round(plaus, 4),
                "plausibility_related": round(plaus_tau, 4),
                "plausibility_anchor": round(plaus_anchor, 4),
                "fit_relative_error": round(fit, 4),
                "fit_from": source,
                "score": round(d_norm * plaus * max(0.0, 1.0 - fit), 4),
            }
        )
    rows.sort(key=lambda r: -r["score"])
    for rank, r in enumerate(rows, 1):
        r["rank"] = rank
    return rows


def markdown_table(rows: list[dict]) -> str:
    """The score table as Markdown."""
    head = (
        "| rank | relation | space | non-localness | normalised | plausibility | fit error "
        "| score |\n|---:|---|---|---:|---:|---:|---:|---:|\n"
    )
    body = "".join(
        f"| {r['rank']} | {r['relation']} | {r['space']} | {r['nonlocalness']:.3f} "
        f"| {r['nonlocalness_norm']:.3f} | {r['plausibility']:.3f} "
        f"| {r['fit_relative_error']:.3f} | {r['score']:.3f} |\n"
        for r in rows
    )
    return head + body


def score_figure(rows: list[dict], path: str | Path) -> Path:
    """Scatter of normalised non-localness against plausibility, one labelled point per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for ax, space, title in zip(
        axes, ("z", "v"), ("pose latents (Tz)", "motion latents (Tv)"), strict=False
    ):
        sel = [r for r in rows if r["space"] == space]
        sc = ax.scatter(
            [r["nonlocalness_norm"] for r in sel],
            [r["plausibility"] for r in sel],
            c=[r["score"] for r in sel],
            cmap="viridis",
            s=40,
        )
        for r in sel:
            ax.annotate(r["relation"], (r["nonlocalness_norm"], r["plausibility"]), fontsize=7)
        ax.set_xlabel("non-localness / random-pair distance")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if sel:
            fig.colorbar(sc, ax=ax, label="score")
    axes[0].set_ylabel("plausibility (1 = as typical as mocap)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_scores(rows: list[dict], out_dir: str | Path) -> dict[str, Path]:
    """``score.json``, ``score.md`` and ``score.png`` in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "score.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out_dir / "score.md").write_text(markdown_table(rows))
    return {
        "json": out_dir / "score.json",
        "markdown": out_dir / "score.md",
        "figure": score_figure(rows, out_dir / "score.png"),
    }

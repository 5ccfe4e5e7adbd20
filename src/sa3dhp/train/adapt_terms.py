"""The building blocks of adaptation (:mod:`sa3dhp.train.adapt`): InfoNCE with its projection
head and pose-preserving augmentation (L_CR, L_HCR), our collapse guard and source anchor, the
named loss sets and their parsing, which blocks train and the frozen teachers, G and Em on crop
batches, the batches, determinism, the AdaBN baseline, and the report-only metrics.

Determinism: the projection heads start from the run seed (not the global RNG), every batch and
augmentation of step ``k`` comes from ``(seed, k)``, the global RNGs are reseeded from
``(seed, k)`` at every step, and on CUDA cuDNN is restricted to deterministic algorithms
(:func:`deterministic`); two runs of the same command, and a killed run resumed, give the same
weights."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from sa3dhp import relations as rel
from sa3dhp.device import autocast
from sa3dhp.kinematics import depth_mirror
from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.motion_prior import MOTION_DIM
from sa3dhp.models.pose_prior import LATENT_DIM, PosePrior
from sa3dhp.train.sampling import mix_seed


class ProjectionHead(nn.Sequential):
    """Contrastive projection ``dim -> out -> out``, L2-normalised output."""

    def __init__(self, dim: int, out: int = 128) -> None:
        super().__init__(nn.Linear(dim, out), nn.ReLU(inplace=True), nn.Linear(out, out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(super().forward(x), dim=-1)


def info_nce(
    a: torch.Tensor,
    b: torch.Tensor,
    temperature: float,
    groups: torch.Tensor | None = None,
    mirrors: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Symmetric InfoNCE of normalised ``(N, D)`` projections; ``a_i``/``b_i`` are positives
    and every other sample of both views is a negative (every sample is an anchor). With
    ``groups`` ``(N,)``, only samples of the anchor's own group are its negatives. With
    ``mirrors`` (the projections of each view's depth mirror, ``(N, D)`` each), the positive
    of ``a_i`` is whichever of ``b_i`` and ``b_i``'s mirror is nearer (and alike for ``b_i``)."""
    n = a.shape[0]
    z = torch.cat([a, b])
    sim = z @ z.T / temperature
    mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    if groups is not None:
        g = torch.cat([groups, groups]).to(z.device)
        mask = mask | (g[:, None] != g[None, :])
    sim = sim.masked_fill(mask, float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    if mirrors is not None:
        rows = torch.arange(2 * n, device=z.device)
        mirrored = (z * torch.cat([mirrors[1], mirrors[0]])).sum(-1) / temperature
        positive = torch.maximum(sim[rows, target], mirrored)
        sim = sim.index_put((rows, target), positive)
    return F.cross_entropy(sim, target)


def through_pose(
    prior: PosePrior, fn: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor
) -> torch.Tensor:
    """``Ep(fn(Dp(z)))`` for latents ``(..., 32)``, frame by frame: a map ``fn`` of poses
    ``(B, 17, 3)`` applied to latents through the frozen pose prior, differentiable in z."""
    flat = z.reshape(-1, z.shape[-1])
    return prior.encode(fn(prior.decode(flat))).view_as(z)


def depth_mirror_latent(prior: PosePrior, z: torch.Tensor) -> torch.Tensor:
    """``Ep(depth_mirror(Dp(z)))`` for latents ``(..., 32)``: the pose with the same 2D joints
    facing the other way (:func:`sa3dhp.kinematics.depth_mirror`), differentiable in z."""
    return through_pose(prior, depth_mirror, z)


def relation_l1(
    teacher: torch.Tensor, student: torch.Tensor, mirror: torch.Tensor | None = None
) -> torch.Tensor:
    """L_z / L_v: mean |teacher - student| over a batch ``(B, D)``. With ``mirror`` (the
    student's depth mirror, ``(B, D)``), each sample takes whichever of the student and its
    mirror is nearer to the teacher (mean over D, then over the batch)."""
    if mirror is None:
        return (teacher - student).abs().mean()
    near = (teacher - student).abs().mean(-1)
    return torch.minimum(near, (teacher - mirror).abs().mean(-1)).mean()


def spread_hinge(z: torch.Tensor, floor: torch.Tensor) -> torch.Tensor:
    """Collapse guard: mean over dimensions of ``max(0, floor_d - std_d(z))`` for a batch
    ``z`` ``(B, D)`` and per-dimension floors ``(D,)`` (zero while G keeps its spread)."""
    return F.relu(floor.to(z) - z.std(dim=0)).mean()


@torch.no_grad()
def latent_spread(
    model: ImageToLatent, clips: torch.Tensor, n: int, seed: int, device: torch.device
) -> torch.Tensor:
    """Per-dimension spread ``(D,)`` of G over ``n`` unlabelled target frames, one per clip
    where there are enough clips (the collapse guard's floor, measured on Gs)."""
    gen = torch.Generator().manual_seed(seed)
    which = torch.randint(len(clips), (n,), generator=gen)
    t = torch.randint(clips.shape[1], (n,), generator=gen)
    x = clips[which, t]
    z = torch.cat([model(x[i : i + 128].to(device)).float().cpu() for i in range(0, n, 128)])
    return z.std(dim=0)


#: The supplement's full ablation row: L_CR + L_z(flip) + L_v(flip-backward) + L_v(slow-backward).
DEMO_LOSSES = ("cr", "z:flip", "v:flip-backward", "v:slow-backward")
#: The paper's final set.
PAPER_LOSSES = ("cr", "z:flip+inplane50", "v:flip+inplane50-backward", "v:slow-backward")
#: Named loss sets usable as an entry of ``adapt.losses`` (``--losses paper``).
LOSS_SETS = {"paper": PAPER_LOSSES, "ablation": DEMO_LOSSES}


def parse_losses(losses: list[str] | tuple[str, ...]) -> list[tuple[str, rel.Relation | None]]:
    """``["cr", "z:flip", ...]`` -> ``[("cr", None), ("z", Relation), ...]`` (checked); a named
    set of :data:`LOSS_SETS` (``paper``) stands for its terms."""
    out: list[tuple[str, rel.Relation | None]] = []
    expanded = [t for item in losses for t in LOSS_SETS.get(str(item), (item,))]
    for item in expanded:
        kind, _, name = str(item).partition(":")
        if kind in ("cr", "hcr", "src") and not name:
            out.append((kind, None))
        elif kind in ("z", "v") and name:
            relation = rel.get(name)
            if (kind == "v") != relation.is_temporal:
                space = "v" if relation.is_temporal else "z"
                raise ValueError(
                    f"adapt.losses: '{item}': relation '{relation.name}' lives in {space} "
                    f"(use '{space}:{relation.name}')"
                )
            out.append((kind, relation))
        else:
            raise ValueError(
                f"adapt.losses: bad entry '{item}'; use cr, hcr, src, z:RELATION, v:RELATION "
                f"(e.g. z:flip, v:slow-backward) or a named set ({', '.join(LOSS_SETS)})"
            )
    if not out:
        raise ValueError("adapt.losses is empty")
    return out


def needs_networks(teacher: str) -> bool:
    """Whether relation terms take their teacher from the relation networks (``network``, the
    paper's) rather than from the relation itself (``exact``, our control)."""
    return teacher != "exact"


def relation_names(losses: list[str] | tuple[str, ...], teacher: str = "network") -> list[str]:
    """The relation networks a loss list needs: none with our exact teachers."""
    if not needs_networks(teacher):
        return []
    return [r.name for _, r in parse_losses(losses) if r is not None]


#: The projection head of each contrastive term kind.
HEAD_OF = {"cr": "proj_z", "hcr": "proj_v"}


def term_name(term: tuple[str, rel.Relation | None]) -> str:
    """Log name of a parsed term, e.g. ``L_z(flip)``, ``L_CR``."""
    kind, r = term
    names = {"cr": "L_CR", "hcr": "L_HCR", "src": "L_src"}
    return names.get(kind, f"L_{kind}({r.name if r else ''})")


def freeze_teachers(
    motion_prior: nn.Module | None, nets: dict[str, nn.Module], device: torch.device
) -> tuple[nn.Module | None, dict[str, nn.Module]]:
    """Em and the relation networks on ``device``, in eval mode, without gradients."""
    if motion_prior is not None:
        motion_prior = motion_prior.to(device).eval().requires_grad_(False)
    return motion_prior, {k: v.to(device).eval().requires_grad_(False) for k, v in nets.items()}


def encode(model: nn.Module, x: torch.Tensor, device: torch.device, amp: bool) -> torch.Tensor:
    """G on uint8 or float crops ``(..., 3, S, S)`` -> ``(..., 32)`` float32."""
    lead = x.shape[:-3]
    x = x.flatten(0, len(lead) - 1).to(device) if len(lead) > 1 else x.to(device)
    with autocast(device, amp):
        z = model(x.float() / 255.0 if not x.is_floating_point() else x)
    return z.float().view(*lead, -1)


def encode_motion(motion_prior: nn.Module, z_seq: torch.Tensor) -> torch.Tensor:
    """Em of latent sequences ``(B, T, 32)`` -> ``(B, 128)``, with input gradients."""
    # cuDNN's RNN backward refuses eval mode; the frozen Em needs input gradients only
    with torch.backends.cudnn.flags(enabled=False):
        return motion_prior.encode(z_seq)


def set_trainable(model: ImageToLatent, blocks: list[str]) -> list[nn.Parameter]:
    """Freeze G except ``blocks`` (names of its children, e.g. ``layer2``); returns their params."""
    names = dict(model.named_children())
    unknown = [b for b in blocks if b not in names]
    if unknown or not blocks:
        raise ValueError(f"adapt.trainable={blocks}: choose among {list(names)}")
    model.requires_grad_(False)
    params = []
    for b in blocks:
        names[b].requires_grad_(True)
        params += list(names[b].parameters())
    return params


@torch.no_grad()
def adabn(model: ImageToLatent, images: torch.Tensor, batch: int = 64, seed: int = 0) -> None:
    """AdaBN: replace every BatchNorm's running statistics by those of ``images`` (uint8,
    ``(N, 3, S, S)``), averaged over shuffled batches; no weight changes."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches
    model.eval()
    for m in bns:
        m.train()
    device = next(model.parameters()).device
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    for idx in order.split(batch):
        if len(idx) > 1:
            model(images[idx].to(device))
    model.eval()


def target_frames(clips: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """``(min(n, C*L), 3, S, S)``: a seeded random subset of the frames of ``clips``
    ``(C, L, 3, S, S)`` (the frames whose statistics AdaBN uses)."""
    frames = clips.flatten(0, 1)
    keep = torch.randperm(len(frames), generator=torch.Generator().manual_seed(seed))
    return frames[keep[:n]]


def deterministic(device: torch.device) -> contextlib.AbstractContextManager:
    """On CUDA: cuDNN restricted to deterministic algorithms, no autotuning; else a no-op."""
    if device.type != "cuda":
        return contextlib.nullcontext()
    return torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True)


@torch.no_grad()
def report(model: ImageToLatent, prior: PosePrior | None, sets: dict, device) -> dict:
    """Report-only metrics from one pass of G over each held-out set: its MPJPE (FK(Dp(G(x))))
    and the label-free spread of G over the crops."""
    if prior is None:
        raise ValueError("adapt.eval_every needs the pose prior to decode G's latents")
    out = {}
    for name, (x, y) in sets.items():
        z = torch.cat([model(x[i : i + 256].to(device)).float() for i in range(0, len(x), 256)])
        pose = prior.decode(z).float().cpu()
        out[f"{name}_mpjpe"] = round(float((pose - y).norm(dim=-1).mean()), 2)
        out[f"{name}_z_std"] = round(float(z.std(dim=0).mean()), 4)
    return out


def _seeded(seed: int, salt: int, build: Callable[[], nn.Module]) -> nn.Module:
    """``build()`` with torch's CPU RNG seeded from ``(seed, salt)``; the global RNG state is
    restored afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(mix_seed(seed, 0, 7907, salt))
        return build()


def projection_heads(terms: list, seed: int, proj_dim: int) -> nn.ModuleDict:
    """The contrastive terms' projection heads (``proj_z`` for ``cr``, ``proj_v`` for ``hcr``),
    each from its own seed: the same run seed gives the same heads whatever the global RNG's
    state, and adding one head does not change the other."""
    heads = nn.ModuleDict()
    for kind, _ in terms:
        if kind == "cr" and "proj_z" not in heads:
            heads["proj_z"] = _seeded(seed, 1, lambda: ProjectionHead(LATENT_DIM, proj_dim))
        if kind == "hcr" and "proj_v" not in heads:
            heads["proj_v"] = _seeded(seed, 2, lambda: ProjectionHead(MOTION_DIM, proj_dim))
    return heads


def uses_source(losses: list[str] | tuple[str, ...]) -> bool:
    """Whether a loss list has our source-anchor term ``src`` (it reads source_train labels)."""
    return any(kind == "src" for kind, _ in parse_losses(losses))


def check_terms(
    terms: list,
    motion_prior: nn.Module | None,
    nets: dict,
    source: tuple | None = None,
    teacher: str = "network",
) -> None:
    """Refuse terms whose motion prior, relation network (none needed with ``teacher`` exact)
    or source data is missing."""
    for kind, r in terms:
        if kind == "src" and source is None:
            raise ValueError("adapt.losses: 'src' needs the labelled source split and pose prior")
        if kind in ("hcr", "v") and motion_prior is None:
            raise ValueError(f"adapt.losses: '{kind}' terms need the motion prior")
        if r is not None and needs_networks(teacher) and r.name not in nets:
            raise ValueError(f"no relation network for '{r.name}': train relations first")


def frame_batch(clips: torch.Tensor, frames: int, gen: torch.Generator) -> torch.Tensor:
    """``(n, 3, S, S)``: one random frame from each of ``n = min(frames, C)`` distinct clips of
    ``clips`` ``(C, L, 3, S, S)``."""
    n = min(frames, len(clips))
    which = torch.randperm(len(clips), generator=gen)[:n]
    t = torch.randint(clips.shape[1], (n,), generator=gen)
    return clips[which, t]


def clip_frames_batch(
    clips: torch.Tensor, frames: int, per_clip: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(n * per_clip, 3, S, S)`` frames of ``n = min(frames // per_clip, C)`` distinct clips
    of ``clips`` ``(C, L, 3, S, S)``, one random frame in each of ``per_clip`` equal stretches
    of its clip (so a clip's frames show different poses), and each frame's clip ``(N,)``."""
    if not 2 <= per_clip <= clips.shape[1]:
        raise ValueError(f"adapt.cr_per_clip={per_clip}: choose 2 to {clips.shape[1]} frames")
    n = max(1, min(frames // per_clip, len(clips)))
    which = torch.randperm(len(clips), generator=gen)[:n]
    edges = torch.linspace(0, clips.shape[1], per_clip + 1)
    start, width = edges[:-1], edges[1:] - edges[:-1]
    t = (start + torch.rand(n, per_clip, generator=gen) * width).long()
    t = t.clamp_max(clips.shape[1] - 1)
    return clips[which[:, None], t].flatten(0, 1), torch.arange(n).repeat_interleave(per_clip)


def clip_batch(clips: torch.Tensor, n: int, length: int, gen: torch.Generator) -> torch.Tensor:
    """``(n, length, 3, S, S)``: a random window of ``length`` frames from each of ``n``
    distinct clips (fewer if there are fewer clips)."""
    n = min(n, len(clips))
    which = torch.randperm(len(clips), generator=gen)[:n]
    start = torch.randint(clips.shape[1] - length + 1, (n,), generator=gen)
    t = start[:, None] + torch.arange(length)
    return clips[which[:, None], t]

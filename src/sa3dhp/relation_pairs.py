"""The training pairs of the relation networks: mocap poses and motions under a relation,
encoded by the frozen priors (``(Ep(y), Ep(tau y))`` for a spatial relation,
``(Em(Ep(anchor(Y))), Em(Ep(tau Y)))`` for one acting on time), from the train or the held-out
mocap clips (:class:`RelationData`, :mod:`sa3dhp.data.splits`); and the errors the networks are
judged by."""

from __future__ import annotations

import numpy as np
import torch

from sa3dhp import relations as rel
from sa3dhp.data import splits
from sa3dhp.data.augment import augment_poses
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.pose_prior import LATENT_DIM, PosePrior
from sa3dhp.models.relation_net import RelationNet


@torch.no_grad()
def encode_poses(prior: PosePrior, poses: torch.Tensor, batch: int = 8192) -> torch.Tensor:
    """Ep of ``(N, 17, 3)`` mm poses -> ``(N, 32)``."""
    return torch.cat([prior.encode(p) for p in poses.split(batch)]) if len(poses) else poses


@torch.no_grad()
def encode_motions(
    prior: PosePrior, motion: MotionPrior, motions: torch.Tensor, batch: int = 1024
) -> torch.Tensor:
    """Em(Ep(Y)) of ``(N, T, 17, 3)`` motions -> ``(N, 128)``."""
    out = []
    for m in motions.split(batch):
        z = prior.encode(m.flatten(0, 1)).view(m.shape[0], m.shape[1], -1)
        out.append(motion.encode(z))
    return torch.cat(out)


def motion_pairs(
    relation: rel.Relation,
    clips: torch.Tensor,
    seq_len: int,
    per_clip: int,
    generator: torch.Generator,
    augment: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Anchor and related motions ``(N, seq_len, 17, 3)`` from clips ``(C, L, 17, 3)``.

    Each clip gives ``per_clip`` windows of ``relation.clip_length(seq_len)`` frames at random
    starts, randomly flipped and turned about the vertical axis when ``augment``.
    """
    c, length = clips.shape[:2]
    span = relation.clip_length(seq_len)
    if span > length:
        raise ValueError(f"'{relation.name}' needs {span}-frame clips, the mocap has {length}")
    start = torch.randint(length - span + 1, (c, per_clip), generator=generator)
    t = start[..., None] + torch.arange(span)
    windows = clips[torch.arange(c)[:, None, None], t].flatten(0, 1)  # (C*per_clip, span, 17, 3)
    if augment:
        windows = augment_poses(windows, generator)
    return relation.anchor_motion(windows), relation.motion(windows)  # type: ignore[return-value]


def pose_pairs(
    relation: rel.Relation, poses: torch.Tensor, n: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` poses (subsampled without replacement) and their images under ``relation``."""
    if n < len(poses):
        poses = poses[torch.randperm(len(poses), generator=generator)[:n]]
    return poses, relation.pose(poses)  # type: ignore[return-value]


# --------------------------------------------------------------------------------- fitting
def relative_error(pred: torch.Tensor, target: torch.Tensor, anchor: torch.Tensor) -> float:
    """mean ||pred - target|| / mean ||anchor - target|| (0 when both are 0)."""
    num = float((pred - target).norm(dim=-1).mean())
    den = float((anchor - target).norm(dim=-1).mean())
    return num / den if den > 0 else (0.0 if num == 0 else float("inf"))


class RelationData:
    """Train/held-out mocap for relation networks and scoring.

    Args:
        poses: mocap poses ``(F, 17, 3)`` mm; ``clip``: clip id per frame ``(F,)`` (equal-length
            clips); ``holdout``: the share of clips held out, as for the priors
            (:mod:`sa3dhp.data.splits`).
    """

    def __init__(self, poses: np.ndarray, clip: np.ndarray, holdout: float) -> None:
        from sa3dhp.data.clips import clip_array

        clips = torch.as_tensor(clip_array(poses, clip), dtype=torch.float32)
        self.train_clips, self.val_clips = splits.split_clips(clips, holdout)
        self.train_poses = self.train_clips.flatten(0, 1)
        self.val_poses = self.val_clips.flatten(0, 1)


def build_pairs(
    relation: rel.Relation,
    data: RelationData,
    pose_prior: PosePrior,
    motion_prior: MotionPrior | None,
    split: str,
    n: int,
    per_clip: int,
    seed: int,
) -> dict[str, torch.Tensor]:
    """Encoded pairs of one relation on ``split`` (``train`` | ``val``).

    Returns:
        ``u``, ``u_tau`` latents and ``x``, ``x_tau`` the poses or motions they encode.
    """
    gen = torch.Generator().manual_seed(seed)
    if relation.is_temporal:
        if motion_prior is None:
            raise ValueError(f"'{relation.name}' acts on time and needs the motion prior")
        clips = data.train_clips if split == "train" else data.val_clips
        x, x_tau = motion_pairs(relation, clips, motion_prior.seq_len, per_clip, gen)
        u = encode_motions(pose_prior, motion_prior, x)
        u_tau = encode_motions(pose_prior, motion_prior, x_tau)
    else:
        poses = data.train_poses if split == "train" else data.val_poses
        x, x_tau = pose_pairs(relation, poses, n, gen)
        u, u_tau = encode_poses(pose_prior, x), encode_poses(pose_prior, x_tau)
    return {"u": u, "u_tau": u_tau, "x": x, "x_tau": x_tau}


@torch.no_grad()
def decode_error(
    net: RelationNet,
    pairs: dict[str, torch.Tensor],
    pose_prior: PosePrior,
    motion_prior: MotionPrior | None,
) -> dict[str, float]:
    """MPJPE (mm) of decoding ``T(u)`` against ``tau(x)``, and of decoding ``u_tau`` (the
    auto-encoder's own floor)."""

    def decode(u: torch.Tensor) -> torch.Tensor:
        if u.shape[1] == LATENT_DIM:
            return pose_prior.decode(u)
        z = motion_prior.decode(u)  # type: ignore[union-attr]
        return pose_prior.decode(z.flatten(0, 1)).view(*z.shape[:2], -1, 3)

    target = pairs["x_tau"]
    return {
        "decoded_mpjpe": float((decode(net(pairs["u"])) - target).norm(dim=-1).mean()),
        "autoencoder_floor_mpjpe": float((decode(pairs["u_tau"]) - target).norm(dim=-1).mean()),
    }

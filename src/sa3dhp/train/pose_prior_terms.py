"""Building blocks of the pose prior's training: pose augmentations (random yaw, flips and
in-plane rolls; the motion prior and the relation networks augment with them too), and the
losses that make Ep(y) uniform on [-1, 1]^32 (the critic's, the encoder's adversarial term, the
sliced Wasserstein distance)."""

from __future__ import annotations

import math

import torch

from sa3dhp import relations
from sa3dhp.inference import POSE_PRIOR_STAGE
from sa3dhp.models.pose_prior import LatentCritic

STAGE = POSE_PRIOR_STAGE


def random_yaw(n: int, generator: torch.Generator) -> torch.Tensor:
    """``(n, 3, 3)`` rotations about the camera's vertical (y) axis, uniform angle."""
    a = torch.rand(n, generator=generator) * 2 * math.pi
    c, s = torch.cos(a), torch.sin(a)
    zero, one = torch.zeros_like(a), torch.ones_like(a)
    return torch.stack([c, zero, s, zero, one, zero, -s, zero, c], -1).view(n, 3, 3)


def random_roll(
    y: torch.Tensor, max_deg: float, prob: float, generator: torch.Generator
) -> torch.Tensor:
    """Turn a random share ``prob`` of poses ``(B, 17, 3)`` about the optical axis by a uniform
    angle in ``[-max_deg, max_deg]`` (the in-plane relation's pose action)."""
    b = y.shape[0]
    angle = torch.deg2rad((torch.rand(b, generator=generator) * 2 - 1) * max_deg)
    angle = angle * (torch.rand(b, generator=generator) < prob)
    c, s = torch.cos(angle), torch.sin(angle)
    rot = torch.zeros(b, 3, 3)
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = c, s, -s, c
    rot[:, 2, 2] = 1.0
    return y @ rot.to(y).transpose(1, 2)


def augment_poses(
    y: torch.Tensor, generator: torch.Generator, yaw: bool = True, flip: bool = True
) -> torch.Tensor:
    """Random yaw about the vertical axis and random flips of ``(B, ..., 17, 3)`` poses.

    The same transform is applied to every pose of a sample (so motions stay motions).
    """
    b = y.shape[0]
    if flip:
        f = relations.get("flip")
        mask = torch.rand(b, generator=generator) < 0.5
        if mask.any():
            y = y.clone()
            y[mask] = f.pose(y[mask])  # type: ignore[assignment]
    if yaw:
        rot = random_yaw(b, generator).to(y.dtype)
        shape = y.shape
        y = (y.reshape(b, -1, 3) @ rot.transpose(1, 2)).reshape(shape)
    return y


def critic_loss(
    critic: LatentCritic,
    real: torch.Tensor,
    fake: torch.Tensor,
    gan: str,
    gp_weight: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Critic/discriminator loss; ``real`` are prior samples, ``fake`` encoder outputs."""
    if gan == "bce":
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        return bce(critic(real), torch.ones(len(real))) + bce(critic(fake), torch.zeros(len(fake)))
    eps = torch.rand(len(real), 1, generator=generator).to(real)
    mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad = torch.autograd.grad(critic(mix).sum(), mix, create_graph=True)[0]
    gp = ((grad.norm(dim=-1) - 1) ** 2).mean()
    return critic(fake).mean() - critic(real).mean() + gp_weight * gp


def sliced_wasserstein(
    z: torch.Tensor, prior: torch.Tensor, generator: torch.Generator, random_dirs: int | None = None
) -> torch.Tensor:
    """Squared sliced Wasserstein-2 distance between two batches ``(B, D)``, along every axis
    (the per-dimension marginals) and ``random_dirs`` random directions (default ``D``)."""
    d = z.shape[1]
    dirs = torch.randn(d, d if random_dirs is None else random_dirs, generator=generator).to(z)
    dirs = torch.cat([torch.eye(d, device=z.device, dtype=z.dtype), dirs / dirs.norm(dim=0)], 1)
    a, _ = torch.sort(z @ dirs, dim=0)
    b, _ = torch.sort(prior @ dirs, dim=0)
    return ((a - b) ** 2).mean()


def generator_adv_loss(critic: LatentCritic, fake: torch.Tensor, gan: str) -> torch.Tensor:
    """Adversarial loss of the encoder."""
    if gan == "bce":
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        return bce(critic(fake), torch.ones(len(fake)))
    return -critic(fake).mean()

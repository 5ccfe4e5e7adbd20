"""Building blocks of the pose prior's training: the losses that make Ep(y) uniform on
[-1, 1]^32 (the critic's, the encoder's adversarial term, the sliced Wasserstein distance). Its
pose augmentations are in :mod:`sa3dhp.data.augment`."""

from __future__ import annotations

import torch

from sa3dhp.inference import POSE_PRIOR_STAGE
from sa3dhp.models.pose_prior import LatentCritic

STAGE = POSE_PRIOR_STAGE


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

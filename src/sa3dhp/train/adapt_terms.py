"""The building blocks of the adaptation losses (:mod:`sa3dhp.train.adapt`): InfoNCE with its
projection head and pose-preserving augmentation (L_CR, L_HCR), and our collapse guard."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.train import source as source_train


class ProjectionHead(nn.Sequential):
    """Contrastive projection ``dim -> out -> out``, L2-normalised output."""

    def __init__(self, dim: int, out: int = 128) -> None:
        super().__init__(nn.Linear(dim, out), nn.ReLU(inplace=True), nn.Linear(out, out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(super().forward(x), dim=-1)


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE of normalised ``(N, D)`` projections; ``a_i``/``b_i`` are positives
    and every other sample of both views is a negative (every sample is an anchor)."""
    n = a.shape[0]
    z = torch.cat([a, b])
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(sim, target)


def pose_preserving(x: torch.Tensor, generator: torch.Generator, shift_px: int) -> torch.Tensor:
    """Photometric jitter, random blur and a small random shift of uint8 crops ``(..., 3, S, S)``
    (each frame its own draw) -> float in [0, 1]."""
    lead = x.shape[:-3]
    flat = x.reshape(-1, *x.shape[-3:])
    n = flat.shape[0]
    out = source_train.augment_images(flat, generator)
    blur = torch.rand(n, generator=generator) < 0.3
    if blur.any():
        k = torch.tensor([1.0, 2.0, 1.0]) / 4
        kernel = (k[:, None] * k[None]).expand(3, 1, 3, 3).to(out)
        out[blur] = F.conv2d(F.pad(out[blur], (1, 1, 1, 1), mode="replicate"), kernel, groups=3)
    if shift_px:
        # shift_px pixels of a 64-pixel crop = 2 * shift_px / 64 normalised units at any size
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, :, 2] = (torch.rand(n, 2, generator=generator) * 2 - 1) * (2 * shift_px / 64)
        grid = F.affine_grid(theta.to(out), list(out.shape), align_corners=False)
        out = F.grid_sample(out, grid, padding_mode="border", align_corners=False)
    return out.view(*lead, *out.shape[-3:])


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

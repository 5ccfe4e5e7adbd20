"""Label-preserving image augmentation of crops, shared by source training and adaptation."""

from __future__ import annotations

import torch

from sa3dhp import relations


def augment_images(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Label-preserving photometric jitter of ``(B, 3, H, W)`` uint8 crops -> float in [0, 1]."""
    b = x.shape[0]
    x = x.float() / 255.0

    def u(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return (lo + (hi - lo) * torch.rand(b, *shape, generator=generator)).to(x)

    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * u(0.6, 1.4, 1, 1, 1) + mean * u(0.6, 1.4, 1, 1, 1)
    x = x * u(0.85, 1.15, 3, 1, 1)
    noise = torch.randn(x.shape, generator=generator).to(x) * u(0.0, 0.04, 1, 1, 1)
    return (x + noise).clamp(0.0, 1.0)


def flip_samples(
    x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mirror the crops ``(B, 3, S, S)`` and poses ``(B, 17, 3)`` selected by ``mask`` (the
    flip relation acts consistently on both, so the label stays valid)."""
    if not mask.any():
        return x, y
    flip = relations.get("flip")
    x, y = x.clone(), y.clone()
    x[mask] = flip.image(x[mask])  # type: ignore[assignment]
    y[mask] = flip.pose(y[mask])  # type: ignore[assignment]
    return x, y

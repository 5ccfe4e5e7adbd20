"""Label-preserving image augmentation of crops, shared by source training and adaptation."""

from __future__ import annotations

import torch


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

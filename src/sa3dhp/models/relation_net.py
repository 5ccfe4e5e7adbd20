"""Relation networks T: latent -> latent (four FC layers), one per relation.

Tz maps Ep(y) to Ep(tau y) on Z = [-1, 1]^32; Tv maps Em(Ep(Y)) to Em(Ep(tau Y)) on
V = [-1, 1]^128. The output is tanh-bounded like the spaces they map into.
"""

from __future__ import annotations

import torch
from torch import nn


class RelationNet(nn.Module):
    """Four FC layers ``dim -> hidden -> hidden -> hidden -> dim``, tanh output.

    Args:
        dim: latent size (32 for Tz, 128 for Tv).
        hidden: hidden width.
    """

    def __init__(self, dim: int, hidden: int = 512) -> None:
        super().__init__()
        self.dim = dim
        self.net = nn.Sequential(
            nn.Linear(dim, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, dim),
        )

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        if u.shape[-1] != self.dim:
            raise ValueError(f"relation net expects (..., {self.dim}), got {tuple(u.shape)}")
        return torch.tanh(self.net(u))

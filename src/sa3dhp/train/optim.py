"""The one optimiser constructor every stage uses: Adam / AdamW on PyTorch's fused kernel.

The fused kernel does the whole update in one pass over the parameters. On the 2-core CPU
machine it takes 10 ms per step for G against 84 ms for the default per-tensor loop
(``benchmarks/g_step_profile.py``, ``optimizer`` rows); the update it computes is the same Adam.
It needs floating-point parameters on a device PyTorch fuses for (CPU, CUDA); anything else
falls back to the default implementation.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

_FUSED_DEVICES = ("cpu", "cuda")


def _fusable(params: list) -> bool:
    tensors = [p for g in params for p in (g["params"] if isinstance(g, dict) else [g])]
    return all(p.is_floating_point() and p.device.type in _FUSED_DEVICES for p in tensors)


def adam(
    params: Iterable,
    lr: float,
    weight_decay: float = 0.0,
    decoupled: bool = False,
    betas: tuple[float, float] = (0.9, 0.999),
    fused: bool | None = None,
) -> torch.optim.Optimizer:
    """Adam (``decoupled=True``: AdamW) over ``params`` (tensors or param groups).

    ``fused=None`` uses the fused kernel wherever every parameter allows it.
    """
    params = list(params)
    if fused is None:
        fused = _fusable(params)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    return cls(params, lr=lr, betas=betas, weight_decay=weight_decay, fused=fused or None)

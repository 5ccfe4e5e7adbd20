"""Label-preserving augmentation: photometric jitter, L_CR's pose-preserving views and flips of
crops (source training and adaptation), and random yaw, flips and in-plane rolls of poses (the
priors and the relation networks' training pairs)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

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


def blur3x3(x: torch.Tensor) -> torch.Tensor:
    """The [1, 2, 1]/4 x [1, 2, 1]/4 blur of float crops ``(N, 3, S, S)``, edges replicated."""
    k = torch.tensor([1.0, 2.0, 1.0]) / 4
    kernel = (k[:, None] * k[None]).expand(3, 1, 3, 3).to(x)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=3)


def pose_preserving(x: torch.Tensor, generator: torch.Generator, shift_px: int) -> torch.Tensor:
    """Photometric jitter, random blur and a small random shift of uint8 crops ``(..., 3, S, S)``
    (each frame its own draw) -> float in [0, 1]."""
    lead = x.shape[:-3]
    flat = x.reshape(-1, *x.shape[-3:])
    n = flat.shape[0]
    out = augment_images(flat, generator)
    blur = torch.rand(n, generator=generator) < 0.3
    if blur.any():
        out[blur] = blur3x3(out[blur])
    if shift_px:
        # shift_px pixels of a 64-pixel crop = 2 * shift_px / 64 normalised units at any size
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, :, 2] = (torch.rand(n, 2, generator=generator) * 2 - 1) * (2 * shift_px / 64)
        grid = F.affine_grid(theta.to(out), list(out.shape), align_corners=False)
        out = F.grid_sample(out, grid, padding_mode="border", align_corners=False)
    return out.view(*lead, *out.shape[-3:])


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

"""How well the priors reconstruct held-out mocap: the pose prior's MPJPE / PA-MPJPE and the
motion prior's MPJPE on 30 and 15 FPS windows (used by training's final metrics and by
``sa3dhp evaluate prior``; no training code)."""

from __future__ import annotations

import numpy as np
import torch

from sa3dhp import metrics
from sa3dhp.data.clips import sample_windows
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.pose_prior import PosePrior


@torch.no_grad()
def pose_reconstruction(model: PosePrior, poses: np.ndarray, batch: int = 2048) -> dict:
    """Held-out reconstruction MPJPE / PA-MPJPE (mm) and the latents ``(N, 32)``."""
    model.eval()
    device = next(model.parameters()).device
    recs, zs = [], []
    for i in range(0, len(poses), batch):
        y = torch.as_tensor(poses[i : i + batch], dtype=torch.float32, device=device)
        z, rec = model(y)
        recs.append(rec.cpu().numpy())
        zs.append(z.cpu().numpy())
    rec = np.concatenate(recs)
    return {
        "val_mpjpe": metrics.mpjpe(rec, poses),
        "val_pa_mpjpe": metrics.pa_mpjpe(rec, poses),
        "latents": np.concatenate(zs),
    }


@torch.no_grad()
def motion_reconstruction(
    model: MotionPrior, pose_prior: PosePrior, clips: torch.Tensor, seq_len: int, seed: int = 0
) -> dict:
    """Motion reconstruction MPJPE (mm) on 30 FPS and 15 FPS windows of held-out clips."""
    model.eval()
    gen = torch.Generator().manual_seed(seed + 12345)
    out = {}
    for name, slow in (("val_mpjpe", 0.0), ("val_mpjpe_15fps", 1.0)):
        y = sample_windows(clips, 512, seq_len, gen, slow, 0.0)
        device = next(model.parameters()).device
        y = y.to(device)
        b, t = y.shape[:2]
        z = pose_prior.encode(y.flatten(0, 1)).view(b, t, -1)
        rec = pose_prior.decode(model(z)[1].flatten(0, 1)).view_as(y)
        out[name] = float((rec - y).norm(dim=-1).mean())
    return out

"""Algorithm 1 step 3: train the motion prior {Em, Dm} on unpaired mocap motions.

Samples are 30-frame windows of the mocap clips at 30 FPS *and* at 15 FPS (every other frame:
the anchors of the slow relation), randomly reversed, flipped and turned about the vertical
axis, so that both ends of every relation pair are motions the prior has seen. Em reads the
frozen pose encoder's latents Ep(Y); the loss is the joint error of Dp(Dm(Em(Ep(Y)))) against Y
(Dp frozen), on ``pose_frames`` random frames of each window per step to save decoding time,
plus a latent term on every frame. A fresh run with skip paths starts them at the partly
whitened PCA code of ``pca_windows`` such windows (:meth:`MotionPrior.init_skip_pca`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sa3dhp.data import splits
from sa3dhp.data.augment import augment_poses
from sa3dhp.data.clips import clip_array, sample_windows
from sa3dhp.inference import load_frozen
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.pose_prior import PosePrior
from sa3dhp.prior_metrics import motion_reconstruction
from sa3dhp.train.distributed import init_distributed
from sa3dhp.train.optim import adam
from sa3dhp.train.sampling import step_generator
from sa3dhp.train.trainer import Trainer

STAGE = "motion_prior"


@dataclass
class MotionPriorConfig:
    """Motion-prior training (demo defaults: about two minutes on 2 CPU cores)."""

    hidden: int = 128
    layers: int = 2
    seq_len: int = 30
    skip: bool = True  # linear skip paths around the BiLSTMs (models.motion_prior; ours)
    pca_windows: int = 4096  # start the skip paths at the PCA of this many windows (0: random)
    # 1: every PCA component of v at one spread, 0: one scale (docs/findings.md)
    pca_whitening: float = 0.25
    steps: int = 1000
    batch_size: int = 16  # the BiLSTMs dominate the cost on a CPU; use more on a GPU
    lr: float = 1e-3  # from the PCA start; 3e-3 undoes it early (benchmarks/motion_sweep.py)
    latent_weight: float = 1.0
    pose_frames: int = 8  # frames per window decoded for the pose loss (decoding is the cost)
    slow_fraction: float = 0.5  # share of windows sampled at 15 FPS
    backward_fraction: float = 0.5  # share of windows reversed
    augment_yaw: bool = True  # turns about the camera vertical (off: 72 vs 66 mm in one test)
    checkpoint_every: int = 500
    log_every: int = 50


def arch_of(cfg: MotionPriorConfig) -> dict:
    """The architecture fields a checkpoint must match."""
    return {"hidden": cfg.hidden, "layers": cfg.layers, "seq_len": cfg.seq_len, "skip": cfg.skip}


def build_model(cfg: MotionPriorConfig) -> MotionPrior:
    """The motion prior described by ``cfg``."""
    return MotionPrior(hidden=cfg.hidden, layers=cfg.layers, seq_len=cfg.seq_len, skip=cfg.skip)


def load(
    path: str | Path, cfg: MotionPriorConfig | None = None, device: str | torch.device = "cpu"
) -> MotionPrior:
    """A trained motion prior, frozen; with ``cfg``, its architecture must be ``cfg``'s."""
    arch = arch_of(cfg) if cfg is not None else None
    return load_frozen(path, STAGE, MotionPrior, "motion", device, arch)  # type: ignore[return-value]


def train(
    cfg: MotionPriorConfig,
    pose_prior: PosePrior,
    poses: np.ndarray,
    clip: np.ndarray,
    run_dir: str | Path,
    seed: int = 0,
    device: str = "auto",
    provenance: dict | None = None,
    holdout: float = 0.1,
) -> dict:
    """Train the motion prior on mocap clips; resumes from ``run_dir`` if possible.

    The last ``holdout`` share of clips is held out (:mod:`sa3dhp.data.splits`).

    ``provenance`` (:mod:`sa3dhp.provenance`) is stored in every checkpoint and, when given, an
    existing checkpoint with another record is refused before anything is loaded.

    Returns:
        ``val_mpjpe``: held-out motion reconstruction error (mm).
    """
    run_dir = Path(run_dir)
    ctx = init_distributed(device)
    train_np, val_np = splits.split_clips(clip_array(poses, clip), holdout)
    train_clips = torch.as_tensor(train_np, dtype=torch.float32)
    val_clips = torch.as_tensor(val_np, dtype=torch.float32)
    pose_prior = pose_prior.to(ctx.device).eval().requires_grad_(False)
    torch.manual_seed(seed)
    model = build_model(cfg).to(ctx.device)
    opt = adam(model.parameters(), cfg.lr)
    trainer = Trainer.for_stage(
        run_dir,
        cfg,
        stage=STAGE,
        arch=arch_of(cfg),
        models={"motion": model},
        optimizers={"motion": opt},
        ctx=ctx,
        provenance=provenance,
        extra={"written_by_rank": ctx.rank, "world_size": ctx.world_size},
        schedule=[(opt, cfg.lr)],
    )
    start = trainer.resume()
    if start == 0 and cfg.skip and cfg.pca_windows > 0:  # a fresh run starts from the PCA code
        gen = step_generator(seed * 1000 + 999_983, 0)
        y = sample_windows(
            train_clips, cfg.pca_windows, cfg.seq_len, gen, cfg.slow_fraction,
            cfg.backward_fraction,
        )  # fmt: skip
        y = augment_poses(y, gen, yaw=cfg.augment_yaw).to(ctx.device)
        with torch.no_grad():
            z = pose_prior.encode(y.flatten(0, 1)).view(*y.shape[:2], -1)
        model.init_skip_pca(z, whitening=cfg.pca_whitening)
    ddp_model = ctx.wrap(model)
    per_rank = cfg.batch_size // ctx.world_size

    def train_step(step: int, lr: float | None) -> dict:
        gen = step_generator(seed * 1000 + ctx.rank, step)
        y = sample_windows(
            train_clips, per_rank, cfg.seq_len, gen, cfg.slow_fraction, cfg.backward_fraction
        )
        y = augment_poses(y, gen, yaw=cfg.augment_yaw).to(ctx.device)  # (B, T, 17, 3)
        b, t = y.shape[:2]
        with torch.no_grad():
            z = pose_prior.encode(y.flatten(0, 1)).view(b, t, -1)
        _, z_rec = ddp_model(z)
        frames = torch.rand(b, t, generator=gen).argsort(dim=1)[:, : cfg.pose_frames]
        rows = torch.arange(b)[:, None]
        rec = pose_prior.decode(z_rec[rows, frames].flatten(0, 1))
        loss_pose = (rec - y[rows, frames].flatten(0, 1)).norm(dim=-1).mean() / 1000.0
        loss_latent = (z_rec - z).abs().mean()
        loss = loss_pose + cfg.latent_weight * loss_latent
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return {"loss": loss, "rec_mm": lambda: loss_pose.item() * 1000.0}

    trainer.fit(train_step, start)
    out = motion_reconstruction(model, pose_prior, val_clips, cfg.seq_len, seed)
    ctx.close()
    return out

"""Algorithm 1 step 2: train the pose prior {Ep, Dp} (an AAE) on unpaired mocap poses.

Loss: reconstruction (mean joint error, in metres) + ``adv_weight`` x adversarial loss that makes
Ep(y) indistinguishable from U[-1, 1]^32. GAN loss: WGAN with gradient penalty (``gan="wgan-gp"``,
default): its critic keeps giving useful gradients when the two distributions barely overlap
(early in training, and near the cube's faces where tanh saturates), so the encoder is pulled
towards the whole cube instead of collapsing onto a few modes; the non-saturating BCE loss
(``gan="bce"``) is kept for comparison. A sliced-Wasserstein term (``sw_weight``) pulls every
latent marginal (and ``sw_random_dirs`` random projections, none by default) towards U[-1, 1]
directly.

Limb term (``local_weight``, ours): the joint error of FK(true root vectors, decoded bone
directions and lengths), added to the plain reconstruction error. A few millimetres of error on
the short pelvis->hip vectors turn the whole torso frame, so the plain error is dominated by that
rotation, which Procrustes removes; this term trains the bone directions on their own, which is
where PA-MPJPE comes from (16.4 -> 11.8 mm on the demo, docs/method.md).

Joint limits (``limit_weight``, our addition): each step also decodes ``limit_batch`` latents
drawn from U[-1, 1]^32 and penalises how far Dp(z) is outside the anatomical limits of
:mod:`sa3dhp.plausibility` (:func:`~sa3dhp.plausibility.violation`, a differentiable hinge on the
same checks, with a 5 degree / 10 mm margin). The adversarial loss only makes Ep(y) *look*
uniform; this term makes the decoder honour the promise that any z of the cube decodes to a
possible pose. On the demo world it raised the share of anatomically possible random decodes
from 77 % to 99.9 %, but it lowered the share that look like mocap (nearest-neighbour
typicality, ``random_decodes_typical``) from 46 % to about one per cent: it makes decodes of
unused latents possible, not typical (docs/method.md). ``sa3dhp evaluate prior`` judges decodes
with the same checks without margins, so its plausibility figure measures how well the penalty
generalises to fresh latents, not an independent judge.

Augmentation: random left/right flips, and optionally a random rotation about the camera's
vertical axis (``augment_yaw``, the authors' choice). It is off by default here because the
synthetic mocap already spans every yaw, and under a tilted camera the camera's vertical axis is
not the world's, so the rotation would create poses (rolled sideways) that the data never has.
In-plane rolls are different: a share ``roll_prob`` of poses is turned about the optical axis by
up to ``roll_deg`` (default 30 % by up to 60 degrees), so that the in-plane relations' outputs
(flip+inplane50 and smaller angles) can be encoded and decoded at all; without it, Dp(Ep(tau y))
is 136 mm from tau y for flip+inplane50, with it 30 mm, while 100 degrees stay out of range.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sa3dhp import kinematics as kin
from sa3dhp import plausibility
from sa3dhp.data import splits
from sa3dhp.data.augment import augment_poses, random_roll
from sa3dhp.inference import POSE_PRIOR_STAGE, load_pose_prior
from sa3dhp.models.pose_prior import LATENT_DIM, LatentCritic, PosePrior
from sa3dhp.prior_metrics import pose_reconstruction
from sa3dhp.train.distributed import init_distributed
from sa3dhp.train.optim import adam
from sa3dhp.train.pose_prior_terms import critic_loss, generator_adv_loss, sliced_wasserstein
from sa3dhp.train.sampling import EpochSampler, step_generator
from sa3dhp.train.trainer import Trainer

STAGE = POSE_PRIOR_STAGE


@dataclass
class PosePriorConfig:
    """Pose-prior training (demo defaults: about a minute on 2 CPU cores)."""

    arch: str = "mlp"  # mlp | tree
    hidden: int = 512
    blocks: int = 2
    lengths: str = "predicted"  # predicted | canonical
    steps: int = 3600
    batch_size: int = 192
    lr: float = 3e-3
    critic_lr: float = 2e-4
    adv_weight: float = 0.002
    gan: str = "wgan-gp"  # wgan-gp | bce
    gp_weight: float = 5.0
    sw_weight: float = 0.3  # sliced-Wasserstein term towards U[-1, 1]^32 (0 = pure AAE)
    sw_random_dirs: int = 0  # random directions of that term besides the 32 axes
    limit_weight: float = 0.1  # joint-limit penalty on Dp(z) for z ~ U[-1, 1]^32 (0 = off)
    limit_batch: int = 64  # latents drawn per step for that penalty
    local_weight: float = 5.0  # limb term: the pose error with the true root vectors (ours)
    augment_yaw: bool = False  # the mocap already spans every yaw; see the module docstring
    augment_flip: bool = True
    roll_deg: float = 60.0  # turn a share of poses about the optical axis by up to this angle
    roll_prob: float = 0.3  # that share (so in-plane relations land in the prior's range)
    checkpoint_every: int = 500
    log_every: int = 50


def arch_of(cfg: PosePriorConfig) -> dict:
    """The architecture fields a checkpoint must match."""
    return {"arch": cfg.arch, "hidden": cfg.hidden, "blocks": cfg.blocks, "lengths": cfg.lengths}


def build_model(cfg: PosePriorConfig) -> PosePrior:
    """The pose prior described by ``cfg``."""
    return PosePrior(arch=cfg.arch, hidden=cfg.hidden, blocks=cfg.blocks, lengths=cfg.lengths)


def load(
    path: str | Path, cfg: PosePriorConfig | None = None, device: str | torch.device = "cpu"
) -> PosePrior:
    """A trained pose prior, frozen; with ``cfg``, its architecture must be ``cfg``'s."""
    return load_pose_prior(path, device, arch_of(cfg) if cfg is not None else None)


def train(
    cfg: PosePriorConfig,
    poses: np.ndarray,
    clip: np.ndarray,
    run_dir: str | Path,
    seed: int = 0,
    device: str = "auto",
    provenance: dict | None = None,
    holdout: float = 0.1,
) -> dict:
    """Train the pose prior on mocap poses ``(F, 17, 3)``; resumes from ``run_dir`` if possible.

    The last ``holdout`` share of clips is held out (:mod:`sa3dhp.data.splits`).

    ``provenance`` (:mod:`sa3dhp.provenance`) is stored in every checkpoint and, when given, an
    existing checkpoint with another record is refused before anything is loaded.

    Returns:
        Final held-out reconstruction metrics (``val_mpjpe`` mm, ``val_pa_mpjpe`` mm).
    """
    if cfg.gan not in ("wgan-gp", "bce"):
        raise ValueError(f"pose_prior.gan must be 'wgan-gp' or 'bce', got '{cfg.gan}'")
    run_dir = Path(run_dir)
    ctx = init_distributed(device)
    train_poses, val_poses = splits.split_frames(poses, clip, holdout)
    data = torch.as_tensor(train_poses, dtype=torch.float32)
    torch.manual_seed(seed)
    model = build_model(cfg).to(ctx.device)
    critic = LatentCritic().to(ctx.device)
    opt = adam(model.parameters(), cfg.lr)
    opt_c = adam(critic.parameters(), cfg.critic_lr, betas=(0.5, 0.9))
    trainer = Trainer.for_stage(
        run_dir,
        cfg,
        stage=STAGE,
        arch=arch_of(cfg),
        models={"prior": model, "critic": critic},
        optimizers={"prior": opt, "critic": opt_c},
        ctx=ctx,
        provenance=provenance,
        extra={"written_by_rank": ctx.rank, "world_size": ctx.world_size},
        schedule=[(opt, cfg.lr)],
    )
    start = trainer.resume()
    # the critic's gradient penalty needs double backward, which DDP does not support: both
    # networks are synchronised by averaging gradients over ranks instead (same result)
    ctx.broadcast_params(model)
    ctx.broadcast_params(critic)
    sampler = EpochSampler(len(data), cfg.batch_size, seed, ctx.rank, ctx.world_size)

    def train_step(step: int, lr: float | None) -> dict:
        gen = step_generator(seed * 1009 + ctx.rank, step)
        y = augment_poses(data[sampler.batch_indices(step)], gen, cfg.augment_yaw, cfg.augment_flip)
        if cfg.roll_deg > 0:
            y = random_roll(y, cfg.roll_deg, cfg.roll_prob, gen)
        y = y.to(ctx.device)
        # critic step
        with torch.no_grad():
            fake = model.encode(y)
        real = (torch.rand(len(y), LATENT_DIM, generator=gen) * 2 - 1).to(ctx.device)
        loss_c = critic_loss(critic, real, fake, cfg.gan, cfg.gp_weight, gen)
        opt_c.zero_grad(set_to_none=True)
        loss_c.backward()
        ctx.sync_grads(critic)
        opt_c.step()
        # auto-encoder step
        z = model.encode(y)
        local, lengths = model.decode_local(z)
        rec = kin.forward_kinematics(local, lengths)
        loss_rec = (rec - y).norm(dim=-1).mean() / 1000.0
        loss_adv = generator_adv_loss(critic, z, cfg.gan)
        loss = loss_rec + cfg.adv_weight * loss_adv
        if cfg.local_weight > 0:
            # the same error with the true root vectors: the limbs' share, free of the torso
            # rotation that small hip-vector errors cause (docs/findings.md: where the error sat)
            true_roots = (y - y[:, :1])[:, list(kin.ROOT_VECTOR_JOINTS)]
            limbs = kin.forward_kinematics(kin.LocalPose(true_roots, local.directions), lengths)
            loss = loss + cfg.local_weight * (limbs - y).norm(dim=-1).mean() / 1000.0
        loss_lim = torch.zeros(())
        if cfg.limit_weight > 0:
            # decodes of latents drawn from the prior must respect the anatomical limits
            loss_lim = plausibility.violation(model.decode(real[: cfg.limit_batch])).mean()
            loss = loss + cfg.limit_weight * loss_lim
        if cfg.sw_weight > 0:
            prior = (torch.rand(len(y), LATENT_DIM, generator=gen) * 2 - 1).to(ctx.device)
            loss = loss + cfg.sw_weight * sliced_wasserstein(z, prior, gen, cfg.sw_random_dirs)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        ctx.sync_grads(model)
        opt.step()
        return {
            "loss": loss,
            "rec_mm": lambda: loss_rec.item() * 1000.0,
            "adv": loss_adv,
            "critic": loss_c,
            "limits": loss_lim,
        }

    trainer.fit(train_step, start)
    metrics = pose_reconstruction(model, val_poses)
    ctx.close()
    return metrics

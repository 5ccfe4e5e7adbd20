"""Algorithm 1 step 4: pre-train the image-to-latent regressor Gs on the labelled source.

Minimises the joint error of FK(Dp(Gs(x))) against y with the pose prior's decoder Dp frozen.
The same loop trains the baselines: ``head="pose"`` regresses the 17x3 pose directly (no prior),
and ``split="target_oracle"`` with ``init`` = Gs fine-tunes Gs on target labels (the upper bound
the method never sees; from scratch, the target of generator v4 alone was too hard to learn in
the demo's budget, see docs/findings.md).
Augmentation is photometric only (brightness, contrast, colour gain, sensor noise), so the
label stays valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sa3dhp.checkpoint import load_weights
from sa3dhp.data.augment import augment_images, flip_samples, pose_preserving
from sa3dhp.device import autocast
from sa3dhp.inference import G_STAGE, heldout_mpjpe, load_image_model
from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.pose_prior import PosePrior
from sa3dhp.train.distributed import init_distributed
from sa3dhp.train.optim import adam
from sa3dhp.train.sampling import EpochSampler, step_generator
from sa3dhp.train.trainer import Trainer

STAGE = G_STAGE


@dataclass
class SourceConfig:
    """Training of G (demo defaults: resnet18 at 64 px, a few minutes on 2 CPU cores)."""

    backbone: str = "resnet18"  # resnet18 | resnet34 | resnet50 (the paper)
    weights: str = "auto"  # auto (ImageNet if cached) | none | path to a state dict
    conv_channels: int = 256
    fc_hidden: int = 512
    head: str = "latent"  # latent (ours) | pose (direct-regression baseline)
    split: str = "source_train"  # target_oracle for the oracle baseline
    init: str = ""  # a G checkpoint to start from (the oracle starts from Gs); "" = backbone init
    steps: int = 400
    oracle_steps: int = 600  # the oracle fine-tunes Gs on target labels for this many steps
    batch_size: int = 48
    lr: float = 5e-4
    weight_decay: float = 1e-4
    loss: str = "l2"  # l2 (mean joint distance) | l1 (mean absolute coordinate error)
    latent_weight: float = 0.0  # + weight x mean |G(x) - Ep(y)|: keep G's latents on Ep's image
    flip_prob: float = 0.0  # share of samples mirrored with their label (relation "flip")
    augment: bool = True
    # ours: > 0 trains on L_CR's pose-preserving views instead (the photometric jitter, a 3x3 blur
    # on 30 % of crops and a shift of up to shift_px pixels at 64 px), so that Gs is already
    # unmoved by the views L_CR asks it to match; 0: photometric jitter only (the default)
    shift_px: int = 0
    amp: bool = True  # bf16 autocast on CUDA and on CPUs with native bf16 (false: fp32)
    checkpoint_every: int = 200
    log_every: int = 20
    eval_every: int = 0  # held-out MPJPE on the learning curve every N steps (0: never)


def arch_of(cfg: SourceConfig) -> dict:
    """The architecture fields a checkpoint must match."""
    return {
        "backbone": cfg.backbone,
        "conv_channels": cfg.conv_channels,
        "fc_hidden": cfg.fc_hidden,
        "head": cfg.head,
    }


def build_model(cfg: SourceConfig, weights: str | None = None) -> ImageToLatent:
    """G as described by ``cfg`` (``weights`` overrides ``cfg.weights``)."""
    return ImageToLatent(
        cfg.backbone,
        weights=cfg.weights if weights is None else weights,
        conv_channels=cfg.conv_channels,
        fc_hidden=cfg.fc_hidden,
        head=cfg.head,
    )


def pose_loss(pred: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """``l2``: mean joint distance; ``l1``: mean absolute coordinate error (metres)."""
    if kind == "l1":
        return (pred - target).abs().mean() / 1000.0
    return (pred - target).norm(dim=-1).mean() / 1000.0


#: ``load(path, device)``: a trained G in eval mode, the pose prior it decodes with and the
#: checkpoint's info (:func:`sa3dhp.inference.load_image_model`).
load = load_image_model


def train(
    cfg: SourceConfig,
    prior: PosePrior | None,
    images: np.ndarray,
    poses: np.ndarray,
    run_dir: str | Path,
    seed: int = 0,
    device: str = "auto",
    extra: dict | None = None,
    provenance: dict | None = None,
    eval_sets: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict:
    """Train G on labelled crops ``(N, S, S, 3)`` uint8 and poses ``(N, 17, 3)`` mm.

    ``eval_sets`` (``{name: (crops, poses)}``) are evaluated every ``cfg.eval_every`` steps and
    logged as ``<name>_mpjpe`` (learning curves; the result is always the last step).

    ``provenance`` (:mod:`sa3dhp.provenance`) is stored in every checkpoint and, when given, an
    existing checkpoint with another record is refused before anything is loaded.

    Returns:
        ``{"train_loss_mm": ...}`` of the last logged step.
    """
    if cfg.loss not in ("l1", "l2"):
        raise ValueError(f"source.loss must be 'l1' or 'l2', got '{cfg.loss}'")
    if cfg.head == "latent" and prior is None:
        raise ValueError("the latent head needs the pose prior's decoder")
    run_dir = Path(run_dir)
    ctx = init_distributed(device)
    x_all = torch.as_tensor(images).permute(0, 3, 1, 2)  # (N, 3, S, S) uint8, a view
    y_all = torch.as_tensor(poses, dtype=torch.float32)
    torch.manual_seed(seed)
    model = build_model(cfg).to(ctx.device)
    if prior is not None:
        prior = prior.to(ctx.device).eval().requires_grad_(False)
    opt = adam(model.parameters(), cfg.lr, cfg.weight_decay, decoupled=True)
    trainer = Trainer.for_stage(
        run_dir,
        cfg,
        stage=STAGE,
        arch=arch_of(cfg),
        models={"G": model},
        optimizers={"G": opt},
        ctx=ctx,
        provenance=provenance,
        extra={"split": cfg.split, **(extra or {})},
        desc=cfg.split,
        schedule=[(opt, cfg.lr)],
    )
    trainer.check()
    if cfg.init and not trainer.checkpoint.exists():
        model.load_state_dict(load_weights(cfg.init, STAGE, arch_of(cfg))["G"])
    start = trainer.resume()
    net = ctx.wrap(model)
    sampler = EpochSampler(len(x_all), cfg.batch_size, seed, ctx.rank, ctx.world_size)
    held = {
        k: (torch.as_tensor(x).permute(0, 3, 1, 2), torch.as_tensor(y, dtype=torch.float32))
        for k, (x, y) in (eval_sets or {}).items()
    }
    model.train()

    def train_step(step: int, lr: float | None) -> dict:
        gen = step_generator(seed * 1009 + ctx.rank, step)
        idx = sampler.batch_indices(step)
        x = x_all[idx]
        if cfg.augment and cfg.shift_px > 0:
            x = pose_preserving(x, gen, cfg.shift_px)
        else:
            x = augment_images(x, gen) if cfg.augment else x.float() / 255.0
        y = y_all[idx]
        if cfg.flip_prob > 0:
            x, y = flip_samples(x, y, torch.rand(len(x), generator=gen) < cfg.flip_prob)
        y = y.to(ctx.device)
        with autocast(ctx.device, cfg.amp):
            out = net(x.to(ctx.device))
        pred = out.float() if cfg.head == "pose" else prior.decode(out.float())  # type: ignore[union-attr]
        loss = pose_loss(pred, y, cfg.loss)
        if cfg.latent_weight > 0 and cfg.head == "latent":
            target = prior.encode(y)  # type: ignore[union-attr]
            loss = loss + cfg.latent_weight * (out.float() - target).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss, "mpjpe_mm": lambda: (pred.detach() - y).norm(dim=-1).mean().item()}

    def evaluate() -> dict:
        return heldout_mpjpe(model, prior, held, ctx.device)

    last = trainer.fit(train_step, start, evaluate if held else None, cfg.eval_every)
    ctx.close()
    return {"train_mpjpe_mm": last["mpjpe_mm"]} if last else {}

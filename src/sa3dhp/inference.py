"""Prediction: load a G checkpoint and its pose decoder, and turn crops into 3D poses.

Evaluation, the demo and prediction on user images read models through this module; it imports
no training code. The stage names that G and pose-prior checkpoints carry live here too
(:data:`G_STAGE`, :data:`POSE_PRIOR_STAGE`): the training stages write them, every reader checks
them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from torch import nn

from sa3dhp import relations as rel
from sa3dhp.checkpoint import CheckpointError, checkpoint_info, load_weights
from sa3dhp.models import no_init
from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.motion_prior import MOTION_DIM
from sa3dhp.models.pose_prior import LATENT_DIM, PosePrior
from sa3dhp.models.relation_net import RelationNet

log = logging.getLogger(__name__)

#: The stage of a G checkpoint (source training, the oracle, direct regression, adaptation).
G_STAGE = "image_to_latent"
#: The stage of a pose-prior checkpoint (its decoder Dp turns G's latents into poses).
POSE_PRIOR_STAGE = "pose_prior"
#: The stage of a relation network's checkpoint (Tz or Tv; adaptation and diagnostics read it).
RELATION_STAGE = "relation_net"


def load_frozen(
    path: str | Path,
    stage: str,
    build: Callable[..., nn.Module],
    name: str,
    device: str | torch.device = "cpu",
    arch: dict | None = None,
) -> nn.Module:
    """Model ``name`` of a ``stage`` checkpoint, built by ``build(**arch)``, frozen (eval mode,
    no gradients). ``arch``: the architecture it must have (default: the one it records).

    Raises:
        CheckpointError: missing, corrupt, another stage's, or another architecture.
    """
    arch = arch if arch is not None else checkpoint_info(path, stage)["arch"]
    with no_init():  # every weight is loaded next (strictly)
        model = build(**arch)
    model.load_state_dict(load_weights(path, stage, arch)[name])
    return model.to(device).eval().requires_grad_(False)


def load_pose_prior(
    path: str | Path, device: str | torch.device = "cpu", arch: dict | None = None
) -> PosePrior:
    """A frozen pose prior from a pose-prior checkpoint (``arch``: see :func:`load_frozen`)."""
    return load_frozen(path, POSE_PRIOR_STAGE, PosePrior, "prior", device, arch)  # type: ignore[return-value]


def load_image_model(
    checkpoint: str | Path, device: str | torch.device = "cpu"
) -> tuple[ImageToLatent, PosePrior | None, dict]:
    """G (eval mode), the pose prior it decodes with (None for the direct-regression head), and
    the file's info, from a G checkpoint or a one-file model (:mod:`sa3dhp.model_file`).
    ``G.crop_size`` and ``G.crop_scale`` are the crop side it was trained on and the crop
    convention's side / person height, when known (a model file, or a checkpoint with its run's
    ``config.yaml`` beside it).

    Raises:
        CheckpointError: not a G checkpoint or model file, or a latent G that does not name its
            pose prior.
    """
    from sa3dhp import model_file

    if model_file.is_model_file(checkpoint):
        return model_file.load_model(checkpoint, device)
    info = checkpoint_info(checkpoint, G_STAGE)
    arch = info["arch"]
    with no_init():  # every weight is loaded next (strictly)
        model = ImageToLatent(
            arch["backbone"],
            weights=None,
            conv_channels=arch["conv_channels"],
            fc_hidden=arch["fc_hidden"],
            head=arch["head"],
        )
    model.load_state_dict(load_weights(checkpoint, G_STAGE)["G"])
    prior = None
    if arch["head"] == "latent":
        prior_path = info["extra"].get("pose_prior")
        if not prior_path:
            raise CheckpointError(f"{checkpoint}: does not name the pose prior it decodes with")
        prior = load_pose_prior(prior_path, device)
    config = Path(checkpoint).parent / "config.yaml"
    if config.is_file():
        run_cfg = OmegaConf.load(config)
        size = OmegaConf.select(run_cfg, "data.size")
        if size is not None:
            model.crop_size = int(size)  # type: ignore[assignment]
        scale = OmegaConf.select(run_cfg, "data.crop_scale")
        if scale is not None:
            model.crop_scale = float(scale)  # type: ignore[assignment]
    return model.to(device).eval(), prior, info


@torch.no_grad()
def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """``conv`` with ``bn`` folded into its weight and bias, in place (no copy of the module)."""
    from torch.nn.utils.fusion import fuse_conv_bn_weights

    conv.weight, conv.bias = fuse_conv_bn_weights(
        conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    return conv


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """``model`` (eval mode) with every BatchNorm that follows a convolution folded into it, in
    place: the same function with fewer passes over the activations (for prediction only; a
    folded model cannot train). Pairs are a ``Conv2d`` followed by a ``BatchNorm2d`` in a
    ``Sequential``, and ResNet blocks' ``convN`` / ``bnN``."""
    if model.training:
        raise ValueError("fold_batchnorm needs a model in eval mode")
    for module in list(model.modules()):
        if isinstance(module, nn.Sequential):
            items = list(module)
            for i in range(len(items) - 1):
                if isinstance(items[i], nn.Conv2d) and isinstance(items[i + 1], nn.BatchNorm2d):
                    module[i] = _fold(items[i], items[i + 1])
                    module[i + 1] = nn.Identity()
        for k in (1, 2, 3):
            conv, bn = getattr(module, f"conv{k}", None), getattr(module, f"bn{k}", None)
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                setattr(module, f"conv{k}", _fold(conv, bn))
                setattr(module, f"bn{k}", nn.Identity())
    return model.to(memory_format=torch.channels_last)  # the layout G's convolutions run in


def predict_poses(model: ImageToLatent, prior: PosePrior | None, x: torch.Tensor) -> torch.Tensor:
    """Poses ``(B, 17, 3)`` mm from crops ``(B, 3, S, S)``: FK(Dp(G(x))), or the direct head."""
    out = model(x)
    return out if model.head == "pose" else prior.decode(out)  # type: ignore[union-attr]


@torch.no_grad()
def predict(
    model: ImageToLatent, prior: PosePrior | None, images: np.ndarray, batch: int = 256
) -> np.ndarray:
    """Root-relative poses ``(N, 17, 3)`` mm for crops ``(N, S, S, 3)`` uint8, in batches.

    Crops of another size than the model's (``G.crop_size``, when known) are resized to it
    (bilinear, antialiased), with a note in the log; they are never fed at the wrong size.
    """
    device = next(model.parameters()).device
    size = getattr(model, "crop_size", None)
    if size is not None and images.shape[1:3] != (size, size):
        log.warning(
            "crops are %dx%d, the model takes %dx%d: resizing them",
            images.shape[2], images.shape[1], size, size,
        )  # fmt: skip
    out = []
    for i in range(0, len(images), batch):
        x = torch.as_tensor(images[i : i + batch]).permute(0, 3, 1, 2).to(device)
        if size is not None and x.shape[-2:] != (size, size):
            x = F.interpolate(x.float(), (size, size), mode="bilinear", antialias=True)
            x = x.round().clamp(0, 255).to(torch.uint8)
        out.append(predict_poses(model, prior, x).float().cpu().numpy())
    return np.concatenate(out)


@torch.no_grad()
def heldout_mpjpe(
    model: ImageToLatent,
    prior: PosePrior | None,
    sets: dict[str, tuple[torch.Tensor, torch.Tensor]],
    device: torch.device,
    batch: int = 256,
) -> dict[str, float]:
    """``{"<name>_mpjpe": mm}`` of G on each held-out set ``(uint8 crops (N, 3, S, S), poses
    (N, 17, 3))``, in eval mode (restores the mode it found). For learning curves only: never
    used to choose a checkpoint or a step count."""
    was_training = model.training
    model.eval()
    out = {}
    for name, (x, y) in sets.items():
        err = [
            (
                predict_poses(model, prior, x[i : i + batch].to(device)).float().cpu()
                - y[i : i + batch]
            )
            .norm(dim=-1)
            .mean(dim=-1)
            for i in range(0, len(x), batch)
        ]
        out[f"{name}_mpjpe"] = round(float(torch.cat(err).mean()), 2)
    model.train(was_training)
    return out


def relation_arch(name: str, hidden: int) -> dict:
    """The architecture fields a relation network's checkpoint must match."""
    r = rel.get(name)
    return {
        "relation": r.name,
        "dim": MOTION_DIM if r.is_temporal else LATENT_DIM,
        "hidden": hidden,
    }


def relation_checkpoint(run_dir: str | Path, name: str) -> Path:
    """Where the network of relation ``name`` lives in a relations run directory."""
    return Path(run_dir) / f"{rel.get(name).name}.safetensors"


def load_relation(run_dir: str | Path, name: str, hidden: int) -> RelationNet:
    """A trained relation network (eval mode, frozen).

    Raises:
        CheckpointError: one line naming the file when it is missing or does not match.
    """
    arch = relation_arch(name, hidden)
    weights = load_weights(relation_checkpoint(run_dir, name), RELATION_STAGE, arch)
    net = RelationNet(arch["dim"], hidden)
    net.load_state_dict(weights["T"])
    return net.eval().requires_grad_(False)

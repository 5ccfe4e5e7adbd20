"""One-file models: G, its frozen pose decoder Dp and everything needed to feed them, in one
safetensors file that can be moved or given to someone (``sa3dhp export model``).

A model file holds the tensors ``G.<key>`` (the image-to-latent regressor) and, for the latent
head, ``Dp.<key>`` (the whole pose prior; its decoder turns G's latents into poses), and string
metadata:

==================  ================================================================
key                 value
==================  ================================================================
``format``          ``sa3dhp-model``
``version``         :data:`FORMAT_VERSION`
``stage``           ``image_to_latent`` (the stage of the checkpoint it came from)
``arch``            JSON: G's architecture (backbone, conv_channels, fc_hidden, head)
``prior_arch``      JSON: the pose prior's architecture (``null`` for the direct head)
``crop_size``       the crop side in pixels G was trained on
``crop``            JSON: the crop convention (square, centred on the pelvis, side =
                    ``crop_scale`` x the person's height; RGB uint8)
``joints``          JSON: the 17 joint names, in the order of the predicted poses
``config``          JSON: the resolved config of the run that made it
``source``          the checkpoint it was exported from
==================  ================================================================

Loading reads only this file (never a pickle: safetensors holds tensors and strings only), checks
its own record and refuses anything else with one line naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from sa3dhp import skeleton as sk
from sa3dhp.checkpoint import CheckpointError, checkpoint_info, load_weights
from sa3dhp.files import atomic_write
from sa3dhp.inference import G_STAGE, POSE_PRIOR_STAGE
from sa3dhp.models import no_init
from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.pose_prior import PosePrior

FORMAT = "sa3dhp-model"
FORMAT_VERSION = 1
_ARCH_KEYS = ("backbone", "conv_channels", "fc_hidden", "head")


class ModelFileError(CheckpointError):
    """A model file is unreadable, not a model file, or not what it says (one-line message)."""


def _checkpoint_of(path: str | Path) -> Path:
    """The G checkpoint of a run directory, or ``path`` itself."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.safetensors"
    if not path.is_file():
        raise CheckpointError(f"{path}: no such G checkpoint (give a run directory or its file)")
    return path


def _run_config(checkpoint: Path) -> dict:
    """The resolved config saved next to a checkpoint (``config.yaml``), as a plain dict."""
    path = checkpoint.parent / "config.yaml"
    if not path.is_file():
        raise CheckpointError(
            f"{checkpoint}: no config.yaml beside it, so the crop size it was trained on is "
            "unknown; export from the run directory that trained it"
        )
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)  # type: ignore[return-value]


def export_model(checkpoint: str | Path, out: str | Path) -> Path:
    """Write the one-file model of a G checkpoint (or run directory) to ``out``.

    Raises:
        CheckpointError: not a G checkpoint, its pose prior is missing, or no config beside it.
    """
    ckpt = _checkpoint_of(checkpoint)
    info = checkpoint_info(ckpt, G_STAGE)
    arch = {k: info["arch"][k] for k in _ARCH_KEYS}
    cfg = _run_config(ckpt)
    tensors = {f"G.{k}": v for k, v in load_weights(ckpt, G_STAGE)["G"].items()}
    prior_arch = None
    if arch["head"] == "latent":
        prior_path = info["extra"].get("pose_prior")
        if not prior_path or not Path(prior_path).is_file():
            raise CheckpointError(
                f"{ckpt}: its pose prior {prior_path!r} is not there; export from the directory "
                "the run was made in"
            )
        prior_arch = checkpoint_info(prior_path, POSE_PRIOR_STAGE)["arch"]
        prior = load_weights(prior_path, POSE_PRIOR_STAGE, prior_arch)["prior"]
        tensors.update({f"Dp.{k}": v for k, v in prior.items()})
    data = cfg.get("data", {})
    return write_model_file(
        out,
        tensors,
        arch,
        prior_arch,
        crop_size=int(data.get("size", 64)),
        crop_scale=data.get("crop_scale"),
        config=cfg,
        source=str(ckpt),
    )


def write_model_file(
    out: str | Path,
    tensors: dict[str, torch.Tensor],
    arch: dict,
    prior_arch: dict | None,
    crop_size: int,
    crop_scale: float | None,
    config: dict,
    source: str,
) -> Path:
    """Write a model file from G's tensors (``G.<key>``) and the prior's (``Dp.<key>``, for the
    latent head), with the record :func:`read_metadata` checks; atomically."""
    meta = {
        "format": FORMAT,
        "version": str(FORMAT_VERSION),
        "stage": G_STAGE,
        "arch": json.dumps(arch),
        "prior_arch": json.dumps(prior_arch),
        "crop_size": str(int(crop_size)),
        "crop": json.dumps(
            {
                "shape": "square",
                "centre": "pelvis",
                "side": "crop_scale x person height",
                "crop_scale": crop_scale,
                "channels": "RGB uint8",
            }
        ),
        "joints": json.dumps(list(sk.JOINT_NAMES)),
        "config": json.dumps(config),
        "source": source,
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    atomic_write(out, lambda tmp: save_file(tensors, str(tmp), metadata=meta))
    return out


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The checked metadata of a model file (``arch``, ``prior_arch``, ``crop``, ``joints`` and
    ``config`` decoded from JSON; ``crop_size`` an int).

    Raises:
        ModelFileError: missing, not a safetensors file (a pickle, say), not a model file, of
            another stage or version, or with a broken record.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(
            f"{path}: not a safetensors model file ({type(e).__name__}); sa3dhp reads only "
            "files written by `sa3dhp export model` (never pickles)"
        ) from None
    if meta.get("format") != FORMAT:
        what = f"a checkpoint of stage '{meta['stage']}'" if "stage" in meta else "not one"
        raise ModelFileError(
            f"{path}: not an sa3dhp model file ({what}); make one with `sa3dhp export model`"
        )
    if meta.get("stage") != G_STAGE:
        raise ModelFileError(f"{path}: a model of stage '{meta.get('stage')}', expected {G_STAGE}")
    if meta.get("version") != str(FORMAT_VERSION):
        raise ModelFileError(
            f"{path}: model file version {meta.get('version')}, this sa3dhp reads {FORMAT_VERSION}"
        )
    try:
        out: dict[str, Any] = {
            k: json.loads(meta[k]) for k in ("arch", "prior_arch", "crop", "joints", "config")
        }
        out["crop_size"] = int(meta["crop_size"])
    except (KeyError, ValueError) as e:
        raise ModelFileError(f"{path}: broken model record ({type(e).__name__}: {e})") from None
    if sorted(out["arch"]) != sorted(_ARCH_KEYS) or out["joints"] != list(sk.JOINT_NAMES):
        raise ModelFileError(f"{path}: the model's architecture or joints are not this sa3dhp's")
    out["source"] = meta.get("source")
    out["extra"] = {"model_file": str(path), "exported_from": meta.get("source")}
    return out


def load_model(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[ImageToLatent, PosePrior | None, dict]:
    """G (eval mode), its frozen pose prior (None for the direct head) and the checked metadata
    of a model file; ``G.crop_size`` is set to the crop side it expects.

    Raises:
        ModelFileError: see :func:`read_metadata`, or tensors that do not fit the record.
    """
    meta = read_metadata(path)
    state = load_file(str(path))
    with no_init():  # every weight is loaded below (strictly)
        model = ImageToLatent(**meta["arch"], weights=None)
        prior = PosePrior(**meta["prior_arch"]) if meta["prior_arch"] is not None else None
    try:
        model.load_state_dict({k[2:]: v for k, v in state.items() if k.startswith("G.")})
        if prior is not None:
            prior.load_state_dict({k[3:]: v for k, v in state.items() if k.startswith("Dp.")})
    except RuntimeError as e:
        first = str(e).splitlines()[0]
        raise ModelFileError(f"{path}: tensors do not fit the model's record ({first})") from None
    model.crop_size = meta["crop_size"]  # type: ignore[assignment]
    if meta["crop"].get("crop_scale"):
        model.crop_scale = float(meta["crop"]["crop_scale"])  # type: ignore[assignment]
    if prior is not None:
        prior = prior.to(device).eval().requires_grad_(False)
    return model.to(device).eval(), prior, meta


def is_model_file(path: str | Path) -> bool:
    """Whether ``path`` is a safetensors file whose metadata says it is a model file."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return (f.metadata() or {}).get("format") == FORMAT
    except (SafetensorError, OSError, ValueError):
        return False

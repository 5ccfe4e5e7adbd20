"""Runs of Algorithm 1 step 4 and its baselines: Gs on source labels, the direct-regression
baseline, and the oracle fine-tuned from Gs on target labels; and their evaluation."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from sa3dhp import pipeline
from sa3dhp import provenance as prov
from sa3dhp.config import Config
from sa3dhp.data.synth import load_split
from sa3dhp.data.world import split_hash
from sa3dhp.runs import priors
from sa3dhp.train.distributed import is_main_process


def image_model_config(cfg: Config, variant: str):
    """The G training config of ``source`` (ours), ``direct`` or ``oracle``."""
    from dataclasses import replace

    if variant not in pipeline.IMAGE_MODEL_DIRS:
        raise ValueError(
            f"variant must be one of {sorted(pipeline.IMAGE_MODEL_DIRS)}, got '{variant}'"
        )
    if variant == "direct":
        return replace(cfg.source, head="pose")
    if variant == "oracle":
        init = (
            pipeline.stage_dir(cfg, pipeline.IMAGE_MODEL_DIRS["source"]) / "checkpoint.safetensors"
        )
        return replace(
            cfg.source,
            split="target_oracle",
            init=cfg.source.init or str(init),
            steps=cfg.source.oracle_steps or cfg.source.steps,
        )
    return cfg.source


def _heldout(cfg: Config, splits: tuple[str, ...], torch_layout: bool = False) -> dict:
    """``{split: (crops, poses)}`` of labelled held-out splits for learning curves (never for
    selection); ``torch_layout``: uint8 ``(N, 3, S, S)`` tensors, else numpy ``(N, S, S, 3)``."""
    out = {}
    for split in splits:
        data = load_split(cfg.data, split)
        x, y = data.images, data.poses
        if torch_layout:
            x, y = torch.as_tensor(x).permute(0, 3, 1, 2), torch.as_tensor(y, dtype=torch.float32)
        out[split] = (x, y)
    return out


def image_model_record(cfg: Config, variant: str = "source") -> dict:
    """Provenance record of a G run: the variant's ``source`` section (``oracle_steps`` folded
    into ``steps``, ``init`` recorded as the parent ``init``), seed, its split, and parents pose
    prior (latent head) and ``init``."""
    scfg = image_model_config(cfg, variant)
    parents: dict[str, Path] = {}
    if scfg.head == "latent":
        parents["pose_prior"] = pipeline.pose_prior_path(cfg)
    if scfg.init:
        parents["init"] = Path(scfg.init)
    return prov.stage_record(
        scfg,
        seed=cfg.seed,
        world=cfg.data,
        splits=[scfg.split],
        parents=parents,
        drop=("oracle_steps", "init", *prov.at_default(scfg, ("shift_px",))),
    )


def _check_flip(cfg: Config, scfg) -> None:
    """Refuse mirroring crops of a look that shades left and right limbs differently: a mirrored
    crop with a mirrored label would not be an image of the mirrored scene."""
    from sa3dhp.data.world import _SPLIT_DOMAIN, appearance_style

    domain = _SPLIT_DOMAIN.get(scfg.split)
    if scfg.flip_prob > 0 and domain in ("source", "target") and not cfg.data.paths.get(scfg.split):
        contrast = appearance_style(cfg.data, domain).side_contrast
        if contrast > 0:
            raise ValueError(
                f"source.flip_prob={scfg.flip_prob} on {scfg.split}: its look shades left and "
                f"right limbs differently (side_contrast {contrast}), so a mirrored crop is not a "
                "valid sample; set source.flip_prob=0 or data.source_appearance.side_contrast=0"
            )


def train_image_model(
    cfg: Config, variant: str = "source", run_name: str | None = None, *, force: bool = False
) -> dict:
    """Algorithm 1 step 4 (``source``) or a baseline (``direct`` regression, ``oracle``), in
    ``out_dir/run_name`` (default: the variant's directory, :data:`pipeline.IMAGE_MODEL_DIRS`)."""
    from sa3dhp.train import source

    scfg = image_model_config(cfg, variant)
    _check_flip(cfg, scfg)
    run_dir = pipeline.stage_dir(cfg, run_name or pipeline.IMAGE_MODEL_DIRS[variant])
    record = image_model_record(cfg, variant)
    pipeline.start_run(cfg, run_dir, source.STAGE, record, force)
    data = load_split(cfg.data, scfg.split)
    prior = priors.load_pose_prior(cfg) if scfg.head == "latent" else None
    prior_path = pipeline.pose_prior_path(cfg)
    t0 = time.perf_counter()
    out = source.train(
        scfg,
        prior,
        data.images,
        data.poses,
        run_dir,
        cfg.seed,
        cfg.device,
        extra={"pose_prior": str(prior_path) if prior is not None else None, "variant": variant},
        provenance=record,
        eval_sets=_heldout(cfg, ("source_val", "target_val")) if scfg.eval_every > 0 else None,
    )
    out["train_time_s"] = round(time.perf_counter() - t0, 1)
    if is_main_process():
        pipeline.write_metrics(run_dir, out)
    return out


def evaluate_image_model(
    cfg: Config,
    checkpoint: str | Path | None = None,
    split: str = "target_test",
    variant: str = "source",
) -> dict:
    """Metrics of a G checkpoint (default: the config's ``variant`` run) on a labelled split.
    On data other than the run's own split of that name (a converted split, another world)
    the outputs are named ``<split>-<hash>`` (:func:`sa3dhp.evaluate.output_tag`)."""
    from sa3dhp.evaluate import evaluate_split

    if checkpoint is None:
        checkpoint = (
            pipeline.stage_dir(cfg, pipeline.IMAGE_MODEL_DIRS[variant]) / "checkpoint.safetensors"
        )
    checkpoint = Path(checkpoint)
    if checkpoint.is_dir():
        checkpoint = checkpoint / pipeline.CHECKPOINT
    data = load_split(cfg.data, split)
    return evaluate_split(
        checkpoint, data, device=cfg.device, data_hash=split_hash(cfg.data, split)
    )

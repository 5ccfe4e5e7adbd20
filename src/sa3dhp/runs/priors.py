"""Runs of Algorithm 1 steps 2-3: the pose prior and the motion prior on the mocap split, and
loading them (frozen) for the stages that read them."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from sa3dhp import pipeline
from sa3dhp import provenance as prov
from sa3dhp.config import Config
from sa3dhp.data.synth import load_split
from sa3dhp.train.distributed import is_main_process


def pose_prior_record(cfg: Config) -> dict:
    """Provenance record of the pose prior: ``pose_prior`` section, seed, the mocap split."""
    return prov.stage_record(cfg.pose_prior, seed=cfg.seed, world=cfg.data, splits=["mocap"])


def train_pose_prior(cfg: Config, force: bool = False) -> dict:
    """Algorithm 1 step 2 on the ``mocap`` split."""
    from sa3dhp.train import pose_prior

    run_dir = pipeline.stage_dir(cfg, pipeline.POSE_PRIOR_DIR)
    record = pose_prior_record(cfg)
    pipeline.start_run(cfg, run_dir, pose_prior.STAGE, record, force)
    mocap = load_split(cfg.data, "mocap", images=False)
    t0 = time.perf_counter()
    out = pose_prior.train(
        cfg.pose_prior,
        mocap.poses,
        mocap.clip,
        run_dir,
        cfg.seed,
        cfg.device,
        record,
        holdout=cfg.data.mocap_holdout,
    )
    out.pop("latents", None)
    out["train_time_s"] = round(time.perf_counter() - t0, 1)
    if is_main_process():
        pipeline.write_metrics(run_dir, out)
    return out


def load_pose_prior(cfg: Config, device: str | torch.device = "cpu"):
    """The trained pose prior of this config (eval mode, frozen)."""
    from sa3dhp.train import pose_prior

    return pose_prior.load(pipeline.pose_prior_path(cfg), cfg.pose_prior, device)


def motion_prior_record(cfg: Config) -> dict:
    """Provenance record of the motion prior: its section, seed, mocap, parent pose prior."""
    return prov.stage_record(
        cfg.motion_prior,
        seed=cfg.seed,
        world=cfg.data,
        splits=["mocap"],
        parents={"pose_prior": pipeline.pose_prior_path(cfg)},
    )


def train_motion_prior(cfg: Config, force: bool = False) -> dict:
    """Algorithm 1 step 3 on the ``mocap`` split (needs the pose prior)."""
    from sa3dhp.train import motion_prior

    run_dir = pipeline.stage_dir(cfg, pipeline.MOTION_PRIOR_DIR)
    record = motion_prior_record(cfg)
    pipeline.start_run(cfg, run_dir, motion_prior.STAGE, record, force)
    mocap = load_split(cfg.data, "mocap", images=False)
    prior = load_pose_prior(cfg)
    t0 = time.perf_counter()
    out = motion_prior.train(
        cfg.motion_prior,
        prior,
        mocap.poses,
        mocap.clip,
        run_dir,
        cfg.seed,
        cfg.device,
        record,
        holdout=cfg.data.mocap_holdout,
    )
    out["train_time_s"] = round(time.perf_counter() - t0, 1)
    if is_main_process():
        pipeline.write_metrics(run_dir, out)
    return out


def load_motion_prior(
    cfg: Config, device: str | torch.device = "cpu", checkpoint: str | Path | None = None
):
    """The trained motion prior of this config (eval mode, frozen), or the one at
    ``checkpoint`` (which must match ``cfg.motion_prior``'s architecture)."""
    from sa3dhp.train import motion_prior

    return motion_prior.load(
        checkpoint or pipeline.motion_prior_path(cfg), cfg.motion_prior, device
    )

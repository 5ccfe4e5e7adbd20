"""The pipeline at a glance: Algorithm 1's stages, the run directory each writes under
``out_dir``, and what each reads. The runners themselves are :mod:`sa3dhp.runs` (one module per
group of stages); the research code of each stage is :mod:`sa3dhp.train`.

=================  =====================  ===============================================
stage              run directory          reads
=================  =====================  ===============================================
pose prior         ``pose_prior``         mocap
motion prior       ``motion_prior``       mocap, pose prior
Gs                 ``source``             source_train, pose prior (source_val and
                                          target_val for the learning curve only)
direct regression  ``direct_regression``  source_train
oracle             ``oracle``             target_oracle (target labels), Gs, pose prior
relation networks  ``relations``          mocap, pose prior, motion prior
adaptation         ``adapted``            target_train (no labels), Gs, pose and motion
                                          priors, relation networks
AdaBN baseline     ``adabn``              target_train, Gs
=================  =====================  ===============================================

Runners: :mod:`sa3dhp.runs.priors` (``train_pose_prior``, ``train_motion_prior``),
:mod:`sa3dhp.runs.image_models` (``train_image_model`` with variant ``source``, ``direct`` or
``oracle``), :mod:`sa3dhp.runs.relation_nets` (``train_relations``, ``score_relations``),
:mod:`sa3dhp.runs.adaptation` (``adapt``, ``adabn``).

Every runner computes its stage's provenance record first (:mod:`sa3dhp.provenance`: config
section, seed, data splits, parent checkpoints) and refuses an existing checkpoint made by
anything else, before ``config.yaml`` is written or any weights are read; with a matching record
it resumes or skips. ``force=True`` deletes the stage's run (for relations: the networks being
trained) and starts afresh.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sa3dhp import provenance as prov
from sa3dhp.config import Config, save_config

POSE_PRIOR_DIR, MOTION_PRIOR_DIR = "pose_prior", "motion_prior"  # = the stages' STAGE names


RELATIONS_DIR = "relations"


CHECKPOINT = "checkpoint.safetensors"


IMAGE_MODEL_DIRS = {"source": "source", "direct": "direct_regression", "oracle": "oracle"}


ADAPT_DIR, ADABN_DIR = "adapted", "adabn"


#: Run directories of every stage ``sa3dhp demo`` trains (``remove_runs``).
RUN_DIRS = (
    POSE_PRIOR_DIR,
    MOTION_PRIOR_DIR,
    "source",
    "direct_regression",
    "oracle",
    RELATIONS_DIR,
    "adapted",
    "adabn",
    "stress_oracle",
)


def stage_dir(cfg: Config, stage: str) -> Path:
    """Run directory of a stage."""
    return Path(cfg.out_dir) / stage


def pose_prior_path(cfg: Config) -> Path:
    return stage_dir(cfg, POSE_PRIOR_DIR) / CHECKPOINT


def motion_prior_path(cfg: Config) -> Path:
    return stage_dir(cfg, MOTION_PRIOR_DIR) / CHECKPOINT


def source_path(cfg: Config, checkpoint: str | Path | None = None) -> Path:
    return Path(checkpoint) if checkpoint else stage_dir(cfg, "source") / CHECKPOINT


def start_run(cfg: Config, run_dir: Path, stage: str, record: dict, force: bool) -> None:
    """What every runner does before training: with ``force``, delete the run directory (every
    rank does, before any rank can write); refuse an existing checkpoint whose provenance record
    is not ``record``; write the resolved ``config.yaml``."""
    if force:
        shutil.rmtree(run_dir, ignore_errors=True)
    prov.check_existing(run_dir / CHECKPOINT, record, stage)
    save_config(cfg, run_dir)


def write_metrics(run_dir: Path, metrics: dict) -> None:
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")


def remove_runs(cfg: Config, dirs: tuple[str, ...] = RUN_DIRS) -> None:
    """Delete the stages' run directories under ``cfg.out_dir`` (``sa3dhp demo --force``; the
    data cache and other files there are kept)."""
    for d in dirs:
        shutil.rmtree(stage_dir(cfg, d), ignore_errors=True)

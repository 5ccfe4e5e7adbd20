"""Whole training stages run from the CLI: kill-and-resume, torchrun (gloo), bad checkpoints;
loading a frozen stage from a checkpoint path."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sa3dhp import checkpoint, pipeline
from sa3dhp.config import load_config
from sa3dhp.runs import priors
from tests.test_synth import TINY

TINY_PRIORS = [
    "pose_prior.steps=12",
    "pose_prior.batch_size=32",
    "pose_prior.hidden=32",
    "pose_prior.checkpoint_every=5",
    "pose_prior.log_every=2",
    "pose_prior.sw_weight=0.5",
    "motion_prior.steps=6",
    "motion_prior.batch_size=4",
    "motion_prior.hidden=16",
    "motion_prior.checkpoint_every=3",
    "motion_prior.log_every=2",
]


# ------------------------------------------------------------------------ whole-stage runs


def _run(args: list[str], env_extra: dict | None = None, launcher: list[str] | None = None):
    env = {**os.environ, "SA3DHP_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1", **(env_extra or {})}
    cmd = (launcher or [sys.executable, "-m"]) + ["sa3dhp", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def _overrides(tmp_path: Path, out: str) -> list[str]:
    return [
        *TINY,
        *TINY_PRIORS,
        f"data.cache_dir={tmp_path / 'cache'}",
        f"out_dir={tmp_path / out}",
    ]


def test_kill_and_resume_matches_an_uninterrupted_run(tmp_path):
    straight = _run(["train", "pose-prior", *_overrides(tmp_path, "straight")])
    assert straight.returncode == 0, straight.stderr[-2000:]
    killed = _run(
        ["train", "pose-prior", *_overrides(tmp_path, "killed")], {"SA3DHP_CRASH_AT_STEP": "8"}
    )
    assert killed.returncode == 17  # died after step 8; the last checkpoint is step 5
    ckpt = tmp_path / "killed" / "pose_prior" / "checkpoint.safetensors"
    assert checkpoint.checkpoint_info(ckpt, "pose_prior")["step"] == 5
    resumed = _run(["train", "pose-prior", *_overrides(tmp_path, "killed")])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a = load_file(str(tmp_path / "straight" / "pose_prior" / "checkpoint.safetensors"))
    b = load_file(str(ckpt))
    weights = [k for k in a if k.startswith("model.")]
    assert weights and all(torch.equal(a[k], b[k]) for k in weights)
    ma = json.loads((tmp_path / "straight" / "pose_prior" / "metrics.json").read_text())
    mb = json.loads((tmp_path / "killed" / "pose_prior" / "metrics.json").read_text())
    assert ma["val_mpjpe"] == mb["val_mpjpe"]
    steps = [
        json.loads(line)["step"]
        for line in (tmp_path / "killed" / "pose_prior" / "history.jsonl").read_text().splitlines()
    ]
    assert steps == sorted(set(steps))  # resumed history has no duplicate steps


def test_torchrun_two_processes_gloo(tmp_path):
    torchrun = [
        str(Path(sys.executable).with_name("torchrun")),
        "--standalone",
        "--nproc_per_node=2",
        "-m",
    ]
    res = _run(
        ["train", "pose-prior", *_overrides(tmp_path, "ddp"), "pose_prior.steps=20"],
        launcher=torchrun,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    run = tmp_path / "ddp" / "pose_prior"
    info = checkpoint.checkpoint_info(run / "checkpoint.safetensors", "pose_prior")
    assert info["extra"] == {"written_by_rank": 0, "world_size": 2}
    assert not list(run.glob(".*tmp*"))  # no stray writes from other ranks
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert history[-1]["rec_mm"] < history[0]["rec_mm"]  # the loss falls
    assert len(history) == len({h["step"] for h in history})  # one writer


def test_cli_reports_a_missing_checkpoint_in_one_line(tmp_path):
    res = _run(["evaluate", "prior", *_overrides(tmp_path, "nothing")])
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "checkpoint.safetensors" in lines[0] and "pose_prior" in lines[0]


def test_motion_prior_loads_from_a_checkpoint_path_and_refuses_another_stage(tmp_path):
    cfg = load_config("demo", _overrides(tmp_path, "run"))
    priors.train_pose_prior(cfg)
    priors.train_motion_prior(cfg)
    elsewhere = tmp_path / "elsewhere.safetensors"
    shutil.copyfile(
        pipeline.stage_dir(cfg, pipeline.MOTION_PRIOR_DIR) / "checkpoint.safetensors", elsewhere
    )
    default = priors.load_motion_prior(cfg).state_dict()
    moved = priors.load_motion_prior(cfg, checkpoint=elsewhere)
    assert not moved.training and not any(p.requires_grad for p in moved.parameters())
    assert all(torch.equal(default[k], v) for k, v in moved.state_dict().items())
    pose_ckpt = pipeline.stage_dir(cfg, pipeline.POSE_PRIOR_DIR) / "checkpoint.safetensors"
    with pytest.raises(ValueError, match="motion"):
        priors.load_motion_prior(cfg, checkpoint=pose_ckpt)

"""The shared training core: resume, sampling, distribution, devices, logging and config
(checkpoint files: `test_checkpoint_files.py`)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DistributedSampler

from sa3dhp import checkpoint, config, device
from sa3dhp.train import distributed, sampling
from sa3dhp.train import logging as run_logging
from sa3dhp.train.toy import ToyConfig, make_data

TOY = ["steps=60", "checkpoint_every=20", "log_every=5", "device=cpu"]
CRASH_EXIT = 17  # sampling.crash_hook's exit status


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "SA3DHP_CRASH_AT_STEP")
        and not k.startswith(("MASTER_", "TORCHELASTIC_"))
    }
    # one thread per process: 2 shared cores, and busy-waiting thread pools slow tiny ops 100x
    env.update(SA3DHP_NO_PROGRESS="1", OMP_NUM_THREADS="1", **extra)
    return env


def _toy_cmd(run_dir: Path) -> list[str]:
    return [sys.executable, "-m", "sa3dhp.train.toy", f"run_dir={run_dir}", *TOY]


def _metrics(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


# ---------------------------------------------------------------------------------------------
# resume
# ---------------------------------------------------------------------------------------------


def test_kill_between_checkpoints_and_resume_matches_uninterrupted_run(tmp_path):
    ref_dir, run_dir = tmp_path / "ref", tmp_path / "killed"
    # the reference run and the run killed after step 33 (checkpoints at 20, 40, 60) in parallel
    ref = subprocess.Popen(_toy_cmd(ref_dir), env=_env(), stdout=subprocess.PIPE, text=True)
    killed = subprocess.run(
        _toy_cmd(run_dir), env=_env(SA3DHP_CRASH_AT_STEP="33"), capture_output=True, text=True
    )
    ref_out, _ = ref.communicate(timeout=120)
    assert ref.returncode == 0
    assert killed.returncode == CRASH_EXIT, killed.stderr[-2000:]
    assert checkpoint.checkpoint_info(run_dir / "toy.safetensors", "toy")["step"] == 20
    assert (
        max(r["step"] for r in run_logging.read_history(run_dir)) == 30
    )  # logged after the checkpoint

    resumed = subprocess.run(_toy_cmd(run_dir), env=_env(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    (m_ref,), (m_res,) = _metrics(ref_out), _metrics(resumed.stdout)
    assert m_res["val_loss"] == m_ref["val_loss"] and m_res["train_loss"] == m_ref["train_loss"]
    assert m_res["checkpoints_written"] == 2  # 40 and 60; 20 was not rewritten
    w_ref = checkpoint.load_weights(ref_dir / "toy.safetensors", "toy")
    w_res = checkpoint.load_weights(run_dir / "toy.safetensors", "toy")
    assert w_ref.keys() == w_res.keys() == {"mlp"}
    assert all(torch.equal(w_ref["mlp"][k], w_res["mlp"][k]) for k in w_ref["mlp"])
    # the history was appended without duplicate steps, value for value as uninterrupted
    h_ref, h_res = run_logging.read_history(ref_dir), run_logging.read_history(run_dir)
    lines = [json.loads(x) for x in (run_dir / "history.jsonl").read_text().splitlines()]
    assert len({(r["step"], *sorted(r)) for r in lines}) == len(lines)
    assert h_res == h_ref and h_ref[-1]["step"] == 60
    assert len(list(run_dir.glob("toy.state-*.pt"))) == 1
    assert not list(run_dir.glob(".*"))  # no temporary files left


def test_epoch_sampler_follows_distributed_sampler_and_needs_no_replay():
    n, batch, world = 50, 8, 2
    ranks = [
        sampling.EpochSampler(n, batch, seed=3, rank=r, world_size=world) for r in range(world)
    ]
    assert ranks[0].steps_per_epoch == 6  # 25 samples per rank, batches of 4, tail dropped
    for epoch in (0, 1):
        ref = DistributedSampler(range(n), world, 0, shuffle=True, seed=3, drop_last=True)
        ref.set_epoch(epoch)
        steps = range(epoch * 6, epoch * 6 + 6)
        got = torch.cat([ranks[0].batch_indices(s) for s in steps]).tolist()
        assert got == list(ref)[:24]
        both = torch.cat([r.batch_indices(s) for r in ranks for s in steps])
        assert len(set(both.tolist())) == len(both) == 48  # ranks are disjoint
    fresh = sampling.EpochSampler(n, batch, seed=3, rank=1, world_size=world)  # "resumed" process
    assert torch.equal(fresh.batch_indices(13), ranks[1].batch_indices(13))
    assert not torch.equal(ranks[0].batch_indices(0), ranks[0].batch_indices(6))  # reshuffled
    keep = sampling.EpochSampler(10, 4, seed=0, drop_last=False)
    assert keep.steps_per_epoch == 3 and len(keep.batch_indices(2)) == 2
    tiny = sampling.EpochSampler(3, 8, seed=0)
    assert len(tiny.batch_indices(5)) == 8 and set(tiny.batch_indices(5).tolist()) == {0, 1, 2}
    with pytest.raises(ValueError, match="world_size"):
        sampling.EpochSampler(10, 1, rank=0, world_size=2)


def test_step_randomness_depends_only_on_seed_and_step():
    a = torch.rand(5, generator=sampling.step_generator(1, 7))
    assert torch.equal(a, torch.rand(5, generator=sampling.step_generator(1, 7)))
    assert not torch.equal(a, torch.rand(5, generator=sampling.step_generator(1, 8)))
    assert not torch.equal(
        a, torch.rand(5, generator=sampling.step_generator(1, 7, 1))
    )  # rank salt

    def draw() -> tuple:
        return torch.rand(3), float(torch.randn(1)), random.random(), np.random.rand()  # noqa: NPY002

    sampling.seed_step(1, 7)
    first = draw()
    torch.rand(100), random.random()  # history must not matter
    sampling.seed_step(1, 7)
    again = draw()
    assert torch.equal(first[0], again[0]) and first[1:] == again[1:]


# ---------------------------------------------------------------------------------------------
# distribution, devices, logging, config
# ---------------------------------------------------------------------------------------------


def test_torchrun_two_processes_gloo(tmp_path):
    run_dir = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    cmd += ["-m", "sa3dhp.train.toy", f"run_dir={run_dir}", *TOY]
    out = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    by_rank = {m["rank"]: m for m in _metrics(out.stdout)}
    assert sorted(by_rank) == [0, 1] and {m["world_size"] for m in by_rank.values()} == {2}
    assert by_rank[0]["checkpoints_written"] == 3 and by_rank[1]["checkpoints_written"] == 0
    assert by_rank[0]["val_loss"] == by_rank[1]["val_loss"]  # DDP kept the replicas equal
    # the loss falls
    history = run_logging.read_history(run_dir)
    losses = [r["loss"] for r in history if "loss" in r]
    assert losses[-1] < 0.3 * losses[0]
    _, y = make_data(200, 0)
    assert by_rank[0]["val_loss"] < 0.2 * float(y[:40].square().mean())
    # only rank 0 wrote: one checkpoint, one state file, one TensorBoard file, unique steps
    assert sorted(p.name for p in run_dir.glob("*.safetensors")) == ["toy.safetensors"]
    assert len(list(run_dir.glob("toy.state-*.pt"))) == 1
    assert len(list((run_dir / "tb").iterdir())) == 1
    lines = (run_dir / "history.jsonl").read_text().splitlines()
    assert len(lines) == len(set(lines)) and len(history) == 12
    assert checkpoint.checkpoint_info(run_dir / "toy.safetensors", "toy")["step"] == 60


def test_single_process_context_and_devices(monkeypatch):
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    ctx = distributed.init_distributed("cpu")
    model = nn.Linear(2, 2)
    assert ctx.is_main and ctx.world_size == 1 and ctx.device == torch.device("cpu")
    assert ctx.wrap(model) is model
    assert float(ctx.all_reduce_mean(torch.tensor(3.0))) == 3.0
    ctx.barrier()
    ctx.close()
    assert device.resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="must be auto, cpu"):
        device.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"CUDA is unavailable: .*device=cpu"):
            device.resolve_device("cuda")
        assert device.resolve_device("auto") == torch.device("cpu")
    with device.autocast(torch.device("cpu"), enabled=False):
        assert torch.ones(2, 2).matmul(torch.ones(2, 2)).dtype == torch.float32
    # bf16 on a CPU only where oneDNN runs it natively (elsewhere emulation would slow it down)
    expected = torch.bfloat16 if device.cpu_has_native_bf16() else torch.float32
    with device.autocast(torch.device("cpu"), enabled=True):
        assert torch.ones(2, 2).matmul(torch.ones(2, 2)).dtype == expected
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: False)
    with device.autocast(torch.device("cpu"), enabled=True):
        assert torch.ones(2, 2).matmul(torch.ones(2, 2)).dtype == torch.float32


def test_run_logger_resume_drops_later_records(tmp_path, monkeypatch):
    monkeypatch.setenv("SA3DHP_NO_PROGRESS", "1")
    with run_logging.RunLogger(tmp_path, total_steps=30, desc="t") as log:
        for s in (10, 20, 30):
            log.log(s, loss=1.0 / s)
        log.log(30, val=2.0)
    with open(tmp_path / "history.jsonl", "a") as f:
        f.write('{"step": 40, "lo')  # a line cut short by a kill
    assert [r["step"] for r in run_logging.read_history(tmp_path)] == [10, 20, 30]
    assert run_logging.read_history(tmp_path)[-1] == {"step": 30, "loss": 1 / 30, "val": 2.0}
    with run_logging.RunLogger(tmp_path, total_steps=30, desc="t", start_step=20) as log:
        log.log(30, loss=0.5)
    assert run_logging.read_history(tmp_path) == [
        {"step": 10, "loss": 0.1},
        {"step": 20, "loss": 0.05},
        {"step": 30, "loss": 0.5},
    ]
    assert any((tmp_path / "tb").iterdir())
    silent = run_logging.RunLogger(tmp_path / "rank1", enabled=False)
    silent.log(1, loss=1.0)
    silent.close()
    assert not (tmp_path / "rank1").exists()


def test_config_defaults_yaml_overrides_and_unknown_keys(tmp_path):
    yaml = tmp_path / "toy.yaml"
    yaml.write_text("steps: 10\nlr: 0.5\nrun_dir: out/from_yaml\n")
    cfg = config.merge_config(ToyConfig, yaml, ["lr=0.1", "hidden=7"])
    assert isinstance(cfg, ToyConfig)
    assert (cfg.steps, cfg.lr, cfg.hidden, cfg.run_dir) == (10, 0.1, 7, "out/from_yaml")
    assert cfg.batch_size == ToyConfig().batch_size  # default kept
    assert config.merge_config(ToyConfig) == ToyConfig()
    path = config.save_config(cfg, tmp_path / "run")
    assert path == tmp_path / "run" / "config.yaml"
    assert config.merge_config(ToyConfig, path) == cfg
    assert "hidden: 7" in path.read_text()
    config.save_config(asdict(cfg), tmp_path / "run2")
    assert config.merge_config(ToyConfig, tmp_path / "run2" / "config.yaml") == cfg
    with pytest.raises(ValueError, match="unknown config key 'stepz'") as err:
        config.merge_config(ToyConfig, overrides=["stepz=3"])
    assert "\n" not in str(err.value) and "'steps'" in str(err.value)
    yaml.write_text("hiden: 3\n")
    with pytest.raises(ValueError, match=r"unknown config key 'hiden'.*'hidden'"):
        config.merge_config(ToyConfig, yaml)
    with pytest.raises(ValueError, match="invalid config value for 'steps'"):
        config.merge_config(ToyConfig, overrides=["steps=many"])
    with pytest.raises(ValueError, match="key=value"):
        config.merge_config(ToyConfig, overrides=["steps"])
    with pytest.raises(ValueError, match="not found"):
        config.merge_config(ToyConfig, tmp_path / "nope.yaml")

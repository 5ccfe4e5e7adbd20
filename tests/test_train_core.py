"""The shared training core: checkpoints, resume, distribution, logging and config."""

from __future__ import annotations

import json
import os
import pickle
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

from sa3dhp import checkpoint, config, device, files
from sa3dhp.train import distributed, sampling
from sa3dhp.train import logging as run_logging
from sa3dhp.train.toy import ToyConfig, make_data

ARCH = {"hidden": 8, "blocks": 1}
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


def _tiny(seed: int = 0) -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, ARCH["hidden"]), nn.ReLU(), nn.Linear(ARCH["hidden"], 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss = model(torch.randn(4, 3)).square().mean()
    loss.backward()
    opt.step()  # non-empty optimizer state
    return model, opt


def _save(path: Path, model: nn.Module, opt: torch.optim.Optimizer, step: int, **kw) -> Path:
    kw.setdefault("stage", "pose_prior")
    kw.setdefault("arch", ARCH)
    return checkpoint.save_checkpoint(
        path, models={"net": model}, optimizers={"net": opt}, step=step, config=None, **kw
    )


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


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
# checkpoints
# ---------------------------------------------------------------------------------------------


def test_checkpoint_round_trip_restores_weights_optimizer_and_rng(tmp_path):
    model, opt = _tiny(0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    path = _save(tmp_path / "run" / "pose_prior.safetensors", model, opt, 123, extra={"a": 1})
    path = checkpoint.save_checkpoint(
        path,
        stage="pose_prior",
        arch=ARCH,
        models={"net": model},
        optimizers={"net": opt},
        step=123,
        config=ToyConfig(steps=7),
        extra={"a": 1},
        scalers={"amp": scaler},
    )
    expected_draw = (torch.rand(4), np.random.rand(), random.random())  # noqa: NPY002
    model2, opt2 = _tiny(1)
    torch.rand(10), np.random.rand(3), random.random()  # noqa: NPY002
    info = checkpoint.load_checkpoint(
        path,
        stage="pose_prior",
        arch=ARCH,
        models={"net": model2},
        optimizers={"net": opt2},
        scalers={"amp": torch.amp.GradScaler("cpu", enabled=False)},
    )
    draw = (torch.rand(4), np.random.rand(), random.random())  # noqa: NPY002
    assert torch.equal(draw[0], expected_draw[0]) and draw[1:] == expected_draw[1:]  # RNG restored
    assert info["step"] == 123 and info["extra"] == {"a": 1} and info["arch"] == ARCH
    assert info["config"]["steps"] == 7
    assert _same_weights(model, model2)
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert all(torch.equal(s1[i][k], s2[i][k]) for i in s1 for k in s1[i])
    weights = checkpoint.load_weights(path, "pose_prior", ARCH)
    assert set(weights) == {"net"} and torch.equal(weights["net"]["0.weight"], model[0].weight)
    assert checkpoint.latest_checkpoint(path.parent) == path
    assert checkpoint.latest_checkpoint(path.parent, "motion_prior") is None
    assert len(list(path.parent.glob("pose_prior.state-*.pt"))) == 1  # the old one was removed


def test_malicious_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __init__(self, target: Path) -> None:
            self.target = target

        def __reduce__(self):
            return (os.system, (f"touch {self.target}",))

    # the payload is live: unpickling it the unsafe way runs the command
    pickle.loads(pickle.dumps(Payload(tmp_path / "live")))
    assert (tmp_path / "live").exists()

    model, opt = _tiny()
    path = _save(tmp_path / "ckpt" / "pose_prior.safetensors", model, opt, 5)
    (state_file,) = path.parent.glob("pose_prior.state-*.pt")
    for write in (
        lambda p: torch.save({"token": "x", "evil": Payload(marker)}, p),  # torch zip format
        lambda p: p.write_bytes(pickle.dumps(Payload(marker), protocol=2)),  # raw pickle
    ):
        write(state_file)
        with pytest.raises(checkpoint.CheckpointError) as err:
            checkpoint.load_checkpoint(
                path, stage="pose_prior", models={"net": model}, optimizers={"net": opt}
            )
        msg = str(err.value)
        assert str(state_file) in msg and "\n" not in msg and "refused" in msg
        assert not marker.exists()
    # the payload in place of the weights file
    torch.save(Payload(marker), path)
    with pytest.raises(checkpoint.CheckpointError, match="corrupt"):
        checkpoint.load_checkpoint(path, stage="pose_prior", models={"net": model})
    assert checkpoint.latest_checkpoint(path.parent) is None
    assert not marker.exists()


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "no such checkpoint (expected a 'pose_prior' checkpoint)"),
        ("truncated", "corrupt or truncated checkpoint, expected a 'pose_prior'"),
        ("garbage", "corrupt or truncated checkpoint, expected a 'pose_prior'"),
        ("truncated_state", "refused or unreadable state file"),
        ("missing_state", "missing state file"),
        ("other_stage", "checkpoint is from stage 'motion_prior', expected 'pose_prior'"),
        ("other_arch", "architecture differs from the expected one: hidden=16 (expected 8)"),
        ("other_models", "no weights for model 'net'"),
    ],
)
def test_bad_checkpoints_raise_one_line_checkpoint_error(tmp_path, case, expected):
    model, opt = _tiny()
    path = tmp_path / "out" / "x" / "pose_prior.safetensors"
    if case != "missing":
        stage = "motion_prior" if case == "other_stage" else "pose_prior"
        arch = {**ARCH, "hidden": 16} if case == "other_arch" else ARCH
        models = {"other": model} if case == "other_models" else {"net": model}
        checkpoint.save_checkpoint(
            path, stage=stage, arch=arch, models=models, optimizers={"net": opt}
        )
    (state,) = path.parent.glob("*.state-*.pt") if case != "missing" else (None,)
    if case == "truncated":
        _truncate(path)
    elif case == "garbage":
        path.write_bytes(b"\x07" * 300)
    elif case == "truncated_state":
        _truncate(state)
    elif case == "missing_state":
        state.unlink()
    with pytest.raises(checkpoint.CheckpointError) as err:
        checkpoint.load_checkpoint(
            path, stage="pose_prior", arch=ARCH, models={"net": model}, optimizers={"net": opt}
        )
    msg = str(err.value)
    assert isinstance(err.value, ValueError)
    assert "\n" not in msg and expected in msg
    named = state if case in ("truncated_state", "missing_state") else path
    assert msg.startswith(f"{named}: ")
    if case in ("missing", "truncated", "garbage", "other_stage", "other_arch"):
        with pytest.raises(checkpoint.CheckpointError, match="pose_prior"):
            checkpoint.load_weights(path, "pose_prior", ARCH)


def test_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model, opt = _tiny(0)
    path = _save(tmp_path / "pose_prior.safetensors", model, opt, 10)
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)

    def half_written_weights(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"partial")
        raise OSError("disk full")

    def failing_torch_save(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"partial")
        raise OSError("disk full")

    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst).endswith(".safetensors"):
            raise OSError("I/O error")
        real_replace(src, dst)

    for target, fake in (
        (checkpoint, ("save_file", half_written_weights)),  # while writing the weights
        (torch, ("save", failing_torch_save)),  # while writing the state file
        (files.os, ("replace", failing_replace)),  # at the commit point
    ):
        with monkeypatch.context() as m:
            m.setattr(target, *fake)
            with pytest.raises(OSError):
                _save(path, model, opt, 20)
        restored, _ = _tiny(1)
        assert (
            checkpoint.load_checkpoint(path, stage="pose_prior", models={"net": restored})["step"]
            == 10
        )
        assert all(torch.equal(restored.state_dict()[k], v) for k, v in saved.items())
        assert sorted(p.name for p in tmp_path.iterdir())[0] == "pose_prior.safetensors"
        assert len(list(tmp_path.iterdir())) == 2  # weights + state, no temporaries
    assert (
        _save(path, model, opt, 20) and checkpoint.checkpoint_info(path, "pose_prior")["step"] == 20
    )


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

"""Checkpoint files: the round trip, refusing pickles and damaged or mismatched files, and a
failed save that keeps the previous checkpoint."""

from __future__ import annotations

import os
import pickle
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from sa3dhp import checkpoint, files
from sa3dhp.train.toy import ToyConfig

ARCH = {"hidden": 8, "blocks": 1}


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
    kw.setdefault("config", None)
    return checkpoint.save_checkpoint(
        path, models={"net": model}, optimizers={"net": opt}, step=step, **kw
    )


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_checkpoint_round_trip_restores_weights_optimizer_and_rng(tmp_path):
    model, opt = _tiny(0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    path = _save(
        tmp_path / "run" / "pose_prior.safetensors", model, opt, 123,
        config=ToyConfig(steps=7), extra={"a": 1}, scalers={"amp": scaler},
    )  # fmt: skip
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

"""The loop every stage shares (sa3dhp.train.trainer.Trainer): resume, provenance refusal, the
NaN guard and rank-0-only writes."""

import json
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from sa3dhp.checkpoint import checkpoint_info
from sa3dhp.device import resolve_device
from sa3dhp.provenance import ProvenanceError
from sa3dhp.train.distributed import DistContext
from sa3dhp.train.logging import read_history
from sa3dhp.train.sampling import step_generator
from sa3dhp.train.trainer import Trainer, TrainingDiverged

RECORD = {"config": {"lr": 0.01}, "seed": 0, "data": {}, "parents": {}}


class Stop(Exception):
    """Raised by a step to simulate a run killed after some steps."""


@dataclass
class TinyConfig:
    lr: float = 0.01
    hidden: int = 3


def _stage(run_dir, *, stop_at=None, nan_at=None, record=RECORD, ctx=None, steps=12):
    """A tiny regression stage built like the real ones; returns (model, trainer, step fn)."""
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    trainer = Trainer(
        run_dir,
        stage="tiny",
        arch={"in": 4},
        models={"net": model},
        optimizers={"net": opt},
        steps=steps,
        checkpoint_every=5,
        log_every=2,
        ctx=ctx,
        provenance=record,
        config=TinyConfig(),
        schedule=[(opt, 0.01)],
    )

    def train_step(step, lr):
        if step == stop_at:
            raise Stop
        gen = step_generator(0, step)
        x = torch.randn(8, 4, generator=gen)
        loss = (model(x) - x[:, :2]).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss * float("nan") if step == nan_at else loss}

    return model, trainer, train_step


def _run(run_dir, **kw):
    model, trainer, step = _stage(run_dir, **kw)
    trainer.fit(step, trainer.resume(), lambda: {"val": 1.0}, eval_every=4)
    return model


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path):
    straight = _run(tmp_path / "a")
    with pytest.raises(Stop):
        _run(tmp_path / "b", stop_at=7)  # killed during step 8: the checkpoint is at step 5
    assert checkpoint_info(tmp_path / "b" / "checkpoint.safetensors", "tiny")["step"] == 5
    resumed = _run(tmp_path / "b")
    assert all(
        torch.equal(a, b) for a, b in zip(straight.parameters(), resumed.parameters(), strict=True)
    )
    assert read_history(tmp_path / "a") == read_history(tmp_path / "b")
    steps = [r["step"] for r in read_history(tmp_path / "a")]
    assert steps == sorted(steps) and {2, 4, 6, 8, 10, 12} <= set(steps)
    assert any("val" in r for r in read_history(tmp_path / "a"))  # the report-only evaluation


def test_a_checkpoint_made_by_another_setting_is_refused(tmp_path):
    _run(tmp_path)
    other = {**RECORD, "config": {"lr": 0.5}}
    with pytest.raises(
        ProvenanceError, match=r"made with another setting \(config lr: 0.01 -> 0.5\)"
    ):
        _run(tmp_path, record=other)


def test_a_loss_that_becomes_nan_stops_the_run_and_writes_no_nan_checkpoint(tmp_path):
    with pytest.raises(TrainingDiverged) as e:
        _run(tmp_path, nan_at=6)
    assert str(e.value).startswith("tiny: loss became nan at step 7; the last checkpoint (step 5)")
    assert "\n" not in str(e.value)
    assert checkpoint_info(tmp_path / "checkpoint.safetensors", "tiny")["step"] == 5
    assert max(r["step"] for r in read_history(tmp_path)) == 6  # nothing logged after it
    text = (tmp_path / "history.jsonl").read_text()
    assert "NaN" not in text and "nan" not in json.dumps(read_history(tmp_path))


def test_only_rank_0_writes(tmp_path):
    ctx = DistContext(resolve_device("cpu"), rank=1, world_size=2)
    _, trainer, step = _stage(tmp_path / "r1", ctx=ctx)
    trainer.fit(step, trainer.resume())
    assert trainer.written == 0 and not (tmp_path / "r1").exists()
    _, trainer, step = _stage(tmp_path / "r0")
    trainer.fit(step, trainer.resume())
    assert trainer.written == 3  # steps 5, 10 and the last, 12
    info = checkpoint_info(tmp_path / "r0" / "checkpoint.safetensors", "tiny")
    assert info["config"] == {"lr": 0.01, "hidden": 3}  # the resolved config, as metadata
    assert info["provenance"] == RECORD

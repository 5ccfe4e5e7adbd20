"""A tiny example stage: a small MLP learns a fixed random linear map (200 samples).

It is the template of a stage, as every stage of Algorithm 1 is written: build the models and
optimizers, write the step, and hand it to :class:`sa3dhp.train.trainer.Trainer`, which owns
the loop::

    resume (provenance checked) -> for each step: lr -> step -> NaN guard -> log -> eval ->
    checkpoint

Run it alone or under torchrun (``key=value`` overrides, optionally after a YAML file)::

    python -m sa3dhp.train.toy steps=200 run_dir=out/toy
    torchrun --standalone --nproc_per_node=2 -m sa3dhp.train.toy device=cpu run_dir=out/toy2

Killing it at any moment and running the same command again continues from the last checkpoint
and ends with the same weights as an uninterrupted run (``SA3DHP_CRASH_AT_STEP=k`` makes it
exit abruptly, ``os._exit(17)``, right after step ``k``, for tests).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from sa3dhp.config import merge_config, save_config
from sa3dhp.device import autocast
from sa3dhp.train.distributed import init_distributed
from sa3dhp.train.optim import adam
from sa3dhp.train.sampling import EpochSampler, seed_step
from sa3dhp.train.trainer import Trainer

STAGE = "toy"
IN_DIM, OUT_DIM = 8, 4


@dataclass
class ToyConfig:
    """Toy-stage training (a few seconds on one CPU core)."""

    steps: int = 60
    batch_size: int = 16  # global, split over ranks
    lr: float = 3e-2
    seed: int = 0
    checkpoint_every: int = 20
    log_every: int = 5
    num_samples: int = 200
    hidden: int = 32
    dropout: float = 0.1
    amp: bool = False  # bf16 autocast (CUDA only)
    run_dir: str = "out/toy"
    device: str = "auto"


class ToyMLP(nn.Module):
    """``IN_DIM -> hidden -> OUT_DIM`` MLP with dropout (to use the global RNG)."""

    def __init__(self, hidden: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(IN_DIM, hidden), nn.Tanh(), nn.Dropout(dropout), nn.Linear(hidden, OUT_DIM)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def arch_of(cfg: ToyConfig) -> dict:
    """The architecture fields a checkpoint must match."""
    return {"hidden": cfg.hidden, "in": IN_DIM, "out": OUT_DIM}


def make_data(num_samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``x (N, 8)``, ``y = x @ W + noise (N, 4)`` for a random ``W`` fixed by ``seed``."""
    g = torch.Generator().manual_seed(10_000 + seed)
    w = torch.randn(IN_DIM, OUT_DIM, generator=g)
    x = torch.randn(num_samples, IN_DIM, generator=g)
    return x, x @ w + 0.01 * torch.randn(num_samples, OUT_DIM, generator=g)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean squared error of ``model`` on ``(x, y)`` (dropout off)."""
    was_training = model.training
    model.eval()
    loss = float(nn.functional.mse_loss(model(x), y))
    model.train(was_training)
    return loss


def train(cfg: ToyConfig) -> dict:
    """Train (or resume) the toy stage; rank 0 writes ``run_dir``.

    Returns:
        ``step``, ``val_loss`` and ``train_loss`` (last logged, averaged over ranks), plus
        ``rank``, ``world_size`` and ``checkpoints_written`` by this process.
    """
    ctx = init_distributed(cfg.device)
    run_dir = Path(cfg.run_dir)
    x, y = make_data(cfg.num_samples, cfg.seed)
    n_val = max(1, cfg.num_samples // 5)
    x_train, y_train, x_val, y_val = x[n_val:], y[n_val:], x[:n_val], y[:n_val]
    x_val, y_val = x_val.to(ctx.device), y_val.to(ctx.device)

    torch.manual_seed(cfg.seed)  # same initial weights on every rank
    model = ToyMLP(cfg.hidden, cfg.dropout).to(ctx.device)
    opt = adam(model.parameters(), cfg.lr, 1e-4, decoupled=True)
    trainer = Trainer.for_stage(
        run_dir,
        cfg,
        stage=STAGE,
        arch=arch_of(cfg),
        models={"mlp": model},
        optimizers={"mlp": opt},
        ctx=ctx,
        schedule=[(opt, cfg.lr)],  # cosine decay, a function of the step only
        checkpoint_name=f"{STAGE}.safetensors",
    )
    start = trainer.resume()
    if ctx.is_main:
        save_config(cfg, run_dir)
    ddp_model = ctx.wrap(model)
    sampler = EpochSampler(len(x_train), cfg.batch_size, cfg.seed, ctx.rank, ctx.world_size)
    logged = {"loss": float("nan")}

    def train_step(step: int, lr: float | None) -> dict:
        seed_step(cfg.seed, step, ctx.rank)  # its randomness depends on (seed, step, rank) only
        idx = sampler.batch_indices(step)
        xb, yb = x_train[idx].to(ctx.device), y_train[idx].to(ctx.device)
        with autocast(ctx.device, enabled=cfg.amp):
            loss = nn.functional.mse_loss(ddp_model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

        def mean_loss() -> float:  # every rank joins the all-reduce when a step is logged
            logged["loss"] = float(ctx.all_reduce_mean(loss.detach()))
            return logged["loss"]

        return {"loss": mean_loss}

    # held-out loss at every checkpoint (report only)
    trainer.fit(
        train_step,
        start,
        lambda: {"val_loss": evaluate(model, x_val, y_val)},
        eval_every=cfg.checkpoint_every,
    )
    val_loss = evaluate(model, x_val, y_val)
    train_loss = logged["loss"]
    written = trainer.written
    ctx.close()
    return {
        "step": cfg.steps,
        "val_loss": val_loss,
        "train_loss": train_loss,
        "rank": ctx.rank,
        "world_size": ctx.world_size,
        "checkpoints_written": written,
    }


def main(argv: list[str] | None = None) -> dict:
    """``python -m sa3dhp.train.toy [config.yaml] key=value ...``: train, print the metrics as
    one JSON line per rank."""
    args = list(sys.argv[1:] if argv is None else argv)
    yaml_path = args.pop(0) if args and args[0].endswith((".yaml", ".yml")) else None
    try:
        cfg = merge_config(ToyConfig, yaml_path, args)
    except ValueError as e:
        sys.exit(f"error: {e}")
    try:
        metrics = train(cfg)
    except ValueError as e:  # bad device, incompatible checkpoint (CheckpointError)...
        sys.exit(f"error: {e}")
    sys.stdout.write(json.dumps(metrics) + "\n")  # one write: ranks' lines do not interleave
    sys.stdout.flush()
    return metrics


if __name__ == "__main__":
    main()

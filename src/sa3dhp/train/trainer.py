"""The loop every training stage shares, so that a stage file shows only its research object
(its models, losses and step).

:class:`Trainer` owns, for one run directory: the provenance check and the resume from its
checkpoint, the learning-rate schedule, the step loop, logging (bar, TensorBoard, history),
report-only evaluation, checkpoints (rank 0 only), the crash hook tests use, and a NaN guard.
A stage builds its models and optimizers, then hands a ``train_step(step, lr) -> scalars``
function to :meth:`Trainer.fit`::

    trainer = Trainer(run_dir, stage=STAGE, arch=arch, models={"G": g}, optimizers={"G": opt},
                      steps=cfg.steps, checkpoint_every=cfg.checkpoint_every,
                      log_every=cfg.log_every, ctx=ctx, provenance=record,
                      schedule=[(opt, cfg.lr)])
    start = trainer.resume()          # refuses a checkpoint made by something else
    last = trainer.fit(train_step, start)

Each step: the cosine learning rate of every ``schedule`` optimizer is set, ``train_step`` runs,
every returned scalar is checked to be finite (a loss that became NaN or infinite stops the run
with one line naming the step; no checkpoint is written after it), then logging, evaluation and
checkpoint follow their cadences, in that order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sa3dhp.checkpoint import load_checkpoint, save_checkpoint
from sa3dhp.device import resolve_device
from sa3dhp.provenance import check as check_provenance
from sa3dhp.train.distributed import DistContext
from sa3dhp.train.logging import RunLogger
from sa3dhp.train.sampling import cosine_lr, crash_hook

#: What a step returns: name -> a tensor or a number (checked to be finite every step), or a
#: function returning a number (evaluated only when the step is logged, e.g. a metric that is
#: costly to compute).
Scalars = Mapping[str, torch.Tensor | float | Callable[[], float]]


class TrainingDiverged(ValueError):
    """A loss (or another logged scalar) of a step is NaN or infinite."""


def _value(v: torch.Tensor | float | Callable[[], float]) -> float:
    if isinstance(v, torch.Tensor):
        return float(v.item())
    return float(v()) if callable(v) else float(v)


class Trainer:
    """The shared loop of a stage (module docstring).

    Args:
        run_dir: the run's directory; the checkpoint is ``run_dir/checkpoint.safetensors``.
        stage, arch: what the checkpoint must be (its stage name and architecture fields).
        models, optimizers: everything the checkpoint saves and a resume restores.
        steps, checkpoint_every, log_every: the run's length and cadences (a checkpoint and a
            log record are always written after the last step).
        ctx: the process group (None: a single process); only rank 0 writes.
        provenance: the record of what makes this run (:mod:`sa3dhp.provenance`), stored in
            every checkpoint; an existing checkpoint with another record is refused.
        config: the stage's config section, stored in every checkpoint as its resolved config.
        extra: metadata stored in every checkpoint.
        desc: the progress bar's label (default: ``stage``).
        schedule: ``(optimizer, base_lr)`` pairs whose learning rate follows the cosine
            schedule; the first one's is logged as ``lr``.
        should_log: ``step -> bool`` replacing the default log cadence (``step`` is 0-based).
        checkpoint_name: the checkpoint's file name in ``run_dir``.
    """

    def __init__(
        self,
        run_dir: str | Path,
        *,
        stage: str,
        arch: dict,
        models: dict[str, nn.Module],
        optimizers: dict[str, torch.optim.Optimizer],
        steps: int,
        checkpoint_every: int,
        log_every: int,
        ctx: DistContext | None = None,
        provenance: dict | None = None,
        config: Any = None,
        extra: dict | None = None,
        desc: str | None = None,
        schedule: Sequence[tuple[torch.optim.Optimizer, float]] = (),
        should_log: Callable[[int], bool] | None = None,
        checkpoint_name: str = "checkpoint.safetensors",
    ) -> None:
        self.run_dir, self.stage, self.arch = Path(run_dir), stage, arch
        self.models, self.optimizers = models, optimizers
        self.steps, self.checkpoint_every, self.log_every = steps, checkpoint_every, log_every
        self.ctx = ctx or DistContext(resolve_device("cpu"))
        self.provenance, self.config, self.extra = provenance, config, extra or {}
        self.desc, self.schedule = desc or stage, list(schedule)
        self.should_log = should_log or self._default_log
        self.checkpoint = self.run_dir / checkpoint_name
        self.last_saved = 0
        self.written = 0  # checkpoints this process wrote

    @classmethod
    def for_stage(cls, run_dir: str | Path, cfg: Any, **kwargs: Any) -> Trainer:
        """A trainer whose length, cadences and stored config come from the stage's config
        section ``cfg`` (its ``steps``, ``checkpoint_every`` and ``log_every``)."""
        return cls(
            run_dir,
            steps=cfg.steps,
            checkpoint_every=cfg.checkpoint_every,
            log_every=cfg.log_every,
            config=cfg,
            **kwargs,
        )

    def _default_log(self, step: int) -> bool:
        return (step + 1) % self.log_every == 0 or step + 1 == self.steps

    def check(self) -> None:
        """Refuse an existing checkpoint whose provenance record differs (one line naming what
        differs and how to start afresh); nothing is loaded."""
        if self.checkpoint.exists() and self.provenance is not None:
            check_provenance(self.checkpoint, self.provenance, self.stage)

    def resume(self) -> int:
        """:meth:`check`, then restore models, optimizers and RNG states from the checkpoint;
        return the step to start from (0 without a checkpoint)."""
        self.check()
        if not self.checkpoint.exists():
            return 0
        self.last_saved = load_checkpoint(
            self.checkpoint,
            stage=self.stage,
            arch=self.arch,
            models=self.models,
            optimizers=self.optimizers,
        )["step"]
        return self.last_saved

    def save(self, step: int) -> None:
        """Write the checkpoint after ``step`` steps (rank 0 only)."""
        if self.ctx.is_main:
            save_checkpoint(
                self.checkpoint,
                stage=self.stage,
                arch=self.arch,
                models=self.models,
                optimizers=self.optimizers,
                step=step,
                config=self.config,
                extra=self.extra,
                provenance=self.provenance,
            )
            self.written += 1
        self.last_saved = step

    def fit(
        self,
        train_step: Callable[[int, float | None], Scalars],
        start: int = 0,
        evaluate: Callable[[], Mapping[str, float]] | None = None,
        eval_every: int = 0,
    ) -> dict[str, float]:
        """Run steps ``start .. steps - 1``; return the last logged scalars.

        ``evaluate`` (report-only metrics, rank 0) runs every ``eval_every`` steps.

        Raises:
            TrainingDiverged: a scalar of a step is not finite (the run stops before logging
                or saving that step).
        """
        logger = RunLogger(
            self.run_dir, enabled=self.ctx.is_main, total_steps=self.steps, desc=self.desc
        )
        logger.start(start)
        last: dict[str, float] = {}
        try:
            for step in range(start, self.steps):
                lr = None
                for i, (opt, base_lr) in enumerate(self.schedule):
                    value = cosine_lr(opt, base_lr, step, self.steps)
                    lr = value if i == 0 else lr
                scalars = train_step(step, lr)
                self._guard(step, scalars)
                if self.should_log(step):
                    last = {k: _value(v) for k, v in scalars.items()}
                    logger.log(step + 1, **last, **({"lr": lr} if lr is not None else {}))
                if evaluate is not None and eval_every > 0 and (step + 1) % eval_every == 0:
                    if self.ctx.is_main:
                        logger.log(step + 1, **evaluate())
                if (step + 1) % self.checkpoint_every == 0 or step + 1 == self.steps:
                    self.save(step + 1)
                crash_hook(step + 1)
        finally:
            logger.close()
        return last

    def _guard(self, step: int, scalars: Scalars) -> None:
        for name, v in scalars.items():
            if callable(v) and not isinstance(v, torch.Tensor):
                continue
            value = _value(v)
            if not math.isfinite(value):
                kept = (
                    f"the last checkpoint (step {self.last_saved}) is kept"
                    if self.last_saved
                    else "no checkpoint was written"
                )
                raise TrainingDiverged(
                    f"{self.desc}: {name} became {value} at step {step + 1}; {kept}. Lower the "
                    "learning rate, or start afresh with --force"
                )

"""What a run shows and keeps of itself: :class:`RunLogger` (a tqdm bar, off when
``SA3DHP_NO_PROGRESS=1``; TensorBoard scalars under ``run_dir/tb``; ``run_dir/history.jsonl``)
and :func:`read_history`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from sa3dhp.files import atomic_write
from sa3dhp.progress import progress_disabled


def _history_lines(path: Path) -> Iterator[tuple[str, dict]]:
    """``(line, record)`` of every complete JSON line of a history file (a line cut short by a
    kill is skipped)."""
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "step" in rec:
            yield line, rec


class RunLogger:
    """Progress bar, TensorBoard scalars (``run_dir/tb``) and ``run_dir/history.jsonl``.

    Disabled (does nothing) unless ``enabled`` -- pass ``ctx.is_main``. The bar is hidden when
    ``SA3DHP_NO_PROGRESS=1``. A resumed run drops the history records and TensorBoard events
    after the step it resumes from and appends from there, so no step is logged twice.

    Args:
        run_dir: the run's directory.
        enabled: False on ranks other than 0.
        total_steps: length of the progress bar.
        desc: progress-bar label and TensorBoard tag prefix (``desc/name``).
        start_step: open at once, resuming after this step (else :meth:`start` or the first
            :meth:`log` opens it).
    """

    def __init__(
        self,
        run_dir: str | Path,
        enabled: bool = True,
        total_steps: int = 0,
        desc: str = "",
        start_step: int | None = None,
    ) -> None:
        self.run_dir, self.enabled = Path(run_dir), enabled
        self.total, self.desc = total_steps, desc
        self.history = self.run_dir / "history.jsonl"
        self.bar: tqdm | None = None
        self.writer: Any = None
        self._last = 0
        if start_step is not None:
            self.start(start_step)

    def start(self, step: int = 0) -> None:
        """Open the bar and writers at ``step``; history records after ``step`` are dropped."""
        if not self.enabled or self.bar is not None:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.history.exists():
            kept = [line for line, rec in _history_lines(self.history) if rec["step"] <= step]
            text = "".join(line + "\n" for line in kept)
            atomic_write(self.history, lambda tmp: tmp.write_text(text))
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(self.run_dir / "tb"), purge_step=step + 1)
        disable = progress_disabled()
        self.bar = tqdm(
            total=self.total, initial=step, desc=self.desc, disable=disable, dynamic_ncols=True
        )
        self._last = step

    def log(self, step: int, **scalars: float | torch.Tensor) -> None:
        """Record scalars at ``step`` (history line, TensorBoard) and advance the bar."""
        if not self.enabled:
            return
        if self.bar is None:
            self.start(step - 1)
        values = {k: float(v) for k, v in scalars.items()}
        with open(self.history, "a") as f:
            f.write(json.dumps({"step": int(step), **values}) + "\n")
        for k, v in values.items():
            self.writer.add_scalar(f"{self.desc}/{k}" if self.desc else k, v, step)
        assert self.bar is not None
        self.bar.update(max(0, step - self._last))
        self._last = step
        self.bar.set_postfix({k: f"{v:.4g}" for k, v in list(values.items())[:4]}, refresh=False)

    def close(self) -> None:
        """Flush and close the writers and the bar."""
        if self.bar is not None:
            self.bar.close()
            self.writer.close()
            self.bar = self.writer = None

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_history(run_dir: str | Path) -> list[dict[str, float]]:
    """The logged scalars of a run, one dict (``step`` + values) per logged step, in order
    (records of the same step, e.g. training and validation scalars, are merged)."""
    merged: dict[int, dict[str, float]] = {}
    for _, rec in _history_lines(Path(run_dir) / "history.jsonl"):
        merged.setdefault(rec["step"], {}).update(rec)
    return list(merged.values())

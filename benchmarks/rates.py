"""Rates measured in alternating rounds, shared by the prediction benchmarks.

The machines are shared and their speed drifts by up to 2x between minutes, so a rate measured
at one time cannot be divided by a rate measured at another. :func:`alternating_rounds` times
each workload once per round, in turn, so that each round's workloads see the same host;
:func:`ratio_of_rounds` then takes each round's ratio and reports their median and quartiles.
Workloads of about the same length (e.g. the same number of crops) make the ratio fair: a short
one is hit harder by a brief slowdown than a long one. :func:`speed_video` and
:func:`resnet18_pass` are the video and the bare-backbone workload the prediction benchmarks
share.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torchvision

from sa3dhp.data.video import SyntheticVideo, synthetic_video, write_synthetic_video
from sa3dhp.data.world import WorldConfig

#: The throughput video of the prediction benchmarks: frames, size and seed.
SPEED_FRAMES, SPEED_SIZE, SPEED_SEED = 1024, (320, 240), 300


def speed_video(tmp: Path, world: WorldConfig | None = None) -> tuple[SyntheticVideo, dict]:
    """The prediction benchmarks' throughput video (1,024 frames, 320x240, the person at the
    training scale) written into ``tmp``: the video and its files (``write_synthetic_video``)."""
    w, h = SPEED_SIZE
    video = synthetic_video(
        world or WorldConfig(), frames=SPEED_FRAMES, width=w, height=h, seed=SPEED_SEED
    )
    return video, write_synthetic_video(video, tmp / "speed.mp4")


def resnet18_pass(crops: np.ndarray, batch: int) -> Callable[[], int]:
    """The bare backbone's workload: torchvision's resnet18 (channels-last, as G runs) over
    uint8 crops ``(N, S, S, 3)`` scaled to [0, 1], in batches (:func:`forward_pass`)."""
    net = torchvision.models.resnet18().eval().to(memory_format=torch.channels_last)
    x = torch.as_tensor(crops).permute(0, 3, 1, 2).float() / 255
    return forward_pass(net, x.contiguous(memory_format=torch.channels_last), batch)


def forward_pass(net: torch.nn.Module, x: torch.Tensor, batch: int) -> Callable[[], int]:
    """A workload: ``net``'s forward over ``x`` ``(N, ...)`` in batches of ``batch``, without
    gradients; it returns N (the items it processed)."""

    @torch.no_grad()
    def run() -> int:
        for i in range(0, len(x), batch):
            net(x[i : i + batch])
        return len(x)

    return run


def alternating_rounds(
    work: dict[str, Callable[[], int]], rounds: int, warmup: bool = True
) -> dict[str, list[float]]:
    """Items per second of each workload (a callable returning how many items it processed),
    per round: every round runs each workload once, in the order given. ``warmup`` runs each
    once, untimed, first."""
    if warmup:
        for fn in work.values():
            fn()
    rates: dict[str, list[float]] = {k: [] for k in work}
    for _ in range(rounds):
        for k, fn in work.items():
            t0 = time.perf_counter()
            n = fn()
            rates[k].append(n / (time.perf_counter() - t0))
    return rates


def ratio_of_rounds(num: list[float], den: list[float]) -> dict:
    """Each round's ``num / den``: the median, the quartiles, the range and the share of rounds
    at or above 0.9 (the prediction throughput goal), with every round's ratio."""
    r = np.array([a / b for a, b in zip(num, den, strict=True)])
    q1, q3 = np.percentile(r, [25, 75])
    return {
        "median": round(float(statistics.median(r)), 3),
        "quartiles": [round(float(q1), 3), round(float(q3), 3)],
        "range": [round(float(r.min()), 3), round(float(r.max()), 3)],
        "share_of_rounds_at_least_0.9": round(float((r >= 0.9).mean()), 3),
        "per_round": [round(float(x), 3) for x in r],
    }


def medians(rates: dict[str, list[float]]) -> dict[str, float]:
    """Each workload's median rate, rounded to 0.1."""
    return {k: round(statistics.median(v), 1) for k, v in rates.items()}

"""Where the seconds of a G training step go: batch assembly and augmentation (data) against
forward + decode, backward and the optimiser step (compute), as `sa3dhp train source` runs them.

    .venv/bin/python benchmarks/g_step_profile.py [BATCH ...]   # default: 48

Uses random crops and poses (the step's cost does not depend on their content) and a randomly
initialised pose prior. Writes ``benchmarks/results/g_step_profile.json``: per batch size and
memory layout (channels-last, G's default, and plain NCHW), the median over 12 steps after 3
warm-up steps of each phase in ms, the data share, and the throughput in crops per second;
for the optimiser, PyTorch's fused AdamW (``sa3dhp.train.optim``, what training uses) against
its default per-tensor loop.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from sa3dhp.data.augment import augment_images
from sa3dhp.device import autocast, cpu_has_native_bf16
from sa3dhp.models.pose_prior import PosePrior
from sa3dhp.train.optim import adam
from sa3dhp.train.sampling import EpochSampler, step_generator
from sa3dhp.train.source import SourceConfig, build_model, pose_loss


def profile(batch: int, layout: str, fused: bool, n_frames: int = 16_000, size: int = 64) -> dict:
    torch.manual_seed(0)
    cfg = SourceConfig(batch_size=batch)
    model = build_model(cfg, weights="none").train()
    if layout == "nchw":
        model.to(memory_format=torch.contiguous_format)
        normalize = model.normalize
        model.normalize = lambda x: normalize(x).contiguous()  # type: ignore[method-assign]
    prior = PosePrior().eval().requires_grad_(False)
    x_all = torch.randint(0, 255, (n_frames, 3, size, size), dtype=torch.uint8)
    y_all = torch.randn(n_frames, 17, 3) * 300
    opt = adam(model.parameters(), 1e-4, 1e-4, decoupled=True, fused=fused)
    dev = torch.device("cpu")
    sampler = EpochSampler(n_frames, batch, 0)
    phases: dict[str, list[float]] = {"data": [], "forward": [], "backward": [], "optimizer": []}
    for step in range(15):
        t0 = time.perf_counter()
        idx = sampler.batch_indices(step)
        x = augment_images(x_all[idx], step_generator(0, step))
        y = y_all[idx]
        t1 = time.perf_counter()
        with autocast(dev, cfg.amp):
            out = model(x)
        loss = pose_loss(prior.decode(out.float()), y, "l2")
        t2 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        if step >= 3:
            for k, v in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                phases[k].append(v * 1000)
    ms = {k: round(statistics.median(v), 1) for k, v in phases.items()}
    total = sum(ms.values())
    return {
        "batch": batch,
        "layout": layout,
        "optimizer": "fused AdamW" if fused else "AdamW, per-tensor loop",
        "ms": ms,
        "total_ms": round(total, 1),
        "data_share": round(ms["data"] / total, 3),
        "crops_per_s": round(batch / total * 1000, 1),
    }


def main() -> None:
    batches = [int(b) for b in sys.argv[1:]] or [48]
    variants = (("channels_last", True), ("channels_last", False), ("nchw", True))
    rows = [profile(b, layout, fused) for b in batches for layout, fused in variants]
    out = {
        "what": "G training step (resnet18 at 64 px, latent head + frozen Dp), median ms per phase",
        "native_bf16": cpu_has_native_bf16(),
        "threads": torch.get_num_threads(),
        "rows": rows,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    Path("benchmarks/results/g_step_profile.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

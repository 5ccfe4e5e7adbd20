"""Training-step time of G (resnet18 at 64 px, batch 48, channels-last) in fp32 and in CPU bf16
autocast, as `sa3dhp train source` and `sa3dhp adapt` run it (``autocast``).

    .venv/bin/python benchmarks/cpu_bf16.py

Writes ``benchmarks/results/cpu_bf16.json``: the median of 15 steps after 3 warm-up steps for
each, alternating the two so that both see the same machine load, and their ratio.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from sa3dhp.device import autocast, cpu_has_native_bf16
from sa3dhp.train.source import SourceConfig, build_model


def main() -> None:
    torch.manual_seed(0)
    model = build_model(SourceConfig(), weights="none").to(memory_format=torch.channels_last)
    x = torch.rand(48, 3, 64, 64).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    cpu = torch.device("cpu")

    def step(amp: bool) -> float:
        t0 = time.perf_counter()
        with autocast(cpu, amp):
            out = model(x)
        loss = out.float().square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return time.perf_counter() - t0

    times: dict[bool, list[float]] = {False: [], True: []}
    for i in range(18):
        for amp in (False, True):
            t = step(amp)
            if i >= 3:
                times[amp].append(t)
    fp32, bf16 = (statistics.median(times[a]) * 1000 for a in (False, True))
    out = {
        "what": "G training step, resnet18 at 64 px, batch 48, median ms",
        "native_bf16": cpu_has_native_bf16(),
        "threads": torch.get_num_threads(),
        "fp32_ms": round(fp32, 1),
        "bf16_ms": round(bf16, 1),
        "speedup": round(fp32 / bf16, 2),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    Path("benchmarks/results/cpu_bf16.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

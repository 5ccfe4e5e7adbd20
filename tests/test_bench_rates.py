"""benchmarks/rates.py: workloads timed in alternating rounds and the rounds' ratios."""

import numpy as np
import pytest
import torch

from tests.conftest import load_benchmark

rates = load_benchmark("rates")


def test_ratio_of_rounds_takes_each_rounds_ratio():
    out = rates.ratio_of_rounds([90.0, 100.0, 50.0, 120.0], [100.0, 100.0, 100.0, 100.0])
    assert out["per_round"] == [0.9, 1.0, 0.5, 1.2]
    assert out["median"] == pytest.approx(0.95)
    assert out["range"] == [0.5, 1.2]
    assert out["share_of_rounds_at_least_0.9"] == 0.75
    assert out["quartiles"][0] < out["median"] < out["quartiles"][1]


def test_alternating_rounds_runs_each_workload_once_per_round_in_turn():
    calls = []

    def work(name: str, n: int):
        def run() -> int:
            calls.append(name)
            return n

        return run

    out = rates.alternating_rounds({"a": work("a", 10), "b": work("b", 20)}, rounds=3)
    assert calls == ["a", "b"] + ["a", "b"] * 3  # the warm-up, then three rounds
    assert set(out) == {"a", "b"} and all(len(v) == 3 for v in out.values())
    assert all(r > 0 for v in out.values() for r in v)


def test_forward_pass_covers_every_item_in_batches():
    seen = []

    class Net(torch.nn.Module):
        def forward(self, x):
            seen.append(len(x))
            assert not torch.is_grad_enabled()
            return x

    assert rates.forward_pass(Net(), torch.zeros(10, 3), batch=4)() == 10
    assert seen == [4, 4, 2]


def test_resnet18_pass_takes_uint8_crops_and_counts_them():
    crops = np.zeros((3, 32, 32, 3), np.uint8)
    assert rates.resnet18_pass(crops, batch=2)() == 3

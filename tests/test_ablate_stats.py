"""sa3dhp.ablate's summary over seeds: the mean, the sample std and each seed's value."""

import numpy as np
import pytest

from sa3dhp import ablate


def test_mean_std_is_sample_std_with_per_seed_values():
    out = ablate._mean_std([{"mpjpe": 200.0}, {"mpjpe": 230.0}, {"mpjpe": 215.0}])["mpjpe"]
    assert out["mean"] == 215.0
    assert out["std"] == pytest.approx(np.std([200, 230, 215], ddof=1), abs=0.005)
    assert out["per_seed"] == [200.0, 230.0, 215.0]
    assert out["n"] == 3


def test_one_seed_has_no_spread():
    out = ablate._mean_std([{"mpjpe": 200.0}])["mpjpe"]
    assert out == {"mean": 200.0, "std": 0.0, "n": 1, "per_seed": [200.0]}


def test_noise_note_uses_twice_the_largest_delta_std():
    cell = {"mpjpe": {"mean": 250.0, "std": 5.0, "n": 3}}
    rows = {
        "+ L_CR": {**cell, "delta_vs_gs": {"mpjpe": {"mean": 40.0, "std": 6.0, "n": 3}}},
        "+ L_z(flip)": {**cell, "delta_vs_gs": {"mpjpe": {"mean": 30.0, "std": 9.5, "n": 3}}},
    }
    assert "under 19.0 mm" in ablate._noise_note(rows, 3)
    assert "seed spread is unknown" in ablate._noise_note(rows, 1)

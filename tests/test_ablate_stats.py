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


def _cell(*per_seed: float) -> dict:
    return {"mpjpe": {"mean": float(np.mean(per_seed)), "per_seed": list(per_seed)}}


def test_paired_verdicts_need_the_sign_in_every_seed():
    assert ablate._paired("a < b", _cell(1, 2, 3), _cell(2, 3, 4))["verdict"] == "reproduced"
    assert ablate._paired("a < b", _cell(5, 6, 7), _cell(2, 3, 4))["verdict"] == "opposite"
    mixed = ablate._paired("a < b", _cell(1, 6, 3), _cell(2, 3, 4))
    assert mixed["verdict"] == "within the seed spread"
    assert mixed["per_seed_mm"] == [-1, 3, -1] and mixed["mean_mm"] == pytest.approx(1 / 3, 0.01)
    assert ablate._paired("a < b", _cell(1), _cell(2))["verdict"] == "reproduced (one seed)"


def test_table2_trends_compare_the_claimed_cells():
    rows = {
        "Ours, source only (Gs)": _cell(200, 210),
        "inplane10": {"lower_order": _cell(260, 250), "higher_order": _cell(250, 240)},
        "inplane50": {"lower_order": _cell(255, 245), "higher_order": _cell(252, 251)},
        "flip": {"lower_order": _cell(240, 260), "higher_order": None},  # one cell not run
        "flip+inplane50": {"lower_order": _cell(230, 230), "higher_order": _cell(260, 260)},
    }
    t = ablate.table2_trends(rows)
    assert set(t) == set(ablate.TREND_CLAIMS)
    verdicts = {c["claim"]: c["verdict"] for comps in t.values() for c in comps}
    assert verdicts["inplane10: higher < lower"] == "reproduced"
    assert verdicts["inplane50: higher < lower"] == "within the seed spread"
    assert "flip: higher < lower" not in verdicts  # its higher order was not run
    assert verdicts["lower_order: inplane50 < inplane10"] == "reproduced"
    assert verdicts["higher_order: inplane50 < inplane10"] == "opposite"
    assert verdicts["lower_order: flip < inplane50"] == "within the seed spread"
    assert verdicts["lower_order: flip+inplane50 < flip"] == "reproduced"
    assert verdicts["higher_order: flip+inplane50 < inplane10"] == "opposite"
    assert len(t["flip_plus_inplane50_best"]) == 3 + 2  # lower: 3 others; higher: 2 run
    md = ablate.markdown("inplane", {"seeds": [0, 1], "target_test": rows, "trends": t})
    assert "Flip beats in-plane rotation*: 2 within the seed spread (of 2 comparisons)" in md


def test_over_seeds_rounds_to_the_digits_asked():
    from sa3dhp.metrics import over_seeds

    out = over_seeds([0.12345, 0.23456], digits=3)
    assert out == {"mean": 0.179, "std": 0.079, "n": 2, "per_seed": [0.123, 0.235]}


def test_row_steps_pair_each_added_term_with_the_row_before():
    rows = {
        "Ours, source only (Gs)": _cell(200, 210, 205),
        "+ L_CR": _cell(260, 280, 250),
        "+ L_z(flip)": _cell(250, 240, 245),
        "+ L_v(flip-backward)": _cell(251, 239, 246),
    }  # + L_v(slow-backward) not run yet
    steps = ablate.row_steps(rows)
    assert [c["claim"] for c in steps] == [
        "+ L_CR < Ours, source only (Gs)",
        "+ L_z(flip) < + L_CR",
        "+ L_v(flip-backward) < + L_z(flip)",
    ]
    assert [c["verdict"] for c in steps] == ["opposite", "reproduced", "within the seed spread"]
    md = ablate.markdown("rows", {"seeds": [0, 1, 2], "target_test": {
        k: {**v, "pa_mpjpe": v["mpjpe"], "pck": v["mpjpe"], "auc": v["mpjpe"]}
        for k, v in rows.items()}})  # fmt: skip
    assert "+ L_z(flip) < + L_CR: -18.3 mm (per seed -10.0, -40.0, -5.0): reproduced" in md

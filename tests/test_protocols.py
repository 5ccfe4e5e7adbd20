"""The standard protocols against values computed by hand on tiny fixtures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sa3dhp import cli
from sa3dhp import skeleton as sk
from sa3dhp.data.store import read_split, write_split
from sa3dhp.protocols import evaluate_protocol
from tests.conftest import random_poses


def _split(tmp_path, clips: list[dict], frames: int = 3, subjects=None):
    n = len(clips) * frames
    arrays = {
        "poses": random_poses(n, seed=2),
        "roots": np.tile([0.0, 0.0, 4000.0], (n, 1)),
        "clip": np.repeat(np.arange(len(clips)), frames),
        "frame": np.tile(np.arange(frames), len(clips)),
        "subject": np.repeat([c.get("sid", 0) for c in clips], frames),
    }
    meta = {
        "labelled": True,
        "fps": 30,
        "image_size": None,
        "clips": clips,
        "actions": [],
        "subjects": subjects or [],
    }
    return read_split(write_split(tmp_path / "split", arrays, meta))


def test_h36m_p1_averages_actions_on_s9_and_s11_and_p2_removes_a_similarity(tmp_path):
    clips = [
        {"action": "Walking 1", "sid": 1},
        {"action": "Walking 2", "sid": 2},
        {"action": "Eating", "sid": 1},
        {"action": "Eating", "sid": 0},
    ]
    split = _split(tmp_path, clips, subjects=["S1", "S9", "S11"])
    pred = split.poses.astype(np.float64).copy()
    shift = {0: 17.0, 1: 17.0, 2: 34.0, 3: 500.0}  # S1's clip (3) is not evaluated
    for c, d in shift.items():
        pred[split.clip == c, sk.L_WRIST, 0] += d
    p1 = evaluate_protocol("h36m-p1", split, pred)
    # Walking: 17 mm on one of 17 joints = 1 mm; Eating: 2 mm; the mean over actions 1.5 mm
    assert p1["per_action"] == {"Eating": 2.0, "Walking": 1.0} and p1["mpjpe"] == 1.5
    assert p1["mpjpe_frame_mean"] == pytest.approx((1 * 6 + 2 * 3) / 9, abs=0.01)
    assert p1["frames"] == 9 and p1["paper"] == {"mpjpe": 97.8}
    c, s = np.cos(0.7), np.sin(0.7)
    turned = 1.2 * split.poses @ np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]).T
    assert evaluate_protocol("h36m-p2", split, turned)["pa_mpjpe"] == pytest.approx(0.0, abs=1e-3)


def test_3dhp_pck_and_auc_per_scene(tmp_path):
    split = _split(
        tmp_path,
        [
            {"file": "mpi_inf_3dhp_test_set/TS1/annot_data.mat"},
            {"file": "mpi_inf_3dhp_test_set/TS5/annot_data.mat"},
        ],
    )
    pred = split.poses.astype(np.float64).copy()
    pred[:, :10, 0] += 90.0  # 10 joints 90 mm off, 7 joints 200 mm off
    pred[:, 10:, 1] += 200.0
    out = evaluate_protocol("3dhp", split, pred)
    assert out["pck"] == pytest.approx(100 * 10 / 17, abs=0.01)  # errors below 150 mm
    # AUC over 0, 5, ..., 150 mm: 12 thresholds (95..150) above 90 mm see the 10 joints
    assert out["auc"] == pytest.approx(100 * (12 / 31) * (10 / 17), abs=0.01)
    assert set(out["per_scene"]) == {"TS1", "TS5"} and out["per_scene"]["TS5"]["frames"] == 3


def test_3dpw_on_the_14_common_joints_from_the_cli(tmp_path, capsys):
    split = _split(tmp_path, [{"file": "a.pkl"}])
    pred = split.poses.astype(np.float64).copy()
    pred[:, sk.L_WRIST, 2] += 14.0  # one of the 14 joints
    pred[:, sk.SPINE, 2] += 1000.0  # not one of them
    np.savez(tmp_path / "pred.npz", pred=pred)
    rc = cli.main(
        [
            "evaluate",
            "--protocol",
            "3dpw",
            "--data",
            str(tmp_path / "split"),
            "--predictions",
            str(tmp_path / "pred.npz"),
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mpjpe"] == pytest.approx(1.0, abs=0.01) and len(out["joints"]) == 14
    assert out["paper"] == {"pa_mpjpe": 72.1}

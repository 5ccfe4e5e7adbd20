"""benchmarks/facing_classifier.py: the sign-repair ceiling, the accuracy by view and the
towards/away classifier's shapes and learning."""

import numpy as np
import torch

from sa3dhp.kinematics import depth_mirror
from tests.conftest import load_benchmark, random_poses

fc = load_benchmark("facing_classifier")


def test_sign_repair_mirrors_exactly_the_frames_facing_the_wrong_way():
    truth = random_poses(40, seed=3)
    truth = truth - truth[:, :1]
    pred = truth.copy()
    wrong = np.zeros(40, dtype=bool)
    wrong[::4] = True
    pred[wrong] = depth_mirror(truth[wrong])
    row = fc.sign_repair(pred, truth)
    assert row["wrong_sign_share"] == 0.25
    assert row["mpjpe"] > 10
    assert row["sign_repaired"] < 1e-3 and row["best_of_two"] < 1e-3
    # the mask picks which frames are mirrored, and a double mirror is the identity
    assert np.allclose(fc.mirrored_where(fc.mirrored_where(pred, wrong), wrong), pred)


def test_accuracy_by_bin_counts_right_answers_per_view():
    truth_z = np.array([0.1, -0.2, 0.5, -0.5, 0.7, 0.9, -0.95, 0.99])
    away = np.array([True, True, True, True, False, True, False, False])
    acc = fc.accuracy_by_bin(away, truth_z)
    assert acc == [0.5, 0.5, 0.0, round(2 / 3, 3)]
    # binned by another forward_z (e.g. the prediction's): every answer moves to the first bin
    assert fc.accuracy_by_bin(away, truth_z, np.zeros(8)) == [0.5, None, None, None]


def test_classifier_learns_a_visible_cue_and_outputs_probabilities(monkeypatch):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 100, (64, 64, 64, 3), dtype=np.uint8)
    away = np.arange(64) % 2 == 0
    images[~away, 20:40, 24:40] = 250  # a bright "front print" on the crops facing the camera
    monkeypatch.setattr(fc, "EPOCHS", 3)
    net = fc.train_classifier(images, away, seed=0)
    p = fc.p_away(net, images)
    assert p.shape == (64,) and np.all((p >= 0) & (p <= 1))
    assert ((p > 0.5) == away).mean() > 0.9
    assert not any(m.training for m in net.modules())
    assert isinstance(net(torch.zeros(2, 3, 64, 64)), torch.Tensor)

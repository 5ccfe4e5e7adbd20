import numpy as np
import pytest
import torch

from sa3dhp import metrics
from tests.conftest import random_poses


def test_mpjpe_and_pck_hand_computed():
    gt = np.zeros((2, 17, 3))
    pred = gt.copy()
    pred[0, :, 0] = 100.0  # every joint of sample 0 off by 100 mm
    pred[1, :8, 1] = 200.0  # 8 joints of sample 1 off by 200 mm
    assert metrics.mpjpe(pred, gt) == pytest.approx((17 * 100 + 8 * 200) / 34)
    assert metrics.pck(pred, gt) == pytest.approx(100 * 26 / 34)
    assert metrics.pck(pred, gt, threshold=50) == pytest.approx(100 * 9 / 34)
    # AUC: joints with 0 error count at thresholds > 0 (30 of 31), 100 mm ones at 100 < t (10 of 31)
    expected = (9 * 30 + 17 * 10 + 8 * 0) / (34 * 31) * 100
    assert metrics.auc(pred, gt) == pytest.approx(expected)
    np.testing.assert_allclose(metrics.per_joint(pred, gt)[:8], 150.0)


def test_pa_mpjpe_is_zero_for_similar_copies_and_excludes_reflections():
    gt = random_poses(16)
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))  # a proper rotation
    pred = 1.7 * gt @ q.T + np.array([30.0, -20.0, 500.0])
    assert metrics.pa_mpjpe(pred, gt) < 1e-6
    assert metrics.mpjpe(pred, gt) > 100
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    assert metrics.pa_mpjpe(mirrored, gt) > 10.0  # a reflection is not a rotation


def test_n_mpjpe_removes_scale_only():
    gt = random_poses(8)
    assert metrics.n_mpjpe(0.8 * gt, gt) < 1e-9
    shifted = gt + 50.0
    assert metrics.n_mpjpe(shifted, gt) > 1.0


def test_torch_input_and_single_pose():
    gt = random_poses(4)
    pred = gt + 10.0 / np.sqrt(3)
    assert metrics.mpjpe(torch.as_tensor(pred), torch.as_tensor(gt)) == pytest.approx(10.0)
    assert metrics.mpjpe(pred[0], gt[0]) == pytest.approx(10.0)


def test_per_group_breakdown():
    gt = random_poses(6)
    pred = gt.copy()
    pred[3:] += 10.0
    out = metrics.per_sequence(pred, gt, ["a", "a", "a", "b", "b", "b"])
    assert out["a"]["mpjpe"] == pytest.approx(0.0) and out["a"]["count"] == 3
    assert out["b"]["mpjpe"] == pytest.approx(10.0 * np.sqrt(3))
    allm = metrics.all_metrics(pred, gt)
    assert set(allm) == {"mpjpe", "pa_mpjpe", "n_mpjpe", "pck", "auc"}


def test_bad_inputs_are_refused():
    gt = random_poses(2)
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.mpjpe(gt[:1], gt)
    with pytest.raises(ValueError, match=r"\(N, J, 3\)"):
        metrics.mpjpe(np.zeros((2, 17)), np.zeros((2, 17)))
    bad = gt.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metrics.pa_mpjpe(bad, gt)

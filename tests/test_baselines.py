"""The constant-pose baselines every results table carries."""

import numpy as np

from sa3dhp.evaluate import constant_baselines
from tests.conftest import random_poses


def test_constant_baselines_equal_the_mean_pose_computed_independently():
    source, target, gt = random_poses(40, 1), random_poses(30, 2) + 5.0, random_poses(25, 3)
    rows = constant_baselines(source, target, gt)
    for key, labels in (("constant_source_mean", source), ("constant_target_mean", target)):
        mean = np.zeros((17, 3))
        for pose in labels:
            mean += pose / len(labels)
        errors = [np.sqrt(((mean[j] - g[j]) ** 2).sum()) for g in gt for j in range(17)]
        assert abs(rows[key]["mpjpe"] - sum(errors) / len(errors)) < 1e-3
        hits = sum(e < 150.0 for e in errors) / len(errors) * 100
        assert abs(rows[key]["pck"] - hits) < 1e-6
        assert 0 < rows[key]["pa_mpjpe"] < rows[key]["mpjpe"]
    assert rows["constant_source_mean"]["mpjpe"] != rows["constant_target_mean"]["mpjpe"]

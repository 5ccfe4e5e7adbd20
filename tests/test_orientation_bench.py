"""The yaw error and yaw alignment of ``benchmarks/orientation_errors.py``: a pose turned about
its torso's up axis by a known angle has that yaw error, and turning it back undoes it."""

import numpy as np

from sa3dhp import metrics
from sa3dhp.kinematics import pose_torso_frame
from tests.conftest import load_benchmark, random_poses

bench = load_benchmark("orientation_errors")


def test_a_known_turn_is_its_yaw_error_and_aligning_undoes_it():
    truth = random_poses(40, seed=3)
    truth = truth - truth[:, :1]
    up = pose_torso_frame(truth)[..., 1]
    angles = np.linspace(-3.0, 3.0, 40)  # radians, both signs, up to about 172 degrees
    turned = bench.turn_about(truth, up, angles)
    assert metrics.mpjpe(turned, truth) > 50  # the turn moved the joints
    assert np.allclose(bench.yaw_errors(turned, truth), angles, atol=1e-9)
    r = bench.row(turned, truth)
    assert r["yaw_aligned_mpjpe"] < 0.1 and r["mpjpe"] > 50  # facing is all that differs
    deg = np.degrees(np.abs(angles))
    assert r["share_abs_yaw_error_over_90"] == round(float((deg > 90).mean()), 3)
    # a pose mirrored left to right is not a turn: its yaw error is not ~0 for every frame
    mirrored = truth * np.array([-1.0, 1.0, 1.0])
    assert np.abs(bench.yaw_errors(mirrored, truth)).max() > 0.1

"""The in-plane tilt of ``benchmarks/roll_probe.py``: a pose turned about the optical axis by a
known angle changes its tilt by that angle (counter-clockwise positive, as the in-plane
relation and the camera roll turn it), and the tilt rows read a model that ignores the turn."""

import numpy as np

from sa3dhp import relations
from sa3dhp.camera import inplane_rotation
from tests.conftest import load_benchmark, random_poses

bench = load_benchmark("roll_probe")


def test_a_known_turn_is_the_tilt_change():
    poses = random_poses(30, seed=5)
    poses = poses - poses[:, :1]
    angles = np.linspace(-40.0, 40.0, 30)
    turned = np.stack([p @ inplane_rotation(a).T for p, a in zip(poses, angles, strict=True)])
    change = (bench.tilt(turned) - bench.tilt(poses) + 180) % 360 - 180
    np.testing.assert_allclose(change, angles, atol=1e-3)
    # the in-plane relation turns the image counter-clockwise: the tilt grows by theta
    np.testing.assert_allclose(
        bench.tilt(relations.get("inplane30").pose(poses)) - bench.tilt(poses), 30.0, atol=1e-3
    )


def test_tilt_rows_read_a_model_that_ignores_the_turn():
    rng = np.random.default_rng(0)
    upright = random_poses(200, seed=6)
    upright = upright - upright[:, :1]
    angles = rng.uniform(-40, 40, 200)
    truth = np.stack([p @ inplane_rotation(a).T for p, a in zip(upright, angles, strict=True)])
    blind, seeing = bench.tilt_row(upright, truth), bench.tilt_row(truth, truth)
    assert seeing["mpjpe"] < 1e-3 and seeing["tilt_slope"] > 0.99
    assert abs(blind["tilt_slope"]) < 0.2 and blind["mpjpe"] > 50
    shares = [blind[k] for k in blind if k.startswith("share_true_tilt")]
    assert abs(sum(shares) - 1.0) < 1e-3

"""The DeepMimic -> BVH writer of ``benchmarks/real_mocap_prior.py`` (pybullet not needed): the
BVH reader gives back the clip's own forward kinematics, and left stays left."""

import numpy as np
from scipy.spatial.transform import Rotation

from sa3dhp import skeleton as sk
from sa3dhp.convert.bvh import read_bvh, to_h36m
from tests.conftest import load_benchmark

bench = load_benchmark("real_mocap_prior")


def _frames(n: int = 12, seed: int = 0) -> np.ndarray:
    """DeepMimic humanoid frames: dt, root position (m), then the joints' rotations."""
    rng = np.random.default_rng(seed)
    frames = np.zeros((n, 44))
    frames[:, 0] = 1 / 30
    frames[:, 1:4] = np.array([0.1, 0.85, -0.2]) + rng.normal(0, 0.05, (n, 3))
    for _, _, _, idx, kind in bench._SKELETON:
        if kind == "quat":
            q = Rotation.from_rotvec(rng.normal(0, 0.5, (n, 3))).as_quat()  # x, y, z, w
            frames[:, idx : idx + 4] = q[:, [3, 0, 1, 2]]
        elif kind == "z":
            frames[:, idx] = rng.uniform(-1.5, 0, n)
    return frames


def test_bvh_round_trip_within_a_micrometre(tmp_path):
    frames = _frames()
    path = tmp_path / "clip.bvh"
    bench.write_bvh(frames, 30.0, path)
    got = read_bvh(path)
    ours = bench.forward_kinematics(frames)[:, [bench.JOINTS.index(n) for n in got.names]]
    assert np.abs(got.positions - ours).max() * 10 < 1e-3  # cm -> mm
    assert abs(got.fps - 30.0) < 1e-3


def test_left_is_left_and_units(tmp_path):
    frames = _frames(1)
    frames[:, 4:] = 0
    for _, _, _, idx, kind in bench._SKELETON:  # the rest pose, facing +x (toes forward)
        if kind == "quat":
            frames[:, idx] = 1.0
    path = tmp_path / "rest.bvh"
    bench.write_bvh(frames, 30.0, path)
    joints = to_h36m(read_bvh(path), path)[0] * 10  # cm -> mm
    left, right = sk.JOINT_NAMES.index("l_wrist"), sk.JOINT_NAMES.index("r_wrist")
    # facing +x with y up, the person's right is +z
    assert joints[right, 2] > joints[left, 2] + 300
    femur = np.linalg.norm(
        joints[sk.JOINT_NAMES.index("l_hip")] - joints[sk.JOINT_NAMES.index("l_knee")]
    )
    assert 350 < femur < 550

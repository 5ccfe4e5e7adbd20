"""Shared test fixtures: random plausible poses built from the rest pose."""

from __future__ import annotations

import numpy as np
import pytest

from sa3dhp import kinematics as kin
from sa3dhp import skeleton as sk


def _yaw_pitch(yaw: float, pitch: float) -> np.ndarray:
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])  # about the camera's vertical axis
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    return rx @ ry


def random_poses(n: int, seed: int = 0) -> np.ndarray:
    """``(n, 17, 3)`` root-relative poses: rest pose with jittered limbs, lengths and view."""
    rng = np.random.default_rng(seed)
    rest = kin.to_local(sk.rest_pose().astype(np.float64))
    lengths = kin.canonical_direction_lengths() * rng.uniform(0.85, 1.15, (n, 1))
    dirs = rest.directions[None] + rng.normal(0, 0.35, (n, kin.NUM_DIRECTIONS, 3))
    scale = lengths[:, :1] / kin.canonical_direction_lengths()[0]
    roots = np.stack(
        [_yaw_pitch(rng.uniform(0, 2 * np.pi), rng.uniform(-0.3, 0.3)) for _ in range(n)]
    )
    root_vectors = np.einsum("nij,kj->nki", roots, rest.root_vectors) * scale[:, None]
    pose = kin.forward_kinematics(kin.LocalPose(root_vectors, dirs), lengths)
    return pose.astype(np.float64)


@pytest.fixture
def poses() -> np.ndarray:
    return random_poses(64)

"""Shared test fixtures: random plausible poses built from the rest pose, a tiny model file."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from sa3dhp import kinematics as kin
from sa3dhp import skeleton as sk
from sa3dhp.model_file import write_model_file
from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.pose_prior import PosePrior

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs two workers on two cores: one thread each, for the tests and for the
    # runs they start in subprocesses (which inherit the environment)
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)


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


TINY_ARCH = {"backbone": "resnet18", "conv_channels": 16, "fc_hidden": 16, "head": "latent"}
TINY_PRIOR_ARCH = {"arch": "mlp", "hidden": 64, "blocks": 1, "lengths": "predicted"}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A model file of a small randomly initialised G and pose prior (no training)."""
    torch.manual_seed(0)
    g = ImageToLatent(**TINY_ARCH, weights=None).eval()
    prior = PosePrior(**TINY_PRIOR_ARCH).eval()
    tensors = {f"G.{k}": v for k, v in g.state_dict().items()}
    tensors |= {f"Dp.{k}": v for k, v in prior.state_dict().items()}
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    return write_model_file(path, tensors, TINY_ARCH, TINY_PRIOR_ARCH, 64, 1.7, {}, "test")


def load_benchmark(name: str):
    """The module ``benchmarks/<name>.py`` (benchmarks are scripts, not a package)."""
    import importlib.util
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "benchmarks"
    if str(root) not in sys.path:  # a benchmark may import its sibling scripts
        sys.path.insert(0, str(root))
    spec = importlib.util.spec_from_file_location(name, root / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

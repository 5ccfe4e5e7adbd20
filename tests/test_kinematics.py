import numpy as np
import pytest
import torch

from sa3dhp import kinematics as kin
from sa3dhp import skeleton as sk
from tests.conftest import random_poses


def test_forward_kinematics_inverts_to_local_numpy(poses):
    local = kin.to_local(poses)
    rebuilt = kin.forward_kinematics(local, kin.direction_bone_lengths(poses))
    assert isinstance(rebuilt, np.ndarray)
    assert np.abs(rebuilt - poses).max() < 1e-3


def test_forward_kinematics_inverts_to_local_torch_float32_batched(poses):
    y = torch.as_tensor(poses, dtype=torch.float32).reshape(4, 16, 17, 3)
    local = kin.to_local(y)
    assert local.root_vectors.shape == (4, 16, 3, 3) and local.directions.shape == (4, 16, 13, 3)
    rebuilt = kin.forward_kinematics(local, kin.direction_bone_lengths(y))
    assert (rebuilt - y).abs().max().item() < 1e-3


def test_directions_are_unit_and_view_invariant(poses):
    local = kin.to_local(poses)
    np.testing.assert_allclose(np.linalg.norm(local.directions, axis=-1), 1.0, atol=1e-9)
    a = np.deg2rad(73.0)
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    turned = kin.to_local(poses @ rot.T)
    np.testing.assert_allclose(turned.directions, local.directions, atol=1e-9)
    np.testing.assert_allclose(turned.root_vectors, local.root_vectors @ rot.T, atol=1e-9)


def test_forward_kinematics_is_differentiable_and_normalises_raw_directions():
    y = torch.as_tensor(random_poses(8), dtype=torch.float64)
    local = kin.to_local(y)
    raw = (local.directions * 3.0).requires_grad_(True)
    roots = local.root_vectors.clone().requires_grad_(True)
    lengths = kin.direction_bone_lengths(y)
    out = kin.forward_kinematics(kin.LocalPose(roots, raw), lengths)
    assert (out - y).abs().max() < 1e-6
    out.square().sum().backward()
    assert torch.isfinite(raw.grad).all() and raw.grad.abs().sum() > 0
    assert torch.isfinite(roots.grad).all() and roots.grad.abs().sum() > 0


def test_canonical_lengths_give_canonical_bones(poses):
    out = kin.forward_kinematics(kin.to_local(poses), kin.canonical_direction_lengths())
    bones = sk.bone_lengths(out)[:, list(kin.DIRECTION_JOINTS)]
    expected = np.broadcast_to(kin.canonical_direction_lengths(), bones.shape)
    np.testing.assert_allclose(bones, expected, rtol=1e-6)


@pytest.mark.parametrize("shape", [(17,), (16, 3), (4, 17, 2)])
def test_bad_shapes_are_refused(shape):
    with pytest.raises(ValueError, match=r"\(\.\.\., 17, 3\)"):
        kin.to_local(np.zeros(shape))


def test_nan_pose_is_refused():
    pose = sk.rest_pose().copy()
    pose[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        kin.to_local(pose)


def test_forward_kinematics_checks_shapes(poses):
    local = kin.to_local(poses)
    with pytest.raises(ValueError, match=r"\(\.\.\., 13\)"):
        kin.forward_kinematics(local, np.ones(12))
    with pytest.raises(ValueError, match="directions"):
        kin.forward_kinematics(
            kin.LocalPose(local.root_vectors, local.directions[:, :5]), np.ones(13)
        )


def test_one_torso_frame_numpy_and_torch_agree_and_plausibility_uses_it(poses):
    from sa3dhp import plausibility

    shifted = poses + np.array([120.0, -40.0, 3000.0])  # the frame does not depend on the origin
    frame_np = kin.pose_torso_frame(shifted)
    frame_t = kin.pose_torso_frame(torch.as_tensor(poses, dtype=torch.float32))
    assert isinstance(frame_np, np.ndarray) and isinstance(frame_t, torch.Tensor)
    np.testing.assert_allclose(frame_t.numpy(), frame_np, atol=1e-5)
    np.testing.assert_allclose(
        frame_np @ frame_np.swapaxes(-1, -2), np.eye(3)[None].repeat(64, 0), atol=1e-9
    )
    np.testing.assert_allclose(np.linalg.det(frame_np), 1.0, atol=1e-9)  # right-handed
    up = poses[:, sk.THORAX] - poses[:, sk.PELVIS]
    np.testing.assert_allclose(
        frame_np[..., 1], up / np.linalg.norm(up, axis=-1, keepdims=True), atol=1e-9
    )
    # the local representation's directions are the bones expressed in this frame
    local = kin.to_local(poses)
    bone = poses[:, sk.HEAD] - poses[:, sk.NECK]
    bone /= np.linalg.norm(bone, axis=-1, keepdims=True)
    head = kin.DIRECTION_JOINTS.index(sk.HEAD)
    np.testing.assert_allclose(
        local.directions[:, head], np.einsum("nij,ni->nj", frame_np, bone), atol=1e-9
    )
    left, up_axis, fwd = plausibility.torso_axes(poses)
    np.testing.assert_allclose(np.stack([left, up_axis, fwd], -1), frame_np, atol=1e-12)

import numpy as np
import pytest

from sa3dhp import camera
from tests.conftest import random_poses


def test_crop_projection_equals_full_image_projection_then_crop_affine():
    intr = camera.Intrinsics(focal=1150.0, cx=512.0, cy=500.0)
    y = random_poses(5)
    root = np.array([[400.0, -150.0, 4200.0]] * 5)
    extent, size = 3000.0, 64
    full = camera.project(root[:, None] + y, intr)  # continuous
    got = camera.project_to_crop(y, root, extent, size)
    for n in range(5):
        box = camera.crop_box(root[n], extent, intr)
        aff = camera.image_to_crop_affine(box, size)
        idx = full[n] - 0.5  # continuous -> index coordinates
        mapped = idx @ aff[:, :2].T + aff[:, 2] + 0.5
        np.testing.assert_allclose(mapped, got[n], atol=1e-9)
    # the pelvis is at the crop centre
    np.testing.assert_allclose(got[:, 0], 32.0, atol=1e-9)


def test_crop_side_scales_with_depth():
    intr = camera.Intrinsics(1000.0, 0.0, 0.0)
    near = camera.crop_box(np.array([0.0, 0.0, 2000.0]), 2000.0, intr)
    far = camera.crop_box(np.array([0.0, 0.0, 4000.0]), 2000.0, intr)
    assert near[2] == pytest.approx(1000.0) and far[2] == pytest.approx(500.0)


def test_points_behind_the_camera_are_refused():
    with pytest.raises(ValueError, match="front of the camera"):
        camera.project_to_crop(np.zeros((17, 3)), np.array([0.0, 0.0, -10.0]), 3000.0, 64)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        camera.project(np.zeros((4, 2)), camera.Intrinsics(1.0, 0.0, 0.0))

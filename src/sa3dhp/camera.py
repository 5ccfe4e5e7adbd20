"""Pinhole camera and the person-centred square crop, with their exact link to 3D operations.

Conventions (used everywhere in sa3dhp):

* Camera frame: x right, y down, z forward (OpenCV). A pose ``y`` is root-relative, ``(17, 3)``
  mm; ``root`` ``(3,)`` mm is the pelvis position in the camera frame, so joints are at
  ``root + y``.
* Image coordinates are continuous: pixel ``(row i, column j)`` covers ``[j, j+1) x [i, i+1)``
  and its centre is at ``(j + 0.5, i + 0.5)``.
* The crop is what a person detector would give: a square centred on the projection of the
  pelvis whose side covers ``extent_mm`` at the pelvis depth, i.e. ``side_px = f * extent / Z``,
  resampled to ``size`` pixels. ``extent_mm`` is a property of the person (a multiple of their
  height), so it does not change under the relations below.

Exact correspondences (tests check them to sub-pixel precision):

* Mirroring the crop about its vertical centre line == rendering the mirrored scene
  ``(x -> -x)``: root-relative pose with x negated (and left/right joints swapped, since the
  mirrored person's left side is the original right), root with x negated.
* Rotating the crop by ``theta`` about its centre (counter-clockwise on screen) == rotating the
  scene about the optical axis by :func:`inplane_rotation` (pose *and* root). The pelvis then
  projects to the rotated pelvis projection, so the new detector crop is the rotated old one.

Because the crop is pelvis-centred and scaled by depth, crop coordinates depend neither on the
focal length nor on the principal point: :func:`project_to_crop` needs only pose, root, extent
and size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels."""

    focal: float
    cx: float
    cy: float


def _check_points(points: np.ndarray, name: str) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim < 1 or points.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (..., 3), got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return points


def project(points: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Pinhole projection of camera-frame points.

    Args:
        points: ``(..., 3)`` mm, camera frame, ``z > 0``.
        intrinsics: focal length and principal point in pixels.

    Returns:
        ``(..., 2)`` continuous image coordinates ``(u, v)``.
    """
    points = _check_points(points, "points")
    z = points[..., 2:3]
    if np.any(z <= 0):
        raise ValueError("points must lie in front of the camera (z > 0)")
    uv = intrinsics.focal * points[..., :2] / z
    return uv + np.array([intrinsics.cx, intrinsics.cy])


def crop_box(root: np.ndarray, extent_mm: float | np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Detector-like crop box of a person in the full image.

    Args:
        root: ``(..., 3)`` pelvis position, mm, camera frame.
        extent_mm: side of the crop in mm at the pelvis depth (scalar or ``(...)``).
        intrinsics: camera intrinsics.

    Returns:
        ``(..., 3)``: crop centre ``(u0, v0)`` and side in pixels.
    """
    root = _check_points(root, "root")
    centre = project(root, intrinsics)
    side = intrinsics.focal * extent_mm / root[..., 2]
    return np.concatenate([centre, side[..., None]], axis=-1)


def image_to_crop_affine(box: np.ndarray, size: int) -> np.ndarray:
    """2x3 affine map from full-image pixel *indices* to crop pixel indices (for cv2.warpAffine).

    Args:
        box: ``(3,)`` centre ``(u0, v0)`` and side, as returned by :func:`crop_box`.
        size: crop size in pixels.
    """
    u0, v0, side = (float(b) for b in box)
    s = size / side
    # continuous: c = (p - centre) * s + size / 2; index = continuous - 0.5 on both sides
    tx = -u0 * s + size / 2 + 0.5 * s - 0.5
    ty = -v0 * s + size / 2 + 0.5 * s - 0.5
    return np.array([[s, 0.0, tx], [0.0, s, ty]])


def project_to_crop(pose: np.ndarray, root: np.ndarray, extent_mm: float, size: int) -> np.ndarray:
    """Project a root-relative pose into its person-centred crop.

    Args:
        pose: ``(..., J, 3)`` root-relative joints, mm, camera frame.
        root: ``(..., 3)`` pelvis position, mm, camera frame (broadcast against ``pose``).
        extent_mm: crop side in mm at the pelvis depth; scalar or ``(...)`` array.
        size: crop size in pixels.

    Returns:
        ``(..., J, 2)`` continuous crop coordinates (the crop centre is ``size / 2``).
    """
    pose = _check_points(pose, "pose")
    root = _check_points(root, "root")[..., None, :]
    extent = np.asarray(extent_mm, dtype=np.float64)[..., None, None]
    absolute = root + pose
    if np.any(absolute[..., 2] <= 0) or np.any(root[..., 2] <= 0):
        raise ValueError("every joint and the root must lie in front of the camera (z > 0)")
    offset = absolute[..., :2] / absolute[..., 2:3] - root[..., :2] / root[..., 2:3]
    return size / 2 + size * root[..., 2:3] / extent * offset


def inplane_rotation(theta_deg: float) -> np.ndarray:
    """3x3 rotation about the optical axis that turns the image ``theta`` counter-clockwise.

    With y pointing down, a counter-clockwise turn on screen maps ``(x, y)`` to
    ``(x cos + y sin, -x sin + y cos)``.
    """
    t = np.deg2rad(theta_deg)
    c, s = np.cos(t), np.sin(t)
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


def crop_rotation_affine(theta_deg: float, size: int) -> np.ndarray:
    """2x3 affine (pixel indices, cv2.warpAffine) turning a crop theta CCW about its centre."""
    a = inplane_rotation(theta_deg)[:2, :2]
    c = np.array([(size - 1) / 2.0, (size - 1) / 2.0])
    return np.concatenate([a, (c - a @ c)[:, None]], axis=1)

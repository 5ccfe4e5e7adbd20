"""The relation catalogue: transformations defined consistently on poses, motions, crops, videos.

A relation ``tau`` is built from a name (:func:`get`)::

    name     := part ( "-" part )*
    part     := atom ( "+" atom )*
    atom     := "identity" | "flip" | "inplane" ANGLE | "backward" | "slow"
    ANGLE    := degrees, a non-negative number such as 50 or 12.5

for example ``flip``, ``inplane50``, ``flip+inplane50``, ``backward``, ``flip-backward``,
``slow-backward``, ``flip+inplane50-backward``. Each atom may appear once.

Meaning, for a pose ``y`` (root-relative, camera frame; see :mod:`sa3dhp.camera`):

* ``flip``: mirror the scene, ``x -> -x``, and swap left/right joints. Crop: mirror horizontally.
* ``inplaneT``: turn the scene by ``T`` degrees about the optical axis so that the image turns
  counter-clockwise (:func:`sa3dhp.camera.inplane_rotation`). Crop: rotate about its centre.
* ``flip+inplaneT``: flip first, then rotate.
* ``backward``: reverse the frame order of a motion or video.
* ``slow``: a pair built from a 30 FPS source clip of length ``2T``: the *anchor* is the clip
  sampled at 15 FPS (every other frame, ``T`` frames) and the relation's output is the middle
  half of the clip at 30 FPS (``T`` frames): the same motion at half speed. Use
  :meth:`Relation.anchor_motion` / :meth:`Relation.anchor_video` for the anchor side of a pair;
  for relations without ``slow`` the anchor is the input itself.

Spatial atoms act frame by frame and temporal atoms on the frame order, so they commute.
Arrays: poses ``(..., 17, 3)``; motions ``(T, 17, 3)`` or ``(N, T, 17, 3)``; numpy crops
``(H, W, C)`` or ``(N, H, W, C)`` and torch crops ``(..., C, H, W)``; numpy videos
``(T, H, W, C)`` or ``(N, T, H, W, C)`` and torch videos ``(..., T, C, H, W)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from sa3dhp import skeleton as sk
from sa3dhp.camera import crop_rotation_affine, inplane_rotation

GRAMMAR = (
    'name := part ("-" part)*, part := atom ("+" atom)*, '
    'atom := "identity" | "flip" | "inplane<degrees>" | "backward" | "slow"; '
    "e.g. flip, inplane50, flip+inplane50, backward, flip-backward, slow-backward, "
    "flip+inplane50-backward"
)

#: The inplane angles the supplement's Table 2 varies.
INPLANE_ANGLES: tuple[int, ...] = (10, 25, 50, 75, 100, 125)

_ATOM = re.compile(r"^(identity|flip|backward|slow|inplane(\d+(?:\.\d+)?))$")


def _check_pose_array(y: np.ndarray | torch.Tensor, what: str, min_ndim: int) -> None:
    if y.ndim < min_ndim or tuple(y.shape[-2:]) != (sk.NUM_JOINTS, 3):
        expected = "(..., 17, 3)" if min_ndim == 2 else "(T, 17, 3) or (N, T, 17, 3)"
        raise ValueError(f"{what} must have shape {expected}, got {tuple(y.shape)}")
    finite = torch.isfinite(y).all() if isinstance(y, torch.Tensor) else np.isfinite(y).all()
    if not finite:
        raise ValueError(f"{what} contains NaN or infinite values")


@dataclass(frozen=True)
class Relation:
    """A relation of the catalogue; build it with :func:`get`.

    Attributes:
        flip: mirror the scene.
        theta: in-plane angle in degrees (applied after the flip).
        backward: reverse time.
        slow: half speed (see the module docstring for the pair it builds).
    """

    flip: bool = False
    theta: float = 0.0
    backward: bool = False
    slow: bool = False

    # ------------------------------------------------------------------ naming
    @property
    def name(self) -> str:
        """Canonical name, e.g. ``flip+inplane50-slow-backward``."""
        spatial = []
        if self.flip:
            spatial.append("flip")
        if self.theta:
            spatial.append(f"inplane{self.theta:g}")
        parts = ["+".join(spatial)] if spatial else []
        parts += [p for p, on in (("slow", self.slow), ("backward", self.backward)) if on]
        return "-".join(parts) or "identity"

    @property
    def is_temporal(self) -> bool:
        """Whether the relation acts on time (motions and videos only)."""
        return self.backward or self.slow

    @property
    def space(self) -> str:
        """``"v"`` (motion latents, Tv) for relations acting on time, else ``"z"`` (Tz)."""
        return "v" if self.is_temporal else "z"

    def clip_length(self, length: int) -> int:
        """Frames of 30 FPS source clip needed to build a pair of ``length``-frame clips."""
        return 2 * length if self.slow else length

    # ------------------------------------------------------------------ poses
    def rotation(self) -> np.ndarray:
        """3x3 linear map of the spatial part on camera-frame points (before joint swap)."""
        m = np.eye(3)
        if self.flip:
            m = np.diag([-1.0, 1.0, 1.0])
        if self.theta:
            m = inplane_rotation(self.theta) @ m
        return m

    def _spatial_points(self, pts: np.ndarray | torch.Tensor, swap: bool):
        m = self.rotation()
        if isinstance(pts, torch.Tensor):
            out = pts @ torch.as_tensor(m.T, dtype=pts.dtype, device=pts.device)
        else:
            out = np.asarray(pts) @ m.T.astype(np.result_type(pts, np.float32))
        if swap and self.flip:
            out = out[..., list(sk.FLIP_PERMUTATION), :]
        return out

    def pose(self, y: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Apply the relation to poses ``(..., 17, 3)`` (spatial relations only)."""
        if self.is_temporal:
            raise ValueError(
                f"relation '{self.name}' acts on time; apply it to a motion with .motion()"
            )
        _check_pose_array(y, "pose", 2)
        return self._spatial_points(y, swap=True)

    def root(self, root: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Apply the spatial part to pelvis positions ``(..., 3)`` (see :mod:`sa3dhp.camera`)."""
        return self._spatial_points(root, swap=False)

    def root_track(self, roots: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Apply the relation to pelvis trajectories ``(T, 3)`` or ``(N, T, 3)``."""
        return self._time(self._spatial_points(roots, swap=False), axis=-2)

    # ------------------------------------------------------------------ time
    def _time(self, seq, axis: int):
        n = seq.shape[axis]
        if self.slow:
            if n % 4:
                raise ValueError(
                    f"'{self.name}' needs a source clip whose length is a multiple of 4 "
                    f"(2x the pair length), got {n} frames"
                )
            seq = _take(seq, axis, slice(n // 4, 3 * n // 4))
        if self.backward:
            seq = _take(seq, axis, slice(None, None, -1))
        return seq

    def _anchor(self, seq, axis: int):
        if self.slow:
            if seq.shape[axis] % 4:
                raise ValueError(
                    f"'{self.name}' needs a source clip whose length is a multiple of 4, "
                    f"got {seq.shape[axis]} frames"
                )
            return _take(seq, axis, slice(None, None, 2))
        return seq

    def motion(self, motion: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Apply the relation to motions ``(T, 17, 3)`` or ``(N, T, 17, 3)``."""
        _check_pose_array(motion, "motion", 3)
        if motion.ndim > 4:
            raise ValueError(f"motion must be (T, 17, 3) or (N, T, 17, 3), got {motion.shape}")
        return self._time(self._spatial_points(motion, swap=True), axis=-3)

    def sequence(self, seq: np.ndarray | torch.Tensor, axis: int) -> np.ndarray | torch.Tensor:
        """Apply the temporal part alone to any sequence along ``axis`` (e.g. latents
        ``(N, T, D)`` with ``axis=1``); ``slow`` takes the middle half, as :meth:`motion` does."""
        return self._time(seq, axis)

    def anchor_motion(self, motion: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """The anchor side of the pair whose other side is :meth:`motion` of the same input."""
        _check_pose_array(motion, "motion", 3)
        return self._anchor(motion, axis=-3)

    # ------------------------------------------------------------------ images
    def image(self, x: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Apply the spatial part to crops.

        Crops: numpy ``(H, W, C)`` or ``(N, H, W, C)``; torch ``(..., C, H, W)``.
        """
        if self.is_temporal:
            raise ValueError(
                f"relation '{self.name}' acts on time; apply it to a video with .video()"
            )
        return self._spatial_image(x)

    def _spatial_image(self, x):
        if isinstance(x, torch.Tensor):
            return _torch_image(x, self.flip, self.theta)
        return _numpy_image(np.asarray(x), self.flip, self.theta)

    def video(self, video: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Apply the relation to videos.

        Videos: numpy ``(T, H, W, C)`` or ``(N, T, H, W, C)``; torch ``(..., T, C, H, W)``.
        """
        if video.ndim < 4:
            raise ValueError(f"video must have at least 4 dimensions, got {tuple(video.shape)}")
        out = self._spatial_image(video) if (self.flip or self.theta) else video
        return self._time(out, axis=-4)

    def anchor_video(self, video: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """The anchor side of the pair whose other side is :meth:`video` of the same input."""
        if video.ndim < 4:
            raise ValueError(f"video must have at least 4 dimensions, got {tuple(video.shape)}")
        return self._anchor(video, axis=-4)


def _take(seq, axis: int, sl: slice):
    if isinstance(seq, torch.Tensor) and sl.step is not None and sl.step < 0:
        return torch.flip(seq, dims=[axis])
    index = [slice(None)] * seq.ndim
    index[axis] = sl
    return seq[tuple(index)]


def _numpy_image(x: np.ndarray, flip: bool, theta: float) -> np.ndarray:
    if x.ndim < 3:
        raise ValueError(f"numpy crops must be (..., H, W, C), got {x.shape}")
    if flip:
        x = x[..., :, ::-1, :]
    if theta:
        h, w, c = x.shape[-3:]
        if h != w:
            raise ValueError(f"in-plane rotation needs square crops, got {h}x{w}")
        m = crop_rotation_affine(theta, h)
        flat = np.ascontiguousarray(x).reshape(-1, h, w, c)
        out = np.empty_like(flat)
        for i, img in enumerate(flat):
            r = cv2.warpAffine(
                img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            out[i] = r.reshape(h, w, c)
        x = out.reshape(x.shape)
    return np.ascontiguousarray(x)


def _torch_image(x: torch.Tensor, flip: bool, theta: float) -> torch.Tensor:
    if x.ndim < 3:
        raise ValueError(f"torch crops must be (..., C, H, W), got {tuple(x.shape)}")
    if flip:
        x = torch.flip(x, dims=[-1])
    if theta:
        c, h, w = x.shape[-3:]
        if h != w:
            raise ValueError(f"in-plane rotation needs square crops, got {h}x{w}")
        flat = x.reshape(-1, c, h, w)
        dtype = flat.dtype
        flat = flat.float() if not flat.is_floating_point() else flat
        t = math.radians(theta)
        ct, st = math.cos(t), math.sin(t)
        # output->input map in normalised coordinates: the transpose of the forward rotation
        a = torch.tensor([[ct, -st, 0.0], [st, ct, 0.0]], dtype=flat.dtype, device=flat.device)
        grid = F.affine_grid(a.expand(flat.shape[0], 2, 3), list(flat.shape), align_corners=False)
        out = F.grid_sample(flat, grid, mode="bilinear", padding_mode="border", align_corners=False)
        if not dtype.is_floating_point:
            out = out.round().clamp(0, 255).to(dtype)
        x = out.reshape(x.shape)
    return x


def get(name: str) -> Relation:
    """Build a relation from its name (see the module docstring for the grammar).

    Raises:
        ValueError: for a name outside the grammar, with the grammar in the message.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"relation name must be a non-empty string; grammar: {GRAMMAR}")
    seen: set[str] = set()
    kw: dict[str, object] = {}
    for part in name.strip().lower().split("-"):
        for atom in part.split("+"):
            m = _ATOM.match(atom)
            if m is None:
                raise ValueError(f"unknown relation '{name}' (bad atom '{atom}'); {GRAMMAR}")
            key = "inplane" if m.group(2) else m.group(1)
            if key in seen:
                raise ValueError(f"relation '{name}' repeats '{key}'; {GRAMMAR}")
            seen.add(key)
            if key == "inplane":
                kw["theta"] = float(m.group(2))
            elif key != "identity":
                kw[key] = True
    return Relation(**kw)  # type: ignore[arg-type]


def catalogue() -> list[str]:
    """Names of the relation candidates the supplement and sa3dhp's scoring consider."""
    spatial = ["flip"] + [f"inplane{t}" for t in INPLANE_ANGLES]
    spatial += [f"flip+inplane{t}" for t in INPLANE_ANGLES]
    temporal = [f"{s}-backward" for s in spatial] + ["backward", "slow", "slow-backward"]
    return spatial + temporal

"""Renderer of the synthetic world: person-centred crops drawn directly in crop coordinates.

The body is a set of primitives -- tapered, shaded limbs (capsules), a torso, a neck and a head
with a face on its front -- projected with :func:`sa3dhp.camera.project_to_crop` and painted far
to near (painter's algorithm on camera depth) with OpenCV's anti-aliased sub-pixel drawing.
Limb widths follow the crop's pixels-per-mm, so people look right at any distance. The face
and a lighter shirt front show which way the person faces (a real image shows that too).

Two appearance presets (every parameter in :class:`AppearanceStyle`):

* :func:`source_appearance` -- SURREAL-like: random saturated clothing colours per body region,
  plain or gradient backgrounds, mild lighting variation, nothing else;
* :func:`target_appearance` -- "in the wild": other (darker, team-jersey) palettes with banded
  shirts, cluttered textured backgrounds with limb-like distractors, strong lighting changes and
  colour casts, motion blur, sensor noise, JPEG artefacts and occluders.

Appearance is fixed per clip (:meth:`Renderer.sample_appearance`); the background is a window
onto a larger scene canvas that moves with the pelvis's image motion, so videos are consistent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import cv2
import numpy as np

from sa3dhp import skeleton as sk
from sa3dhp.camera import project_to_crop

SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << SHIFT

#: Limbs as (name, joint a, joint b, radius at a mm, radius at b mm, clothing region).
LIMBS = (
    ("l_thigh", sk.L_HIP, sk.L_KNEE, 78.0, 55.0, "bottom"),
    ("r_thigh", sk.R_HIP, sk.R_KNEE, 78.0, 55.0, "bottom"),
    ("l_shin", sk.L_KNEE, sk.L_ANKLE, 52.0, 38.0, "bottom"),
    ("r_shin", sk.R_KNEE, sk.R_ANKLE, 52.0, 38.0, "bottom"),
    ("l_upper_arm", sk.L_SHOULDER, sk.L_ELBOW, 48.0, 40.0, "top"),
    ("r_upper_arm", sk.R_SHOULDER, sk.R_ELBOW, 48.0, 40.0, "top"),
    ("l_forearm", sk.L_ELBOW, sk.L_WRIST, 38.0, 30.0, "skin"),
    ("r_forearm", sk.R_ELBOW, sk.R_WRIST, 38.0, 30.0, "skin"),
    ("neck", sk.THORAX, sk.NECK, 48.0, 45.0, "skin"),
)
HEAD_RADIUS_MM = 105.0


@dataclass
class AppearanceStyle:
    """Every appearance parameter of a domain. Ranges are ``(min, max)``."""

    palette: str = "source"  # source | target (clothing colours)
    banded_shirt_prob: float = 0.0  # shirts with a second colour band
    plain_background_prob: float = 0.5
    gradient_background_prob: float = 0.5
    texture_background_prob: float = 0.0
    distractors: tuple[int, int] = (0, 0)  # limb-like clutter in the background
    gain: tuple[float, float] = (0.85, 1.15)  # global brightness
    gamma: tuple[float, float] = (0.9, 1.1)
    colour_cast: float = 0.0  # max per-channel gain deviation
    blur_prob: float = 0.0
    blur_length: tuple[int, int] = (3, 7)  # motion-blur kernel length, px at 64 px
    noise_std: tuple[float, float] = (0.0, 0.0)  # sensor noise, grey levels
    jpeg_prob: float = 0.0
    jpeg_quality: tuple[int, int] = (20, 60)
    occluder_prob: float = 0.0
    body_width: tuple[float, float] = (0.9, 1.15)  # scale of limb radii
    light_angle_deg: tuple[float, float] = (-60.0, 60.0)  # light direction from the top-left

    def __post_init__(self) -> None:
        if self.palette not in ("source", "target"):
            raise ValueError(f"palette: '{self.palette}' is not one of ['source', 'target']")
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name.endswith("_prob") and not 0.0 <= v <= 1.0:
                raise ValueError(f"{f.name}={v}: must be a probability in [0, 1]")
            if isinstance(v, (tuple, list)):
                if len(v) != 2 or v[0] > v[1]:
                    raise ValueError(f"{f.name}={v}: must be a (min, max) pair with min <= max")
                if f.name != "light_angle_deg" and v[0] < 0:
                    raise ValueError(f"{f.name}={v}: must be non-negative")
        if self.colour_cast < 0:
            raise ValueError(f"colour_cast={self.colour_cast}: must be >= 0")
        total = (
            self.plain_background_prob
            + self.gradient_background_prob
            + self.texture_background_prob
        )
        if total <= 0:
            raise ValueError("background probabilities (plain/gradient/texture) sum to 0")
        if self.jpeg_quality[1] > 100 or self.blur_length[0] < 1:
            raise ValueError("jpeg_quality must be <= 100 and blur_length >= 1")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AppearanceStyle:
        """Build from a dict, refusing unknown keys (listing the valid ones)."""
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(valid))
        if unknown:
            raise ValueError(f"unknown appearance key(s) {unknown}; valid keys: {valid}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def source_appearance() -> AppearanceStyle:
    """SURREAL-like source look."""
    return AppearanceStyle()


def target_appearance() -> AppearanceStyle:
    """'In the wild' target look."""
    return AppearanceStyle(
        palette="target",
        banded_shirt_prob=0.6,
        plain_background_prob=0.0,
        gradient_background_prob=0.1,
        texture_background_prob=0.9,
        distractors=(2, 6),
        gain=(0.45, 1.5),
        gamma=(0.6, 1.6),
        colour_cast=0.25,
        blur_prob=0.5,
        blur_length=(3, 7),
        noise_std=(3.0, 14.0),
        jpeg_prob=0.7,
        jpeg_quality=(15, 50),
        occluder_prob=0.3,
        body_width=(0.8, 1.3),
    )


@dataclass
class Appearance:
    """Per-clip appearance: colours (RGB 0-255), scene canvas, lighting, degradations."""

    colours: dict[str, np.ndarray]
    canvas: np.ndarray  # (3S, 3S, 3) uint8 scene around the person
    offset: np.ndarray  # (2,) top-left of the crop window in the canvas at frame 0
    lut: np.ndarray | None  # (256, 1, 3) uint8 lighting lookup table
    blur_kernel: np.ndarray | None
    noise_std: float
    jpeg_quality: int | None
    width_scale: float
    light: np.ndarray  # (2,) unit light direction in the image plane
    occluder: tuple[np.ndarray, np.ndarray] | None  # (polygon (K, 2) in canvas px, colour)


def _hsv_colours(rng: np.random.Generator, n: int, sat: tuple, val: tuple, hue=(0, 180)):
    hsv = np.stack([rng.uniform(*hue, n), rng.uniform(*sat, n), rng.uniform(*val, n)], -1).astype(
        np.uint8
    )[None]
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0].astype(np.float32)


class Renderer:
    """Draws person-centred crops of a given size in one appearance style.

    Args:
        size: crop size in pixels (16-512).
        style: appearance parameters.
        seed: seed of the precomputed texture and noise banks.
    """

    def __init__(self, size: int, style: AppearanceStyle, seed: int = 0) -> None:
        if not 16 <= size <= 512:
            raise ValueError(f"size={size}: must be in [16, 512]")
        self.size, self.style = size, style
        rng = np.random.default_rng([seed, 99])
        self.textures = self._texture_bank(rng) if style.texture_background_prob > 0 else []
        s = size
        self.noise_bank = rng.normal(0, 1, (8, s, s, 3)).astype(np.float32)

    # ---------------------------------------------------------------- scene
    def _texture_bank(self, rng: np.random.Generator, n: int = 12) -> list[np.ndarray]:
        big = 3 * self.size
        bank = []
        yy, xx = np.mgrid[0:big, 0:big].astype(np.float32)
        for k in range(n):
            kind = k % 3
            base = rng.uniform(40, 220, 3).astype(np.float32)
            if kind == 0:  # filtered noise at a random scale
                noise = rng.normal(0, 1, (big, big, 3)).astype(np.float32)
                sigma = rng.uniform(1.0, 6.0) * self.size / 64
                noise = cv2.GaussianBlur(noise, (0, 0), sigma)
                noise /= noise.std() + 1e-6
                img = base + 35 * noise
            elif kind == 1:  # stripes / bricks
                a = rng.uniform(0, np.pi)
                period = rng.uniform(4, 14) * self.size / 64
                wave = np.sin((np.cos(a) * xx + np.sin(a) * yy) * 2 * np.pi / period)
                other = rng.uniform(40, 220, 3).astype(np.float32)
                w = (wave > rng.uniform(-0.5, 0.5))[..., None]
                img = np.where(w, base, other) + rng.normal(0, 8, (big, big, 3))
            else:  # blobs (foliage, crowd)
                img = np.broadcast_to(base, (big, big, 3)).copy()
                for _ in range(int(40 * (big / 192) ** 2)):
                    c = rng.uniform(0, big, 2).astype(int)
                    r = int(rng.uniform(2, 10) * self.size / 64)
                    col = tuple(float(x) for x in rng.uniform(20, 235, 3))
                    cv2.circle(img, (int(c[0]), int(c[1])), max(r, 1), col, -1, cv2.LINE_AA)
            img = 0.75 * img + 0.25 * img.mean(-1, keepdims=True)  # a little less saturated
            bank.append(np.clip(img, 0, 255).astype(np.uint8))
        return bank

    def _canvas(self, rng: np.random.Generator) -> np.ndarray:
        st, s = self.style, self.size
        big = 3 * s
        probs = np.array(
            [st.plain_background_prob, st.gradient_background_prob, st.texture_background_prob]
        )
        kind = rng.choice(3, p=probs / probs.sum())
        if kind == 0:
            canvas = np.empty((big, big, 3), np.uint8)
            canvas[:] = rng.uniform(30, 230, 3).astype(np.uint8)
        elif kind == 1:
            c0, c1 = rng.uniform(20, 235, (2, 3))
            ramp = np.linspace(0, 1, big, dtype=np.float32)
            ramp = ramp[:, None, None] if rng.random() < 0.5 else ramp[None, :, None]
            canvas = np.broadcast_to(c0 + (c1 - c0) * ramp, (big, big, 3)).astype(np.uint8).copy()
        else:
            canvas = self.textures[rng.integers(len(self.textures))].copy()
            if rng.random() < 0.5:
                canvas = canvas[:, ::-1].copy()
        lo, hi = st.distractors
        for _ in range(int(rng.integers(lo, hi + 1))):
            a = rng.uniform(0, big, 2)
            d = rng.normal(0, 1, 2)
            b = a + d / (np.linalg.norm(d) + 1e-9) * rng.uniform(0.2, 0.5) * s
            col = _hsv_colours(rng, 1, (30, 200), (40, 230))[0]
            w = max(1, int(rng.uniform(0.04, 0.09) * s))
            cv2.line(
                canvas, tuple(a.astype(int)), tuple(b.astype(int)), col.tolist(), w, cv2.LINE_AA
            )
            cv2.circle(canvas, tuple(b.astype(int)), max(1, int(w * 0.9)), col.tolist(), -1)
        return canvas

    def sample_appearance(self, rng: np.random.Generator) -> Appearance:
        """Draw the appearance of one person/clip."""
        st, s = self.style, self.size
        if st.palette == "source":
            cl = _hsv_colours(rng, 4, (80, 255), (90, 255))
        else:
            cl = _hsv_colours(rng, 4, (0, 160), (25, 200))
            if rng.random() < 0.4:  # a bright team jersey
                cl[0] = _hsv_colours(rng, 1, (180, 255), (180, 255))[0]
        skin = _hsv_colours(rng, 1, (40, 150), (70, 230), hue=(5, 20))[0]
        hair = _hsv_colours(rng, 1, (20, 200), (10, 120))[0]
        colours = {
            "top": cl[0],
            "band": cl[2] if rng.random() < st.banded_shirt_prob else cl[0],
            "bottom": cl[1],
            "skin": skin,
            "hair": hair,
        }
        lut = None
        gain, gamma = rng.uniform(*st.gain), rng.uniform(*st.gamma)
        cast = 1 + rng.uniform(-st.colour_cast, st.colour_cast, 3)
        if abs(gain - 1) > 1e-3 or abs(gamma - 1) > 1e-3 or st.colour_cast > 0:
            x = np.arange(256, dtype=np.float32)[:, None] / 255.0
            lut = np.clip(255 * gain * cast[None] * x**gamma, 0, 255).astype(np.uint8)[:, None]
        kernel = None
        if rng.random() < st.blur_prob:
            length = int(rng.integers(st.blur_length[0], st.blur_length[1] + 1) * s / 64)
            length = max(length, 2)
            kernel = np.zeros((length, length), np.float32)
            kernel[length // 2, :] = 1.0
            m = cv2.getRotationMatrix2D(
                ((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1
            )
            kernel = cv2.warpAffine(kernel, m, (length, length))
            kernel /= kernel.sum()
        occluder = None
        if rng.random() < st.occluder_prob:
            c = rng.uniform(0.8 * s, 2.2 * s, 2)
            half = rng.uniform([0.04 * s, 0.1 * s], [0.12 * s, 0.35 * s])
            a = rng.uniform(0, np.pi)
            rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
            corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
            occluder = (corners @ rot.T + c, _hsv_colours(rng, 1, (0, 200), (30, 220))[0])
        la = np.deg2rad(rng.uniform(*st.light_angle_deg) - 135.0)
        return Appearance(
            colours=colours,
            canvas=self._canvas(rng),
            offset=np.array([s, s], dtype=np.float64),
            lut=lut,
            blur_kernel=kernel,
            noise_std=float(rng.uniform(*st.noise_std)),
            jpeg_quality=int(rng.integers(st.jpeg_quality[0], st.jpeg_quality[1] + 1))
            if rng.random() < st.jpeg_prob
            else None,
            width_scale=float(rng.uniform(*st.body_width)),
            light=np.array([np.cos(la), np.sin(la)]),
            occluder=occluder,
        )

    # ---------------------------------------------------------------- body
    def render(
        self,
        poses: np.ndarray,
        roots: np.ndarray,
        extent_mm: float,
        appearance: Appearance,
        rng: np.random.Generator,
        return_masks: bool = False,
    ):
        """Render a clip.

        Args:
            poses: ``(T, 17, 3)`` root-relative poses, camera frame, mm.
            roots: ``(T, 3)`` pelvis positions, camera frame, mm.
            extent_mm: crop side in mm at the pelvis depth.
            appearance: from :meth:`sample_appearance`.
            rng: per-frame randomness (sensor noise).
            return_masks: also return ``(T, S, S)`` bool body masks.

        Returns:
            ``(T, S, S, 3)`` uint8 RGB crops (and the masks if asked).
        """
        poses = np.asarray(poses, dtype=np.float64)
        roots = np.asarray(roots, dtype=np.float64)
        if poses.ndim != 3 or poses.shape[1:] != (17, 3) or roots.shape != (len(poses), 3):
            raise ValueError(
                f"poses must be (T, 17, 3) and roots (T, 3), got {poses.shape} and {roots.shape}"
            )
        s = self.size
        n_frames = len(poses)
        geo = _BodyGeometry(poses, roots, extent_mm, s, appearance)
        # the background window follows the static scene as the pelvis moves across the image
        k = s * roots[:, 2] / extent_mm
        drift = k[:, None] * (roots[:, :2] / roots[:, 2:3] - roots[0, :2] / roots[0, 2])
        big = appearance.canvas.shape[0]
        win = np.clip(appearance.offset + drift, 0, big - s).astype(int)  # (T, 2)
        out = np.empty((n_frames, s, s, 3), np.uint8)
        masks = np.zeros((n_frames, s, s), np.uint8) if return_masks else None
        occ = appearance.occluder
        for f in range(n_frames):
            ox, oy = win[f]
            img = appearance.canvas[oy : oy + s, ox : ox + s].copy()
            geo.draw(f, img, masks[f] if masks is not None else None)
            if occ is not None:
                poly = ((occ[0] - win[f]) * _ONE).astype(np.int32)
                cv2.fillConvexPoly(img, poly, occ[1].tolist(), cv2.LINE_AA, SHIFT)
            out[f] = img
        out = self._degrade(out, appearance, rng)
        if masks is not None:
            return out, masks.astype(bool)
        return out

    def _degrade(self, out: np.ndarray, app: Appearance, rng: np.random.Generator) -> np.ndarray:
        for f in range(len(out)):
            img = out[f]
            if app.blur_kernel is not None:
                img = cv2.filter2D(img, -1, app.blur_kernel, borderType=cv2.BORDER_REFLECT)
            if app.lut is not None:
                img = cv2.LUT(img, app.lut)
            if app.noise_std > 0:
                noise = self.noise_bank[rng.integers(len(self.noise_bank))] * app.noise_std
                img = np.clip(img + noise, 0, 255).astype(np.uint8)
            if app.jpeg_quality is not None:
                _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, app.jpeg_quality])
                img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
            out[f] = img
        return out


def _fixed(x: np.ndarray) -> np.ndarray:
    return np.round(x * _ONE).astype(np.int32)


class _BodyGeometry:
    """Every primitive of a clip computed up front (vectorised over frames), drawn per frame."""

    def __init__(
        self, poses: np.ndarray, roots: np.ndarray, extent: float, size: int, app: Appearance
    ) -> None:
        uv = project_to_crop(poses, roots, extent, size)  # (T, 17, 2)
        depth = poses[..., 2] + roots[:, None, 2]  # (T, 17)
        ppm = size / extent * roots[:, 2:3] / depth  # (T, 17) pixels per mm at each joint
        ws = app.width_scale
        col = app.colours
        a = np.array([lb[1] for lb in LIMBS])
        b = np.array([lb[2] for lb in LIMBS])
        pa, pb = uv[:, a], uv[:, b]  # (T, L, 2)
        ra = np.array([lb[3] for lb in LIMBS]) * ws * ppm[:, a]  # (T, L)
        rb = np.array([lb[4] for lb in LIMBS]) * ws * ppm[:, b]
        d = pb - pa
        n = np.stack([-d[..., 1], d[..., 0]], -1) / (np.linalg.norm(d, axis=-1)[..., None] + 1e-9)
        side = np.where((n @ app.light) < 0, 1.0, -1.0)[..., None]  # side facing the light

        def strip(centre: float | np.ndarray, half: float) -> np.ndarray:
            return np.stack(
                [
                    pa + ra[..., None] * (centre + half) * n,
                    pb + rb[..., None] * (centre + half) * n,
                    pb + rb[..., None] * (centre - half) * n,
                    pa + ra[..., None] * (centre - half) * n,
                ],
                axis=2,
            )  # (T, L, 4, 2)

        self.limb_polys = _fixed(
            np.stack([strip(0.0, 1.0), strip(side * 0.25, 0.55), strip(side * 0.5, 0.18)], 2)
        )  # (T, L, 3, 4, 2)
        self.limb_centres = _fixed(np.stack([pa, pb], 2))  # (T, L, 2, 2)
        self.limb_radii = np.maximum(_fixed(np.stack([ra, rb], -1)), 1)  # (T, L, 2)
        self.limb_colours = []
        for lb in LIMBS:
            c = col[lb[5]]
            self.limb_colours.append(
                ((c * 0.55).tolist(), c.tolist(), np.minimum(c * 1.3 + 20, 255).tolist())
            )
        # torso
        left = poses[:, sk.L_SHOULDER] - poses[:, sk.R_SHOULDER]
        left = left + poses[:, sk.L_HIP] - poses[:, sk.R_HIP]
        facing = np.cross(left, poses[:, sk.THORAX] - poses[:, sk.PELVIS])[:, 2] < 0
        corners = uv[:, [sk.L_SHOULDER, sk.R_SHOULDER, sk.R_HIP, sk.L_HIP]]  # (T, 4, 2)
        centre = corners.mean(1, keepdims=True)
        w = 20.0 * ws * ppm[:, sk.SPINE][:, None, None]

        def grow(k: np.ndarray) -> np.ndarray:
            v = corners - centre
            return centre + v * (
                1
                + np.asarray(k)[None, :, None]
                * w
                / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-9)
            )

        outer = grow(np.array([1.0, 1.0, 1.2, 1.2]))
        inner = grow(np.array([0.2, 0.2, 0.4, 0.4]))
        band = np.stack(
            [
                0.55 * inner[:, 0] + 0.45 * inner[:, 3],
                0.55 * inner[:, 1] + 0.45 * inner[:, 2],
                0.8 * inner[:, 2] + 0.2 * inner[:, 1],
                0.8 * inner[:, 3] + 0.2 * inner[:, 0],
            ],
            1,
        )
        shorts = np.stack(
            [
                inner[:, 3],
                inner[:, 2],
                0.7 * corners[:, 2] + 0.3 * corners[:, 1],
                0.7 * corners[:, 3] + 0.3 * corners[:, 0],
            ],
            1,
        )
        self.torso_polys = _fixed(np.stack([outer, inner, band, shorts], 1))  # (T, 4, 4, 2)
        self.facing = facing
        self.has_band = not np.array_equal(col["band"], col["top"])
        top = col["top"]
        self.torso_colours = (
            (top * 0.55).tolist(),
            np.minimum(top * 1.1, 255).tolist(),
            (top * 0.85).tolist(),
            col["band"].tolist(),
            (col["bottom"] * 0.9).tolist(),
        )
        # head, with a face on the side it looks to
        fwd = np.cross(left, poses[:, sk.HEAD] - poses[:, sk.THORAX])
        fwd /= np.linalg.norm(fwd, axis=-1, keepdims=True) + 1e-9
        head_c = 0.5 * (uv[:, sk.NECK] + uv[:, sk.HEAD])
        head_r = HEAD_RADIUS_MM * (0.5 + 0.5 * ws) * ppm[:, sk.HEAD]
        vis = np.clip(0.35 - fwd[:, 2], 0, 1)
        self.head = _fixed(head_c)
        self.head_r = np.maximum(_fixed(head_r), 1)
        self.face = _fixed(head_c + 0.45 * head_r[:, None] * fwd[:, :2])
        self.face_r = np.maximum(_fixed(head_r * (0.55 + 0.3 * vis)), 1)
        self.face_visible = fwd[:, 2] < 0.35
        self.head_colours = (col["hair"].tolist(), col["skin"].tolist())
        # painter's order, far to near: limbs 0..L-1, torso L, head L+1
        keys = np.concatenate(
            [
                0.5 * (depth[:, a] + depth[:, b]),
                depth[:, [sk.L_SHOULDER, sk.R_SHOULDER, sk.L_HIP, sk.R_HIP, sk.SPINE]].mean(1)[
                    :, None
                ],
                (0.5 * (depth[:, sk.HEAD] + depth[:, sk.NECK]) - 1.0)[:, None],
            ],
            axis=1,
        )
        self.order = np.argsort(-keys, axis=1)
        self.n_limbs = len(LIMBS)

    def draw(self, f: int, img: np.ndarray, mask: np.ndarray | None) -> None:
        """Paint frame ``f``'s body onto ``img`` (and ``mask``)."""
        aa = cv2.LINE_AA
        for p in self.order[f]:
            if p < self.n_limbs:
                polys, cs, rs = (
                    self.limb_polys[f, p],
                    self.limb_centres[f, p],
                    self.limb_radii[f, p],
                )
                dark, base, light = self.limb_colours[p]
                cv2.fillConvexPoly(img, polys[0], dark, aa, SHIFT)
                cv2.circle(img, cs[0], rs[0], dark, -1, aa, SHIFT)
                cv2.circle(img, cs[1], rs[1], dark, -1, aa, SHIFT)
                cv2.fillConvexPoly(img, polys[1], base, aa, SHIFT)
                cv2.fillConvexPoly(img, polys[2], light, aa, SHIFT)
                if mask is not None:
                    cv2.fillConvexPoly(mask, polys[0], 1, cv2.LINE_8, SHIFT)
                    cv2.circle(mask, cs[0], rs[0], 1, -1, cv2.LINE_8, SHIFT)
                    cv2.circle(mask, cs[1], rs[1], 1, -1, cv2.LINE_8, SHIFT)
            elif p == self.n_limbs:
                polys = self.torso_polys[f]
                c = self.torso_colours
                cv2.fillConvexPoly(img, polys[0], c[0], aa, SHIFT)
                cv2.fillConvexPoly(img, polys[1], c[1] if self.facing[f] else c[2], aa, SHIFT)
                if self.has_band:
                    cv2.fillConvexPoly(img, polys[2], c[3], aa, SHIFT)
                cv2.fillConvexPoly(img, polys[3], c[4], aa, SHIFT)
                if mask is not None:
                    cv2.fillConvexPoly(mask, polys[0], 1, cv2.LINE_8, SHIFT)
            else:
                cv2.circle(img, self.head[f], self.head_r[f], self.head_colours[0], -1, aa, SHIFT)
                if self.face_visible[f]:
                    cv2.circle(
                        img, self.face[f], self.face_r[f], self.head_colours[1], -1, aa, SHIFT
                    )
                if mask is not None:
                    cv2.circle(mask, self.head[f], self.head_r[f], 1, -1, cv2.LINE_8, SHIFT)

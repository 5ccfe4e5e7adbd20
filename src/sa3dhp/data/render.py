"""Renderer of the synthetic world: person-centred crops drawn directly in crop coordinates.

A body is a set of primitives projected with :func:`sa3dhp.camera.project_to_crop` and painted
far to near (painter's algorithm on the mean camera depth of each primitive) with OpenCV's
anti-aliased, sub-pixel (``shift``) polygon filling:

* tapered capsules (thighs, shins, feet, upper arms, forearms, hands, neck), each in three layers
  -- a darker outline, the base colour shifted toward the light and a light strip on the lit side;
* a torso: the convex hull of discs around the shoulders, hips and spine, shaded the same way,
  with the trousers' waist band over the hips;
* a head: a hair-coloured ellipse with a skin-coloured face on the side the person faces (so the
  image shows which way they face).

Widths are in mm, scaled by the crop's pixels-per-mm, so a person looks right at any distance.
Left limbs are lighter and right limbs darker than their clothing region's colour
(``side_contrast``), so left and right can be told apart in the image.

Two appearance presets, every parameter in :class:`AppearanceStyle`:

* :func:`source_appearance` -- SURREAL-like: random saturated clothing colours per region,
  plain or vertical/horizontal gradient backgrounds, mild lighting variation, nothing else;
* :func:`target_appearance` -- "in the wild": muted everyday clothing palettes with striped and
  noisy fabrics and a print on the front of the top, textured backgrounds (a bank of tileable
  textures -- filtered noise, stripes and bricks, blobs, indoor clutter -- built once per
  renderer), strong global lighting changes (gain, gamma, colour cast), no left/right shading.
  Limb-like distractors, motion blur, sensor noise, JPEG artefacts and occluders are style
  fields too (off in both presets since generator version 5, which made the target learnable
  at 64 px for an oracle trained on its labels).

Appearance is drawn per clip (:meth:`Renderer.sample_appearance`) and fixed over it. The
background is a window onto a tileable scene that shifts with the pelvis's image motion
(``size * root_xy / extent_mm`` pixels), and occluders are fixed in the crop, so every frame is a
function of its own pose, root and the appearance (plus per-frame sensor noise drawn from
``rng``): reversing or subsampling the poses reverses or subsamples the rendered video exactly.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import cv2
import numpy as np

from sa3dhp import skeleton as sk
from sa3dhp.camera import project_to_crop

SHIFT = 4  # sub-pixel bits of the cv2 drawing calls
_ONE = 1 << SHIFT
_AA = cv2.LINE_AA
MIN_SIZE, MAX_SIZE = 16, 512

# Extra points derived from the 17 joints (indices after the skeleton's).
L_HAND, R_HAND, L_TOE, R_TOE, NECK_BASE, HEAD_CENTRE = 17, 18, 19, 20, 21, 22

#: Capsules as (name, joint a, joint b, radius at a mm, radius at b mm, region, side), side
#: +1 for left, -1 for right, 0 for centre. Regions: top, bottom, forearm (sleeve or skin),
#: skin, shoe.
CAPSULES: tuple[tuple[str, int, int, float, float, str, int], ...] = (
    ("l_thigh", sk.L_HIP, sk.L_KNEE, 82.0, 58.0, "bottom", 1),
    ("r_thigh", sk.R_HIP, sk.R_KNEE, 82.0, 58.0, "bottom", -1),
    ("l_shin", sk.L_KNEE, sk.L_ANKLE, 56.0, 42.0, "bottom", 1),
    ("r_shin", sk.R_KNEE, sk.R_ANKLE, 56.0, 42.0, "bottom", -1),
    ("l_foot", sk.L_ANKLE, L_TOE, 44.0, 38.0, "shoe", 1),
    ("r_foot", sk.R_ANKLE, R_TOE, 44.0, 38.0, "shoe", -1),
    ("l_upper_arm", sk.L_SHOULDER, sk.L_ELBOW, 52.0, 42.0, "top", 1),
    ("r_upper_arm", sk.R_SHOULDER, sk.R_ELBOW, 52.0, 42.0, "top", -1),
    ("l_forearm", sk.L_ELBOW, sk.L_WRIST, 40.0, 31.0, "forearm", 1),
    ("r_forearm", sk.R_ELBOW, sk.R_WRIST, 40.0, 31.0, "forearm", -1),
    ("l_hand", sk.L_WRIST, L_HAND, 34.0, 28.0, "skin", 1),
    ("r_hand", sk.R_WRIST, R_HAND, 34.0, 28.0, "skin", -1),
    ("neck", NECK_BASE, sk.NECK, 46.0, 42.0, "skin", 0),
)
_NECK = len(CAPSULES) - 1
_TORSO = len(CAPSULES)  # primitive index of the torso
_HEAD = len(CAPSULES) + 1  # primitive index of the head
#: Discs whose convex hull is the torso: (joint, radius mm).
TORSO_DISCS: tuple[tuple[int, float], ...] = (
    (sk.L_SHOULDER, 64.0),
    (sk.R_SHOULDER, 64.0),
    (sk.THORAX, 95.0),
    (sk.SPINE, 100.0),
    (sk.PELVIS, 82.0),
    (sk.L_HIP, 80.0),
    (sk.R_HIP, 80.0),
)
HEAD_RADIUS_MM = 86.0  # half-width of the head; its height is 1.22x that
_WAIST = 0.74  # where the trousers start on the torso, shoulder line (0) to hip line (1)

# Layers of a shaded capsule: radius factor and shift toward the light (fraction of the radius).
_LAYER_RADIUS = np.array([1.0, 0.74, 0.3])
_LAYER_SHIFT = np.array([0.0, 0.2, 0.45])
_PALETTES = ("source", "target")


# ---------------------------------------------------------------------------------------------
# style
# ---------------------------------------------------------------------------------------------


@dataclass
class AppearanceStyle:
    """Every appearance parameter of a domain. Pairs are ``(min, max)`` ranges sampled per clip.

    Sizes in pixels are given for a 64-pixel crop and scale with the crop size.
    """

    palette: str = "source"  # clothing colours: "source" (saturated) or "target" (everyday)
    side_contrast: float = 0.28  # left limbs lighter, right limbs darker by this fraction
    long_sleeve_prob: float = 0.3  # forearms in the top's colour instead of skin
    striped_top_prob: float = 0.0  # tops with horizontal or vertical stripes
    fabric_noise_prob: float = 0.0  # clothes with a noisy (woven, printed, worn) texture
    fabric_noise: tuple[float, float] = (0.15, 0.35)  # its relative amplitude
    body_width: tuple[float, float] = (0.9, 1.15)  # scale of every body radius
    shading: tuple[float, float] = (0.5, 0.65)  # brightness of the outline relative to the base
    light_angle_deg: tuple[float, float] = (-60.0, 60.0)  # light direction, 0 = from top-left
    plain_background_prob: float = 0.5
    gradient_background_prob: float = 0.5
    texture_background_prob: float = 0.0
    texture_bank_size: int = 16  # textures built at renderer init (if textured backgrounds)
    distractors: tuple[int, int] = (0, 0)  # limb-like shapes in the background, per clip
    gain: tuple[float, float] = (0.85, 1.15)  # global brightness
    gamma: tuple[float, float] = (0.9, 1.1)
    colour_cast: float = 0.0  # max deviation of the per-channel gains
    blur_prob: float = 0.0  # motion blur
    blur_length: tuple[float, float] = (3.0, 7.0)  # its kernel length in pixels
    noise_std: tuple[float, float] = (0.0, 0.0)  # sensor noise, grey levels
    jpeg_prob: float = 0.0
    jpeg_quality: tuple[int, int] = (20, 60)
    occluder_prob: float = 0.0  # a clip has occluders (rectangles, ellipses) in front
    occluders: tuple[int, int] = (1, 2)  # how many, if it has
    front_print_prob: float = 0.0  # a print on the front of the top (shows which way one faces)

    def __post_init__(self) -> None:
        if self.palette not in _PALETTES:
            raise ValueError(f"palette='{self.palette}': must be one of {list(_PALETTES)}")
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, list):
                v = tuple(v)
                setattr(self, f.name, v)
            if isinstance(f.default, (int, float)) and (
                isinstance(v, bool) or not isinstance(v, (int, float))
            ):
                raise ValueError(f"{f.name}={v!r}: must be a number")
            if f.name.endswith("_prob") or f.name == "side_contrast":
                if not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                    raise ValueError(f"{f.name}={v!r}: must be a probability in [0, 1]")
            elif isinstance(v, tuple):
                if len(v) != 2 or not all(isinstance(x, (int, float)) for x in v) or v[0] > v[1]:
                    raise ValueError(
                        f"{f.name}={v!r}: must be a (min, max) pair of numbers with min <= max"
                    )
                if f.name != "light_angle_deg" and v[0] < 0:
                    raise ValueError(f"{f.name}={v!r}: values must be >= 0")
        if self.colour_cast < 0:
            raise ValueError(f"colour_cast={self.colour_cast}: must be >= 0")
        if self.texture_bank_size < 1:
            raise ValueError(f"texture_bank_size={self.texture_bank_size}: must be >= 1")
        if self.blur_length[0] < 1:
            raise ValueError(f"blur_length={self.blur_length}: lengths must be >= 1 pixel")
        if not 1 <= self.jpeg_quality[0] <= self.jpeg_quality[1] <= 100:
            raise ValueError(f"jpeg_quality={self.jpeg_quality}: must lie in [1, 100]")
        if self.shading[1] > 1:
            raise ValueError(f"shading={self.shading}: must lie in [0, 1]")
        if self.occluder_prob > 0 and self.occluders[1] < 1:
            raise ValueError(f"occluders={self.occluders}: max must be >= 1")
        bg = (self.plain_background_prob, self.gradient_background_prob)
        if sum(bg) + self.texture_background_prob <= 0:
            raise ValueError(
                "plain_background_prob, gradient_background_prob, texture_background_prob: "
                "at least one must be > 0"
            )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AppearanceStyle:
        """Build from a dict (lists become pairs), refusing unknown keys with the valid ones."""
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(valid))
        if unknown:
            raise ValueError(f"unknown appearance key(s) {unknown}; valid keys: {valid}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (pairs as tuples)."""
        return asdict(self)


def source_appearance() -> AppearanceStyle:
    """The SURREAL-like source look: saturated clothes, plain/gradient backgrounds, clean."""
    return AppearanceStyle()


def target_appearance() -> AppearanceStyle:
    """The target look: everyday textured clothes with a chest print, textured backgrounds,
    strong lighting changes, no left/right shading.

    Generator version 5 made it *learnable*: it dropped the information-destroying degradations
    (limb-like distractors, occluders, motion blur, sensor noise, JPEG; each is still a style
    field) and added a print on the front of the top, so that the side a person faces shows at
    64 px (the face alone is two pixels). With the version-4 look an oracle trained on 48,000
    target frames for 1,500 steps still measured 233 mm on target_test, no better than the
    600-step one (see the README's source-training notes). Generator version 6 brings back mild
    blur, noise and JPEG (image quality differs in real footage too).
    Generator version 4 dropped the source's left/right shading convention from the target (the
    source keeps it: a cue that does not transfer, like a synthetic dataset's shortcuts).
    """
    return AppearanceStyle(
        palette="target",
        # no left-lighter/right-darker convention: a mirrored target image is then an image of
        # the mirrored scene, as in real footage, so the flip relation holds on target images
        side_contrast=0.0,
        long_sleeve_prob=0.5,
        striped_top_prob=0.4,
        fabric_noise_prob=0.4,
        fabric_noise=(0.1, 0.3),
        body_width=(0.85, 1.3),
        shading=(0.45, 0.7),
        light_angle_deg=(-120.0, 120.0),
        plain_background_prob=0.0,
        gradient_background_prob=0.2,
        texture_background_prob=0.8,
        gain=(0.75, 1.3),
        gamma=(0.8, 1.3),
        colour_cast=0.15,
        front_print_prob=1.0,  # mirror-symmetric, so the flip relation still holds
        # generator v6: image quality differs too (mild blur, sensor noise and JPEG, as phone
        # and broadcast footage); the limb-like distractors and occluders stay off
        blur_prob=0.2,
        blur_length=(1.0, 2.0),
        noise_std=(0.0, 4.0),
        jpeg_prob=0.4,
        jpeg_quality=(55, 90),
    )


# ---------------------------------------------------------------------------------------------
# colours
# ---------------------------------------------------------------------------------------------

#: Everyday clothing colours of the target domain (RGB): tops and bottoms.
_TARGET_TOPS = np.array(
    [
        [235, 235, 230], [30, 30, 35], [120, 120, 125], [30, 45, 90], [110, 25, 35],
        [85, 95, 50], [190, 170, 130], [200, 60, 40], [40, 90, 160], [230, 200, 60],
        [60, 120, 80], [150, 80, 140], [240, 130, 40], [20, 110, 120],
    ],
    dtype=np.float32,
)  # fmt: skip
_TARGET_BOTTOMS = np.array(
    [
        [45, 65, 110], [60, 85, 135], [25, 30, 45], [35, 35, 38], [120, 110, 90],
        [170, 155, 120], [90, 90, 95], [70, 55, 40], [130, 140, 150],
    ],
    dtype=np.float32,
)  # fmt: skip
_SKIN = np.array(
    [[255, 220, 190], [240, 195, 160], [225, 170, 130], [190, 135, 95], [150, 100, 65],
     [110, 70, 45], [80, 52, 35]],
    dtype=np.float32,
)  # fmt: skip
_HAIR = np.array(
    [[20, 15, 12], [50, 35, 25], [90, 60, 35], [150, 110, 60], [200, 170, 110], [120, 120, 120],
     [70, 30, 20]],
    dtype=np.float32,
)  # fmt: skip
_SHOES = np.array(
    [[20, 20, 22], [240, 240, 240], [90, 60, 40], [60, 60, 70], [150, 30, 30]], dtype=np.float32
)


def _hsv(rng: np.random.Generator, n: int, sat: tuple, val: tuple, hue=(0, 180)) -> np.ndarray:
    """``(n, 3)`` float32 RGB colours with HSV components drawn uniformly (OpenCV ranges)."""
    hsv = np.stack([rng.uniform(*hue, n), rng.uniform(*sat, n), rng.uniform(*val, n)], -1)
    return cv2.cvtColor(hsv.astype(np.uint8)[None], cv2.COLOR_HSV2RGB)[0].astype(np.float32)


def _pick(rng: np.random.Generator, table: np.ndarray, jitter: float) -> np.ndarray:
    c = table[rng.integers(len(table))] + rng.normal(0, jitter, 3)
    return np.clip(c, 0, 255).astype(np.float32)


def _side_colour(c: np.ndarray, side: int, contrast: float) -> np.ndarray:
    """Left (+1) lighter, right (-1) darker, centre (0) unchanged."""
    if side > 0:
        return c + contrast * (255.0 - c)
    if side < 0:
        return c * (1.0 - contrast)
    return c


def _layer_colours(
    c: np.ndarray, shade: float, highlight: float = 0.4
) -> tuple[tuple[float, ...], ...]:
    """Outline, base and highlight colours of a shaded primitive."""
    light = c + highlight * (255.0 - c)
    return tuple(tuple(float(v) for v in x) for x in (c * shade, c, light))


# ---------------------------------------------------------------------------------------------
# tileable textures (scene backgrounds, fabric, sensor noise)
# ---------------------------------------------------------------------------------------------


def _periodic_field(
    rng: np.random.Generator, b: int, sigma: float, aspect: float = 1.0
) -> np.ndarray:
    """Tileable ``(b, b)`` Gaussian-filtered noise, zero mean, unit std; sigma in pixels."""
    white = rng.standard_normal((b, b))
    fy = np.fft.fftfreq(b)[:, None]
    fx = np.fft.rfftfreq(b)[None, :]
    sx, sy = sigma * aspect, sigma / aspect
    h = np.exp(-2.0 * np.pi**2 * ((sx * fx) ** 2 + (sy * fy) ** 2))
    f = np.fft.irfft2(np.fft.rfft2(white) * h, s=(b, b))
    f -= f.mean()
    return (f / (f.std() + 1e-9)).astype(np.float32)


def _wrap_offsets(b: int, lo: np.ndarray, hi: np.ndarray) -> list[np.ndarray]:
    """Translations by multiples of ``b`` that make a shape with bounds [lo, hi] hit [0, b)."""
    out = []
    for dy in (-b, 0, b):
        for dx in (-b, 0, b):
            if hi[0] + dx >= 0 and lo[0] + dx < b and hi[1] + dy >= 0 and lo[1] + dy < b:
                out.append(np.array([dx, dy], np.float64))
    return out


def _draw_capsule_wrapped(
    img: np.ndarray, a: np.ndarray, c: np.ndarray, r: float, colour, shade: float
) -> None:
    """A shaded capsule from ``a`` to ``c`` (radius ``r``) on a tileable image."""
    b = img.shape[0]
    lo, hi = np.minimum(a, c) - r - 1, np.maximum(a, c) + r + 1
    col = np.asarray(colour, np.float64)
    for off in _wrap_offsets(b, lo, hi):
        p, q = _fixed(a + off), _fixed(c + off)
        for rad, cc in ((r, col * shade), (0.65 * r, col)):
            cv2.line(img, p, q, cc.tolist(), max(1, round(2 * rad)), _AA, SHIFT)


def _fixed(p: np.ndarray) -> tuple[int, int]:
    return (round(float(p[0]) * _ONE), round(float(p[1]) * _ONE))


def _tile(size: int) -> int:
    """Period of the tileable scenes: 3 crops (2 above 128 pixels, to bound memory)."""
    return 3 * size if size <= 128 else 2 * size


@functools.lru_cache(maxsize=8)
def _texture_bank(size: int, seed: int, count: int) -> tuple[np.ndarray, ...]:
    """``count`` tileable ``(B, B, 3)`` uint8 cluttered textures (read-only), cached."""
    b = _tile(size)
    k = size / 64.0
    rng = np.random.default_rng([seed, 7177, size, count])
    yy, xx = np.mgrid[0:b, 0:b].astype(np.float32)
    bank = []
    for i in range(count):
        kind = i % 5
        cols = _hsv(rng, 4, (10, 190), (35, 235))
        low = _periodic_field(rng, b, rng.uniform(0.08, 0.2) * b)
        if kind == 0:  # foliage, gravel, crowds: multi-scale filtered noise
            f1 = _periodic_field(rng, b, rng.uniform(2.0, 8.0) * k, rng.uniform(0.6, 1.6))
            f2 = _periodic_field(rng, b, rng.uniform(0.7, 2.0) * k)
            w1 = 1 / (1 + np.exp(-3.0 * (0.6 * f1 + 0.6 * low)))[..., None]
            w2 = np.clip(0.5 + 0.4 * f2, 0, 1)[..., None] * rng.uniform(0.3, 0.8)
            img = cols[0] * (1 - w1) + cols[1] * w1
            img = img * (1 - w2) + cols[2] * w2
        elif kind == 1:  # stripes, planks, bricks, railings
            period = rng.uniform(5.0, 16.0) * k
            a = rng.uniform(0, np.pi)
            kx, ky = (round(b / period * np.cos(a)), round(b / period * np.sin(a)))
            kx, ky = (kx, ky) if (kx or ky) else (1, 0)
            warp = rng.uniform(0, 1.5) * _periodic_field(rng, b, 0.1 * b)
            wave = np.sin(2 * np.pi * (kx * xx + ky * yy) / b + warp)
            w = (0.5 + 0.5 * np.tanh(4 * (wave - rng.uniform(-0.5, 0.5))))[..., None]
            second = cols[0] + rng.uniform(0.3, 1.0) * (cols[1] - cols[0])
            img = cols[0] * (1 - w) + second * w
            if rng.random() < 0.35:  # bricks / tiles: a second, orthogonal set of joints
                p2 = rng.uniform(8.0, 20.0) * k
                jx, jy = round(-b / p2 * np.sin(a)), round(b / p2 * np.cos(a))
                wave2 = np.sin(2 * np.pi * (jx * xx + jy * yy) / b)
                img = np.where((wave2 > 0.9)[..., None], 0.5 * (img + cols[2]), img)
            img = img + 12.0 * _periodic_field(rng, b, 0.8 * k)[..., None]
        elif kind == 2:  # blobs: bushes, balloons, bokeh, people far away
            base = _periodic_field(rng, b, 3.0 * k)[..., None]
            img = cols[0] + 25.0 * base
            for _ in range(int(rng.integers(40, 90))):
                c = rng.uniform(0, b, 2)
                ax = rng.uniform(2, 12, 2) * k
                col = _hsv(rng, 1, (20, 220), (30, 240))[0]
                for off in _wrap_offsets(b, c - ax.max(), c + ax.max()):
                    cv2.ellipse(
                        img, _fixed(c + off), (int(ax[0] * _ONE), int(ax[1] * _ONE)),
                        float(rng.uniform(0, 180)), 0, 360, col.tolist(), -1, _AA, SHIFT,
                    )  # fmt: skip
        elif kind == 4:  # street or room: a wall with doors and windows over a floor
            split = np.sin(2 * np.pi * yy / b + 0.5 * _periodic_field(rng, b, 0.15 * b))
            w = (0.5 + 0.5 * np.tanh(5.0 * split))[..., None]
            floor = cols[1] + 30.0 * _periodic_field(rng, b, rng.uniform(0.8, 3.0) * k)[..., None]
            wall = cols[0] + 15.0 * _periodic_field(rng, b, 5.0 * k)[..., None]
            img = wall * w + floor * (1 - w)
            for _ in range(int(rng.integers(4, 10))):
                c = np.array([rng.uniform(0, b), rng.uniform(0.05, 0.45) * b])
                half = rng.uniform([4.0, 6.0], [14.0, 22.0]) * k
                col = cols[2] if rng.random() < 0.5 else cols[3]
                for off in _wrap_offsets(b, c - half, c + half):
                    for grow, cc in ((1.0, col * 0.5), (0.8, col)):
                        lo_, hi_ = _fixed(c + off - grow * half), _fixed(c + off + grow * half)
                        cv2.rectangle(img, lo_, hi_, cc.tolist(), -1, _AA, SHIFT)
        else:  # indoor clutter: furniture, posters, windows, poles, cables
            img = np.broadcast_to(cols[0], (b, b, 3)).copy()
            for _ in range(int(rng.integers(15, 35))):
                c = rng.uniform(0, b, 2)
                half = rng.uniform(3, 22, 2) * k
                ang = rng.choice([0.0, 0.0, rng.uniform(0, np.pi)])
                rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
                box = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half @ rot.T
                col = _hsv(rng, 1, (0, 200), (20, 245))[0]
                for off in _wrap_offsets(b, c - half.max() * 1.5, c + half.max() * 1.5):
                    poly = np.round((box + c + off) * _ONE).astype(np.int32)
                    cv2.fillConvexPoly(img, poly, (col * 0.6).tolist(), _AA, SHIFT)
                    inner = np.round((box * 0.8 + c + off) * _ONE).astype(np.int32)
                    cv2.fillConvexPoly(img, inner, col.tolist(), _AA, SHIFT)
            for _ in range(int(rng.integers(3, 8))):
                a0 = rng.uniform(0, b, 2)
                d = rng.normal(0, 1, 2)
                a1 = a0 + d / (np.linalg.norm(d) + 1e-9) * rng.uniform(0.2, 0.6) * b
                col = _hsv(rng, 1, (0, 120), (10, 200))[0]
                th = max(1, round(rng.uniform(0.5, 2.5) * k))
                for off in _wrap_offsets(b, np.minimum(a0, a1), np.maximum(a0, a1)):
                    cv2.line(img, _fixed(a0 + off), _fixed(a1 + off), col.tolist(), th, _AA, SHIFT)
        img = img * (1.0 + 0.25 * low[..., None]) + rng.normal(0, 5, (b, b, 1))
        img = 0.8 * img + 0.2 * img.mean(-1, keepdims=True)
        tex = np.clip(img, 0, 255).astype(np.uint8)
        tex.flags.writeable = False
        bank.append(tex)
    return tuple(bank)


@functools.lru_cache(maxsize=8)
def _noise_banks(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sensor noise ``(2S, 2S, 3)`` N(0, 1) and fabric patterns ``(6, S, S)`` (read-only)."""
    rng = np.random.default_rng([seed, 31337, size])
    sensor = rng.standard_normal((2 * size, 2 * size, 3)).astype(np.float32)
    k = size / 64.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    fabric = [
        _periodic_field(rng, size, 0.6 * k),  # fine weave / grain
        _periodic_field(rng, size, 1.5 * k),  # print / wear
        _periodic_field(rng, size, 1.0 * k, 3.0),  # streaky (denim)
        _periodic_field(rng, size, 1.0 * k, 1 / 3.0),
        np.sign(np.sin(xx * 2 * np.pi / (4 * k)) * np.sin(yy * 2 * np.pi / (4 * k))),  # checks
        np.sign(np.sin((xx + yy) * 2 * np.pi / (5 * k))),  # diagonal twill
    ]
    fabric_arr = np.stack(fabric).astype(np.float32)
    sensor.flags.writeable = False
    fabric_arr.flags.writeable = False
    return sensor, fabric_arr


# ---------------------------------------------------------------------------------------------
# appearance
# ---------------------------------------------------------------------------------------------


@dataclass
class Appearance:
    """Appearance of one person/clip, drawn by :meth:`Renderer.sample_appearance`.

    Attributes:
        colours: RGB (0-255) colour of each clothing region (top, bottom, stripe, skin, hair,
            shoe) and ``forearm`` (sleeves or skin).
        stripes: ``None``, ``"h"`` or ``"v"``: stripes on the top.
        stripe_count: number of stripes over the torso.
        fabric: ``(S, S)`` multiplicative fabric texture on the clothes, or None.
        side_contrast: left/right brightness difference.
        shade: outline brightness relative to the base colour.
        width_scale: scale of every body radius.
        light: ``(2,)`` unit image-plane direction toward the light.
        canvas: ``(B + S, B + S, 3)`` uint8 scene, tileable with period ``B`` (``3S`` up to
            128 pixels, ``2S`` above).
        offset: ``(2,)`` window position (x, y) in the canvas for a pelvis on the optical axis.
        occluder: ``(S, S, 3)`` float32 layer and ``(S, S)`` float32 alpha, or None.
        lut: ``(256, 1, 3)`` uint8 lighting table (gain, gamma, colour cast) or None.
        blur_kernel: motion-blur kernel or None.
        noise_std: sensor-noise std in grey levels.
        jpeg_quality: JPEG quality or None.
        front_print: a print on the chest of the top, drawn when the front faces the camera.
    """

    colours: dict[str, np.ndarray]
    stripes: str | None
    stripe_count: int
    fabric: np.ndarray | None
    side_contrast: float
    shade: float
    width_scale: float
    light: np.ndarray
    canvas: np.ndarray
    offset: np.ndarray
    occluder: tuple[np.ndarray, np.ndarray] | None
    lut: np.ndarray | None
    blur_kernel: np.ndarray | None
    noise_std: float
    jpeg_quality: int | None
    front_print: bool = False


# ---------------------------------------------------------------------------------------------
# renderer
# ---------------------------------------------------------------------------------------------


class Renderer:
    """Draws person-centred square crops of one size in one appearance style.

    Args:
        size: crop side in pixels (16-512).
        style: appearance parameters (:func:`source_appearance` if None).
        seed: seed of the precomputed texture and noise banks.
    """

    def __init__(self, size: int, style: AppearanceStyle | None = None, seed: int = 0) -> None:
        if not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(f"size={size!r}: must be an integer in [{MIN_SIZE}, {MAX_SIZE}]")
        self.size = int(size)
        self.style = style if style is not None else source_appearance()
        self.seed = int(seed)
        self.tile = _tile(self.size)
        self.textures: tuple[np.ndarray, ...] = ()
        if self.style.texture_background_prob > 0:
            self.textures = _texture_bank(self.size, self.seed, self.style.texture_bank_size)
        self._sensor, self._fabric = _noise_banks(self.size, self.seed)
        self._arc = 4 + self.size // 48  # points per capsule end
        dirs = np.linspace(0, 2 * np.pi, 10, endpoint=False)
        self._disc = np.stack([np.cos(dirs), np.sin(dirs)], -1)  # torso disc outline
        t = np.linspace(0, 2 * np.pi, 12 + self.size // 16, endpoint=False)
        self._ellipse = np.stack([np.cos(t), np.sin(t)], -1)

    # ------------------------------------------------------------------ appearance
    def _canvas(self, rng: np.random.Generator) -> np.ndarray:
        st, s, b = self.style, self.size, self.tile
        probs = np.array(
            [st.plain_background_prob, st.gradient_background_prob, st.texture_background_prob]
        )
        kind = rng.choice(3, p=probs / probs.sum())
        if kind == 0:
            tile = np.empty((b, b, 3), np.uint8)
            tile[:] = rng.uniform(25, 235, 3).astype(np.uint8)
        elif kind == 1:  # a smooth periodic ramp: over a crop it reads as a linear gradient
            c0, c1 = rng.uniform(20, 235, (2, 3)).astype(np.float32)
            ramp = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(b, dtype=np.float32) / b)
            ramp = ramp[:, None, None] if rng.random() < 0.5 else ramp[None, :, None]
            tile = np.broadcast_to(c0 + (c1 - c0) * ramp, (b, b, 3)).astype(np.uint8)
        else:
            tex = self.textures[rng.integers(len(self.textures))]
            if rng.random() < 0.5:
                tex = tex[:, ::-1]
            if rng.random() < 0.5:
                tex = tex[::-1]
            if rng.random() < 0.5:
                tex = tex.transpose(1, 0, 2)
            tile = np.ascontiguousarray(tex[..., rng.permutation(3)])
        lo, hi = (int(v) for v in st.distractors)
        n = int(rng.integers(lo, hi + 1)) if hi > 0 else 0
        if n:
            tile = np.ascontiguousarray(tile)
            for _ in range(n):
                self._distractor(tile, rng)
        return cv2.copyMakeBorder(tile, 0, s, 0, s, cv2.BORDER_WRAP)

    def _distractor(self, tile: np.ndarray, rng: np.random.Generator) -> None:
        """A limb-like shaded capsule chain in a body-like colour, drawn on the tileable scene."""
        s, b = self.size, self.tile
        col = (
            _hsv(rng, 1, (40, 255), (60, 255))[0]
            if rng.random() < 0.3
            else _pick(rng, _TARGET_TOPS if rng.random() < 0.5 else _TARGET_BOTTOMS, 15)
        )
        if rng.random() < 0.3:
            col = _pick(rng, _SKIN, 10)
        p = rng.uniform(0, b, 2)
        ang = rng.uniform(0, 2 * np.pi)
        r = rng.uniform(0.018, 0.04) * s
        for _ in range(int(rng.integers(1, 3))):
            q = p + rng.uniform(0.12, 0.3) * s * np.array([np.cos(ang), np.sin(ang)])
            _draw_capsule_wrapped(tile, p, q, r, col, 0.55)
            p, ang, r = q, ang + rng.uniform(-1.5, 1.5), r * 0.85

    def _occluder(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        s = self.size
        layer = np.zeros((s, s, 3), np.float32)
        alpha = np.zeros((s, s), np.uint8)
        lo, hi = (int(v) for v in self.style.occluders)
        for _ in range(int(rng.integers(max(lo, 1), hi + 1))):
            c = s / 2 + rng.uniform(-0.3, 0.3, 2) * s
            half = rng.uniform([0.04, 0.1], [0.12, 0.25]) * s
            ang = rng.uniform(0, np.pi)
            rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
            if rng.random() < 0.5:
                unit = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64)
            else:
                unit = self._ellipse
            shape = (unit * half) @ rot.T
            col = (
                _pick(rng, _TARGET_TOPS, 25)
                if rng.random() < 0.5
                else _hsv(rng, 1, (0, 160), (20, 230))[0]
            )
            for scale, cc in ((1.0, col * 0.55), (0.82, col)):
                poly = np.round((shape * scale + c - 0.5) * _ONE).astype(np.int32)
                cv2.fillConvexPoly(layer, poly, cc.tolist(), _AA, SHIFT)
                if scale == 1.0:
                    cv2.fillConvexPoly(alpha, poly, 255, _AA, SHIFT)
            if self.textures and rng.random() < 0.5:  # a textured object (bag, sign, plant)
                tex = self.textures[rng.integers(len(self.textures))][:s, :s].astype(np.float32)
                inner = np.zeros((s, s), np.uint8)
                poly = np.round((shape * 0.82 + c - 0.5) * _ONE).astype(np.int32)
                cv2.fillConvexPoly(inner, poly, 255, _AA, SHIFT)
                w = inner[..., None].astype(np.float32) / 255.0
                layer = layer * (1 - w) + tex * w
        return layer, alpha.astype(np.float32) / 255.0

    def sample_appearance(self, rng: np.random.Generator) -> Appearance:
        """Draw the appearance of one person/clip (fixed over the clip)."""
        st, s = self.style, self.size
        if st.palette == "source":
            top, bottom, stripe = _hsv(rng, 3, (70, 255), (80, 255))
            shoe = _hsv(rng, 1, (0, 255), (30, 230))[0]
        else:
            top = _pick(rng, _TARGET_TOPS, 18)
            bottom = _pick(rng, _TARGET_BOTTOMS, 12)
            stripe = _pick(rng, _TARGET_TOPS, 18)
            if np.abs(stripe - top).sum() < 120:
                stripe = 255.0 - top
            shoe = _pick(rng, _SHOES, 10)
        skin = _pick(rng, _SKIN, 8)
        long_sleeves = rng.random() < st.long_sleeve_prob
        colours = {
            "top": top,
            "bottom": bottom,
            "stripe": stripe,
            "skin": skin,
            "forearm": top if long_sleeves else skin,
            "hair": _pick(rng, _HAIR, 8),
            "shoe": shoe,
        }
        stripes = None
        if rng.random() < st.striped_top_prob:
            stripes = "h" if rng.random() < 0.7 else "v"
        fabric = None
        if rng.random() < st.fabric_noise_prob:
            amp = rng.uniform(*st.fabric_noise)
            fabric = 1.0 + amp * self._fabric[rng.integers(len(self._fabric))]
            fabric = np.clip(fabric, 0.2, 2.0).astype(np.float32)
        lut = None
        gain, gamma = rng.uniform(*st.gain), rng.uniform(*st.gamma)
        cast = 1 + rng.uniform(-st.colour_cast, st.colour_cast, 3)
        if abs(gain - 1) > 1e-3 or abs(gamma - 1) > 1e-3 or st.colour_cast > 0:
            x = np.arange(256, dtype=np.float64)[:, None] / 255.0
            lut = np.clip(255 * gain * cast[None] * x**gamma + 0.5, 0, 255).astype(np.uint8)
            lut = lut[:, None]
        kernel = None
        if rng.random() < st.blur_prob:
            length = max(2, round(rng.uniform(st.blur_length[0], st.blur_length[1]) * s / 64))
            kernel = np.zeros((length | 1, length | 1), np.float32)
            c = (length | 1) // 2
            a = rng.uniform(0, np.pi)
            d = (length - 1) / 2 * np.array([np.cos(a), np.sin(a)])
            cv2.line(kernel, _fixed(c - d), _fixed(c + d), 1.0, 1, _AA, SHIFT)
            kernel /= kernel.sum()
        la = np.deg2rad(rng.uniform(*st.light_angle_deg) - 135.0)
        canvas = self._canvas(rng)
        # drawn only where the style has prints, so other styles keep their random streams
        front_print = st.front_print_prob > 0 and bool(rng.random() < st.front_print_prob)
        return Appearance(
            colours=colours,
            stripes=stripes,
            stripe_count=int(rng.integers(3, 6)),
            fabric=fabric,
            side_contrast=float(st.side_contrast),
            shade=float(rng.uniform(*st.shading)),
            width_scale=float(rng.uniform(*st.body_width)),
            light=np.array([np.cos(la), np.sin(la)]),
            canvas=canvas,
            offset=rng.uniform(0, self.tile, 2),
            occluder=self._occluder(rng) if rng.random() < st.occluder_prob else None,
            lut=lut,
            blur_kernel=kernel,
            noise_std=float(rng.uniform(*st.noise_std)),
            jpeg_quality=int(rng.integers(st.jpeg_quality[0], st.jpeg_quality[1] + 1))
            if rng.random() < st.jpeg_prob
            else None,
            front_print=front_print,
        )

    # ------------------------------------------------------------------ rendering
    def render(
        self,
        poses: np.ndarray,
        roots: np.ndarray,
        extent_mm: float,
        appearance: Appearance,
        rng: np.random.Generator,
        return_masks: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Render a clip.

        Args:
            poses: ``(T, 17, 3)`` root-relative poses, camera frame, mm.
            roots: ``(T, 3)`` pelvis positions, camera frame, mm.
            extent_mm: crop side in mm at the pelvis depth.
            appearance: from :meth:`sample_appearance` of this renderer.
            rng: per-frame randomness (sensor noise).
            return_masks: also return the body silhouettes (before occluders).

        Returns:
            ``(T, S, S, 3)`` uint8 RGB crops, and ``(T, S, S)`` bool masks if asked.
        """
        poses = np.asarray(poses, dtype=np.float64)
        roots = np.asarray(roots, dtype=np.float64)
        if poses.ndim != 3 or poses.shape[1:] != (17, 3) or roots.shape != (len(poses), 3):
            raise ValueError(
                f"poses must be (T, 17, 3) and roots (T, 3), got {poses.shape} and {roots.shape}"
            )
        if not np.isfinite(extent_mm) or extent_mm <= 0:
            raise ValueError(f"extent_mm={extent_mm}: must be a positive number of mm")
        s, b = self.size, self.tile
        if appearance.canvas.shape[0] != b + s:
            raise ValueError("appearance was sampled by a renderer of another size")
        n = len(poses)
        if n == 0:
            empty = np.zeros((0, s, s, 3), np.uint8)
            return (empty, np.zeros((0, s, s), bool)) if return_masks else empty
        geo = _Geometry(poses, roots, float(extent_mm), s, appearance, self._arc, self._disc)
        geo.head_polys(self._ellipse)
        # background window: the crop moves over a static scene with the pelvis
        win = np.mod(appearance.offset + s * roots[:, :2] / extent_mm, b).astype(np.int64)
        out = np.empty((n, s, s, 3), np.uint8)
        masks = np.zeros((n, s, s), np.uint8) if return_masks else None
        cloth = np.zeros((n, s, s), np.uint8) if appearance.fabric is not None else None
        canvas = appearance.canvas
        for f in range(n):
            ox, oy = win[f]
            img = out[f]
            img[:] = canvas[oy : oy + s, ox : ox + s]
            geo.draw(
                f,
                img,
                masks[f] if masks is not None else None,
                cloth[f] if cloth is not None else None,
            )
        if cloth is not None:
            _apply_fabric(out, cloth, appearance.fabric)
        if appearance.occluder is not None:
            _apply_layer(out, *appearance.occluder)
        out = self._degrade(out, appearance, rng)
        if masks is not None:
            return out, masks >= 128
        return out

    def _degrade(self, out: np.ndarray, app: Appearance, rng: np.random.Generator) -> np.ndarray:
        s = self.size
        if app.blur_kernel is not None:
            for f in range(len(out)):
                cv2.filter2D(out[f], -1, app.blur_kernel, dst=out[f], borderType=cv2.BORDER_REFLECT)
        if app.lut is not None:
            flat = out.reshape(-1, s, 3)
            cv2.LUT(flat, app.lut, dst=flat)
        if app.noise_std > 0:
            offs = rng.integers(0, s, (len(out), 2))
            buf = out.astype(np.float32)
            for f, (ox, oy) in enumerate(offs):
                buf[f] += self._sensor[oy : oy + s, ox : ox + s] * app.noise_std
            np.rint(buf, out=buf)
            np.clip(buf, 0, 255, out=buf)
            out = buf.astype(np.uint8)
        if app.jpeg_quality is not None:
            params = [cv2.IMWRITE_JPEG_QUALITY, app.jpeg_quality]
            for f in range(len(out)):
                _, buf_j = cv2.imencode(".jpg", out[f], params)
                out[f] = cv2.imdecode(buf_j, cv2.IMREAD_UNCHANGED)
        return out


def _bbox(alpha: np.ndarray) -> tuple[slice, slice] | None:
    ys, xs = np.nonzero(alpha)
    if len(ys) == 0:
        return None
    return slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)


def _apply_fabric(out: np.ndarray, cloth: np.ndarray, fabric: np.ndarray) -> None:
    """Multiply the clothed pixels of every frame by the fabric texture, in place."""
    w = cloth.astype(np.float32) * (1.0 / 255.0)
    gain = 1.0 + (fabric[None] - 1.0) * w
    res = out.astype(np.float32) * gain[..., None]
    np.clip(res, 0, 255, out=res)
    out[:] = res.astype(np.uint8)


def _apply_layer(out: np.ndarray, layer: np.ndarray, alpha: np.ndarray) -> None:
    """Alpha-blend a crop-fixed layer over every frame, in place."""
    box = _bbox(alpha)
    if box is None:
        return
    a = alpha[box][None, ..., None]
    region = out[:, box[0], box[1]].astype(np.float32)
    out[:, box[0], box[1]] = (region * (1 - a) + layer[box][None] * a + 0.5).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# geometry: every primitive of a clip, vectorised over frames, then drawn frame by frame
# ---------------------------------------------------------------------------------------------


def _unit(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(norm > 1e-6, v / np.maximum(norm, 1e-12), fallback)


def _extended_joints(poses: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joints plus hands, toes, neck base and head centre ``(T, 23, 3)``; the body's forward
    and the head's forward unit vectors ``(T, 3)``."""
    p = poses
    left = (p[:, sk.L_SHOULDER] - p[:, sk.R_SHOULDER]) + (p[:, sk.L_HIP] - p[:, sk.R_HIP])
    up = p[:, sk.THORAX] - p[:, sk.PELVIS]
    z = np.array([0.0, 0.0, -1.0])
    fwd = _unit(np.cross(left, up), z)
    head_fwd = _unit(
        np.cross(p[:, sk.L_SHOULDER] - p[:, sk.R_SHOULDER], p[:, sk.HEAD] - p[:, sk.THORAX]), fwd
    )
    extra = []
    for wrist, elbow in ((sk.L_WRIST, sk.L_ELBOW), (sk.R_WRIST, sk.R_ELBOW)):
        fore = p[:, wrist] - p[:, elbow]
        extra.append(p[:, wrist] + 0.33 * fore)
    for ankle, knee in ((sk.L_ANKLE, sk.L_KNEE), (sk.R_ANKLE, sk.R_KNEE)):
        shin = p[:, ankle] - p[:, knee]
        length = np.linalg.norm(shin, axis=-1, keepdims=True)
        sd = shin / np.maximum(length, 1e-6)
        foot = _unit(fwd - np.sum(fwd * sd, -1, keepdims=True) * sd, z)
        extra.append(p[:, ankle] + length * (0.3 * foot + 0.06 * sd))
    extra.append(p[:, sk.THORAX] + 0.35 * (p[:, sk.NECK] - p[:, sk.THORAX]))
    extra.append(p[:, sk.NECK] + 0.25 * (p[:, sk.HEAD] - p[:, sk.NECK]))
    return np.concatenate([p, np.stack(extra, 1)], 1), fwd, head_fwd


def _capsule_polygons(
    a: np.ndarray, b: np.ndarray, ra: np.ndarray, rb: np.ndarray, k: int
) -> np.ndarray:
    """Outline of the convex hull of two discs, ``(..., 2k, 2)``.

    Args:
        a, b: ``(..., 2)`` centres; ra, rb: ``(...)`` radii (same units).
    """
    d = b - a
    length = np.linalg.norm(d, axis=-1)
    u = np.where(length[..., None] > 1e-6, d / np.maximum(length, 1e-9)[..., None], [1.0, 0.0])
    n = np.stack([-u[..., 1], u[..., 0]], -1)
    beta = np.arcsin(np.clip((ra - rb) / np.maximum(length, 1e-9), -1.0, 1.0))[..., None]
    s = np.linspace(0.0, 1.0, k)
    phi_a = (np.pi / 2 - beta) + (np.pi + 2 * beta) * s
    phi_b = (-np.pi / 2 + beta) + (np.pi - 2 * beta) * s
    phi = np.concatenate([phi_a, phi_b], -1)[..., None]  # (..., 2k, 1)
    centre = np.concatenate(
        [np.broadcast_to(a[..., None, :], (*a.shape[:-1], k, 2)),
         np.broadcast_to(b[..., None, :], (*b.shape[:-1], k, 2))], -2
    )  # fmt: skip
    r = np.concatenate(
        [np.broadcast_to(ra[..., None], (*ra.shape, k)),
         np.broadcast_to(rb[..., None], (*rb.shape, k))], -1
    )[..., None]  # fmt: skip
    return centre + r * (np.cos(phi) * u[..., None, :] + np.sin(phi) * n[..., None, :])


def _to_fixed(x: np.ndarray) -> np.ndarray:
    return np.round(x * _ONE).astype(np.int32)


class _Geometry:
    """Every primitive of a clip computed up front (vectorised over frames), drawn per frame."""

    def __init__(
        self,
        poses: np.ndarray,
        roots: np.ndarray,
        extent: float,
        size: int,
        app: Appearance,
        arc: int,
        disc: np.ndarray,
    ) -> None:
        joints, fwd, head_fwd = _extended_joints(poses)
        # continuous crop coordinates -> cv2 coordinates (pixel centres at integers)
        uv = project_to_crop(joints, roots, extent, size) - 0.5  # (T, 23, 2)
        depth = joints[..., 2] + roots[:, None, 2]
        ppm = size / extent * roots[:, 2:3] / depth  # (T, 23) pixels per mm at each joint
        # body build from each frame's own bone lengths (so every frame depends only on itself)
        lengths = sk.bone_lengths(poses)[:, 1:] / sk.canonical_bone_lengths()[1:]
        ws = app.width_scale * np.clip(lengths.mean(1), 0.7, 1.4)[:, None]  # (T, 1)
        light = app.light
        col = app.colours
        c = app.side_contrast
        shade = app.shade
        n_frames = len(poses)

        # ---------------- capsules
        ia = np.array([cp[1] for cp in CAPSULES])
        ib = np.array([cp[2] for cp in CAPSULES])
        pa, pb = uv[:, ia], uv[:, ib]  # (T, C, 2)
        ra = np.maximum(np.array([cp[3] for cp in CAPSULES]) * ws * ppm[:, ia], 0.5)
        rb = np.maximum(np.array([cp[4] for cp in CAPSULES]) * ws * ppm[:, ib], 0.5)
        d = pb - pa
        nrm = np.stack([-d[..., 1], d[..., 0]], -1)
        nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True) + 1e-9
        nl = nrm * np.where(nrm @ light >= 0, 1.0, -1.0)[..., None]  # normal toward the light
        f_r = _LAYER_RADIUS[None, None, :]
        f_s = _LAYER_SHIFT[None, None, :, None]
        la = pa[:, :, None] + f_s * ra[..., None, None] * nl[:, :, None]
        lb = pb[:, :, None] + f_s * rb[..., None, None] * nl[:, :, None]
        self.caps = _to_fixed(
            _capsule_polygons(la, lb, ra[..., None] * f_r, rb[..., None] * f_r, arc)
        )  # (T, C, 3, 2k, 2)
        self.cap_colours = []
        self.cap_cloth = []
        for cp in CAPSULES:
            region, side = cp[5], cp[6]
            base = col[region]
            contrast = c * (0.5 if region == "skin" or base is col["skin"] else 1.0)
            self.cap_colours.append(_layer_colours(_side_colour(base, side, contrast), shade))
            self.cap_cloth.append(0 if (region == "skin" or base is col["skin"]) else 255)

        # ---------------- torso: hull of discs, waist band, stripes
        ti = np.array([t[0] for t in TORSO_DISCS])
        tr = np.array([t[1] for t in TORSO_DISCS]) * ws * ppm[:, ti]  # (T, D)
        pts = uv[:, ti, None, :] + tr[..., None, None] * disc[None, None]  # (T, D, 10, 2)
        self.torso_pts = _to_fixed(pts.reshape(n_frames, -1, 2))
        r_mean = tr.mean(1)
        self.torso_shift = (light[None] * r_mean[:, None] * _ONE).astype(np.float64)
        e_sh = _unit(uv[:, sk.L_SHOULDER] - uv[:, sk.R_SHOULDER], np.array([1.0, 0.0]))
        e_hip = _unit(uv[:, sk.L_HIP] - uv[:, sk.R_HIP], np.array([1.0, 0.0]))
        down = _unit(uv[:, sk.PELVIS] - uv[:, sk.THORAX], np.array([0.0, 1.0]))
        r_s = tr[:, :1] * 0.8
        r_h = tr[:, 5:6] * 0.9
        corners = np.stack(
            [
                uv[:, sk.L_SHOULDER] + r_s * 0.72 * (e_sh - down),
                uv[:, sk.R_SHOULDER] + r_s * 0.72 * (-e_sh - down),
                uv[:, sk.R_HIP] + r_h * 0.72 * (-e_hip + down),
                uv[:, sk.L_HIP] + r_h * 0.72 * (e_hip + down),
            ],
            1,
        )  # (T, 4, 2): left/right shoulder, right/left hip, inside the hull
        self.waist = _to_fixed(_band(corners, _WAIST, 1.0))
        # a chest print, mirror-symmetric about the torso's midline (so a mirrored image shows
        # a print too): it marks the front, like a face or a shirt's buttons in real footage
        light_top = float(np.dot(col["top"], [0.299, 0.587, 0.114])) > 128
        self.print_colour = (30.0, 30.0, 35.0) if light_top else (235.0, 235.0, 225.0)
        self.front_print = (
            _to_fixed(_patch(corners, 0.22, 0.78, 0.1, 0.55)) if app.front_print else None
        )
        self.torso_colours = _layer_colours(col["top"], shade, 0.2)
        self.waist_colour = tuple(float(v) for v in col["bottom"])
        self.stripe_colour = tuple(float(v) for v in col["stripe"])
        self.torso_stripes = None
        self.limb_stripes: dict[int, np.ndarray] = {}
        if app.stripes is not None:
            m = app.stripe_count
            edges = np.linspace(0.0, _WAIST, 2 * m + 1)
            if app.stripes == "h":
                bands = [_band(corners, edges[2 * i + 1], edges[2 * i + 2]) for i in range(m)]
            else:
                bands = [_vband(corners, i, m, _WAIST) for i in range(m)]
            self.torso_stripes = _to_fixed(np.stack(bands, 1))  # (T, m, 4, 2)
            sleeves = [6, 7] + ([8, 9] if col["forearm"] is col["top"] else [])
            for ci in sleeves:
                self.limb_stripes[ci] = _to_fixed(
                    _limb_bands(pa[:, ci], pb[:, ci], ra[:, ci], rb[:, ci], app.stripes)
                )

        # ---------------- head (polygons made by head_polys once the outline is known)
        self.head_c = uv[:, HEAD_CENTRE]
        self.head_axis = _unit(uv[:, sk.HEAD] - uv[:, sk.NECK], np.array([0.0, -1.0]))
        self.head_r = np.maximum(HEAD_RADIUS_MM * (0.6 + 0.4 * ws[:, 0]) * ppm[:, HEAD_CENTRE], 0.7)
        self.head_fwd = head_fwd
        self.head_colours = (
            tuple(float(v) for v in col["hair"]),
            tuple(float(v) for v in col["skin"]),
        )
        self.face_visible = head_fwd[:, 2] < 0.3
        self.facing = fwd[:, 2] < 0  # front of the torso toward the camera

        # ---------------- painter's order, far to near
        cap_key = 0.5 * (depth[:, ia] + depth[:, ib])
        torso_key = depth[:, [sk.L_SHOULDER, sk.R_SHOULDER, sk.L_HIP, sk.R_HIP, sk.SPINE]].mean(1)
        cap_key[:, _NECK] = torso_key + 1.0  # the neck always goes under the torso's collar
        head_key = np.minimum(depth[:, HEAD_CENTRE], torso_key) - 1.0
        keys = np.concatenate([cap_key, torso_key[:, None], head_key[:, None]], 1)
        self.order = np.argsort(-keys, axis=1, kind="stable").tolist()

    def head_polys(self, unit: np.ndarray) -> None:
        """Hair ellipse and face ellipse polygons ``(T, K, 2)`` (fixed point)."""
        ax = self.head_axis  # (T, 2) image direction of the head's up axis
        perp = np.stack([-ax[:, 1], ax[:, 0]], -1)
        r = self.head_r[:, None, None]
        cos, sin = unit[None, :, :1], unit[None, :, 1:]
        c = self.head_c[:, None]
        self.hair = _to_fixed(c + r * (cos * perp[:, None] + 1.22 * sin * ax[:, None]))
        fx = self.head_fwd[:, :2]  # image-plane part of the face direction
        face_c = c[:, 0] + self.head_r[:, None] * (0.5 * fx - 0.1 * ax)
        rf = self.head_r[:, None, None]
        self.face = _to_fixed(
            face_c[:, None] + rf * (0.62 * cos * perp[:, None] + 0.85 * sin * ax[:, None])
        )

    def draw(self, f: int, img: np.ndarray, mask: np.ndarray | None, cloth: np.ndarray | None):
        """Paint frame ``f``'s body onto ``img`` (and the silhouette / clothes masks)."""
        fill = cv2.fillConvexPoly
        caps = self.caps[f]
        for p in self.order[f]:
            if p < _TORSO:
                polys = caps[p]
                dark, base, light = self.cap_colours[p]
                fill(img, polys[0], dark, _AA, SHIFT)
                fill(img, polys[1], base, _AA, SHIFT)
                fill(img, polys[2], light, _AA, SHIFT)
                bands = self.limb_stripes.get(p)
                if bands is not None:
                    for q in bands[f]:
                        fill(img, q, self.stripe_colour, _AA, SHIFT)
                if mask is not None:
                    fill(mask, polys[0], 255, _AA, SHIFT)
                if cloth is not None:
                    fill(cloth, polys[0], self.cap_cloth[p], _AA, SHIFT)
            elif p == _TORSO:
                hull = cv2.convexHull(self.torso_pts[f])
                dark, base, light = self.torso_colours
                fill(img, hull, dark, _AA, SHIFT)
                centre = hull.mean(0)
                rel = hull - centre
                shift = self.torso_shift[f]
                fill(img, (centre + 0.84 * rel + 0.12 * shift).astype(np.int32), base, _AA, SHIFT)
                if self.torso_stripes is None:
                    inner = centre + 0.4 * rel + 0.45 * shift
                    fill(img, inner.astype(np.int32), light, _AA, SHIFT)
                else:
                    for q in self.torso_stripes[f]:
                        fill(img, q, self.stripe_colour, _AA, SHIFT)
                if self.front_print is not None and self.facing[f]:
                    fill(img, self.front_print[f], self.print_colour, _AA, SHIFT)
                fill(img, self.waist[f], self.waist_colour, _AA, SHIFT)
                if mask is not None:
                    fill(mask, hull, 255, _AA, SHIFT)
                if cloth is not None:
                    fill(cloth, hull, 255, _AA, SHIFT)
            else:
                hair, skin = self.head_colours
                fill(img, self.hair[f], hair, _AA, SHIFT)
                if self.face_visible[f]:
                    fill(img, self.face[f], skin, _AA, SHIFT)
                if mask is not None:
                    fill(mask, self.hair[f], 255, _AA, SHIFT)
                if cloth is not None:
                    fill(cloth, self.hair[f], 0, _AA, SHIFT)


def _patch(corners: np.ndarray, u0: float, u1: float, v0: float, v1: float) -> np.ndarray:
    """Quad ``(T, 4, 2)`` of the torso between fractions ``u0..u1`` across (left shoulder 0,
    right 1) and ``v0..v1`` down (shoulders 0, hips 1), bilinear in the four corners."""

    def at(u: float, v: float) -> np.ndarray:
        top = corners[:, 0] + u * (corners[:, 1] - corners[:, 0])
        bottom = corners[:, 3] + u * (corners[:, 2] - corners[:, 3])
        return top + v * (bottom - top)

    return np.stack([at(u0, v0), at(u1, v0), at(u1, v1), at(u0, v1)], 1)


def _band(corners: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Quad ``(T, 4, 2)`` of the torso between the fractions t0 and t1 (shoulders 0, hips 1)."""
    return _patch(corners, 0.0, 1.0, t0, t1)


def _vband(corners: np.ndarray, i: int, m: int, bottom: float) -> np.ndarray:
    """Vertical torso stripe ``i`` of ``m`` (``(T, 4, 2)``), from the shoulders to ``bottom``."""
    return _patch(corners, (2 * i + 0.5) / (2 * m), (2 * i + 1.5) / (2 * m), 0.0, bottom)


def _limb_bands(
    pa: np.ndarray, pb: np.ndarray, ra: np.ndarray, rb: np.ndarray, kind: str
) -> np.ndarray:
    """Stripe quads ``(T, n, 4, 2)`` on a limb: across it (``"h"``) or along it (``"v"``)."""
    d = pb - pa
    nrm = np.stack([-d[..., 1], d[..., 0]], -1)
    nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True) + 1e-9
    quads = []
    spans = ((0.15, 0.35), (0.55, 0.75)) if kind == "h" else ((0.0, 1.0),)
    for t0, t1 in spans:
        c0, c1 = pa + t0 * d, pa + t1 * d
        w0 = (ra + t0 * (rb - ra))[:, None] * (0.9 if kind == "h" else 0.3)
        w1 = (ra + t1 * (rb - ra))[:, None] * (0.9 if kind == "h" else 0.3)
        quads.append(np.stack([c0 + w0 * nrm, c1 + w1 * nrm, c1 - w1 * nrm, c0 - w0 * nrm], 1))
    return np.stack(quads, 1)


# ---------------------------------------------------------------------------------------------
# debugging
# ---------------------------------------------------------------------------------------------

_OVERLAY_LEFT = (31, 119, 180)  # as sa3dhp.viz: blue for left
_OVERLAY_RIGHT = (214, 39, 40)  # red for right
_OVERLAY_CENTRE = (235, 235, 235)


def render_debug_overlay(
    image: np.ndarray, joints_2d: np.ndarray, scale: int = 1, thickness: int = 1
) -> np.ndarray:
    """Draw a ground-truth skeleton on a copy of a crop (left bones blue, right red).

    Args:
        image: ``(S, S, 3)`` uint8 RGB crop.
        joints_2d: ``(17, 2)`` continuous crop coordinates (:func:`sa3dhp.camera.project_to_crop`).
        scale: integer nearest-neighbour upscaling applied before drawing.
        thickness: line thickness in output pixels.

    Returns:
        ``(S * scale, S * scale, 3)`` uint8 RGB image.
    """
    image = np.asarray(image)
    joints_2d = np.asarray(joints_2d, dtype=np.float64)
    if image.ndim != 3 or image.shape[-1] != 3 or joints_2d.shape != (sk.NUM_JOINTS, 2):
        raise ValueError(
            f"expected image (S, S, 3) and joints (17, 2), got {image.shape}, {joints_2d.shape}"
        )
    if scale < 1:
        raise ValueError(f"scale={scale}: must be an integer >= 1")
    out = np.ascontiguousarray(
        np.repeat(np.repeat(image, scale, 0), scale, 1) if scale > 1 else image.copy()
    )
    pts = joints_2d * scale - 0.5  # continuous -> cv2 pixel-centre coordinates
    for child, parent in enumerate(sk.PARENTS):
        if parent < 0:
            continue
        colour = (
            _OVERLAY_LEFT
            if child in sk.LEFT_JOINTS
            else _OVERLAY_RIGHT
            if child in sk.RIGHT_JOINTS
            else _OVERLAY_CENTRE
        )
        cv2.line(out, _fixed(pts[parent]), _fixed(pts[child]), colour, thickness, _AA, SHIFT)
    radius = max(1, math.ceil(thickness * 0.8))
    for j in range(sk.NUM_JOINTS):
        cv2.circle(out, _fixed(pts[j]), radius * _ONE, (255, 255, 0), -1, _AA, SHIFT)
    return out

"""The renderer: per-clip appearance sampling and drawing of person-centred crops
(:class:`Renderer`), and a debugging overlay of the joints on a crop."""

from __future__ import annotations

import math

import cv2
import numpy as np

from sa3dhp import skeleton as sk
from sa3dhp.data.render.geometry import _Geometry
from sa3dhp.data.render.style import (
    _HAIR,
    _SHOES,
    _SKIN,
    _TARGET_BOTTOMS,
    _TARGET_TOPS,
    Appearance,
    AppearanceStyle,
    _hsv,
    _pick,
    source_appearance,
)
from sa3dhp.data.render.textures import (
    _AA,
    _ONE,
    SHIFT,
    _draw_capsule_wrapped,
    _fixed,
    _noise_banks,
    _texture_bank,
    _tile,
)

MIN_SIZE, MAX_SIZE = 16, 512


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

"""Body geometry of the renderer: the primitives (capsules, torso, head) of every frame of a clip,
projected to the crop and ordered far to near, vectorised over frames."""

from __future__ import annotations

import cv2
import numpy as np

from sa3dhp import skeleton as sk
from sa3dhp.camera import project_to_crop
from sa3dhp.data.render.style import Appearance, _layer_colours, _side_colour
from sa3dhp.data.render.textures import _AA, _ONE, SHIFT

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

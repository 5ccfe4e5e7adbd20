"""Tileable textures, built once per renderer: scene backgrounds (filtered noise, stripes and
bricks, blobs, indoor clutter), fabrics and sensor-noise banks."""

from __future__ import annotations

import functools

import cv2
import numpy as np

from sa3dhp.data.render.style import _hsv

SHIFT = 4  # sub-pixel bits of the cv2 drawing calls
_ONE = 1 << SHIFT
_AA = cv2.LINE_AA


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

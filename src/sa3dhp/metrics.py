"""3D pose metrics in millimetres: MPJPE, PA-MPJPE, N-MPJPE, PCK, AUC and breakdowns.

Inputs are ``(N, 17, 3)`` arrays (numpy or torch; a single ``(17, 3)`` pose is accepted), root-
relative, in mm. Protocols:

* MPJPE: mean Euclidean joint error.
* PA-MPJPE: after the similarity transform (rotation, uniform scale, translation) that best
  aligns each prediction to its ground truth (Procrustes); reflections are excluded.
* N-MPJPE: after the best uniform scale only (Rhodin et al., 2018).
* PCK: percentage of joints with error below ``threshold`` (150 mm, the MPI-INF-3DHP protocol).
* AUC: mean PCK over 31 thresholds evenly spaced in 0-150 mm, in percent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

AUC_THRESHOLDS = np.linspace(0.0, 150.0, 31)


def _as_numpy(a: np.ndarray | torch.Tensor, name: str) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (N, J, 3) or (J, 3), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _pair(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    p, g = _as_numpy(pred, "pred"), _as_numpy(gt, "gt")
    if p.shape != g.shape:
        raise ValueError(f"pred and gt shapes differ: {p.shape} vs {g.shape}")
    if p.shape[0] == 0:
        raise ValueError("pred and gt are empty")
    return p, g


def joint_errors(pred, gt) -> np.ndarray:
    """Euclidean error per joint, ``(N, J)`` mm."""
    p, g = _pair(pred, gt)
    return np.linalg.norm(p - g, axis=-1)


def procrustes_align(pred, gt) -> np.ndarray:
    """Similarity-align every prediction to its ground truth (no reflections), ``(N, J, 3)``."""
    p, g = _pair(pred, gt)
    mu_p, mu_g = p.mean(1, keepdims=True), g.mean(1, keepdims=True)
    p0, g0 = p - mu_p, g - mu_g
    cov = np.einsum("nji,njk->nik", p0, g0)  # (N, 3, 3) = p0^T g0
    u, s, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(np.einsum("nij,njk->nik", u, vt)))
    s = s.copy()
    s[:, -1] *= d
    u = u.copy()
    u[:, :, -1] *= d[:, None]
    rot = np.einsum("nij,njk->nik", u, vt)  # maps row vectors: p0 @ rot ~ g0 / scale
    var = (p0**2).sum(axis=(1, 2))
    scale = s.sum(1) / np.maximum(var, 1e-12)
    return scale[:, None, None] * np.einsum("nji,nik->njk", p0, rot) + mu_g


def scale_align(pred, gt) -> np.ndarray:
    """Scale every prediction by the factor that best fits its ground truth, ``(N, J, 3)``."""
    p, g = _pair(pred, gt)
    scale = (p * g).sum(axis=(1, 2)) / np.maximum((p * p).sum(axis=(1, 2)), 1e-12)
    return scale[:, None, None] * p


def mpjpe(pred, gt) -> float:
    """Mean per-joint position error, mm."""
    return float(joint_errors(pred, gt).mean())


def pa_mpjpe(pred, gt) -> float:
    """MPJPE after similarity Procrustes alignment (reflections excluded), mm."""
    return mpjpe(procrustes_align(pred, gt), gt)


def n_mpjpe(pred, gt) -> float:
    """MPJPE after the best uniform scale, mm."""
    return mpjpe(scale_align(pred, gt), gt)


def _pck(err: np.ndarray, threshold: float = 150.0) -> float:
    return float((err < threshold).mean() * 100.0)


def _auc(err: np.ndarray) -> float:
    return float(np.mean([(err < t).mean() for t in AUC_THRESHOLDS]) * 100.0)


def pck(pred, gt, threshold: float = 150.0) -> float:
    """Percentage of joints whose error is below ``threshold`` mm."""
    return _pck(joint_errors(pred, gt), threshold)


def auc(pred, gt) -> float:
    """Area under the PCK curve over 0-150 mm (31 thresholds), in percent."""
    return _auc(joint_errors(pred, gt))


def per_joint(pred, gt) -> np.ndarray:
    """MPJPE of each joint, ``(J,)`` mm."""
    return joint_errors(pred, gt).mean(axis=0)


def all_metrics(pred, gt) -> dict[str, float]:
    """Every scalar metric at once: mpjpe, pa_mpjpe, n_mpjpe, pck, auc."""
    p, g = _pair(pred, gt)
    err = np.linalg.norm(p - g, axis=-1)
    return {
        "mpjpe": float(err.mean()),
        "pa_mpjpe": pa_mpjpe(p, g),
        "n_mpjpe": n_mpjpe(p, g),
        "pck": _pck(err),
        "auc": _auc(err),
    }


def per_group(pred, gt, groups: Sequence | np.ndarray) -> dict[str, dict[str, float]]:
    """Every metric for each group of samples (sequence, action, subject ...).

    Args:
        pred, gt: ``(N, J, 3)``.
        groups: ``(N,)`` group label of each sample.

    Returns:
        ``{label: {metric: value, "count": n}}`` sorted by label.
    """
    p, g = _pair(pred, gt)
    labels = np.asarray(groups)
    if labels.shape != (p.shape[0],):
        raise ValueError(f"groups must have shape ({p.shape[0]},), got {labels.shape}")
    out: dict[str, dict[str, float]] = {}
    for label in sorted(set(labels.tolist())):
        mask = labels == label
        out[str(label)] = {**all_metrics(p[mask], g[mask]), "count": int(mask.sum())}
    return out


def per_sequence(pred, gt, sequence_ids: Sequence | np.ndarray) -> dict[str, dict[str, float]]:
    """:func:`per_group` keyed by sequence id."""
    return per_group(pred, gt, sequence_ids)


def over_seeds(values: Sequence[float], digits: int = 2) -> dict:
    """A number measured once per seed: its mean, sample standard deviation (n - 1; 0 for one
    seed), the number of seeds and each seed's value, rounded to ``digits``. The one summary
    over seeds used by ``sa3dhp ablate`` and the multi-seed benchmarks."""
    v = np.asarray(values, dtype=float)
    std = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    return {
        "mean": round(float(v.mean()), digits),
        "std": round(std, digits),
        "n": len(v),
        "per_seed": [round(float(x), digits) for x in v],
    }

"""The field's evaluation protocols on converted splits (``sa3dhp evaluate --protocol``).

* ``h36m-p1`` / ``h36m-p2``: MPJPE / PA-MPJPE (mm) on subjects S9 and S11, every camera, 17
  joints, root-relative; the mean over actions of each action's mean (actions with numbered
  takes, ``Walking 1``, count as one), and the frame mean beside it.
* ``3dhp``: PCK@150 mm and AUC (0-150 mm, 31 thresholds) on the 17 test joints, valid frames
  only (the converter keeps only those), per scene (TS1-TS6, from the file path) and overall;
  PA-MPJPE too.
* ``3dpw``: MPJPE and PA-MPJPE on the 14 joints common to SMPL and Human3.6M (:data:`JOINTS_3DPW`:
  hips, knees, ankles, shoulders, elbows, wrists, thorax and neck/nose), after centring on the
  pelvis.

:data:`PAPER` holds the paper's numbers (Kundu et al. 2021, unsupervised setting) where it
gives them; the tables print them beside ours.
"""

from __future__ import annotations

import re

import numpy as np

from sa3dhp import metrics
from sa3dhp import skeleton as sk
from sa3dhp.data.store import Split

PROTOCOLS = ("h36m-p1", "h36m-p2", "3dhp", "3dpw")
#: The paper's results for its unsupervised settings (METHOD.md): S->H on Human3.6M, S->W on
#: MPI-INF-3DHP; its 3DPW setting.
PAPER = {
    "h36m-p1": {"mpjpe": 97.8},
    "h36m-p2": {"pa_mpjpe": 86.2},
    "3dhp": {"pck": 78.8, "auc": 43.1, "pa_mpjpe": 116.1},
    "3dpw": {"pa_mpjpe": 72.1},
}
JOINTS_3DPW = (
    sk.R_HIP, sk.R_KNEE, sk.R_ANKLE, sk.L_HIP, sk.L_KNEE, sk.L_ANKLE, sk.THORAX, sk.NECK,
    sk.L_SHOULDER, sk.L_ELBOW, sk.L_WRIST, sk.R_SHOULDER, sk.R_ELBOW, sk.R_WRIST,
)  # fmt: skip
H36M_TEST_SUBJECTS = ("S9", "S11")


def _clip_field(split: Split, key: str) -> np.ndarray:
    """Per frame, the converter's ``meta["clips"][clip][key]``."""
    clips = split.meta.get("clips") or []
    if not clips or key not in clips[0]:
        raise ValueError(f"this split's meta.json has no clips[].{key} (convert it again)")
    return np.array([clips[int(c)][key] for c in split.clip])


def _h36m(split: Split, pred: np.ndarray, metric: str) -> dict:
    fn = metrics.mpjpe if metric == "mpjpe" else metrics.pa_mpjpe
    names = np.array(split.meta.get("subjects", []))
    subject = names[split.subject] if len(names) else np.array([])
    keep = np.isin(subject, H36M_TEST_SUBJECTS)
    if not keep.any():
        raise ValueError("no frames of S9 or S11 in this split (convert them with the h36m format)")
    action = np.array([re.sub(r"[\s_]*\d+$", "", a) for a in _clip_field(split, "action")])
    per_action = {
        a: round(fn(pred[keep & (action == a)], split.poses[keep & (action == a)]), 2)
        for a in sorted(set(action[keep]))
    }
    return {
        metric: round(float(np.mean(list(per_action.values()))), 2),
        f"{metric}_frame_mean": round(fn(pred[keep], split.poses[keep]), 2),
        "per_action": per_action,
        "frames": int(keep.sum()),
    }


def _3dhp(split: Split, pred: np.ndarray) -> dict:
    files = _clip_field(split, "file")
    scene = np.array([(re.findall(r"TS\d+", f) or ["all"])[-1] for f in files])

    def table(sel: np.ndarray) -> dict:
        p, g = pred[sel], split.poses[sel]
        return {"pck": round(metrics.pck(p, g), 2), "auc": round(metrics.auc(p, g), 2),
                "pa_mpjpe": round(metrics.pa_mpjpe(p, g), 2), "frames": int(sel.sum())}  # fmt: skip

    out = table(np.ones(len(pred), bool))
    out["per_scene"] = {s: table(scene == s) for s in sorted(set(scene))}
    return out


def _3dpw(split: Split, pred: np.ndarray) -> dict:
    p = (pred - pred[:, :1])[:, list(JOINTS_3DPW)]
    g = (split.poses - split.poses[:, :1])[:, list(JOINTS_3DPW)]
    return {"mpjpe": round(metrics.mpjpe(p, g), 2), "pa_mpjpe": round(metrics.pa_mpjpe(p, g), 2),
            "joints": [sk.JOINT_NAMES[j] for j in JOINTS_3DPW], "frames": len(p)}  # fmt: skip


def evaluate_protocol(name: str, split: Split, pred: np.ndarray) -> dict:
    """The protocol ``name``'s table for predictions ``(F, 17, 3)`` mm of ``split``'s frames,
    with the paper's numbers under ``"paper"`` where it reports them."""
    if name not in PROTOCOLS:
        raise ValueError(f"--protocol {name!r}: choose one of {', '.join(PROTOCOLS)}")
    if split.poses is None:
        raise ValueError("the split has no 3D poses to evaluate against")
    pred = np.asarray(pred, dtype=np.float64)
    if pred.shape != split.poses.shape:
        raise ValueError(f"predictions are {pred.shape}, the split's poses {split.poses.shape}")
    if name.startswith("h36m"):
        out = _h36m(split, pred, "mpjpe" if name == "h36m-p1" else "pa_mpjpe")
    elif name == "3dhp":
        out = _3dhp(split, pred)
    else:
        out = _3dpw(split, pred)
    return {"protocol": name, **out, "paper": PAPER.get(name, {})}

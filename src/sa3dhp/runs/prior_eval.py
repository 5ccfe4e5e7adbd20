"""``sa3dhp evaluate prior``: how good the trained pose and motion priors are on held-out mocap
(reconstruction, latent uniformity, plausibility and typicality of random decodes)."""

from __future__ import annotations

import json

import numpy as np
import torch

from sa3dhp import pipeline
from sa3dhp.config import Config
from sa3dhp.data import splits
from sa3dhp.data.clips import clip_array
from sa3dhp.data.synth import load_split
from sa3dhp.prior_metrics import motion_reconstruction, pose_reconstruction
from sa3dhp.runs import priors


def ks_uniform(z: np.ndarray) -> np.ndarray:
    """Kolmogorov-Smirnov distance of each column of ``z`` ``(N, D)`` to U[-1, 1], ``(D,)``."""
    x = np.sort(np.asarray(z, dtype=np.float64), axis=0)
    n = x.shape[0]
    cdf = np.clip((x + 1) / 2, 0, 1)
    upper = np.arange(1, n + 1)[:, None] / n - cdf
    lower = cdf - np.arange(n)[:, None] / n
    return np.maximum(upper.max(0), lower.max(0))


def evaluate_prior(cfg: Config, n_random: int = 10_000) -> dict:
    """``sa3dhp evaluate prior``: reconstruction, latent uniformity, plausibility of decodes."""
    from sa3dhp import metrics, plausibility
    from sa3dhp.kinematics import canonical_direction_lengths, direction_bone_lengths, to_local
    from sa3dhp.kinematics import forward_kinematics as fk
    from sa3dhp.viz import decoded_poses_figure

    mocap = load_split(cfg.data, "mocap", images=False)
    train_poses, val_poses = splits.split_frames(mocap.poses, mocap.clip, cfg.data.mocap_holdout)
    prior = priors.load_pose_prior(cfg)
    rec = pose_reconstruction(prior, val_poses)
    rec.pop("latents")
    # the aggregate posterior: Ep over every mocap pose (held-out clips alone are too few
    # independent samples for a per-dimension KS test)
    ks = ks_uniform(pose_reconstruction(prior, mocap.poses)["latents"])
    decoded = prior.sample(n_random, torch.Generator().manual_seed(cfg.seed)).numpy()
    typical = _decode_typicality(train_poses, val_poses, decoded[:2000], cfg.seed)
    # how far canonical bone lengths alone are from each subject (the 'canonical' decoder's floor)
    canonical = fk(to_local(val_poses), canonical_direction_lengths())
    out = {
        "pose_reconstruction": {k: round(v, 2) for k, v in rec.items()},
        "canonical_length_floor": {
            "mpjpe": round(metrics.mpjpe(canonical, val_poses), 2),
            "pa_mpjpe": round(metrics.pa_mpjpe(canonical, val_poses), 2),
        },
        "latent_ks": {"max": round(float(ks.max()), 4), "mean": round(float(ks.mean()), 4)},
        "latent_ks_per_dim": [round(float(k), 4) for k in ks],
        "random_decodes": {
            k: round(v, 4) for k, v in plausibility.plausibility_report(decoded).items()
        },
        # joint limits say a decode is *possible*; this says whether it looks like the mocap
        "random_decodes_typical": round(typical, 4),
        "held_out_poses": len(val_poses),
        "bone_length_spread_mm": round(
            float(np.ptp(direction_bone_lengths(val_poses), axis=0).mean()), 1
        ),
    }
    motion_ckpt = pipeline.stage_dir(cfg, pipeline.MOTION_PRIOR_DIR) / "checkpoint.safetensors"
    if motion_ckpt.exists():
        motion = priors.load_motion_prior(cfg)
        clips = clip_array(mocap.poses, mocap.clip)
        val = torch.as_tensor(
            splits.split_clips(clips, cfg.data.mocap_holdout)[1], dtype=torch.float32
        )
        res = motion_reconstruction(motion, prior, val, cfg.motion_prior.seq_len, cfg.seed)
        out["motion_reconstruction"] = {k: round(v, 2) for k, v in res.items()}
    run_dir = pipeline.stage_dir(cfg, pipeline.POSE_PRIOR_DIR)
    fig = decoded_poses_figure(decoded[:16], run_dir / "random_decodes.png")
    out["figure"] = str(fig)
    (run_dir / "prior_eval.json").write_text(json.dumps(out, indent=1) + "\n")
    return out


def _decode_typicality(
    train_poses: np.ndarray, val_poses: np.ndarray, decoded: np.ndarray, seed: int
) -> float:
    """Share of decoded poses as typical of the mocap as held-out mocap poses are (1 = as
    typical; the nearest-neighbour criterion of :class:`sa3dhp.scoring.Typicality`)."""
    from sa3dhp.scoring import Typicality

    rng = np.random.default_rng(seed)
    ref = train_poses[rng.choice(len(train_poses), min(20_000, len(train_poses)), replace=False)]
    held = val_poses[rng.choice(len(val_poses), min(2_000, len(val_poses)), replace=False)]
    judge = Typicality(torch.as_tensor(ref), torch.as_tensor(held))
    return judge(torch.as_tensor(decoded, dtype=torch.float32))

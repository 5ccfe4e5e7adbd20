"""Pose- and motion-prior settings that were compared to choose the demo defaults.

Each setting trains the pose prior of the demo config with the listed overrides (all of them
spelled out, so a setting means the same whatever the defaults become) and evaluates it like
``sa3dhp evaluate prior``; settings with ``motion_prior.*`` overrides also train the motion prior
on that pose prior. One JSON line per setting is appended to
``benchmarks/results/prior_sweep.jsonl`` (the generator-v5 sweep is in
``docs/history/prior_sweep_v5.jsonl``). Run one setting, or all (about an hour):

    .venv/bin/python benchmarks/prior_sweep.py [NAME ...]

Training times are only comparable between settings run alone on an idle machine.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sweep

from sa3dhp.config import load_config
from sa3dhp.runs import prior_eval, priors

# keys added after the first settings were written, at the values those settings ran with
BEFORE_LIMB_TERM = ["pose_prior.local_weight=0", "pose_prior.sw_random_dirs=32"]
BEFORE_SKIP = ["motion_prior.skip=false", "motion_prior.lr=3e-3"]  # the paper's BiLSTM pair
OLD = [  # the defaults before joint limits (what the previous demo ran)
    "pose_prior.lr=1e-3",
    "pose_prior.batch_size=256",
    "pose_prior.steps=2000",
    "pose_prior.sw_weight=1.0",
    "pose_prior.limit_weight=0",
    *BEFORE_LIMB_TERM,
]
LIMITS = [  # the defaults with joint limits, before the limb term (the demo of 2026-11-25)
    "pose_prior.lr=2e-3",
    "pose_prior.batch_size=192",
    "pose_prior.steps=2200",
    "pose_prior.sw_weight=0.3",
    "pose_prior.limit_weight=0.1",
    *BEFORE_LIMB_TERM,
]
SETTINGS: dict[str, list[str]] = {
    "old_defaults": OLD,
    "no_uniformity_terms": [*OLD, "pose_prior.adv_weight=0", "pose_prior.sw_weight=0"],
    "limits_1.0": [*OLD, "pose_prior.limit_weight=1.0"],
    "limits_0.1_sw_0.3": [*OLD, "pose_prior.limit_weight=0.1", "pose_prior.sw_weight=0.3"],
    "limits_0.1_sw_0.3_axes_only": [
        *OLD,
        "pose_prior.limit_weight=0.1",
        "pose_prior.sw_weight=0.3",
        "pose_prior.sw_random_dirs=0",
        "pose_prior.local_weight=0",
    ],
    "limits_0.1_sw_0.3_4000_steps": [
        *OLD,
        "pose_prior.limit_weight=0.1",
        "pose_prior.sw_weight=0.3",
        "pose_prior.steps=4000",
    ],
    "old_defaults_motion_no_yaw": [
        *OLD,
        "motion_prior.steps=1000",
        *BEFORE_SKIP,
        "motion_prior.augment_yaw=false",
    ],
    "lr_2e-3_batch_192_2400_steps": [
        "pose_prior.lr=2e-3",
        "pose_prior.batch_size=192",
        "pose_prior.steps=2400",
        "pose_prior.sw_weight=0.3",
        "pose_prior.limit_weight=0.1",
        *BEFORE_LIMB_TERM,
    ],
    "limits_0.1_lr_2e-3_batch_192_2200_steps_sw_1.0": [
        "pose_prior.lr=2e-3",
        "pose_prior.batch_size=192",
        "pose_prior.steps=2200",
        "pose_prior.sw_weight=1.0",
        "pose_prior.limit_weight=0.1",
        *BEFORE_LIMB_TERM,
    ],
    "new_defaults": [
        "pose_prior.lr=2e-3",
        "pose_prior.batch_size=192",
        "pose_prior.steps=2200",
        "pose_prior.sw_weight=0.3",
        "pose_prior.limit_weight=0.1",
        "motion_prior.steps=1000",
        *BEFORE_SKIP,
        *BEFORE_LIMB_TERM,
    ],
    "lr_2e-3_batch_192_2400_steps_motion_1200_steps": [
        "pose_prior.lr=2e-3",
        "pose_prior.batch_size=192",
        "pose_prior.steps=2400",
        "pose_prior.sw_weight=0.3",
        "pose_prior.limit_weight=0.1",
        "motion_prior.steps=1200",
        *BEFORE_SKIP,
        *BEFORE_LIMB_TERM,
    ],
    "lr_2e-3_batch_192_2400_steps_motion_2000_steps": [
        "pose_prior.lr=2e-3",
        "pose_prior.batch_size=192",
        "pose_prior.steps=2400",
        "pose_prior.sw_weight=0.3",
        "pose_prior.limit_weight=0.1",
        "motion_prior.steps=2000",
        *BEFORE_SKIP,
        *BEFORE_LIMB_TERM,
    ],
    # the limb term (pose_prior.local_weight) and what followed it, 2026-12-01
    "limits_limb_1": [*LIMITS, "pose_prior.local_weight=1"],
    "limits_limb_3": [*LIMITS, "pose_prior.local_weight=3"],
    "limits_limb_10": [*LIMITS, "pose_prior.local_weight=10"],
    "limits_limb_3_2800_steps": [*LIMITS, "pose_prior.local_weight=3", "pose_prior.steps=2800"],
    "limits_limb_3_sw_0.2_3000_steps_lr_3e-3": [
        *LIMITS,
        "pose_prior.local_weight=3",
        "pose_prior.sw_weight=0.2",
        "pose_prior.steps=3000",
        "pose_prior.lr=3e-3",
    ],
    "limits_limb_5_3000_steps_lr_3e-3": [
        *LIMITS,
        "pose_prior.local_weight=5",
        "pose_prior.steps=3000",
        "pose_prior.lr=3e-3",
    ],
    "limits_limb_5_axes_only_3000_steps_lr_3e-3": [
        *LIMITS,
        "pose_prior.local_weight=5",
        "pose_prior.sw_random_dirs=0",
        "pose_prior.steps=3000",
        "pose_prior.lr=3e-3",
    ],
    "limits_limb_5_axes_only_3600_steps_lr_3e-3": [  # the defaults since 2026-12-01
        *LIMITS,
        "pose_prior.local_weight=5",
        "pose_prior.sw_random_dirs=0",
        "pose_prior.steps=3600",
        "pose_prior.lr=3e-3",
    ],
}


def run(name: str, overrides: list[str]) -> dict:
    cfg = load_config("demo", [f"out_dir=out/bench_prior_sweep/{name}", *overrides])
    t0 = time.perf_counter()
    train = priors.train_pose_prior(cfg)
    row = {"name": name, "overrides": overrides, "pose_train_time_s": train["train_time_s"]}
    if any(o.startswith("motion_prior.") for o in overrides):
        motion = priors.train_motion_prior(cfg)
        row["motion_val_mpjpe"] = round(motion["val_mpjpe"], 2)
        row["motion_train_time_s"] = motion["train_time_s"]
    ev = prior_eval.evaluate_prior(cfg)
    row.update(
        val_mpjpe=ev["pose_reconstruction"]["val_mpjpe"],
        val_pa_mpjpe=ev["pose_reconstruction"]["val_pa_mpjpe"],
        latent_ks_max=ev["latent_ks"]["max"],
        random_decodes_plausible=ev["random_decodes"]["plausible"],
        random_decodes_typical=ev["random_decodes_typical"],
        total_s=round(time.perf_counter() - t0, 1),
        date=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return row


if __name__ == "__main__":
    sweep.main(SETTINGS, run, "prior_sweep.jsonl")

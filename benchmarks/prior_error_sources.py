"""Where the pose prior's reconstruction error comes from (no training here).

Decodes held-out mocap poses (every 4th) through a trained pose prior, then swaps the true value
back in for one part of the local representation at a time: bone lengths, root vectors (which
set the torso frame) or bone directions. Writes ``benchmarks/results/prior_error_sources.json``.

    .venv/bin/python benchmarks/prior_error_sources.py [OUT_DIR]   # default out/demo
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from sa3dhp import kinematics as kin
from sa3dhp import metrics
from sa3dhp.config import load_config
from sa3dhp.data import splits
from sa3dhp.data.synth import load_split
from sa3dhp.runs import priors


@torch.no_grad()
def main() -> None:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "out/demo"
    cfg = load_config("demo", [f"out_dir={out_dir}"])
    mocap = load_split(cfg.data, "mocap", images=False)
    _, val = splits.split_frames(mocap.poses, mocap.clip, cfg.data.mocap_holdout)
    y = torch.as_tensor(val[::4], dtype=torch.float32)
    prior = priors.load_pose_prior(cfg)
    local, lengths = prior.decode_local(prior.encode(y))
    true, true_lengths = kin.to_local(y), kin.direction_bone_lengths(y)
    variants = {
        "all_predicted": (local.root_vectors, local.directions, lengths),
        "true_lengths": (local.root_vectors, local.directions, true_lengths),
        "only_lengths_predicted": (true.root_vectors, true.directions, lengths),
        "only_root_vectors_predicted": (local.root_vectors, true.directions, true_lengths),
        "only_directions_predicted": (true.root_vectors, local.directions, true_lengths),
    }
    result = {}
    for name, (roots, dirs, lens) in variants.items():
        pose = kin.forward_kinematics(kin.LocalPose(roots, dirs), lens).numpy()
        result[name] = {
            "mpjpe": round(metrics.mpjpe(pose, y.numpy()), 2),
            "pa_mpjpe": round(metrics.pa_mpjpe(pose, y.numpy()), 2),
        }
        print(name, result[name])
    path = Path("benchmarks/results/prior_error_sources.json")
    path.write_text(json.dumps({"out_dir": out_dir, "poses": len(y), **result}, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

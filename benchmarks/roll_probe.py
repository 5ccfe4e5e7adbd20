"""Does adaptation close a gap that a relation speaks to? A target filmed with tilted cameras.

    .venv/bin/python benchmarks/roll_probe.py [NAME ...]   # after `make demo` (and, for the
                                                           # second setting, facing_probe.py)
    .venv/bin/python benchmarks/roll_probe.py --terms [NAME ...]  # each term alone (TERMS)
    .venv/bin/python benchmarks/roll_probe.py --budget [NAME ...]  # one term, freer (BUDGET)
    .venv/bin/python benchmarks/roll_probe.py --anchor [NAME ...]  # + our source anchor (ANCHOR)
    .venv/bin/python benchmarks/roll_probe.py --nonlocal [NAME ...]  # + our guard (NONLOCAL)

The demo's gap is the body's facing, which no relation of the catalogue carries
(``benchmarks/orientation_errors.py``). This probe gives the target a gap that one does: each
clip's camera is rolled about its optical axis by an angle drawn uniformly in +-40 degrees
(``data.target_motion.camera_roll_deg``; the source stays upright). A rolled view is the
in-plane relation applied to an upright one, the pose prior's training turns 30 % of poses by up
to 60 degrees, and the views overlap the source's (rolls near 0). The range was fixed before any
run; the world's background is not rolled, only the person.

Each setting (:data:`SETTINGS`) reuses a Gs, the pose and motion priors and the relation
networks (none of which saw a target frame) from an existing run, and runs on the rolled target:
AdaBN, the oracle (Gs fine-tuned on target_oracle labels) and the adaptations of
:data:`ADAPTATIONS` with the demo's settings. Every row is read on ``target_val`` only (a probe
of the world: target_test is not read), with the constant rows, the label-free diagnostics and
the in-plane tilt of the predicted torso against the truth's. Appends one JSON line per setting
to ``benchmarks/results/roll_probe.jsonl``.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from sa3dhp import metrics, pipeline
from sa3dhp import relations as rel
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.demo import gap_closed, label_means, results_table
from sa3dhp.inference import load_image_model, load_relation, predict
from sa3dhp.kinematics import pose_torso_frame
from sa3dhp.runs import adaptation, diagnostics, image_models, relation_nets

ROLL = "data.target_motion.camera_roll_deg=[-40.0,40.0]"
FACING = [  # facing_probe.py's source look: the target's front print, no left/right shading
    "data.source_appearance.front_print_prob=1.0",
    "data.source_appearance.side_contrast=0.0",
]
#: name -> (the run whose Gs, priors and relation networks are reused, world overrides)
SETTINGS: dict[str, tuple[str, list[str]]] = {
    "target_roll40": ("out/demo", [ROLL]),
    "target_roll40_source_facing_cue": (
        "out/facing_probe/source_front_print_no_shading",
        [*FACING, ROLL],
    ),
}
#: run name -> (adapt.losses, extra overrides); each from Gs with the demo's other settings
ADAPTATIONS: dict[str, tuple[list[str], list[str]]] = {
    "adapted": (["paper"], []),  # the supplement's final set, exactly
    "adapted_fixed_teacher": (["paper"], ["adapt.teacher_grad=false"]),  # ours
}
PAPER_V_RELATION = "flip+inplane50-backward"
#: ``--terms``: what each term alone does from Gs (240 steps of the one term: 4x the steps it
#: gets in the four-term set), to find which term pulls G where
TERMS: dict[str, tuple[list[str], list[str]]] = {
    "only_z_flip_inplane50": (["z:flip+inplane50"], []),
    "only_z_flip_inplane50_fixed_teacher": (["z:flip+inplane50"], ["adapt.teacher_grad=false"]),
    "only_cr": (["cr"], []),
    "only_v_flip_inplane50_backward": (["v:flip+inplane50-backward"], []),
}
#: ``--budget``: the same relation term with more freedom (fixed before any run): every block
#: of G trained, a 10x learning rate, our collapse guard; does the term teach the tilt when G
#: is free to learn it?
BUDGET: dict[str, tuple[list[str], list[str]]] = {
    "only_z_flip_inplane50_all_blocks_lr1e-4_guard": (
        ["z:flip+inplane50"],
        [
            "adapt.trainable=[stem,layer1,layer2,layer3,convs,fc_blocks]",
            "adapt.lr=1e-4",
            "adapt.collapse_guard=1.0",
        ],
    ),
    "only_z_flip_inplane50_all_blocks_lr1e-4_guard_fixed_teacher": (
        ["z:flip+inplane50"],
        [
            "adapt.trainable=[stem,layer1,layer2,layer3,convs,fc_blocks]",
            "adapt.lr=1e-4",
            "adapt.collapse_guard=1.0",
            "adapt.teacher_grad=false",
        ],
    ),
}
ALL_BLOCKS = "adapt.trainable=[stem,layer1,layer2,layer3,convs,fc_blocks]"
#: ``--anchor``: our source anchor (``src``: the source-training loss during adaptation) beside
#: the relation terms (fixed before any run). The control trains ``src`` alone for as many
#: ``src`` steps as the two-term run gives it (120 of 240), so the relation's share shows.
ANCHOR: dict[str, tuple[list[str], list[str]]] = {
    "paper_plus_src": (["paper", "src"], []),
    "src_all_blocks_lr1e-4_120_steps": (["src"], [ALL_BLOCKS, "adapt.lr=1e-4", "adapt.steps=120"]),
    "z_flip_inplane50_plus_src_all_blocks_lr1e-4": (
        ["z:flip+inplane50", "src"],
        [ALL_BLOCKS, "adapt.lr=1e-4"],
    ),
}
#: ``--nonlocal``: our non-localness guard (weight 1, fixed before any run), which keeps G's
#: answers to x and tau x at least the relation's mocap non-localness apart (no fixed points)
NONLOCAL: dict[str, tuple[list[str], list[str]]] = {
    "paper_nonlocal_guard": (["paper"], ["adapt.nonlocal_guard=1.0"]),
    "paper_plus_src_nonlocal_guard": (["paper", "src"], ["adapt.nonlocal_guard=1.0"]),
    "z_flip_inplane50_nonlocal_guard_all_blocks_lr1e-4": (
        ["z:flip+inplane50"],
        [ALL_BLOCKS, "adapt.lr=1e-4", "adapt.nonlocal_guard=1.0"],
    ),
    "z_flip_inplane50_plus_src_nonlocal_guard_all_blocks_lr1e-4": (
        ["z:flip+inplane50", "src"],
        [ALL_BLOCKS, "adapt.lr=1e-4", "adapt.nonlocal_guard=1.0"],
    ),
}
REUSED = (pipeline.POSE_PRIOR_DIR, pipeline.MOTION_PRIOR_DIR, "relations", "source")


def tilt(poses: np.ndarray) -> np.ndarray:
    """In-plane angle ``(N,)`` degrees of the torso's up axis of poses ``(N, 17, 3)`` (camera
    frame, y down): 0 upright, > 0 turned counter-clockwise on screen."""
    up = pose_torso_frame(poses)[..., 1]
    return np.degrees(np.arctan2(-up[:, 0], -up[:, 1]))


def tilt_row(pred: np.ndarray, truth: np.ndarray) -> dict:
    """MPJPE, PA-MPJPE and the in-plane tilt error of predictions against the truth, overall and
    by the truth's |tilt| (upright views against turned ones)."""
    err = (tilt(pred) - tilt(truth) + 180.0) % 360.0 - 180.0
    true_tilt = np.abs(tilt(truth))
    out = {
        "mpjpe": round(metrics.mpjpe(pred, truth), 1),
        "pa_mpjpe": round(metrics.pa_mpjpe(pred, truth), 1),
        "abs_tilt_error_deg_median": round(float(np.median(np.abs(err))), 1),
        "tilt_slope": round(float(np.polyfit(tilt(truth), tilt(pred), 1)[0]), 3),
    }
    for lo, hi in ((0, 15), (15, 30), (30, 180)):
        m = (true_tilt >= lo) & (true_tilt < hi)
        out[f"mpjpe_true_tilt_{lo}_{hi}"] = round(metrics.mpjpe(pred[m], truth[m]), 1)
        out[f"share_true_tilt_{lo}_{hi}"] = round(float(m.mean()), 3)
    return out


@torch.no_grad()
def relation_tilts(ckpt: Path, relation_dir: Path, hidden: int, images: np.ndarray) -> dict:
    """What L_z(flip+inplane50) compares, on every 4th target_val crop: the mean and spread of
    the in-plane tilt of Dp(G(x)), of Dp(G(tau x)) (G on the turned crop) and of Dp(Tz(G(x)))
    (the relation network's answer), and the mm distances between Dp(Tz(G(x))) and tau(Dp(G(x)))
    (how well Tz acts) and Dp(G(tau x)) (what the term asks G to close)."""
    model, prior, _ = load_image_model(ckpt)
    net = load_relation(relation_dir, "flip+inplane50", hidden)
    relation = rel.get("flip+inplane50")
    x = torch.as_tensor(images[::4]).permute(0, 3, 1, 2).float() / 255.0
    z = model(x)
    pose = prior.decode(z)
    taught = prior.decode(net(z)).numpy()
    turned = prior.decode(model(relation.image(x))).numpy()
    acted = relation.pose(pose).numpy()
    out = {}
    for key, p in (("g_x", pose.numpy()), ("g_tau_x", turned), ("tz_g_x", taught)):
        t = tilt(p)
        out[f"tilt_{key}_mean"], out[f"tilt_{key}_std"] = (
            round(float(t.mean()), 1),
            round(float(t.std()), 1),
        )
    out["mm_tz_g_x_vs_tau_g_x"] = round(float(np.linalg.norm(taught - acted, axis=-1).mean()), 1)
    out["mm_tz_g_x_vs_g_tau_x"] = round(float(np.linalg.norm(taught - turned, axis=-1).mean()), 1)
    return out


def run(name: str, donor: str, overrides: list[str], adaptations: dict | None = None) -> dict:
    out_dir = Path("out/roll_probe") / name
    for stage in REUSED:
        if not (out_dir / stage).exists():
            shutil.copytree(Path(donor) / stage, out_dir / stage)
    cfg = load_config("demo", [*overrides, f"out_dir={out_dir}"])
    t0 = time.perf_counter()
    # the paper's set needs flip+inplane50-backward, which the demo does not train
    relation_nets.train_relations(cfg, names=[PAPER_V_RELATION])
    image_models.train_image_model(cfg, "oracle")
    adaptation.adabn(cfg)
    ckpts = {
        row: pipeline.stage_dir(cfg, stage) / "checkpoint.safetensors"
        for row, stage in (("source_only", "source"), ("adabn", "adabn"), ("oracle", "oracle"))
    }
    adaptations = adaptations or ADAPTATIONS
    for run_name, (losses, extra) in adaptations.items():
        acfg = load_config("demo", [*overrides, *extra, f"out_dir={out_dir}"])
        adaptation.adapt(acfg, run_name, losses=losses)
        ckpts[run_name] = pipeline.stage_dir(cfg, run_name) / "checkpoint.safetensors"
    table = results_table(cfg, "target_val", ckpts, label_means(cfg))
    data = load_split(cfg.data, "target_val")
    truth = data.poses - data.poses[:, :1]
    tilts, pairs = {}, {}
    relation_dir = pipeline.stage_dir(cfg, pipeline.RELATIONS_DIR)
    for row, ckpt in ckpts.items():
        model, prior, _ = load_image_model(ckpt)
        tilts[row] = tilt_row(predict(model, prior, data.images), truth)
        pairs[row] = relation_tilts(ckpt, relation_dir, cfg.relations.hidden, data.images)
    true_turned = rel.get("flip+inplane50").pose(truth[::4])
    pairs["truth"] = {"tilt_x_mean": round(float(tilt(truth[::4]).mean()), 1)} | {
        "tilt_tau_x_mean": round(float(tilt(true_turned).mean()), 1)
    }
    return {
        "name": name,
        "donor": donor,
        "overrides": overrides,
        "adaptations": adaptations,
        "target_val": table,
        "gap_closed_target_val": {
            run_name: gap_closed(table | {"adapted": table[run_name]}) for run_name in adaptations
        },
        "tilt_target_val": tilts,
        "relation_tilts_target_val": pairs,
        "diagnostics_target_val": diagnostics.adaptation_diagnostics(cfg, ckpts),
        # the margins of the non-localness guard (mean |u - u_tau| on the mocap; label-free)
        "nonlocalness": adaptation.nonlocalness(
            cfg, ["flip+inplane50", PAPER_V_RELATION, "slow-backward"]
        ),
        "seconds": round(time.perf_counter() - t0, 1),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    path = Path("benchmarks/results/roll_probe.jsonl")
    args = sys.argv[1:]
    adaptations = None
    modes = {"--terms": TERMS, "--budget": BUDGET, "--anchor": ANCHOR, "--nonlocal": NONLOCAL}
    if args[:1] and args[0] in modes:
        adaptations, args = modes[args[0]], args[1:]
    for name in args or list(SETTINGS):
        donor, overrides = SETTINGS[name]
        result = run(name, donor, overrides, adaptations)
        with path.open("a") as f:
            f.write(json.dumps(result) + "\n")
        print(json.dumps(result, indent=1), flush=True)


if __name__ == "__main__":
    main()

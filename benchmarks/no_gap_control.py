"""Does the paper's objective hurt Gs without a domain gap? A control (three seeds).

    .venv/bin/python benchmarks/no_gap_control.py [--seeds 2,0,1]

Needs bench seed 2's run and its three-seed ``ablate rows``. Each seed's Gs is adapted, with
the supplement's full ablation row (L_CR + L_z(flip) + L_v(flip-backward) + L_v(slow-backward),
the settings of ``ablate rows``, nothing changed), on unlabelled clips of the *source* domain:
the bench's world with ``data.target_style=source`` and ``data.target_look=source``, so the
"target" has the source's look, poses, motion and cameras (its own clips and subjects). AdaBN
is run on the same clips. Every model is then measured on that world's ``target_val`` (source
domain, labelled) and on ``source_val``, beside the same Gs adapted on the real target
(``ablate rows``' last row). If the objective makes Gs worse here too, its damage does not need
a domain gap. Settings fixed before any run; target_test is not read.

Also, label-free, how each seed's Gs answers a mirrored crop on each look (``flip_check``):
the share of frames where Gs(flip x) faces the other way from flip(Gs(x)), the pose-space
mirror of its answer, and the MPJPE between the two. On the source look, which shades left
limbs lighter, a mirrored crop is not a rendering of the mirrored scene, so the flip terms may
ask G for what the look contradicts; the real target's look has no such shading.

And, label-free, how far the flip relation network's answer is from the exact flip on the
latents it is asked about (``teacher_check``): for latents z, Dp(Tz(z)) against flip(Dp(z)),
the relation applied to the decoded pose, with the prior's own round trip
Dp(Ep(flip(Dp(z)))) as its floor; on Gs's latents of each look, and on held-out mocap, the
networks' own distribution. The same for the motion relations (``motion_teacher_check``):
Gs's decoded poses of 120 clips of each look's target_train (unlabelled) become motions, and
Dm(Tv(Em(anchor))) is set against tau of the decoded motion (floor: Dm(Em(tau motion))),
beside the same on held-out mocap.

``--by-term K`` also adapts seed K's Gs with each term of the row alone on the same clips, for
:data:`TERM_STEPS` steps (its share of the row's 1,000), and measures them alike
(``by_term``): which term does the damage without a gap; and L_v(slow-backward) once more
with our fixed teacher (``adapt.teacher_grad=false``).

Writes ``benchmarks/results/bench_no_gap_control.json``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from bn_target_seeds import seed_baselines
from facing_ceiling import BASE, away_mask
from large_target_probe import model_rows
from paired_bootstrap import paired_errors

from sa3dhp import metrics, pipeline, relations
from sa3dhp import relation_pairs as rp
from sa3dhp.config import load_config
from sa3dhp.data.splits import heldout_mask
from sa3dhp.data.synth import load_split
from sa3dhp.demo import label_means
from sa3dhp.evaluate import constant_baselines
from sa3dhp.inference import load_image_model, load_relation, predict
from sa3dhp.metrics import over_seeds
from sa3dhp.runs import adaptation
from sa3dhp.runs.priors import load_motion_prior
from sa3dhp.train.adapt_terms import DEMO_LOSSES

NO_GAP = ["data.target_style=source", "data.target_look=source"]
RUN = "ablate/no_gap/{name}/seed{k}"
SPLITS = ("target_val", "source_val")  # of the no-gap world: source-domain data, both labelled
TERM_STEPS = 250
PAIRS = (
    ("full_row_no_gap", "source_only"),
    ("adabn_no_gap", "source_only"),
    ("full_row_target", "source_only"),
)


def seed_models(cfg, ng_cfg, seed: int) -> dict[str, Path]:
    """Seed ``seed``'s Gs, its AdaBN and full-row adaptation on the no-gap clips (run when
    missing), and its full row adapted on the real target (``ablate rows``)."""
    gs = seed_baselines(cfg, seed)["source_only"]
    scfg = replace(ng_cfg, seed=seed)
    full, bn = RUN.format(name="full_row", k=seed), RUN.format(name="adabn", k=seed)
    adaptation.adapt(scfg, full, list(DEMO_LOSSES), source_ckpt=gs)
    adaptation.adabn(scfg, bn, source_ckpt=gs)
    out = Path(cfg.out_dir)
    return {
        "source_only": gs,
        "adabn_no_gap": out / bn / pipeline.CHECKPOINT,
        "full_row_no_gap": out / full / pipeline.CHECKPOINT,
        "full_row_target": out
        / f"ablate/rows/plus_L_v_slow-backward/seed{seed}"
        / pipeline.CHECKPOINT,
    }


def term_models(cfg, ng_cfg, seed: int) -> dict[str, Path]:
    """Seed ``seed``'s Gs adapted on the no-gap clips by each term of the row alone (run when
    missing), :data:`TERM_STEPS` steps each."""
    gs = seed_baselines(cfg, seed)["source_only"]
    scfg = replace(ng_cfg, seed=seed, adapt=replace(ng_cfg.adapt, steps=TERM_STEPS))
    out = {}
    for term in DEMO_LOSSES:
        run = RUN.format(name="alone_" + term.replace(":", "_"), k=seed)
        adaptation.adapt(scfg, run, [term], source_ckpt=gs)
        out[term] = Path(cfg.out_dir) / run / pipeline.CHECKPOINT
    # the same relation term with our fixed teacher: does G's damage come from pulling both
    # sides of the relation together, or from what the relation network answers?
    fixed = replace(scfg, adapt=replace(scfg.adapt, teacher_grad=False))
    run = RUN.format(name="alone_v_slow-backward_fixed_teacher", k=seed)
    adaptation.adapt(fixed, run, ["v:slow-backward"], source_ckpt=gs)
    out["v:slow-backward, fixed teacher"] = Path(cfg.out_dir) / run / pipeline.CHECKPOINT
    return out


def flip_check(gs: Path, images: np.ndarray) -> dict[str, float]:
    """Gs(flip x) against flip(Gs(x)) on crops ``images``: the share whose facing differs, and
    the MPJPE between them (label-free)."""
    flip = relations.get("flip")
    model, prior, _ = load_image_model(gs)
    mirrored = flip.pose(predict(model, prior, images))
    on_flipped = predict(model, prior, flip.image(images))
    return {
        "facing_differs": round(float((away_mask(on_flipped) != away_mask(mirrored)).mean()), 3),
        "mpjpe_mm": round(metrics.mpjpe(on_flipped, mirrored - mirrored[:, :1]), 1),
    }


MOTION_RELATIONS = ("flip-backward", "slow-backward")


def load_teachers(cfg) -> dict:
    """The frozen teachers the checks read, loaded once: the flip network (``flip``), the
    motion prior (``motion``) and each of :data:`MOTION_RELATIONS`' networks; and held-out
    mocap clips ``(C, L, 17, 3)`` root-relative (``mocap``), the networks' own distribution."""
    run = pipeline.stage_dir(cfg, pipeline.RELATIONS_DIR)
    mocap = load_split(cfg.data, "mocap", images=False)
    held = mocap.poses[heldout_mask(mocap.clip, cfg.data.mocap_holdout)]
    clips = torch.as_tensor(held).view(-1, mocap.meta["clip_length"], 17, 3)
    return {
        "motion": load_motion_prior(cfg),
        "mocap": clips - clips[:, :, :1],
        **{n: load_relation(run, n, cfg.relations.hidden) for n in ("flip", *MOTION_RELATIONS)},
    }


@torch.no_grad()
def teacher_gap(prior, net, z: torch.Tensor) -> dict[str, float]:
    """For latents ``z`` ``(N, 32)``: the MPJPE of the flip network's decoded answer and of the
    prior's round trip of the exact answer, each against the exact flip of the decoded pose."""
    flip = relations.get("flip")
    exact = flip.pose(prior.decode(z))
    return {
        "network_mm": round(metrics.mpjpe(prior.decode(net(z)), exact), 1),
        "round_trip_floor_mm": round(metrics.mpjpe(prior.decode(prior.encode(exact)), exact), 1),
    }


@torch.no_grad()
def motion_gap(teachers: dict, prior, clips: torch.Tensor) -> dict[str, dict[str, float]]:
    """:func:`sa3dhp.relation_pairs.decode_error` of each of :data:`MOTION_RELATIONS`'
    networks on pose clips ``(C, L, 17, 3)``: two windows per clip, no augmentation."""
    motion = teachers["motion"]
    out = {}
    for name in MOTION_RELATIONS:
        gen = torch.Generator().manual_seed(0)
        anchor, related = rp.motion_pairs(
            relations.get(name), clips, motion.seq_len, 2, gen, augment=False
        )
        pairs = {
            "u": rp.encode_motions(prior, motion, anchor),
            "u_tau": rp.encode_motions(prior, motion, related),
            "x_tau": related,
        }
        err = rp.decode_error(teachers[name], pairs, prior, motion)
        out[name] = {k: round(v, 1) for k, v in err.items()}
    return out


@torch.no_grad()
def teacher_checks(
    teachers: dict, gs: Path, looks: dict[str, np.ndarray], clip_looks: dict[str, np.ndarray]
) -> tuple[dict, dict]:
    """:func:`teacher_gap` on Gs's latents of each look's crops ``looks`` and :func:`motion_gap`
    on Gs's decoded poses of each look's clips ``clip_looks`` ``(C, L, S, S, 3)``; each also
    on held-out mocap (``heldout_mocap``)."""
    model, prior, _ = load_image_model(gs)
    flip, motion = {}, {}
    for look, images in looks.items():
        x = torch.as_tensor(images).permute(0, 3, 1, 2)
        z = torch.cat([model(x[i : i + 256]).float() for i in range(0, len(x), 256)])
        flip[look] = teacher_gap(prior, teachers["flip"], z)
    for look, clips in clip_looks.items():
        flat = clips.reshape(-1, *clips.shape[2:])
        poses = torch.as_tensor(predict(model, prior, flat)).view(*clips.shape[:2], 17, 3)
        motion[look] = motion_gap(teachers, prior, poses)
    mocap = teachers["mocap"]
    frames = mocap.flatten(0, 1)
    pick = np.random.default_rng(0).choice(len(frames), min(4096, len(frames)), replace=False)
    flip["heldout_mocap"] = teacher_gap(prior, teachers["flip"], prior.encode(frames[pick]))
    motion["heldout_mocap"] = motion_gap(teachers, prior, mocap)
    return flip, motion


def unlabelled_clips(world, n: int = 120) -> np.ndarray:
    """The first ``n`` clips of a world's target_train ``(n, L, S, S, 3)`` (no labels)."""
    data = load_split(world, "target_train")
    length = data.meta["clip_length"]
    return data.images[: n * length].reshape(n, length, *data.images.shape[1:])


def seed_summary(trees: list):
    """:func:`over_seeds` of every number of nested dicts ``trees`` (one per seed, the same
    keys): shares (``facing_differs``, ``share_facing_away``) to 3 digits, mm to 1."""
    return _summary(trees, None)


def _summary(trees: list, key: str | None):
    if isinstance(trees[0], dict):
        return {k: _summary([t[k] for t in trees], k) for k in trees[0]}
    return over_seeds(trees, 3 if key in ("facing_differs", "share_facing_away") else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="2,0,1")
    parser.add_argument("--by-term", type=int, default=None, metavar="K")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    cfg = load_config(BASE[0], BASE[1])
    ng_cfg = load_config(BASE[0], [*BASE[1], *NO_GAP])
    data = {split: load_split(ng_cfg.data, split) for split in SPLITS}
    looks = {
        "source_look": data["target_val"].images,
        "target_look": load_split(cfg.data, "target_val").images,
    }
    clip_looks = {
        "source_look": unlabelled_clips(ng_cfg.data),
        "target_look": unlabelled_clips(cfg.data),
    }
    teachers = load_teachers(cfg)
    tables, errs, flips, checks = {}, {}, {}, {}
    for seed in seeds:
        tables[seed], seed_errs = model_rows(seed_models(cfg, ng_cfg, seed), data)
        errs[seed] = seed_errs["target_val"]
        gs = seed_baselines(cfg, seed)["source_only"]
        flips[seed] = {look: flip_check(gs, images) for look, images in looks.items()}
        checks[seed] = teacher_checks(teachers, gs, looks, clip_looks)
        print(seed, json.dumps(tables[seed]), json.dumps(flips[seed]), flush=True)
        print(seed, json.dumps(checks[seed]), flush=True)
    val = data["target_val"]
    paired = {
        f"{a} - {b}": paired_errors(
            [errs[s][a] for s in seeds], [errs[s][b] for s in seeds], val.clip, val.subject
        )
        for a, b in PAIRS
    }
    summary = seed_summary([tables[s] for s in seeds])
    out = {
        "what": __doc__.split("\n\n")[0],
        "seeds": seeds,
        "world": NO_GAP,
        "losses": list(DEMO_LOSSES),
        "constants": {
            split: {
                k: {m: round(v[m], 1) for m in ("mpjpe", "pa_mpjpe")}
                for k, v in constant_baselines(*label_means(ng_cfg), d.poses).items()
            }
            for split, d in data.items()
        },
        "per_seed": {str(k): v for k, v in tables.items()},
        "summary": summary,
        "paired_target_val": paired,
        "teacher_check": seed_summary([checks[s][0] for s in seeds]),
        "motion_teacher_check": seed_summary([checks[s][1] for s in seeds]),
        "flip_check": seed_summary([flips[s] for s in seeds]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if args.by_term is not None:
        k = args.by_term
        ckpts = {
            "source_only": seed_baselines(cfg, k)["source_only"],
            **term_models(cfg, ng_cfg, k),
        }
        out["by_term"] = {"seed": k, "steps": TERM_STEPS, **model_rows(ckpts, data)[0]}
        print(json.dumps(out["by_term"], indent=1))
    dest = Path("benchmarks/results/bench_no_gap_control.json")
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    print(json.dumps(paired, indent=1))
    print("wrote", dest)


if __name__ == "__main__":
    main()

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
from facing_ceiling import BASE, away_mask, share_away
from large_target_probe import grouped
from paired_bootstrap import paired_bootstrap

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
def teacher_check(cfg, gs: Path, looks: dict[str, np.ndarray]) -> dict[str, dict]:
    """:func:`teacher_gap` on Gs's latents of each look's crops and on held-out mocap."""
    model, prior, _ = load_image_model(gs)
    net = load_relation(
        pipeline.stage_dir(cfg, pipeline.RELATIONS_DIR), "flip", cfg.relations.hidden
    )
    out = {}
    for look, images in looks.items():
        x = torch.as_tensor(images).permute(0, 3, 1, 2)
        z = torch.cat([model(x[i : i + 256]).float() for i in range(0, len(x), 256)])
        out[look] = teacher_gap(prior, net, z)
    mocap = load_split(cfg.data, "mocap", images=False)
    held = mocap.poses[heldout_mask(mocap.clip, cfg.data.mocap_holdout)]
    pick = np.random.default_rng(0).choice(len(held), min(4096, len(held)), replace=False)
    y = torch.as_tensor(held[pick] - held[pick][:, :1], dtype=torch.float32)
    out["heldout_mocap"] = teacher_gap(prior, net, prior.encode(y))
    return out


MOTION_RELATIONS = ("flip-backward", "slow-backward")


@torch.no_grad()
def motion_gap(cfg, prior, clips: torch.Tensor) -> dict[str, dict[str, float]]:
    """:func:`sa3dhp.relation_pairs.decode_error` of each of :data:`MOTION_RELATIONS`'
    networks on pose clips ``(C, L, 17, 3)``: two windows per clip, no augmentation."""
    motion = load_motion_prior(cfg)
    out = {}
    for name in MOTION_RELATIONS:
        relation = relations.get(name)
        net = load_relation(
            pipeline.stage_dir(cfg, pipeline.RELATIONS_DIR), name, cfg.relations.hidden
        )
        gen = torch.Generator().manual_seed(0)
        anchor, related = rp.motion_pairs(relation, clips, motion.seq_len, 2, gen, augment=False)
        pairs = {
            "u": rp.encode_motions(prior, motion, anchor),
            "u_tau": rp.encode_motions(prior, motion, related),
            "x_tau": related,
        }
        err = rp.decode_error(net, pairs, prior, motion)
        out[name] = {k: round(v, 1) for k, v in err.items()}
    return out


@torch.no_grad()
def motion_teacher_check(cfg, gs: Path, looks: dict[str, np.ndarray]) -> dict[str, dict]:
    """:func:`motion_gap` on Gs's decoded poses of each look's clips ``(C, L, S, S, 3)`` and on
    held-out mocap clips."""
    model, prior, _ = load_image_model(gs)
    out = {}
    for look, clips in looks.items():
        flat = clips.reshape(-1, *clips.shape[2:])
        poses = torch.as_tensor(predict(model, prior, flat)).view(*clips.shape[:2], 17, 3)
        out[look] = motion_gap(cfg, prior, poses)
    mocap = load_split(cfg.data, "mocap", images=False)
    held = heldout_mask(mocap.clip, cfg.data.mocap_holdout)
    length = mocap.meta["clip_length"]
    y = torch.as_tensor(mocap.poses[held]).view(-1, length, 17, 3)
    out["heldout_mocap"] = motion_gap(cfg, prior, y - y[:, :, :1])
    return out


def unlabelled_clips(world, n: int = 120) -> np.ndarray:
    """The first ``n`` clips of a world's target_train ``(n, L, S, S, 3)`` (no labels)."""
    data = load_split(world, "target_train")
    length = data.meta["clip_length"]
    return data.images[: n * length].reshape(n, length, *data.images.shape[1:])


def rows(ckpts: dict[str, Path], data: dict) -> tuple[dict, dict]:
    """Each model's MPJPE, PA-MPJPE and share facing away on each split, and its per-frame
    errors on target_val."""
    table, errs = {s: {} for s in data}, {}
    for name, ckpt in ckpts.items():
        model, prior, _ = load_image_model(ckpt)
        for split, d in data.items():
            truth = d.poses - d.poses[:, :1]
            pred = predict(model, prior, d.images)
            err = metrics.joint_errors(pred - pred[:, :1], truth).mean(-1)
            if split == "target_val":
                errs[name] = err
            table[split][name] = {
                "mpjpe": round(float(err.mean()), 2),
                "pa_mpjpe": round(metrics.pa_mpjpe(pred, truth), 2),
                "share_facing_away": share_away(pred),
            }
    return table, errs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="2,0,1")
    parser.add_argument("--by-term", type=int, default=None, metavar="K")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    cfg = load_config(BASE[0], BASE[1])
    ng_cfg = load_config(BASE[0], [*BASE[1], *NO_GAP])
    data = {split: load_split(ng_cfg.data, split) for split in SPLITS}
    target_look = load_split(cfg.data, "target_val").images
    looks = {"source_look": data["target_val"].images, "target_look": target_look}
    clip_looks = {
        "source_look": unlabelled_clips(ng_cfg.data),
        "target_look": unlabelled_clips(cfg.data),
    }
    tables, errs, flips, teachers, motion_teachers = {}, {}, {}, {}, {}
    for seed in seeds:
        tables[seed], errs[seed] = rows(seed_models(cfg, ng_cfg, seed), data)
        gs = seed_baselines(cfg, seed)["source_only"]
        flips[seed] = {
            "source_look": flip_check(gs, data["target_val"].images),
            "target_look": flip_check(gs, target_look),
        }
        teachers[seed] = teacher_check(cfg, gs, looks)
        motion_teachers[seed] = motion_teacher_check(cfg, gs, clip_looks)
        print(seed, json.dumps(tables[seed]), json.dumps(flips[seed]), flush=True)
        print(seed, json.dumps(teachers[seed]), json.dumps(motion_teachers[seed]), flush=True)
    names = list(tables[seeds[0]]["target_val"])
    summary = {
        split: {
            n: {
                k: over_seeds([tables[s][split][n][k] for s in seeds], 1 if "mpjpe" in k else 3)
                for k in ("mpjpe", "pa_mpjpe", "share_facing_away")
            }
            for n in names
        }
        for split in SPLITS
    }
    val = data["target_val"]
    paired = {}
    for a, b in PAIRS:
        per_seed = [round(float(errs[s][a].mean() - errs[s][b].mean()), 2) for s in seeds]
        sums = [[grouped(errs[s][n], val.clip)[0] for s in seeds] for n in (a, b)]
        count = grouped(errs[seeds[0]][a], val.clip)[1]
        res = paired_bootstrap(np.mean(sums[0], 0), np.mean(sums[1], 0), count)
        paired[f"{a} - {b}"] = res | {"per_seed_mm": per_seed}
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
        "teacher_check": {
            where: {
                k: over_seeds([teachers[s][where][k] for s in seeds], 1)
                for k in ("network_mm", "round_trip_floor_mm")
            }
            for where in ("source_look", "target_look", "heldout_mocap")
        },
        "motion_teacher_check": {
            where: {
                name: {
                    k: over_seeds([motion_teachers[s][where][name][k] for s in seeds], 1)
                    for k in ("decoded_mpjpe", "autoencoder_floor_mpjpe")
                }
                for name in MOTION_RELATIONS
            }
            for where in ("source_look", "target_look", "heldout_mocap")
        },
        "flip_check": {
            look: {
                k: over_seeds([flips[s][look][k] for s in seeds], 3 if k == "facing_differs" else 1)
                for k in ("facing_differs", "mpjpe_mm")
            }
            for look in ("source_look", "target_look")
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if args.by_term is not None:
        k = args.by_term
        ckpts = {
            "source_only": seed_baselines(cfg, k)["source_only"],
            **term_models(cfg, ng_cfg, k),
        }
        out["by_term"] = {"seed": k, "steps": TERM_STEPS, **rows(ckpts, data)[0]}
        print(json.dumps(out["by_term"], indent=1))
    dest = Path("benchmarks/results/bench_no_gap_control.json")
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    print(json.dumps(paired, indent=1))
    print("wrote", dest)


if __name__ == "__main__":
    main()

"""Why every term of the paper turns the bodies the same way: on the target, G's mean answer is
most sensitive to ``layer2`` along the facing axis.

    .venv/bin/python benchmarks/facing_sensitivity.py [--seeds 2,0,1]

Needs bench seed 2's run and its three-seed ``ablate rows`` (see ``bn_target_seeds.py``).
``turn_by_term.py`` found that each term of the supplement's row, alone, moves ``layer2`` so that
almost every target body turns to the camera, even with our ``adapt.relation_facing=free`` (where
no term asks G to settle facing) and for L_v(slow-backward), whose two sides are the same frames.
Random moves of ``layer2`` of the same size do not. Here, for each seed's Gs (label-free except
where said):

1. *Sensitivity*: J, the Jacobian of G's mean latent over 256 crops with respect to ``layer2``'s
   weights (32 x P), and the eigen-decomposition of J J^T (how far each direction of the mean
   latent moves per unit step of the weights; a gradient step through ``layer2`` moves the mean
   latent by J J^T times the mean latent's request). Its largest eigenvalue's share, the cosine
   of its eigenvector with Gs's facing axis (mean latent of the frames Gs decodes facing away
   minus that of the rest), and the facing axis's own sensitivity over the largest. For Gs on
   target_val and on source_val, and for AdaBN on target_val.
2. *Each term's first step*: the mean layer2 gradient of each term over 4 target_train batches
   (the bench's batch shapes, fp32), and the first-order change of Gs's mean target_val latent
   that a descent step along it makes (-J g): its cosine with the facing axis (negative: towards
   the camera) and its length over that of random ``layer2`` directions of the same norm (3
   draws).
3. *Absorbed by target statistics*: the supplement's full row (``ablate rows``' last row, source
   statistics), then AdaBN's statistics re-estimated on it (the bench's 4,096 target_train
   frames; no weight changes): the share facing away, MPJPE and PA-MPJPE. If the turn is a shift
   common to every target frame, re-estimated statistics take most of it back, which is what
   ``adapt.bn=target`` does every 100 steps. A probe on seed 2's target_val fixed this setting;
   target_test, read here for all three seeds, is its final evaluation.

Writes ``benchmarks/results/bench_facing_sensitivity.json`` and
``docs/bench_facing_sensitivity.png`` (``--paired-only``: recomputes only the JSON's paired
comparisons, from the predictions part 3 saved; ``--figure``: only redraws the figure).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from facing_ceiling import away_mask, checkpoints
from facing_stability import BASE, facing_direction, latents
from paired_bootstrap import paired_table, split_subjects

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.evaluate import evaluate_split
from sa3dhp.inference import load_image_model
from sa3dhp.metrics import over_seeds
from sa3dhp.runs import adaptation
from sa3dhp.runs.priors import load_motion_prior
from sa3dhp.runs.relation_nets import load_relations
from sa3dhp.train import adapt as adapt_train
from sa3dhp.train import adapt_terms as at

CROPS = 256
BATCHES = 4
DRAWS = 3
RESULT = Path("benchmarks/results/bench_facing_sensitivity.json")
FIGURE = "docs/bench_facing_sensitivity.png"
ABSORBED_ROW = "full_row_then_target_statistics"
ABSORBED = f"ablate/facing_sensitivity/{ABSORBED_ROW}"


def crops(images: np.ndarray) -> torch.Tensor:
    """Float crops ``(N, 3, S, S)`` in [0, 1] of uint8 ``(N, S, S, 3)``."""
    return torch.as_tensor(images).permute(0, 3, 1, 2).float() / 255.0


def facing_axis(model, prior, x: torch.Tensor) -> torch.Tensor:
    """G's unit facing axis on crops ``x``: mean latent of the frames it decodes facing away
    minus that of the rest (label-free), ``(32,)``."""
    z = latents(model, x)
    axis = facing_direction(z, away_mask(prior.decode(z).numpy()))
    return axis / axis.norm()


def layer2(model) -> list[torch.nn.Parameter]:
    """``layer2``'s weights (the block adaptation trains), with gradients on, the rest off."""
    model.requires_grad_(False)
    params = [p for k, p in model.named_parameters() if k.startswith("layer2.")]
    for p in params:
        p.requires_grad_(True)
    return params


def mean_jacobian(model, x: torch.Tensor) -> torch.Tensor:
    """J ``(32, P)``: the Jacobian of G's mean latent over crops ``x`` w.r.t. ``layer2``."""
    params = layer2(model)
    mean = model(x).float().mean(0)
    rows = [
        torch.cat([g.flatten() for g in torch.autograd.grad(m, params, retain_graph=True)])
        for m in mean
    ]
    return torch.stack(rows)


def sensitivity(jac: torch.Tensor, axis: torch.Tensor) -> dict[str, float]:
    """Part 1's row: the top eigenvalue's share of J J^T, its eigenvector's |cosine| with
    ``axis``, and the axis's sensitivity over the top eigenvalue."""
    k = jac @ jac.T
    values, vectors = torch.linalg.eigh(k)  # ascending
    return {
        "top_share": round(float(values[-1] / values.sum()), 3),
        "second_share": round(float(values[-2] / values.sum()), 3),
        "top_cosine_with_facing": round(abs(float(vectors[:, -1] @ axis)), 3),
        "facing_over_top": round(float(axis @ k @ axis / values[-1]), 3),
    }


def term_steps(cfg, model, prior, jac: torch.Tensor, axis: torch.Tensor, seed: int) -> dict:
    """Part 2: each term's first-order change of the mean latent under a descent step."""
    losses = list(at.DEMO_LOSSES)
    acfg = replace(cfg.adapt, losses=losses, amp=False)
    motion = load_motion_prior(cfg).requires_grad_(False)
    nets = {
        k: v.eval().requires_grad_(False)
        for k, v in load_relations(cfg, at.relation_names(losses)).items()
    }
    params = layer2(model)
    adapter = adapt_train.Adapter(
        acfg, model, motion, nets, adaptation.target_clips(cfg), torch.device("cpu"), seed,
        prior=prior,
    )  # fmt: skip
    out = {}
    for i, term in enumerate(adapter.terms):
        model.zero_grad()
        for b in range(BATCHES):
            (
                adapter.loss(i, torch.Generator().manual_seed(1000 * seed + b))["loss"] / BATCHES
            ).backward()
        grad = torch.cat([p.grad.flatten() for p in params])
        change = -(jac @ grad)
        rand = [
            jac @ (r * grad.norm() / r.norm())
            for r in (
                torch.randn(grad.shape, generator=torch.Generator().manual_seed(d))
                for d in range(DRAWS)
            )
        ]
        out[at.term_name(term)] = {
            "cosine_with_facing_away": round(float(F.cosine_similarity(change, axis, dim=0)), 3),
            "length_over_random": round(
                float(change.norm() / torch.stack([r.norm() for r in rand]).mean()), 1
            ),
        }
    model.zero_grad()
    return out


def absorbed(cfg, seed: int, splits: dict) -> dict:
    """Part 3: the full row as trained, and with AdaBN's statistics re-estimated on it (the
    ``sa3dhp adapt --adabn --init`` run, into ``ABSORBED/seed<k>``), on every split of
    ``splits``; :func:`sa3dhp.evaluate.evaluate_split` leaves each model's predictions beside it
    for :func:`paired_bootstrap.paired_over_seeds`."""
    full_row = checkpoints(cfg, seed)["adapted_paper"]
    run = f"{ABSORBED}/seed{seed}"
    adaptation.adabn(replace(cfg, seed=seed), run, full_row)

    def rows(ckpt: Path) -> dict:
        out = {}
        for split, data in splits.items():
            table = evaluate_split(ckpt, data, device=cfg.device, figure=False)["overall"]
            pred = np.load(ckpt.parent / f"predictions_{split}.npz")["pred"]
            out[split] = {
                "mpjpe": round(table["mpjpe"], 1),
                "pa_mpjpe": round(table["pa_mpjpe"], 1),
                "share_facing_away": round(float(away_mask(pred).mean()), 3),
            }
        return out

    stats = pipeline.stage_dir(cfg, run) / pipeline.CHECKPOINT
    return {"full_row": rows(full_row), "full_row_then_target_statistics": rows(stats)}


def paired(cfg, seeds: list[int]) -> dict:
    """Part 3's full row with target statistics against AdaBN, Gs, ``adapt.bn=target`` and the
    full row as trained, paired over seeds, clips and subjects."""
    others = ("adabn", "source_only", "adapted_bn_target", "adapted_paper")
    runs = {o: [checkpoints(cfg, s)[o].parent for s in seeds] for o in others}
    runs[ABSORBED_ROW] = [Path(cfg.out_dir) / ABSORBED / f"seed{s}" for s in seeds]
    return paired_table(runs, [(ABSORBED_ROW, o) for o in others], split_subjects(cfg.data))


def seed_rows(cfg, seed: int, splits: dict) -> dict:
    """Every part for seed ``seed``'s Gs (and AdaBN, and its full row)."""
    base = checkpoints(cfg, seed)
    gs, prior, _ = load_image_model(base["source_only"])
    out: dict = {"sensitivity": {}}
    for split in ("target_val", "source_val"):
        x = crops(splits[split].images)
        pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:CROPS]
        axis = facing_axis(gs, prior, x)
        jac = mean_jacobian(gs, x[pick])
        out["sensitivity"][f"gs_{split}"] = sensitivity(jac, axis)
        if split == "target_val":
            target_jac, target_axis = jac, axis
            adabn = load_image_model(base["adabn"])[0]
            out["sensitivity"]["adabn_target_val"] = sensitivity(
                mean_jacobian(adabn, x[pick]), facing_axis(adabn, prior, x)
            )
    out["term_steps"] = term_steps(cfg, gs, prior, target_jac, target_axis, seed)
    targets = {"target_val": splits["target_val"], "target_test": splits["target_test"]}
    out["absorbed"] = absorbed(cfg, seed, targets)
    return out


def figure(out: dict, dest: str = FIGURE) -> None:
    """Left: the facing axis's sensitivity to ``layer2`` over the largest, per seed. Right: the
    full row's target_test MPJPE as trained and with target statistics, per seed, against Gs's
    and AdaBN's seed means."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    rows = {"Gs, target_val": "gs_target_val", "AdaBN, target_val": "adabn_target_val",
            "Gs, source_val": "gs_source_val"}  # fmt: skip
    for k, key in enumerate(rows.values()):
        values = out["summary"]["sensitivity"][key]["facing_over_top"]["per_seed"]
        left.scatter(values, [k] * len(values), s=60, color=f"C{k}")
    left.set_yticks(range(len(rows)), list(rows))
    left.set_xlim(0, 1.05)
    left.invert_yaxis()
    left.set_xlabel("sensitivity along facing / largest sensitivity (1 = the most sensitive)")
    left.set_title("How far a layer2 step moves G's mean answer along facing")
    absorbed = out["summary"]["absorbed"]
    labels = {"full_row": "the paper's full row",
              "full_row_then_target_statistics": "... then target statistics"}  # fmt: skip
    for k, row in enumerate(labels):
        values = absorbed[row]["target_test"]["mpjpe"]["per_seed"]
        right.scatter(values, [k] * len(values), s=60, color=f"C{k + 3}")
    paired = out["paired"]
    for name, key, style in (("Gs", "source_only", "--"), ("AdaBN", "adabn", ":")):
        mm = paired[f"full_row_then_target_statistics - {key}"]["target_test"]["b_mm"]
        right.axvline(mm, color="k", ls=style, label=f"{name} (seed mean)")
    right.set_yticks(range(len(labels)), list(labels.values()))
    right.set_ylim(-0.7, len(labels) - 0.3)
    right.invert_yaxis()
    right.set_xlabel("target_test MPJPE (mm), one dot per seed")
    right.legend(loc="lower right")
    right.set_title("Target statistics take the turn back")
    fig.tight_layout()
    fig.savefig(dest, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="2,0,1", help="comma-separated seeds (default 2,0,1)")
    parser.add_argument("--figure", action="store_true", help="only redraw the figure")
    parser.add_argument(
        "--paired-only", action="store_true",
        help="only recompute the paired comparisons of the JSON from the saved predictions",
    )  # fmt: skip
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    torch.manual_seed(0)
    cfg = load_config(*BASE)
    if args.figure:
        return figure(json.loads(RESULT.read_text()))
    if args.paired_only:
        out = json.loads(RESULT.read_text())
        out["paired"] = paired(cfg, out["seeds"])
        RESULT.write_text(json.dumps(out, indent=1) + "\n")
        return
    splits = {s: load_split(cfg.data, s) for s in ("target_val", "source_val", "target_test")}
    per_seed = {seed: seed_rows(cfg, seed, splits) for seed in seeds}

    def gather(*keys: str) -> dict:
        values = [r for r in per_seed.values()]
        for k in keys:
            values = [v[k] for v in values]
        return over_seeds(values, digits=3)

    first = per_seed[seeds[0]]
    summary = {
        part: {row: {m: gather(part, row, m) for m in first[part][row]} for row in first[part]}
        for part in ("sensitivity", "term_steps")
    }
    summary["absorbed"] = {
        row: {
            split: {m: gather("absorbed", row, split, m) for m in first["absorbed"][row][split]}
            for split in first["absorbed"][row]
        }
        for row in first["absorbed"]
    }
    out = {
        "what": __doc__.split("\n")[0],
        "seeds": seeds,
        "crops": CROPS,
        "per_seed": {str(k): v for k, v in per_seed.items()},
        "summary": summary,
        "paired": paired(cfg, seeds),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULT.write_text(json.dumps(out, indent=1) + "\n")
    figure(out)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()

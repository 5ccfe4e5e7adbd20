"""Which relation term turns the bodies towards the camera, each alone (bench seed 2, target_val).

    .venv/bin/python benchmarks/turn_by_term.py [--relation-facing free]

``cr_mirror.py`` found that the supplement's full row still turns almost every body towards the
camera once L_CR no longer does (``adapt.cr_positive=view_or_mirror``). Here each relation term
of that row adapts bench seed 2's Gs alone, for 250 steps (its share of the row's 1,000), with
the bench's settings otherwise, fixed before the runs. Each run is read on target_val (a probe;
target_test is not read) with the rows of ``facing_stability.py``: MPJPE, the share facing away
(label-free), the share whose facing changes between two of L_CR's views, and the shift of the
mean latent along Gs's facing direction. Two controls per run, label-free: Gs with ``layer2``
moved at random by as much as the run moved it (each tensor by the same norm, three draws), and
Gs with the run's change to ``layer2`` reversed. And the cosine between every two runs' changes
to ``layer2`` (L_CR alone beside them). Writes
``benchmarks/results/bench_turn_by_term.json``.

``--relation-facing free`` runs the same terms with our ``adapt.relation_facing=free`` (each
relation term takes G(tau x) or its depth mirror, whichever is nearer) into
``ablate/turn_by_term_free/`` and writes ``bench_turn_by_term_free.json``: does a relation term
still turn the bodies when it no longer asks G to settle facing?
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import torch
from facing_ceiling import checkpoints, share_away
from facing_stability import BASE, model_rows

from sa3dhp import pipeline
from sa3dhp.config import load_config
from sa3dhp.data.synth import load_split
from sa3dhp.inference import load_image_model, predict
from sa3dhp.runs import adaptation
from sa3dhp.train.adapt_terms import DEMO_LOSSES

STEPS = 250
TERMS = [t for t in DEMO_LOSSES if t != "cr"]


def layer2_delta(start: dict, done: dict) -> dict[str, torch.Tensor]:
    """A run's change to ``layer2``'s weights (not its running statistics), by state-dict key,
    from Gs's state dict ``start`` and the run's ``done``."""
    return {
        k: done[k] - v
        for k, v in start.items()
        if k.startswith("layer2.") and v.is_floating_point() and "running" not in k
    }


def layer2_controls(gs_path: Path, run_path: Path, images, draws: int = 3) -> dict:
    """Share facing away of Gs with ``layer2`` moved at random by the run's per-tensor change
    norm (``draws`` seeds), and with the run's change reversed."""
    gs, prior, _ = load_image_model(gs_path)
    start = {k: v.clone() for k, v in gs.state_dict().items()}
    delta = layer2_delta(start, load_image_model(run_path)[0].state_dict())

    def away_with(change: dict) -> float:
        gs.load_state_dict({k: v + change.get(k, 0) for k, v in start.items()})
        return share_away(predict(gs, prior, images))

    out = {"random_same_norm": []}
    for seed in range(draws):
        gen = torch.Generator().manual_seed(seed)
        rand = {k: torch.randn(d.shape, generator=gen) for k, d in delta.items()}
        out["random_same_norm"].append(
            away_with({k: r * delta[k].norm() / r.norm() for k, r in rand.items()})
        )
    out["reversed"] = away_with({k: -d for k, d in delta.items()})
    return out


def change_cosines(gs_path: Path, runs: dict[str, Path]) -> dict[str, float]:
    """Cosine between every two runs' changes to ``layer2`` (:func:`layer2_delta`, flattened)."""
    start = load_image_model(gs_path)[0].state_dict()

    def flat_change(path: Path) -> torch.Tensor:
        delta = layer2_delta(start, load_image_model(path)[0].state_dict())
        return torch.cat([d.flatten() for d in delta.values()])

    changes = {name: flat_change(path) for name, path in runs.items()}
    names = list(changes)
    return {
        f"{a} | {b}": round(
            float(torch.nn.functional.cosine_similarity(changes[a], changes[b], 0)), 3
        )
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--relation-facing", default="match", choices=("match", "free"),
        help="adapt.relation_facing of the runs (default match, the paper's)",
    )  # fmt: skip
    facing = parser.parse_args().relation_facing
    suffix = "" if facing == "match" else f"_{facing}"
    cfg = load_config(*BASE)
    term_cfg = load_config(
        BASE[0], [*BASE[1], f"adapt.steps={STEPS}", f"adapt.relation_facing={facing}"]
    )
    gs = checkpoints(cfg, cfg.seed)["source_only"]
    ckpts = {"source_only": gs}
    for term in TERMS:
        run = f"ablate/turn_by_term{suffix}/{term.replace(':', '_')}"
        adaptation.adapt(term_cfg, run, [term], gs)
        ckpts[term] = pipeline.stage_dir(cfg, run) / pipeline.CHECKPOINT
    splits = {"target_val": load_split(cfg.data, "target_val")}
    out = {
        "what": __doc__.split("\n")[0],
        "seed": cfg.seed,
        "steps": STEPS,
        "relation_facing": facing,
        "truth_share_facing_away": share_away(splits["target_val"].poses),
        "target_val": model_rows(cfg, ckpts, splits)["target_val"],
        # with L_CR alone (ablate rows' + L_CR, 1,000 steps) beside them
        "layer2_change_cosines": change_cosines(
            gs,
            {**{t: ckpts[t] for t in TERMS}, "cr": checkpoints(cfg, cfg.seed)["ablate_plus_L_CR"]},
        ),
        "layer2_controls_share_facing_away": {
            term: layer2_controls(gs, ckpts[term], splits["target_val"].images) for term in TERMS
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    dest = Path(f"benchmarks/results/bench_turn_by_term{suffix}.json")
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["target_val"]["views"], indent=1))


if __name__ == "__main__":
    main()

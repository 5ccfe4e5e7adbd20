"""Algorithm 1 steps 5-6: relation networks Tz (pose latents) and Tv (motion latents).

Trained on the unpaired ``mocap`` split only. A spatial relation (flip, inplane, their
compositions) gets a Tz on pairs ``(Ep(y), Ep(tau y))``; a relation that acts on time (backward,
slow, and their spatial compositions) gets a Tv on pairs ``(Em(Ep(anchor(Y))), Em(Ep(tau Y)))``
(the anchor is Y itself except for ``slow``, see :mod:`sa3dhp.relations`). Source motions are
augmented with random flips and turns about the vertical axis, which commute with every
relation. The pairs are encoded once by the frozen priors; each network is then an MLP fit.

Each relation is saved in its own file ``{run_dir}/{name}.safetensors`` (stage
``relation_net``), so any set can be trained, re-trained or loaded independently. With a
provenance record per relation (:mod:`sa3dhp.provenance`, what ``sa3dhp train relations``
passes), a relation whose file exists is skipped when the file's record matches and refused
(:class:`~sa3dhp.provenance.ProvenanceError`) when it does not; without records, a file with the
same architecture is skipped. ``force`` re-trains either way.
Held-out pairs come from the mocap clips the priors held out.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from sa3dhp import relations as rel
from sa3dhp.checkpoint import CheckpointError, checkpoint_info, load_weights, save_checkpoint
from sa3dhp.inference import RELATION_STAGE, load_relation
from sa3dhp.inference import relation_arch as arch_of
from sa3dhp.inference import relation_checkpoint as checkpoint_path
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.pose_prior import PosePrior
from sa3dhp.models.relation_net import RelationNet
from sa3dhp.provenance import check as check_provenance
from sa3dhp.relation_pairs import RelationData, build_pairs, decode_error, relative_error
from sa3dhp.train.logging import RunLogger
from sa3dhp.train.optim import adam
from sa3dhp.train.sampling import cosine_lr

STAGE = RELATION_STAGE
#: ``load_relation(run_dir, name, hidden)``: a trained relation network, frozen
#: (:func:`sa3dhp.inference.load_relation`).
load = load_relation

#: The relations the demo distils (the supplement's ablation rows).
DEMO_RELATIONS = ("flip", "flip+inplane50", "flip-backward", "slow-backward")


@dataclass
class RelationsConfig:
    """Relation-network training (demo: every relation the demo uses in under two minutes)."""

    relations: list[str] = field(default_factory=lambda: list(DEMO_RELATIONS))
    hidden: int = 512
    steps: int = 2000
    batch_size: int = 256
    lr: float = 3e-3
    pose_pairs: int = 40_000  # training poses encoded per spatial relation (subsampled)
    windows_per_clip: int = 6  # augmented motion pairs per training clip, per temporal relation
    score_steps: int = 600  # quick fit of a candidate that has no trained network (scoring)
    score_poses: int = 4_000  # held-out poses / windows scored per candidate
    reference_poses: int = 20_000  # plausibility reference set (training poses)
    log_every: int = 100


def parse_relations(names: str | list[str] | tuple[str, ...]) -> list[str]:
    """Canonical names from ``"a,b"`` or a list, each checked against the grammar."""
    items = names.split(",") if isinstance(names, str) else list(names)
    out = [rel.get(n.strip()).name for n in items if n.strip()]
    if not out:
        raise ValueError("no relation given; e.g. --relations flip,flip+inplane50,flip-backward")
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------------- encoding
def fit_relation(
    u: torch.Tensor,
    u_tau: torch.Tensor,
    steps: int,
    hidden: int = 512,
    batch_size: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
    logger: RunLogger | None = None,
    log_every: int = 100,
) -> RelationNet:
    """Fit T with ``T(u) ~ u_tau`` (mean L2 distance, Adam, cosine schedule) on ``(N, D)``."""
    torch.manual_seed(seed)
    net = RelationNet(u.shape[1], hidden)
    opt = adam(net.parameters(), lr)
    gen = torch.Generator().manual_seed(seed)
    for step in range(steps):
        cosine_lr(opt, lr, step, steps)
        idx = torch.randint(len(u), (min(batch_size, len(u)),), generator=gen)
        loss = (net(u[idx]) - u_tau[idx]).norm(dim=-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if logger is not None and ((step + 1) % log_every == 0 or step + 1 == steps):
            logger.log(step + 1, loss=loss.item())
    return net.eval().requires_grad_(False)


def train(
    cfg: RelationsConfig,
    names: list[str],
    pose_prior: PosePrior,
    motion_prior: MotionPrior | None,
    data: RelationData,
    run_dir: str | Path,
    seed: int = 0,
    force: bool = False,
    provenance: Mapping[str, dict] | None = None,
) -> dict[str, dict]:
    """Train (or reuse) the network of every relation in ``names``; returns their metrics.

    ``provenance``: the record of each relation's network ``{name: record}``, stored in its
    checkpoint; an existing file with another record (or none) is refused unless ``force``.

    Metrics per relation: ``space`` (z | v), ``held_out_relative_error``
    (``mean||T(u) - u_tau|| / mean||u - u_tau||``), ``decoded_mpjpe`` and
    ``autoencoder_floor_mpjpe`` on held-out mocap, ``train_time_s``.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = run_dir / "metrics.json"
    all_metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    out = {}
    for name in parse_relations(names):
        relation = rel.get(name)
        path = checkpoint_path(run_dir, name)
        arch = arch_of(name, cfg.hidden)
        record = (provenance or {}).get(name)
        if path.exists() and not force and record is not None:
            check_provenance(path, record, STAGE)  # before any weights are read
            load_weights(path, STAGE, arch)
            out[name] = all_metrics.get(name) or checkpoint_info(path, STAGE)["extra"]
            continue
        if path.exists() and not force and record is None and name in all_metrics:
            try:
                load_weights(path, STAGE, arch)
                out[name] = all_metrics[name]
                continue
            except CheckpointError:
                pass  # another architecture: train again
        t0 = time.perf_counter()
        rseed = seed * 1000 + zlib.crc32(name.encode()) % 1000  # by name, not list position
        train_pairs = build_pairs(
            relation, data, pose_prior, motion_prior, "train", cfg.pose_pairs,
            cfg.windows_per_clip, rseed,
        )  # fmt: skip
        logger = RunLogger(run_dir / name, total_steps=cfg.steps, desc=name)
        net = fit_relation(
            train_pairs["u"], train_pairs["u_tau"], cfg.steps, cfg.hidden, cfg.batch_size,
            cfg.lr, rseed, logger, cfg.log_every,
        )  # fmt: skip
        logger.close()
        elapsed = time.perf_counter() - t0
        val = build_pairs(
            relation, data, pose_prior, motion_prior, "val", cfg.score_poses,
            cfg.windows_per_clip, rseed + 1,
        )  # fmt: skip
        m = {
            "space": relation.space,
            "held_out_relative_error": relative_error(net(val["u"]), val["u_tau"], val["u"]),
            **decode_error(net, val, pose_prior, motion_prior),
            "train_time_s": elapsed,
        }
        m = {k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()}
        save_checkpoint(
            path, stage=STAGE, arch=arch, models={"T": net}, config=cfg, extra=m, provenance=record
        )
        out[name] = all_metrics[name] = m
        metrics_path.write_text(json.dumps(all_metrics, indent=1) + "\n")
    return out

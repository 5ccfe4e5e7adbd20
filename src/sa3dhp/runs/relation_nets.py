"""Runs of Algorithm 1 steps 5-7: a relation network per relation on unpaired mocap, loading
them, and scoring the catalogue by non-localness."""

from __future__ import annotations

import shutil
import time

from sa3dhp import pipeline
from sa3dhp import provenance as prov
from sa3dhp.config import Config, save_config
from sa3dhp.data.synth import load_split
from sa3dhp.runs import priors


def relation_data(cfg: Config):
    """Train/held-out mocap as the relation networks and the scorer use it."""
    from sa3dhp.relation_pairs import RelationData

    mocap = load_split(cfg.data, "mocap", images=False)
    return RelationData(mocap.poses, mocap.clip, cfg.data.mocap_holdout)


def _motion_prior_if_needed(cfg: Config, names: list[str]):
    from sa3dhp import relations as rel

    return priors.load_motion_prior(cfg) if any(rel.get(n).is_temporal for n in names) else None


def relation_record(cfg: Config, name: str) -> dict:
    """Provenance record of one relation network: the ``relations`` section (without the list of
    relations and the scoring-only keys), seed, mocap, parents pose prior (and motion prior for
    a relation acting on time)."""
    from sa3dhp import relations as rel

    parents = {"pose_prior": pipeline.pose_prior_path(cfg)}
    if rel.get(name).is_temporal:
        parents["motion_prior"] = pipeline.motion_prior_path(cfg)
    return prov.stage_record(
        cfg.relations,
        seed=cfg.seed,
        world=cfg.data,
        splits=["mocap"],
        parents=parents,
        drop=("relations", "score_steps", "reference_poses"),
    )


def train_relations(cfg: Config, names: list[str] | None = None, force: bool = False) -> dict:
    """Algorithm 1 steps 5-6: a relation network per relation (default: the config's list).

    ``force`` deletes and re-trains the networks of ``names`` (the others are kept)."""
    from sa3dhp.train import relations as trel

    names = trel.parse_relations(names or cfg.relations.relations)
    run_dir = pipeline.stage_dir(cfg, pipeline.RELATIONS_DIR)
    if force:
        for n in names:
            trel.checkpoint_path(run_dir, n).unlink(missing_ok=True)
            shutil.rmtree(run_dir / n, ignore_errors=True)
    records = {n: relation_record(cfg, n) for n in names}
    for n in names:
        prov.check_existing(trel.checkpoint_path(run_dir, n), records[n], trel.STAGE)
    save_config(cfg, run_dir)
    t0 = time.perf_counter()
    out = trel.train(
        cfg.relations,
        names,
        priors.load_pose_prior(cfg),
        _motion_prior_if_needed(cfg, names),
        relation_data(cfg),
        run_dir,
        cfg.seed,
        force,
        records,
    )
    return {"relations": out, "train_time_s": round(time.perf_counter() - t0, 1)}


def load_relations(cfg: Config, names: list[str]) -> dict:
    """Trained relation networks ``{name: RelationNet}`` (frozen)."""
    from sa3dhp.train import relations as trel

    run_dir = pipeline.stage_dir(cfg, pipeline.RELATIONS_DIR)
    return {n: trel.load_relation(run_dir, n, cfg.relations.hidden) for n in names}


def score_relations(cfg: Config, names: list[str] | None = None, out_dir: str | None = None):
    """``sa3dhp relations score``: rows (best first) and the files written."""
    from sa3dhp import scoring
    from sa3dhp.train import relations as trel

    names = trel.parse_relations(names or scoring.candidates())
    run_dir = pipeline.stage_dir(cfg, pipeline.RELATIONS_DIR)
    data, pose_prior = relation_data(cfg), priors.load_pose_prior(cfg)
    motion_prior = _motion_prior_if_needed(cfg, names)
    rows = scoring.score_relations(
        names,
        data,
        pose_prior,
        motion_prior,
        relation_network(cfg.relations, data, pose_prior, motion_prior, run_dir, cfg.seed),
        cfg.relations.score_poses,
        cfg.relations.reference_poses,
        cfg.relations.windows_per_clip,
        cfg.seed,
    )
    return rows, scoring.write_scores(rows, out_dir or run_dir)


def relation_network(rcfg, data, pose_prior, motion_prior, run_dir, seed: int = 0):
    """The scorer's way to a relation's network (:data:`sa3dhp.scoring.NetworkSource`): the one
    ``train relations`` wrote under ``run_dir`` when it exists, else a quick fit of
    ``rcfg.score_steps`` steps on a quarter of the training pairs."""
    from sa3dhp.checkpoint import CheckpointError
    from sa3dhp.relation_pairs import build_pairs
    from sa3dhp.train import relations as trel

    def network(relation):
        if run_dir is not None:
            try:
                return trel.load_relation(run_dir, relation.name, rcfg.hidden), "trained"
            except CheckpointError:
                pass
        pairs = build_pairs(
            relation, data, pose_prior, motion_prior, "train", rcfg.pose_pairs // 4,
            max(1, rcfg.windows_per_clip // 2), seed + 17,
        )  # fmt: skip
        net = trel.fit_relation(
            pairs["u"], pairs["u_tau"], rcfg.score_steps, rcfg.hidden, rcfg.batch_size, rcfg.lr,
            seed,
        )  # fmt: skip
        return net, f"quick fit ({rcfg.score_steps} steps)"

    return network

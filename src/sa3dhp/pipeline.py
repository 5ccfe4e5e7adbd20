"""Stage runners: load the data a stage needs, train it in ``{out_dir}/{stage}/``, save results.

Each runner reads the resolved :class:`sa3dhp.config.Config`, writes ``config.yaml`` next to the
stage's checkpoint, and returns the stage's metrics (also written as ``metrics.json``).

Every checkpoint records what made it (:mod:`sa3dhp.provenance`: config section, seed, data
splits, parent checkpoints). A runner computes that record first and refuses an existing
checkpoint made by anything else (:class:`~sa3dhp.provenance.ProvenanceError`, before
``config.yaml`` is written or any weights are read); with a matching record it resumes or skips
exactly as before. ``force=True`` deletes the stage's run (for relations: the networks being
trained) and starts afresh.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import torch

from sa3dhp import provenance as prov
from sa3dhp.checkpoint import load_weights, save_checkpoint
from sa3dhp.config import Config, save_config
from sa3dhp.data.synth import load_split
from sa3dhp.train.distributed import is_main_process

POSE_PRIOR_DIR, MOTION_PRIOR_DIR = "pose_prior", "motion_prior"  # = the stages' STAGE names
RELATIONS_DIR = "relations"


def stage_dir(cfg: Config, stage: str) -> Path:
    """Run directory of a stage."""
    return Path(cfg.out_dir) / stage


def _write_metrics(run_dir: Path, metrics: dict) -> None:
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")


CHECKPOINT = "checkpoint.safetensors"


def _start(run_dir: Path, force: bool) -> None:
    """``force``: delete the run directory (every rank does, before any rank can write)."""
    if force:
        shutil.rmtree(run_dir, ignore_errors=True)


#: Run directories of every stage ``sa3dhp demo`` trains (``remove_runs``).
RUN_DIRS = (
    POSE_PRIOR_DIR,
    MOTION_PRIOR_DIR,
    "source",
    "direct_regression",
    "oracle",
    RELATIONS_DIR,
    "adapted",
    "adabn",
    "stress_oracle",
)


def remove_runs(cfg: Config, dirs: tuple[str, ...] = RUN_DIRS) -> None:
    """Delete the stages' run directories under ``cfg.out_dir`` (``sa3dhp demo --force``; the
    data cache and other files there are kept)."""
    for d in dirs:
        shutil.rmtree(stage_dir(cfg, d), ignore_errors=True)


def _pose_prior_path(cfg: Config) -> Path:
    return stage_dir(cfg, POSE_PRIOR_DIR) / CHECKPOINT


def _motion_prior_path(cfg: Config) -> Path:
    return stage_dir(cfg, MOTION_PRIOR_DIR) / CHECKPOINT


def pose_prior_record(cfg: Config) -> dict:
    """Provenance record of the pose prior: ``pose_prior`` section, seed, the mocap split."""
    return prov.stage_record(cfg.pose_prior, seed=cfg.seed, world=cfg.data, splits=["mocap"])


def train_pose_prior(cfg: Config, force: bool = False) -> dict:
    """Algorithm 1 step 2 on the ``mocap`` split."""
    from sa3dhp.train import pose_prior

    run_dir = stage_dir(cfg, POSE_PRIOR_DIR)
    _start(run_dir, force)
    record = pose_prior_record(cfg)
    prov.check_existing(run_dir / CHECKPOINT, record, pose_prior.STAGE)
    save_config(cfg, run_dir)
    mocap = load_split(cfg.data, "mocap", images=False)
    t0 = time.perf_counter()
    out = pose_prior.train(
        cfg.pose_prior,
        mocap.poses,
        mocap.clip,
        run_dir,
        cfg.seed,
        cfg.device,
        record,
        holdout=cfg.data.mocap_holdout,
    )
    out.pop("latents", None)
    out["train_time_s"] = round(time.perf_counter() - t0, 1)
    if is_main_process():
        _write_metrics(run_dir, out)
    return out


def load_pose_prior(cfg: Config, device: str | torch.device = "cpu"):
    """The trained pose prior of this config (eval mode, frozen)."""
    from sa3dhp.train import pose_prior

    return pose_prior.load(_pose_prior_path(cfg), cfg.pose_prior, device)


def motion_prior_record(cfg: Config) -> dict:
    """Provenance record of the motion prior: its section, seed, mocap, parent pose prior."""
    return prov.stage_record(
        cfg.motion_prior,
        seed=cfg.seed,
        world=cfg.data,
        splits=["mocap"],
        parents={"pose_prior": _pose_prior_path(cfg)},
    )


def train_motion_prior(cfg: Config, force: bool = False) -> dict:
    """Algorithm 1 step 3 on the ``mocap`` split (needs the pose prior)."""
    from sa3dhp.train import motion_prior

    run_dir = stage_dir(cfg, MOTION_PRIOR_DIR)
    _start(run_dir, force)
    record = motion_prior_record(cfg)
    prov.check_existing(run_dir / CHECKPOINT, record, motion_prior.STAGE)
    save_config(cfg, run_dir)
    mocap = load_split(cfg.data, "mocap", images=False)
    prior = load_pose_prior(cfg)
    t0 = time.perf_counter()
    out = motion_prior.train(
        cfg.motion_prior,
        prior,
        mocap.poses,
        mocap.clip,
        run_dir,
        cfg.seed,
        cfg.device,
        record,
        holdout=cfg.data.mocap_holdout,
    )
    out["train_time_s"] = round(time.perf_counter() - t0, 1)
    if is_main_process():
        _write_metrics(run_dir, out)
    return out


def load_motion_prior(
    cfg: Config, device: str | torch.device = "cpu", checkpoint: str | Path | None = None
):
    """The trained motion prior of this config (eval mode, frozen), or the one at
    ``checkpoint`` (which must match ``cfg.motion_prior``'s architecture)."""
    from sa3dhp.train import motion_prior

    return motion_prior.load(checkpoint or _motion_prior_path(cfg), cfg.motion_prior, device)


IMAGE_MODEL_DIRS = {"source": "source", "direct": "direct_regression", "oracle": "oracle"}


def image_model_config(cfg: Config, variant: str):
    """The G training config of ``source`` (ours), ``direct`` or ``oracle``."""
    from dataclasses import replace

    if variant not in IMAGE_MODEL_DIRS:
        raise ValueError(f"variant must be one of {sorted(IMAGE_MODEL_DIRS)}, got '{variant}'")
    if variant == "direct":
        return replace(cfg.source, head="pose")
    if variant == "oracle":
        init = stage_dir(cfg, IMAGE_MODEL_DIRS["source"]) / "checkpoint.safetensors"
        return replace(
            cfg.source,
            split="target_oracle",
            init=cfg.source.init or str(init),
            steps=cfg.source.oracle_steps or cfg.source.steps,
        )
    return cfg.source


def _heldout(cfg: Config, splits: tuple[str, ...], torch_layout: bool = False) -> dict:
    """``{split: (crops, poses)}`` of labelled held-out splits for learning curves (never for
    selection); ``torch_layout``: uint8 ``(N, 3, S, S)`` tensors, else numpy ``(N, S, S, 3)``."""
    out = {}
    for split in splits:
        data = load_split(cfg.data, split)
        x, y = data.images, data.poses
        if torch_layout:
            x, y = torch.as_tensor(x).permute(0, 3, 1, 2), torch.as_tensor(y, dtype=torch.float32)
        out[split] = (x, y)
    return out


def image_model_record(cfg: Config, variant: str = "source") -> dict:
    """Provenance record of a G run: the variant's ``source`` section (``oracle_steps`` folded
    into ``steps``, ``init`` recorded as the parent ``init``), seed, its split, and parents pose
    prior (latent head) and ``init``."""
    scfg = image_model_config(cfg, variant)
    parents: dict[str, Path] = {}
    if scfg.head == "latent":
        parents["pose_prior"] = _pose_prior_path(cfg)
    if scfg.init:
        parents["init"] = Path(scfg.init)
    return prov.stage_record(
        scfg,
        seed=cfg.seed,
        world=cfg.data,
        splits=[scfg.split],
        parents=parents,
        drop=("oracle_steps", "init"),
    )


def train_image_model(
    cfg: Config, variant: str = "source", run_name: str | None = None, *, force: bool = False
) -> dict:
    """Algorithm 1 step 4 (``source``) or a baseline (``direct`` regression, ``oracle``), in
    ``out_dir/run_name`` (default: the variant's directory, :data:`IMAGE_MODEL_DIRS`)."""
    from sa3dhp.train import source

    scfg = image_model_config(cfg, variant)
    run_dir = stage_dir(cfg, run_name or IMAGE_MODEL_DIRS[variant])
    _start(run_dir, force)
    record = image_model_record(cfg, variant)
    prov.check_existing(run_dir / CHECKPOINT, record, source.STAGE)
    save_config(cfg, run_dir)
    data = load_split(cfg.data, scfg.split)
    prior = load_pose_prior(cfg) if scfg.head == "latent" else None
    prior_path = _pose_prior_path(cfg)
    t0 = time.perf_counter()
    out = source.train(
        scfg,
        prior,
        data.images,
        data.poses,
        run_dir,
        cfg.seed,
        cfg.device,
        extra={"pose_prior": str(prior_path) if prior is not None else None, "variant": variant},
        provenance=record,
        eval_sets=_heldout(cfg, ("source_val", "target_val")) if scfg.eval_every > 0 else None,
    )
    out["train_time_s"] = round(time.perf_counter() - t0, 1)
    if is_main_process():
        _write_metrics(run_dir, out)
    return out


def evaluate_image_model(
    cfg: Config,
    checkpoint: str | Path | None = None,
    split: str = "target_test",
    variant: str = "source",
) -> dict:
    """Metrics of a G checkpoint (default: the config's ``variant`` run) on a labelled split."""
    from sa3dhp.evaluate import evaluate_split

    if checkpoint is None:
        checkpoint = stage_dir(cfg, IMAGE_MODEL_DIRS[variant]) / "checkpoint.safetensors"
    return evaluate_split(checkpoint, load_split(cfg.data, split), device=cfg.device)


def relation_data(cfg: Config):
    """Train/held-out mocap as the relation networks and the scorer use it."""
    from sa3dhp.train.relation_pairs import RelationData

    mocap = load_split(cfg.data, "mocap", images=False)
    return RelationData(mocap.poses, mocap.clip, cfg.data.mocap_holdout)


def _motion_prior_if_needed(cfg: Config, names: list[str]):
    from sa3dhp import relations as rel

    return load_motion_prior(cfg) if any(rel.get(n).is_temporal for n in names) else None


def relation_record(cfg: Config, name: str) -> dict:
    """Provenance record of one relation network: the ``relations`` section (without the list of
    relations and the scoring-only keys), seed, mocap, parents pose prior (and motion prior for
    a relation acting on time)."""
    from sa3dhp import relations as rel

    parents = {"pose_prior": _pose_prior_path(cfg)}
    if rel.get(name).is_temporal:
        parents["motion_prior"] = _motion_prior_path(cfg)
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
    run_dir = stage_dir(cfg, RELATIONS_DIR)
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
        load_pose_prior(cfg),
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

    run_dir = stage_dir(cfg, RELATIONS_DIR)
    return {n: trel.load_relation(run_dir, n, cfg.relations.hidden) for n in names}


def score_relations(cfg: Config, names: list[str] | None = None, out_dir: str | None = None):
    """``sa3dhp relations score``: rows (best first) and the files written."""
    from sa3dhp import scoring
    from sa3dhp.train import relations as trel

    names = trel.parse_relations(names or scoring.candidates())
    run_dir = stage_dir(cfg, RELATIONS_DIR)
    rows = scoring.score_relations(
        names,
        cfg.relations,
        relation_data(cfg),
        load_pose_prior(cfg),
        _motion_prior_if_needed(cfg, names),
        run_dir,
        cfg.seed,
    )
    return rows, scoring.write_scores(rows, out_dir or run_dir)


ADAPT_DIR, ADABN_DIR = "adapted", "adabn"


def target_clips(cfg: Config) -> torch.Tensor:
    """Unlabelled ``target_train`` clips ``(C, L, 3, S, S)`` uint8 (the split has no labels)."""
    from sa3dhp.train.motion_prior import clip_array

    data = load_split(cfg.data, "target_train")
    if data.poses is not None:
        raise ValueError("target_train must be unlabelled; its split carries poses")
    return torch.as_tensor(clip_array(data.images, data.clip)).permute(0, 1, 4, 2, 3)


def _source_path(cfg: Config, checkpoint: str | Path | None = None) -> Path:
    return Path(checkpoint) if checkpoint else stage_dir(cfg, "source") / CHECKPOINT


def _source_model(cfg: Config, checkpoint: str | Path | None = None):
    from sa3dhp.train import source

    path = _source_path(cfg, checkpoint)
    model = source.build_model(cfg.source, weights="none")
    model.load_state_dict(load_weights(path, source.STAGE, source.arch_of(cfg.source))["G"])
    return model, path


def _adapt_config(cfg: Config, losses: list[str] | None):
    from dataclasses import replace

    return replace(cfg.adapt, losses=list(losses)) if losses is not None else cfg.adapt


def _needs_motion(losses: list[str]) -> bool:
    from sa3dhp.train import adapt_terms

    return any(k in ("hcr", "v") for k, _ in adapt_terms.parse_losses(losses))


def adapt_record(cfg: Config, losses: list[str] | None = None, source_ckpt=None) -> dict:
    """Provenance record of an adaptation run: the ``adapt`` section with ``losses`` (without
    ``adabn_frames``), seed, target_train, parents Gs (``init``), pose prior, motion prior (when
    a term needs it) and each relation network used (``relations/NAME``)."""
    from sa3dhp.train import adapt_terms
    from sa3dhp.train import relations as trel

    acfg = _adapt_config(cfg, losses)
    parents = {"init": _source_path(cfg, source_ckpt), "pose_prior": _pose_prior_path(cfg)}
    if _needs_motion(acfg.losses):
        parents["motion_prior"] = _motion_prior_path(cfg)
    for n in adapt_terms.relation_names(acfg.losses):
        parents[f"relations/{n}"] = trel.checkpoint_path(stage_dir(cfg, RELATIONS_DIR), n)
    return prov.stage_record(
        acfg,
        seed=cfg.seed,
        world=cfg.data,
        splits=["target_train"],
        parents=parents,
        drop=("adabn_frames",),
    )


def adapt(
    cfg: Config,
    run_name: str = ADAPT_DIR,
    losses: list[str] | None = None,
    source_ckpt=None,
    force: bool = False,
) -> dict:
    """Algorithm 1 steps 8-11 from Gs on unlabelled target_train; the last step is the result."""
    from sa3dhp.train import adapt as adapt_train
    from sa3dhp.train import adapt_terms, source

    acfg = _adapt_config(cfg, losses)
    names = adapt_terms.relation_names(acfg.losses)
    needs_motion = _needs_motion(acfg.losses)
    run_dir = stage_dir(cfg, run_name)
    _start(run_dir, force)
    record = adapt_record(cfg, losses, source_ckpt)
    prov.check_existing(run_dir / CHECKPOINT, record, adapt_train.STAGE)
    save_config(cfg, run_dir)
    model, init = _source_model(cfg, source_ckpt)
    prior_path = _pose_prior_path(cfg)
    t0 = time.perf_counter()
    out = adapt_train.train(
        acfg,
        model,
        load_motion_prior(cfg) if needs_motion else None,
        load_relations(cfg, names),
        target_clips(cfg),
        run_dir,
        cfg.seed,
        cfg.device,
        arch=source.arch_of(cfg.source),
        extra={"pose_prior": str(prior_path), "init": str(init)},
        provenance=record,
        report_sets=_heldout(cfg, ("target_val",), torch_layout=True) if acfg.eval_every else None,
        prior=load_pose_prior(cfg) if acfg.eval_every else None,
    )
    if not out and (run_dir / "metrics.json").exists():  # a finished run, resumed: keep its record
        return json.loads((run_dir / "metrics.json").read_text())
    out = {"final_losses": out, "train_time_s": round(time.perf_counter() - t0, 1)}
    _write_metrics(run_dir, out)
    return out


def adabn_record(cfg: Config, source_ckpt=None) -> dict:
    """Provenance record of the AdaBN baseline: ``adapt.adabn_frames``, seed, target_train,
    parents Gs (``init``) and pose prior."""
    return prov.stage_record(
        {"adabn_frames": cfg.adapt.adabn_frames},
        seed=cfg.seed,
        world=cfg.data,
        splits=["target_train"],
        parents={"init": _source_path(cfg, source_ckpt), "pose_prior": _pose_prior_path(cfg)},
    )


def adabn(cfg: Config, run_name: str = ADABN_DIR, source_ckpt=None) -> dict:
    """The AdaBN baseline: Gs with every BatchNorm's statistics re-estimated on target_train
    (recomputed every time, it is cheap; the checkpoint records its provenance)."""
    from sa3dhp.train import adapt_terms, source

    run_dir = stage_dir(cfg, run_name)
    record = adabn_record(cfg, source_ckpt)
    save_config(cfg, run_dir)
    model, init = _source_model(cfg, source_ckpt)
    t0 = time.perf_counter()
    frames = target_clips(cfg).flatten(0, 1)
    keep = torch.randperm(len(frames), generator=torch.Generator().manual_seed(cfg.seed))
    adapt_terms.adabn(model, frames[keep[: cfg.adapt.adabn_frames]], seed=cfg.seed)
    prior_path = stage_dir(cfg, POSE_PRIOR_DIR) / "checkpoint.safetensors"
    save_checkpoint(
        run_dir / "checkpoint.safetensors",
        stage=source.STAGE,
        arch=source.arch_of(cfg.source),
        models={"G": model},
        config=cfg.adapt,
        extra={"variant": "adabn", "pose_prior": str(prior_path), "init": str(init)},
        provenance=record,
    )
    out = {"train_time_s": round(time.perf_counter() - t0, 1)}
    _write_metrics(run_dir, out)
    return out

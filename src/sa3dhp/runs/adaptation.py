"""Runs of Algorithm 1 steps 8-11: adaptation of Gs on the unlabelled target_train clips, and
the AdaBN baseline."""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from sa3dhp import pipeline
from sa3dhp import provenance as prov
from sa3dhp.checkpoint import load_weights, save_checkpoint
from sa3dhp.config import Config, save_config
from sa3dhp.data.synth import load_split
from sa3dhp.runs import image_models, priors, relation_nets


def target_clips(cfg: Config) -> torch.Tensor:
    """Unlabelled ``target_train`` clips ``(C, L, 3, S, S)`` uint8 (the split has no labels)."""
    from sa3dhp.data.clips import clip_array

    data = load_split(cfg.data, "target_train")
    if data.poses is not None:
        raise ValueError("target_train must be unlabelled; its split carries poses")
    return torch.as_tensor(clip_array(data.images, data.clip)).permute(0, 1, 4, 2, 3)


def video_clips(
    cfg: Config, videos: list[str], detector: str = "hog", boxes: str | None = None
) -> tuple[torch.Tensor, dict, dict]:
    """A user's videos as unlabelled clips ``(C, L, 3, S, S)`` uint8 (person-detected, tracked;
    ``L`` = ``data.target_train.frames``), the extraction's report, and the data record of their
    provenance (the videos' digests and the detector)."""
    from sa3dhp.data.user_videos import clips_from_videos, file_digest, videos_digest
    from sa3dhp.detect import make_detector

    frames = cfg.data.target_train.frames
    det = make_detector(detector, boxes)
    clips, report = clips_from_videos(videos, det, cfg.data.crop_scale, cfg.data.size, frames)
    data = {"videos": videos_digest(videos), "detector": detector, "clip_frames": frames}
    if boxes:
        data["boxes"] = file_digest(boxes)
    return torch.as_tensor(clips).permute(0, 1, 4, 2, 3), report, data


def _unlabelled_clips(
    cfg: Config, record: dict, videos: list[str] | None, detector: str, boxes: str | None
) -> tuple[torch.Tensor, dict | None]:
    """The clips a run adapts on, and the videos' report: target_train's, or with ``videos``
    the people in them (:func:`video_clips`), whose data record then replaces ``record``'s."""
    if not videos:
        return target_clips(cfg), None
    clips, report, record["data"] = video_clips(cfg, videos, detector, boxes)
    return clips, report


def _source_model(cfg: Config, checkpoint: str | Path | None = None):
    from sa3dhp.train import source

    path = pipeline.source_path(cfg, checkpoint)
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
    ``adabn_frames``, ``bn`` and ``bn_every`` under the paper's ``bn=source``, and without
    ``teacher_grad``, ``nonlocal_guard``, ``cr_negatives``, ``cr_positive``,
    ``relation_facing`` and ``teacher`` at their defaults), seed, target_train (and
    source_train for our ``src`` term), parents Gs (``init``), pose prior, motion prior (when a
    term needs it) and each relation network used (``relations/NAME``; none with
    ``teacher=exact``)."""
    from sa3dhp.train import adapt_terms
    from sa3dhp.train import relations as trel

    acfg = _adapt_config(cfg, losses)
    parents = {
        "init": pipeline.source_path(cfg, source_ckpt),
        "pose_prior": pipeline.pose_prior_path(cfg),
    }
    if _needs_motion(acfg.losses):
        parents["motion_prior"] = pipeline.motion_prior_path(cfg)
    for n in adapt_terms.relation_names(acfg.losses, acfg.teacher):
        parents[f"relations/{n}"] = trel.checkpoint_path(
            pipeline.stage_dir(cfg, pipeline.RELATIONS_DIR), n
        )
    splits = ["target_train"] + (["source_train"] if adapt_terms.uses_source(acfg.losses) else [])
    return prov.stage_record(
        acfg,
        seed=cfg.seed,
        world=cfg.data,
        splits=splits,
        parents=parents,
        # with the source statistics (the paper's), AdaBN's settings change nothing: they are
        # left out, so runs made before the option existed keep their record
        drop=(("adabn_frames", "bn", "bn_every") if acfg.bn == "source" else ())
        + (("cr_negatives", "cr_per_clip") if acfg.cr_negatives == "clips" else ())
        + prov.at_default(
            acfg,
            ("teacher_grad", "nonlocal_guard", "cr_positive", "relation_facing", "teacher"),
        ),
    )


def adapt(
    cfg: Config,
    run_name: str = pipeline.ADAPT_DIR,
    losses: list[str] | None = None,
    source_ckpt=None,
    force: bool = False,
    videos: list[str] | None = None,
    detector: str = "hog",
    boxes: str | None = None,
) -> dict:
    """Algorithm 1 steps 8-11 from Gs on unlabelled target_train; the last step is the result.

    With ``videos``, the target is the people in those videos instead (:func:`video_clips`,
    found with ``detector``): test-time adaptation to a user's own footage; nothing is
    evaluated during it (those videos have no labels).
    """
    from sa3dhp.train import adapt as adapt_train
    from sa3dhp.train import adapt_terms, source

    acfg = _adapt_config(cfg, losses)
    names = adapt_terms.relation_names(acfg.losses)
    needs_motion = _needs_motion(acfg.losses)
    anchored = adapt_terms.uses_source(acfg.losses)
    run_dir = pipeline.stage_dir(cfg, run_name)
    record = adapt_record(cfg, losses, source_ckpt)
    clips, report = _unlabelled_clips(cfg, record, videos, detector, boxes)
    if videos:
        from dataclasses import replace

        acfg = replace(acfg, eval_every=0)
    pipeline.start_run(cfg, run_dir, adapt_train.STAGE, record, force)
    model, init = _source_model(cfg, source_ckpt)
    prior_path = pipeline.pose_prior_path(cfg)
    t0 = time.perf_counter()
    out = adapt_train.train(
        acfg,
        model,
        priors.load_motion_prior(cfg) if needs_motion else None,
        relation_nets.load_relations(cfg, adapt_terms.relation_names(acfg.losses, acfg.teacher)),
        clips,
        run_dir,
        cfg.seed,
        cfg.device,
        arch=source.arch_of(cfg.source),
        extra={"pose_prior": str(prior_path), "init": str(init)},
        provenance=record,
        report_sets=image_models._heldout(cfg, ("target_val",), torch_layout=True)
        if acfg.eval_every
        else None,
        prior=priors.load_pose_prior(cfg)
        if acfg.eval_every or anchored or adapt_train.needs_prior(acfg)
        else None,
        source=image_models._heldout(cfg, ("source_train",), torch_layout=True)["source_train"]
        if anchored
        else None,
        nonlocalness=nonlocalness(cfg, names) if acfg.nonlocal_guard > 0 else None,
    )
    if not out and (run_dir / "metrics.json").exists():  # a finished run, resumed: keep its record
        return json.loads((run_dir / "metrics.json").read_text())
    out = {"final_losses": out, "train_time_s": round(time.perf_counter() - t0, 1)}
    if report is not None:
        out["videos"] = report
    pipeline.write_metrics(run_dir, out)
    return out


def nonlocalness(cfg: Config, names: list[str], n: int = 2000) -> dict[str, float]:
    """``{relation: d_tau}``: mean |u - u_tau| (the L1 metric of L_z / L_v) over ``n`` mocap
    training poses (windows for a relation on time), encoded by the frozen priors: how far
    the relation moves a typical latent (the margins of ``adapt.nonlocal_guard``)."""
    from sa3dhp import relations as rel
    from sa3dhp.relation_pairs import build_pairs

    data, pose_prior = relation_nets.relation_data(cfg), priors.load_pose_prior(cfg)
    motion = priors.load_motion_prior(cfg) if any(rel.get(n_).is_temporal for n_ in names) else None
    out = {}
    for i, name in enumerate(names):
        pairs = build_pairs(rel.get(name), data, pose_prior, motion, "train", n, 6, cfg.seed + i)
        out[name] = round(float((pairs["u"] - pairs["u_tau"]).abs().mean()), 5)
    return out


def adabn_record(cfg: Config, source_ckpt=None) -> dict:
    """Provenance record of the AdaBN baseline: ``adapt.adabn_frames``, seed, target_train,
    parents Gs (``init``) and pose prior."""
    return prov.stage_record(
        {"adabn_frames": cfg.adapt.adabn_frames},
        seed=cfg.seed,
        world=cfg.data,
        splits=["target_train"],
        parents={
            "init": pipeline.source_path(cfg, source_ckpt),
            "pose_prior": pipeline.pose_prior_path(cfg),
        },
    )


def adabn(
    cfg: Config,
    run_name: str = pipeline.ADABN_DIR,
    source_ckpt=None,
    videos: list[str] | None = None,
    detector: str = "hog",
    boxes: str | None = None,
) -> dict:
    """The AdaBN baseline: Gs (or ``source_ckpt``) with every BatchNorm's statistics
    re-estimated on target_train, or with ``videos`` on the people in them (:func:`video_clips`,
    found with ``detector``); recomputed every time, it is cheap; the checkpoint records its
    provenance."""
    from sa3dhp.train import adapt_terms, source

    run_dir = pipeline.stage_dir(cfg, run_name)
    record = adabn_record(cfg, source_ckpt)
    clips, report = _unlabelled_clips(cfg, record, videos, detector, boxes)
    save_config(cfg, run_dir)
    model, init = _source_model(cfg, source_ckpt)
    t0 = time.perf_counter()
    frames = adapt_terms.target_frames(clips, cfg.adapt.adabn_frames, cfg.seed)
    adapt_terms.adabn(model, frames, seed=cfg.seed)
    prior_path = pipeline.stage_dir(cfg, pipeline.POSE_PRIOR_DIR) / "checkpoint.safetensors"
    save_checkpoint(
        run_dir / "checkpoint.safetensors",
        stage=source.STAGE,
        arch=source.arch_of(cfg.source),
        models={"G": model},
        config=cfg.adapt,
        extra={"variant": "adabn", "pose_prior": str(prior_path), "init": str(init)},
        provenance=record,
    )
    out: dict = {"train_time_s": round(time.perf_counter() - t0, 1)}
    if report is not None:
        out["videos"] = report
    pipeline.write_metrics(run_dir, out)
    return out

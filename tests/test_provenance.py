"""Runs keyed by what made them: a stage refuses a checkpoint made with another config, data,
seed or parents (one line naming the file and the difference), resumes bit-identically when
everything matches, and starts afresh with --force."""

import json
import shutil
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file

from sa3dhp import checkpoint, pipeline, provenance
from sa3dhp.config import load_config
from sa3dhp.data.world import split_hash
from sa3dhp.runs import adaptation, image_models, priors, relation_nets
from tests.test_demo import TINY_STAGES
from tests.test_stages import TINY_PRIORS, _run
from tests.test_synth import TINY


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One tiny world for the whole module (built by the first stage that reads it)."""
    return tmp_path_factory.mktemp("cache")


def _overrides(tmp_path, cache, *extra: str) -> list[str]:
    return [
        *TINY,
        *TINY_PRIORS,
        *TINY_STAGES,
        f"data.cache_dir={cache}",
        f"out_dir={tmp_path / 'out'}",
        *extra,
    ]


def _cfg(tmp_path, cache, *extra: str):
    return load_config("demo", _overrides(tmp_path, cache, *extra))


def _one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def _save_linear(path, weight: float = 0.0, extra: dict | None = None):
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    with torch.no_grad():
        net.weight[0, 0] += weight
    return checkpoint.save_checkpoint(path, stage="toy", arch={}, models={"net": net}, extra=extra)


def test_weights_digest_ignores_metadata_but_not_weights(tmp_path):
    a = _save_linear(tmp_path / "a.safetensors", extra={"run": 1})
    b = _save_linear(tmp_path / "b.safetensors", extra={"run": 2})
    c = _save_linear(tmp_path / "c.safetensors", weight=1e-3)
    assert a.read_bytes() != b.read_bytes()  # random token, other extra
    assert provenance.weights_digest(a) == provenance.weights_digest(b)
    assert len(provenance.weights_digest(a)) == 16
    assert provenance.weights_digest(c) != provenance.weights_digest(a)
    with pytest.raises(checkpoint.CheckpointError, match="no such checkpoint"):
        provenance.weights_digest(tmp_path / "missing.safetensors")


def test_a_checkpoint_without_a_record_is_refused(tmp_path):
    path = _save_linear(tmp_path / "old.safetensors")
    expected = {"config": {}, "seed": 0, "data": {}, "parents": {}}
    with pytest.raises(provenance.ProvenanceError) as e:
        provenance.check(path, expected, "toy")
    msg = _one_line(e)
    assert msg.startswith(f"{path}: records no provenance") and "--force" in msg
    assert isinstance(e.value, checkpoint.CheckpointError)


def test_changed_config_is_refused_and_config_yaml_is_kept(tmp_path, cache):
    cfg = _cfg(tmp_path, cache)
    first = priors.train_pose_prior(cfg)
    run = pipeline.stage_dir(cfg, pipeline.POSE_PRIOR_DIR)
    ckpt = run / "checkpoint.safetensors"
    before, yaml = ckpt.read_bytes(), (run / "config.yaml").read_text()
    record = checkpoint.checkpoint_info(ckpt, "pose_prior")["provenance"]
    assert record["config"]["lr"] == 0.003 and "checkpoint_every" not in record["config"]
    assert (
        record["data"] == {"mocap": split_hash(cfg.data, "mocap"), "mocap_holdout": 0.1}
        and record["seed"] == 0
    )
    with pytest.raises(provenance.ProvenanceError) as e:
        priors.train_pose_prior(_cfg(tmp_path, cache, "pose_prior.lr=0.5"))
    assert _one_line(e) == (
        f"{ckpt}: made with another setting (config lr: 0.003 -> 0.5); "
        "start afresh with --force or another out_dir"
    )
    assert ckpt.read_bytes() == before and (run / "config.yaml").read_text() == yaml
    # cadence-only keys do not key a run: the finished run is reused as it is
    again = priors.train_pose_prior(_cfg(tmp_path, cache, "pose_prior.log_every=3"))
    assert again["val_mpjpe"] == first["val_mpjpe"] and ckpt.read_bytes() == before


def test_changed_data_is_refused_naming_the_split(tmp_path, cache):
    cfg = _cfg(tmp_path, cache)
    priors.train_pose_prior(cfg)
    other = _cfg(tmp_path, cache, "data.mocap.clips=8")
    old, new = split_hash(cfg.data, "mocap"), split_hash(other.data, "mocap")
    assert old != new
    with pytest.raises(provenance.ProvenanceError) as e:
        priors.train_pose_prior(other)
    assert f"(data mocap: {old} -> {new})" in _one_line(e)


def test_changed_parent_is_refused_and_force_starts_afresh(tmp_path, cache):
    cfg = _cfg(tmp_path, cache)
    priors.train_pose_prior(cfg)
    priors.train_motion_prior(cfg)
    old = provenance.weights_digest(
        pipeline.stage_dir(cfg, "pose_prior") / "checkpoint.safetensors"
    )
    priors.train_pose_prior(replace(cfg, seed=1), force=True)  # another pose prior
    new = provenance.weights_digest(
        pipeline.stage_dir(cfg, "pose_prior") / "checkpoint.safetensors"
    )
    assert old != new
    with pytest.raises(provenance.ProvenanceError) as e:
        priors.train_motion_prior(cfg)
    msg = _one_line(e)
    assert f"(parents pose_prior: {old} -> {new})" in msg and "seed" not in msg
    priors.train_motion_prior(cfg, force=True)
    ckpt = pipeline.stage_dir(cfg, "motion_prior") / "checkpoint.safetensors"
    info = checkpoint.checkpoint_info(ckpt, "motion_prior")
    assert info["provenance"]["parents"] == {"pose_prior": new}
    assert info["step"] == cfg.motion_prior.steps


def test_killed_run_resumes_to_the_straight_run(tmp_path, cache):
    straight = _cfg(tmp_path / "a", cache)
    priors.train_pose_prior(straight)
    killed = _cfg(tmp_path / "b", cache)
    shutil.copytree(
        pipeline.stage_dir(straight, "pose_prior"), pipeline.stage_dir(killed, "pose_prior")
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the CLI runs below (OMP_NUM_THREADS=1): same float sums
    try:
        priors.train_motion_prior(straight)
    finally:
        torch.set_num_threads(threads)
    args_b = ["train", "motion-prior", *_overrides(tmp_path / "b", cache)]
    assert _run(args_b, {"SA3DHP_CRASH_AT_STEP": "4"}).returncode == 17
    ckpt_b = pipeline.stage_dir(killed, "motion_prior") / "checkpoint.safetensors"
    assert checkpoint.checkpoint_info(ckpt_b, "motion_prior")["step"] == 3
    res = _run(args_b)
    assert res.returncode == 0, res.stderr[-2000:]
    ckpt_a = pipeline.stage_dir(straight, "motion_prior") / "checkpoint.safetensors"
    a, b = load_file(str(ckpt_a)), load_file(str(ckpt_b))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert provenance.weights_digest(ckpt_a) == provenance.weights_digest(ckpt_b)
    info_a = checkpoint.checkpoint_info(ckpt_a, "motion_prior")["provenance"]
    assert info_a == checkpoint.checkpoint_info(ckpt_b, "motion_prior")["provenance"]


def test_cli_refuses_in_one_line_and_force_starts_afresh(tmp_path, cache):
    priors.train_pose_prior(_cfg(tmp_path, cache))
    args = ["train", "pose-prior", *_overrides(tmp_path, cache)]
    res = _run([*args, "pose_prior.lr=0.5"])
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert "pose_prior/checkpoint.safetensors: made with another setting" in lines[0]
    assert "config lr: 0.003 -> 0.5" in lines[0]
    res = _run([*args, "pose_prior.lr=0.5", "--force"])
    assert res.returncode == 0, res.stderr[-2000:]
    ckpt = tmp_path / "out" / "pose_prior" / "checkpoint.safetensors"
    info = checkpoint.checkpoint_info(ckpt, "pose_prior")
    assert info["provenance"]["config"]["lr"] == 0.5 and info["step"] == 12
    saved = (tmp_path / "out" / "pose_prior" / "config.yaml").read_text()
    assert "lr: 0.5" in saved


def test_relation_networks_and_adaptation_are_keyed(tmp_path, cache):
    cfg = _cfg(tmp_path, cache)
    priors.train_pose_prior(cfg)
    image_models.train_image_model(cfg, "source")
    first = relation_nets.train_relations(cfg, ["flip"])["relations"]
    flip = pipeline.stage_dir(cfg, "relations") / "flip.safetensors"
    digest = provenance.weights_digest(flip)
    # the same setting (and a scoring-only key) reuses the network
    again = relation_nets.train_relations(
        _cfg(tmp_path, cache, "relations.score_steps=7"), ["flip"]
    )
    assert again["relations"] == first and provenance.weights_digest(flip) == digest
    with pytest.raises(provenance.ProvenanceError) as e:
        relation_nets.train_relations(_cfg(tmp_path, cache, "relations.steps=11"), ["flip"])
    assert f"{flip}: made with another setting (config steps: 10 -> 11)" in _one_line(e)
    record = checkpoint.checkpoint_info(flip, "relation_net")["provenance"]
    assert set(record["parents"]) == {"pose_prior"}  # a spatial relation needs no motion prior

    done = adaptation.adapt(cfg, losses=["cr", "z:flip"])
    ckpt = pipeline.stage_dir(cfg, "adapted") / "checkpoint.safetensors"
    parents = checkpoint.checkpoint_info(ckpt, "image_to_latent")["provenance"]["parents"]
    assert set(parents) == {"init", "pose_prior", "relations/flip"}
    assert parents["relations/flip"] == digest
    assert adaptation.adapt(cfg, losses=["cr", "z:flip"]) == done  # finished: reused, not re-run
    with pytest.raises(provenance.ProvenanceError) as e:
        adaptation.adapt(cfg, losses=["cr"])
    msg = _one_line(e)
    assert 'config losses: ["cr", "z:flip"] -> ["cr"]' in msg
    assert f"parents relations/flip: {digest} -> <none>" in msg
    adaptation.adapt(cfg, losses=["cr"], force=True)
    record = checkpoint.checkpoint_info(ckpt, "image_to_latent")["provenance"]
    assert record["config"]["losses"] == ["cr"] and "relations/flip" not in record["parents"]
    # the paper's BatchNorm handling records no AdaBN settings (older runs keep their record)
    assert not {"bn", "bn_every", "adabn_frames"} & set(record["config"])
    target = replace(cfg, adapt=replace(cfg.adapt, bn="target"))
    keys = set(adaptation.adapt_record(target, ["cr"])["config"])
    assert {"bn", "bn_every", "adabn_frames"} <= keys
    # exact teachers (our control) load and record no relation network
    exact = replace(cfg, adapt=replace(cfg.adapt, teacher="exact"))
    assert set(adaptation.adapt_record(exact, ["cr", "z:flip"])["parents"]) == {
        "init",
        "pose_prior",
    }
    # AdaBN recomputes every time and records what made it
    adaptation.adabn(cfg)
    record = checkpoint.checkpoint_info(
        pipeline.stage_dir(cfg, "adabn") / "checkpoint.safetensors", "image_to_latent"
    )["provenance"]
    assert record["config"] == {"adabn_frames": cfg.adapt.adabn_frames}
    assert record["data"] == {"target_train": split_hash(cfg.data, "target_train")}
    metrics = json.loads((pipeline.stage_dir(cfg, "adapted") / "metrics.json").read_text())
    assert set(metrics["final_losses"]) == {"L_CR"}


def test_at_default_names_the_options_that_hold_their_default():
    from sa3dhp.train.adapt import AdaptConfig

    cfg = AdaptConfig(nonlocal_guard=0.5, cr_positive="view")
    names = ("teacher_grad", "nonlocal_guard", "cr_positive")
    assert provenance.at_default(cfg, names) == ("teacher_grad", "cr_positive")
    assert provenance.at_default(AdaptConfig(teacher_grad=False), names) == names[1:]

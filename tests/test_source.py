"""Source pre-training of G, the baselines, and the evaluate command."""

import json

import numpy as np
import pytest
import torch

from sa3dhp import checkpoint, cli, media, metrics, pipeline, provenance
from sa3dhp.config import load_config
from sa3dhp.runs import image_models, priors
from tests.test_stages import TINY_PRIORS
from tests.test_synth import TINY

TINY_SOURCE = [
    "source.steps=3",
    "source.batch_size=4",
    "source.conv_channels=16",
    "source.fc_hidden=16",
    "source.weights=none",
    "source.checkpoint_every=2",
    "source.log_every=1",
    "source.oracle_steps=2",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("source")
    cfg = load_config(
        "demo",
        [*TINY, *TINY_PRIORS, *TINY_SOURCE, f"data.cache_dir={tmp}/cache", f"out_dir={tmp}/run"],
    )
    priors.train_pose_prior(cfg)
    prior_before = {k: v.clone() for k, v in priors.load_pose_prior(cfg).state_dict().items()}
    for variant in ("source", "direct", "oracle"):
        image_models.train_image_model(cfg, variant)
    return cfg, prior_before


def test_pose_prior_stays_frozen_during_source_training(trained):
    cfg, before = trained
    after = priors.load_pose_prior(cfg).state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_each_variant_trains_its_own_model_on_its_own_split(trained):
    cfg, _ = trained
    infos = {}
    for variant, directory in pipeline.IMAGE_MODEL_DIRS.items():
        ckpt = pipeline.stage_dir(cfg, directory) / "checkpoint.safetensors"
        infos[variant] = checkpoint.checkpoint_info(ckpt, "image_to_latent")
    assert (
        infos["source"]["arch"]["head"] == "latent"
        and infos["source"]["extra"]["split"] == "source_train"
    )
    assert (
        infos["direct"]["arch"]["head"] == "pose" and infos["direct"]["extra"]["pose_prior"] is None
    )
    assert infos["oracle"]["extra"]["split"] == "target_oracle"


@pytest.mark.parametrize("variant", ["source", "direct"])
def test_evaluate_matches_metrics_recomputed_from_the_saved_predictions(trained, variant):
    cfg, _ = trained
    table = image_models.evaluate_image_model(cfg, split="target_test", variant=variant)
    run = pipeline.stage_dir(cfg, pipeline.IMAGE_MODEL_DIRS[variant])
    saved = np.load(run / "predictions_target_test.npz")
    recomputed = metrics.all_metrics(saved["pred"], saved["gt"])
    for key, value in recomputed.items():
        assert table["overall"][key] == pytest.approx(value, rel=1e-6)
    on_disk = json.loads((run / "metrics_target_test.json").read_text())
    assert on_disk["overall"] == pytest.approx(table["overall"])
    assert sum(v["count"] for v in table["per_action"].values()) == len(saved["gt"])
    assert "| **all** |" in (run / "metrics_target_test.md").read_text()
    assert (run / "predictions_target_test.png").stat().st_size > 10_000


def test_evaluate_on_other_data_never_replaces_the_runs_own_results(trained, tmp_path):
    from dataclasses import replace

    from sa3dhp import evaluate, model_file
    from sa3dhp.data.synth import load_split
    from sa3dhp.data.world import split_hash

    cfg, _ = trained
    run = pipeline.stage_dir(cfg, "source")
    image_models.evaluate_image_model(cfg, split="target_val")
    own = (run / "metrics_target_val.json").read_text()
    assert json.loads(own)["data"]["split_hash"] == split_hash(cfg.data, "target_val")
    other = replace(cfg, data=replace(cfg.data, seed=cfg.data.seed + 1))
    tag = split_hash(other.data, "target_val")
    # the run folder, as `sa3dhp evaluate --checkpoint RUN` gives it
    table = image_models.evaluate_image_model(other, checkpoint=run, split="target_val")
    assert table["metrics_file"] == str(run / f"metrics_target_val-{tag}.json")
    assert (run / "metrics_target_val.json").read_text() == own
    assert (
        json.loads((run / f"metrics_target_val-{tag}.json").read_text())["data"]["split_hash"]
        == tag
    )
    assert (run / f"predictions_target_val-{tag}.npz").is_file()
    # evaluate_split alone (as the demo's stress rows call it) reads the split's own hash
    ckpt = run / "checkpoint.safetensors"
    evaluate.evaluate_split(ckpt, load_split(other.data, "target_val"), figure=False)
    assert (run / "metrics_target_val.json").read_text() == own
    # a model file knows its run's world too
    mine = split_hash(cfg.data, "target_val")
    exported = model_file.export_model(run, tmp_path / "g.safetensors")
    assert evaluate.output_tag(exported, "target_val", mine) is None
    assert evaluate.output_tag(exported, "target_val", tag) == tag
    # a checkpoint with no record of its world: its outputs are named by the data
    bare = tmp_path / "bare" / "checkpoint.safetensors"
    bare.parent.mkdir()
    bare.write_bytes(ckpt.read_bytes())
    assert evaluate.output_tag(bare, "target_val", mine) == mine


def test_evaluating_an_unlabelled_split_is_refused(trained):
    cfg, _ = trained
    from sa3dhp.data.synth import load_split
    from sa3dhp.evaluate import evaluate_split

    ckpt = pipeline.stage_dir(cfg, "source") / "checkpoint.safetensors"
    with pytest.raises(ValueError, match="no labels"):
        evaluate_split(ckpt, load_split(cfg.data, "target_train"))


def test_flip_samples_mirrors_image_and_label_together():
    import torch

    from sa3dhp import relations as rel
    from sa3dhp.data.augment import flip_samples

    x = torch.rand(3, 3, 8, 8)
    y = torch.randn(3, 17, 3)
    mask = torch.tensor([True, False, True])
    x_before, y_before = x.clone(), y.clone()
    fx, fy = flip_samples(x, y, mask)
    flip = rel.get("flip")
    assert torch.equal(fx[0], x[0].flip(-1)) and torch.equal(fx[1], x[1])
    assert torch.allclose(fy[2], flip.pose(y[2:3])[0]) and torch.equal(fy[1], y[1])
    assert torch.equal(x, x_before) and torch.equal(y, y_before)  # inputs untouched


# ------------------------------------------------------------------------ one-file models


def test_a_model_file_predicts_as_its_checkpoint_after_the_run_is_moved(trained, tmp_path):
    import shutil

    from sa3dhp.data.synth import load_split
    from sa3dhp.inference import load_image_model, predict
    from sa3dhp.model_file import export_model, read_metadata

    cfg, _ = trained
    crops = load_split(cfg.data, "target_val").images[:12]
    for variant in ("source", "direct"):
        run = pipeline.stage_dir(cfg, pipeline.IMAGE_MODEL_DIRS[variant])
        want = predict(*load_image_model(run / "checkpoint.safetensors")[:2], crops)
        path = export_model(run, tmp_path / f"{variant}.safetensors")
        meta = read_metadata(path)
        assert meta["crop_size"] == cfg.data.size and meta["joints"][0] == "pelvis"
        assert meta["crop"]["crop_scale"] == cfg.data.crop_scale
        assert meta["config"]["source"]["backbone"] == cfg.source.backbone
        assert (meta["prior_arch"] is None) == (variant == "direct")
        moved = tmp_path / "elsewhere"
        shutil.move(str(pipeline.stage_dir(cfg, ".")), str(moved))  # the whole run is gone
        try:
            model, prior, _ = load_image_model(path)
            assert np.array_equal(predict(model, prior, crops), want)
            # and `sa3dhp predict` on images that are these crops ("full": the image is the box)
            images = tmp_path / f"crops_{variant}"
            images.mkdir()
            for i, crop in enumerate(crops[:3]):
                media.write_image(images / f"{i}.png", crop)
            out = tmp_path / f"pred_{variant}"
            args = ["predict", str(images), "--model", str(path), "--out", str(out)]
            assert cli.main([*args, "--detector", "full", "--crop-scale", "1"]) == 0
            got = np.load(out / "predictions.npz")["pose_mm"]
            assert np.allclose(got, want[:3], atol=0.05)
        finally:
            shutil.move(str(moved), str(pipeline.stage_dir(cfg, ".")))


def test_model_files_of_another_kind_are_refused_in_one_line(trained, tmp_path):
    import pickle

    from sa3dhp.inference import load_image_model
    from sa3dhp.model_file import ModelFileError, load_model

    cfg, _ = trained
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"x": 1}))
    prior_ckpt = pipeline.pose_prior_path(cfg)
    for path, message in (
        (evil, "not a safetensors model file"),
        (prior_ckpt, "not an sa3dhp model file (a checkpoint of stage 'pose_prior')"),
        (tmp_path / "missing.safetensors", "no such model file"),
    ):
        with pytest.raises(ModelFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_model(path)
    with pytest.raises(checkpoint.CheckpointError, match="stage 'pose_prior'"):
        load_image_model(prior_ckpt)  # a checkpoint path is read as a checkpoint


def test_crops_of_another_size_are_resized_with_a_note(trained, tmp_path, caplog):
    from sa3dhp.data.synth import load_split
    from sa3dhp.inference import load_image_model, predict
    from sa3dhp.model_file import export_model

    cfg, _ = trained
    path = export_model(pipeline.stage_dir(cfg, "source"), tmp_path / "g.safetensors")
    model, prior, _ = load_image_model(path)
    crops = load_split(cfg.data, "target_val").images[:4]
    big = np.repeat(np.repeat(crops, 2, axis=1), 2, axis=2)  # the same crops at twice the size
    with caplog.at_level("WARNING"):
        out = predict(model, prior, big)
    assert "resizing them" in caplog.text and out.shape == (4, 17, 3)
    x = torch.nn.functional.interpolate(
        torch.as_tensor(big).permute(0, 3, 1, 2).float(), (64, 64), mode="bilinear", antialias=True
    )
    resized = x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(out, predict(model, prior, resized))  # fed at the model's size
    assert np.abs(resized.astype(int) - crops).mean() < 8  # and the same crops, nearly


def test_training_on_lcr_views_is_a_run_of_its_own(trained, tmp_path):
    cfg, _ = trained
    ckpt = pipeline.stage_dir(cfg, "source") / "checkpoint.safetensors"
    record = checkpoint.checkpoint_info(ckpt, "image_to_latent")["provenance"]
    assert "shift_px" not in record["config"]  # runs made before the option keep their record
    views = load_config(
        "demo",
        [*TINY, *TINY_PRIORS, *TINY_SOURCE, f"data.cache_dir={cfg.data.cache_dir}",
         f"out_dir={cfg.out_dir}", "source.shift_px=3"],
    )  # fmt: skip
    assert image_models.image_model_record(views)["config"]["shift_px"] == 3
    with pytest.raises(provenance.ProvenanceError, match=r"shift_px: <none> -> 3"):
        image_models.train_image_model(views, "source")
    # in a run of its own it trains on other crops than the photometric jitter alone
    image_models.train_image_model(views, "source", "source_views")
    other = pipeline.stage_dir(views, "source_views") / "checkpoint.safetensors"
    weights = [checkpoint.load_weights(p, "image_to_latent")["G"] for p in (ckpt, other)]
    assert any(not torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_layer2_controls_of_turn_by_term_move_only_layer2_by_the_runs_change(trained):
    from sa3dhp.data.synth import load_split
    from sa3dhp.inference import load_image_model, predict
    from tests.conftest import load_benchmark

    cfg, _ = trained
    turn = load_benchmark("turn_by_term")
    gs = pipeline.stage_dir(cfg, "source") / "checkpoint.safetensors"
    oracle = pipeline.stage_dir(cfg, "oracle") / "checkpoint.safetensors"
    images = load_split(cfg.data, "target_val").images[:64]
    model, prior, _ = load_image_model(gs)
    base = turn.share_away(predict(model, prior, images))
    # a run that changed nothing: every control is Gs itself
    same = turn.layer2_controls(gs, gs, images, draws=2)
    assert same == {"random_same_norm": [base, base], "reversed": base}
    moved = turn.layer2_controls(gs, oracle, images, draws=2)
    assert len(moved["random_same_norm"]) == 2
    assert all(0.0 <= v <= 1.0 for v in [*moved["random_same_norm"], moved["reversed"]])

"""The whole pipeline end to end on a tiny world: every stage, a few steps each."""

import json

import pytest

from sa3dhp import checkpoint, cli
from sa3dhp.config import load_config
from sa3dhp.data.synth import build_world, load_split
from sa3dhp.train import logging as run_logging
from tests.test_source import TINY_SOURCE
from tests.test_stages import TINY_PRIORS, _run
from tests.test_synth import TINY

TINY_STAGES = [
    *TINY_SOURCE,
    "source.oracle_steps=2",
    "relations.steps=10",
    "relations.hidden=16",
    "relations.pose_pairs=200",
    "relations.windows_per_clip=1",
    "relations.score_steps=5",
    "relations.score_poses=60",
    "relations.reference_poses=100",
    "adapt.steps=4",
    "adapt.frames=2",
    "adapt.clips=1",
    "adapt.adabn_frames=16",
    # the bench profile's extras: learning curves and the stress target with its own oracle
    "source.eval_every=2",
    "adapt.eval_every=2",
    "demo.stress_target=wild_high_cameras",
    "demo.direct_regression=true",
]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    overrides = [*TINY, *TINY_PRIORS, *TINY_STAGES, f"data.cache_dir={tmp / 'cache'}"]
    res = _run(["demo", "--out", str(tmp / "out"), *overrides])
    assert res.returncode == 0, res.stderr[-3000:]
    return tmp, overrides


def test_demo_writes_every_row_and_the_report(demo_run):
    tmp, _ = demo_run
    out = tmp / "out"
    results = json.loads((out / "results.json").read_text())
    rows = results["target_test"]
    assert {"oracle", "direct_regression", "source_only", "adabn", "adapted"} <= set(rows)
    # every table carries the constant-pose baselines, target_val (probes) too
    for split in ("target_test", "target_val"):
        assert {"constant_source_mean", "constant_target_mean"} <= set(results[split])
        assert set(results[split]) == set(rows)
    assert {"constant_source_mean", "constant_target_mean", "source_only"} == set(
        results["source_val"]
    )
    for row in rows.values():
        assert {"mpjpe", "pa_mpjpe", "pck", "auc"} <= set(row)
        assert row["mpjpe"] > 0
    assert results["target_val"]["source_only"] != rows["source_only"]
    timings = results["timings_s"]
    stages = ("pose_prior", "motion_prior", "source", "relations", "adapt")
    assert all(0 < timings[s] <= timings["total"] for s in stages)  # each stage ran, and
    assert sum(v for k, v in timings.items() if k != "total") <= timings["total"] + 1  # adds up
    import torch

    from sa3dhp.device import cpu_has_native_bf16

    # the timings say on what they were measured
    assert results["machine"]["torch"] == torch.__version__
    assert results["machine"]["native_bf16"] is cpu_has_native_bf16()
    md = (out / "results.md").read_text()
    assert "| Ours, adapted |" in md and "| Constant: mean pose of the source labels |" in md
    html = (out / "report.html").read_text()
    assert "<table>" in html and "data:image/png;base64" in html
    assert (out / "adapted" / "checkpoint.safetensors").exists()
    # evaluate prior: both the joint-limit share and the typicality of random decodes
    prior_eval = results["prior_eval"]
    assert 0 <= prior_eval["random_decodes"]["plausible"] <= 1
    assert 0 <= prior_eval["random_decodes_typical"] <= 1 / 0.9
    # the stress target: constants, Gs, the adapted model and its own oracle, on its own splits
    stress = results["stress"]
    assert stress["target_style"] == "wild_high_cameras"
    assert set(stress["target_test"]) == {
        "constant_source_mean",
        "constant_target_mean",
        "source_only",
        "adapted",
        "oracle",
    }
    assert stress["target_test"]["oracle"] != rows["oracle"]
    assert "Stress target (wild_high_cameras)" in md and "Stress target" in html
    # learning curves: held-out MPJPE of Gs and of adaptation (report only)
    source_curve = run_logging.read_history(out / "source")
    assert any("source_val_mpjpe" in h and "target_val_mpjpe" in h for h in source_curve)
    adapt_curve = run_logging.read_history(out / "adapted")
    assert any(h.get("target_val_mpjpe", 0) > 0 and "target_val_z_std" in h for h in adapt_curve)
    # only the rows the report shows draw a prediction figure
    assert (out / "adapted" / "predictions_target_test.png").exists()
    assert not (out / "oracle" / "predictions_target_test.png").exists()


def test_target_train_loader_yields_no_labels(demo_run):
    from sa3dhp.runs import adaptation

    tmp, overrides = demo_run
    cfg = load_config("demo", [*overrides, f"out_dir={tmp / 'out'}"])
    build_world(cfg.data)
    split = load_split(cfg.data, "target_train")
    assert split.poses is None and not split.labelled
    clips = adaptation.target_clips(cfg)
    assert clips.dtype.is_floating_point is False and clips.ndim == 5
    assert clips.shape[2] == 3


def test_relations_score_and_ablate_run_from_the_cli(demo_run):
    tmp, overrides = demo_run
    args = [*overrides, f"out_dir={tmp / 'out'}"]
    res = _run(["relations", "score", "--relations", "identity,flip,backward", *args])
    assert res.returncode == 0, res.stderr[-3000:]
    assert "| identity |" in res.stdout
    rows = json.loads((tmp / "out" / "relations" / "score.json").read_text())
    ident = next(r for r in rows if r["relation"] == "identity")
    assert ident["nonlocalness"] == 0 and ident["plausibility"] == 1.0
    res = _run(["ablate", "rows", "--seeds", "0,1", *args])
    assert res.returncode == 0, res.stderr[-3000:]
    table = json.loads((tmp / "out" / "ablate" / "rows.json").read_text())["target_test"]
    assert table["+ L_CR"]["mpjpe"]["n"] == 2
    assert table["+ L_CR"]["delta_vs_gs"]["mpjpe"]["n"] == 2
    assert "Constant: mean source pose" in table
    # each seed adapts from its own Gs
    seed1_run = tmp / "out" / "ablate" / "rows" / "plus_L_CR" / "seed1" / "checkpoint.safetensors"
    init = checkpoint.checkpoint_info(seed1_run, "image_to_latent")["extra"]["init"]
    assert "baselines/seed1/source" in init
    # rows without adaptation get one run per seed too: seed 1's are trained under ablate/
    for label in ("Oracle", "Ours, source only (Gs)", "AdaBN"):
        assert table[label]["mpjpe"]["n"] == 2
    seed1 = tmp / "out" / "ablate" / "rows" / "baselines" / "seed1"
    assert (seed1 / "oracle" / "checkpoint.safetensors").exists()
    assert "paper MPJPE" in (tmp / "out" / "ablate" / "rows.md").read_text()
    assert "Δ MPJPE vs own Gs" in (tmp / "out" / "ablate" / "rows.md").read_text()


def test_adapt_to_a_users_video_then_predict_on_it(demo_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SA3DHP_NO_PROGRESS", "1")
    from safetensors.torch import load_file

    from sa3dhp.data.video import synthetic_video, write_synthetic_video
    from sa3dhp.data.world import WorldConfig

    tmp, overrides = demo_run
    args = [*overrides, f"out_dir={tmp / 'out'}"]
    video = synthetic_video(WorldConfig(), frames=90, width=256, height=160, seed=5)
    files = write_synthetic_video(video, tmp_path / "mine.mp4")
    boxes = ["--detector", "boxes", "--boxes", str(files["boxes"])]
    assert cli.main(["adapt", "--videos", str(files["video"]), *boxes, *args]) == 0
    run = tmp / "out" / "adapted_videos"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["videos"]["mine.mp4"] == {"frames": 90, "fps": 30.0, "tracks": 1, "clips": 2}
    record = checkpoint.checkpoint_info(run / "checkpoint.safetensors", "image_to_latent")
    assert "mine.mp4" in record["provenance"]["data"]["videos"]
    gs, adapted = (
        load_file(str(d / "checkpoint.safetensors")) for d in (tmp / "out" / "source", run)
    )
    changed = {
        k.split(".")[2] for k in gs if k.startswith("model.G.") and not (gs[k] == adapted[k]).all()
    }
    assert changed == {"layer2"}  # only the Res-3 block trained, on the user's video
    out = tmp_path / "pred"
    assert (
        cli.main(["predict", str(files["video"]), "--model", str(run), "--out", str(out), *boxes])
        == 0
    )
    import numpy as np

    assert np.load(out / "predictions.npz")["pose_mm"].shape == (90, 17, 3)
    # AdaBN on the user's video: Gs's weights, the statistics of the people in the video
    assert cli.main(["adapt", "--adabn", "--videos", str(files["video"]), *boxes, *args]) == 0
    run_bn = tmp / "out" / "adabn_videos"
    assert json.loads((run_bn / "metrics.json").read_text())["videos"]["mine.mp4"]["clips"] == 2
    info = checkpoint.checkpoint_info(run_bn / "checkpoint.safetensors", "image_to_latent")
    assert "mine.mp4" in info["provenance"]["data"]["videos"]
    bn = load_file(str(run_bn / "checkpoint.safetensors"))
    g = [k for k in gs if k.startswith("model.G.")]
    assert all((gs[k] == bn[k]).all() for k in g if "running" not in k and "num_batches" not in k)
    assert any(not (gs[k] == bn[k]).all() for k in g if "running_mean" in k)
    # another video into the same run is refused, naming what differs
    other = write_synthetic_video(
        synthetic_video(WorldConfig(), 90, 256, 160, seed=6), tmp_path / "b.mp4"
    )
    capsys.readouterr()
    assert cli.main(["adapt", "--videos", str(other["video"]), *boxes, *args]) == 2
    err = capsys.readouterr().err
    assert "videos" in err and "--force" in err


def test_a_converted_folder_of_videos_is_a_target_split_adapt_runs_on(
    demo_run, tmp_path, monkeypatch
):
    monkeypatch.setenv("SA3DHP_NO_PROGRESS", "1")
    import numpy as np

    from sa3dhp.data.store import read_split
    from sa3dhp.data.video import synthetic_video
    from sa3dhp.data.world import WorldConfig
    from sa3dhp.media import write_video

    tmp, overrides = demo_run
    folder = tmp_path / "videos"
    folder.mkdir()
    video = synthetic_video(WorldConfig(), frames=70, width=128, height=96, seed=8)
    write_video(folder / "clip.mp4", video.frames, 30)
    out = tmp_path / "target"
    convert = ["data", "convert", "videos", str(folder), "--out", str(out), "--detector", "full"]
    assert cli.main(convert) == 0
    split = read_split(out)
    assert not split.labelled and split.images.shape == (120, 64, 64, 3)  # 2 clips of 60
    assert split.meta["videos"]["clip.mp4"]["clips"] == 2 and split.meta["clip_length"] == 60
    assert len(np.unique(split.clip)) == 2
    args = [*overrides, f"out_dir={tmp / 'out'}", f"data.target_train={out}"]
    assert cli.main(["adapt", "--name", "adapted_converted", *args]) == 0
    assert (tmp / "out" / "adapted_converted" / "checkpoint.safetensors").exists()


def test_adabn_from_an_adapted_model_keeps_its_weights_and_refits_its_statistics(demo_run, capsys):
    from safetensors.torch import load_file

    tmp, overrides = demo_run
    args = [*overrides, f"out_dir={tmp / 'out'}"]
    adapted = tmp / "out" / "adapted"
    assert (
        cli.main(["adapt", "--adabn", "--init", str(adapted), "--name", "then_adabn", *args]) == 0
    )
    run = tmp / "out" / "then_adabn" / "checkpoint.safetensors"
    info = checkpoint.checkpoint_info(run, "image_to_latent")
    assert info["extra"]["init"] == str(adapted / "checkpoint.safetensors")
    before, after = load_file(str(adapted / "checkpoint.safetensors")), load_file(str(run))
    g = [k for k in before if k.startswith("model.G.")]
    weights = [k for k in g if "running" not in k and "num_batches" not in k]
    assert all((before[k] == after[k]).all() for k in weights)
    assert any(not (before[k] == after[k]).all() for k in g if "running_mean" in k)
    capsys.readouterr()
    assert cli.main(["adapt", "--adabn", "--init", str(tmp / "nowhere"), *args]) == 2
    assert "--init" in capsys.readouterr().err

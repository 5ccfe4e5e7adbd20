"""What bad input gets: one line naming what was wrong (and how to fix it), never a traceback or
a silently wrong result."""

import json
import os
import re

import numpy as np
import pytest

from sa3dhp import cli
from sa3dhp.config import load_config
from sa3dhp.data import store, synth
from tests.test_synth import TINY, tiny_world


def _main(capsys, *argv: str) -> tuple[int, str]:
    rc = cli.main(list(argv))
    return rc, capsys.readouterr().err.strip()


@pytest.mark.parametrize(
    "override, message",
    [
        ("pose_prior.steps=-5", "pose_prior.steps=-5: must be an integer >= 1"),
        ("source.checkpoint_every=0", "source.checkpoint_every=0: must be an integer >= 1"),
        ("source.oracle_steps=0", "source.oracle_steps=0: must be an integer >= 1"),
        ("adapt.log_every=0", "adapt.log_every=0: must be an integer >= 1"),
        ("source.eval_every=-1", "source.eval_every=-1: must be an integer >= 0"),
        ("adapt.lr=0", "adapt.lr=0.0: a learning rate must be > 0"),
        ("adapt.bn_every=0", "adapt.bn_every=0: must be an integer >= 1"),
        ("adapt.bn=batch", "adapt.bn=batch: choose source (the paper's) or target"),
    ],
)
def test_counts_that_cannot_train_are_refused(capsys, override, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        load_config("demo", [override])
    rc, err = _main(capsys, "train", "pose-prior", override)
    assert rc == 2 and err.startswith(f"sa3dhp: error: {message}") and "\n" not in err


def test_out_dir_that_is_a_file_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    rc, err = _main(capsys, "train", "pose-prior", f"out_dir={tmp_path / 'f'}")
    assert rc == 2 and "is a file, not a directory" in err and "\n" not in err


def test_overrides_are_accepted_after_an_option(tmp_path, capsys):
    # the last override (after --relations) is merged: its bad value is what gets refused
    rc, err = _main(
        capsys, "train", "relations", f"out_dir={tmp_path}", "--relations", "flip",
        "pose_prior.steps=-1",
    )  # fmt: skip
    assert rc == 2 and "pose_prior.steps=-1" in err
    with pytest.raises(SystemExit) as e:  # a stray word is still an error
        cli.main(["train", "relations", f"out_dir={tmp_path}", "--relations", "flip", "oops"])
    assert e.value.code == 2 and "unrecognized arguments: oops" in capsys.readouterr().err


def test_evaluate_prior_refuses_a_checkpoint_it_would_ignore(capsys):
    rc, err = _main(capsys, "evaluate", "prior", "--checkpoint", "g.safetensors")
    assert rc == 2 and "--checkpoint is for image models" in err


def test_a_model_too_large_to_allocate_gives_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SA3DHP_NO_PROGRESS", "1")  # the world's build bar also writes to stderr
    args = [*TINY, f"data.cache_dir={tmp_path / 'c'}", f"out_dir={tmp_path / 'o'}"]
    rc, err = _main(capsys, "train", "pose-prior", *args, "pose_prior.hidden=100000000000")
    assert rc == 2 and err.startswith("sa3dhp: error: out of memory") and "\n" not in err


# ------------------------------------------------------------------------- the split store


def _split(tmp_path, n: int = 6):
    arrays = {
        "clip": np.repeat(np.arange(2), n // 2),
        "frame": np.tile(np.arange(n // 2), 2),
        "images": np.zeros((n, 8, 8, 3), np.uint8),
        "poses": np.zeros((n, 17, 3), np.float32),
    }
    meta = {"split": "s", "labelled": True, "image_size": 8}
    return store.write_split(tmp_path / "s", arrays, meta)


def _edit_meta(directory, **changes):
    meta = json.loads((directory / "meta.json").read_text())
    (directory / "meta.json").write_text(json.dumps({**meta, **changes}))


def test_a_truncated_shard_is_refused_naming_the_file(tmp_path):
    d = _split(tmp_path)
    shard = d / "shard-00000.npz"
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(store.SplitError, match=r"shard-00000\.npz: unreadable or truncated"):
        store.read_split(d)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[1, 2]", "must hold a JSON object, got a list"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_broken_meta_json_is_refused_naming_the_file(tmp_path, text, message):
    d = _split(tmp_path)
    (d / "meta.json").write_text(text)
    with pytest.raises(store.SplitError, match=message) as e:
        store.read_split(d)
    assert str(d / "meta.json") in str(e.value)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"num_frames": 7}, "meta.json says 7 frames, the shards hold 6"),
        ({"num_clips": 3}, "meta.json says 3 clips"),
        ({"image_size": 16}, "meta.json says size 16"),
        ({"labelled": False}, "says unlabelled, but the shards hold labels"),
    ],
)
def test_a_meta_json_that_does_not_match_the_content_is_refused(tmp_path, changes, message):
    d = _split(tmp_path)
    _edit_meta(d, **changes)
    with pytest.raises(store.SplitError, match=message):
        store.read_split(d)


@pytest.fixture(scope="module")
def world_cfg(tmp_path_factory):
    return tiny_world(tmp_path_factory.mktemp("world"))


def test_a_damaged_cached_split_is_rebuilt_or_refused(world_cfg):
    good = synth.load_split(world_cfg, "source_val")
    d = synth.world_dir(world_cfg) / "source_val"
    shard = d / "shard-00000.npz"
    shard.write_bytes(shard.read_bytes()[:200])
    with pytest.raises(store.SplitError, match="truncated"):
        synth.load_split(world_cfg, "source_val", build=False)
    again = synth.load_split(world_cfg, "source_val")  # rebuilt, bit-identical
    assert np.array_equal(again.images, good.images) and np.array_equal(again.poses, good.poses)


def test_a_cached_split_of_another_world_is_rebuilt_or_refused(world_cfg):
    d = synth.world_dir(world_cfg) / "target_val"
    good = synth.load_split(world_cfg, "target_val")
    _edit_meta(d, world_hash="0123456789ab")
    with pytest.raises(store.SplitError, match="world_hash is '0123456789ab'"):
        synth.load_split(world_cfg, "target_val", build=False)
    assert synth.load_split(world_cfg, "target_val").meta["world_hash"] == good.meta["world_hash"]


def test_temporaries_of_a_killed_build_are_removed_by_the_next_build(world_cfg):
    root = synth.world_dir(world_cfg)
    dead_pid = 2**22 + 12345  # above the usual pid_max: no such process
    stale = root / f"source_train.tmp-{dead_pid}"
    (stale / "sub").mkdir(parents=True)
    live = root / f"source_train.tmp-{os.getpid()}"  # our own: kept
    live.mkdir()
    synth.build_world(world_cfg, progress=False)
    assert not stale.exists() and live.exists()
    live.rmdir()


def test_only_rank_0_builds_the_world(tmp_path, monkeypatch):
    cfg = load_config("demo", [*TINY, f"data.cache_dir={tmp_path}"]).data
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setattr(synth, "WAIT_TIMEOUT_S", 0.3)
    with pytest.raises(TimeoutError, match="rank 0 did not build"):
        synth.build_world(cfg, ("source_val",), progress=False)
    assert not (synth.world_dir(cfg) / "source_val").exists()  # rank 1 wrote nothing
    monkeypatch.setenv("RANK", "0")
    synth.build_world(cfg, ("source_val",), progress=False)
    monkeypatch.setenv("RANK", "1")
    assert synth.build_world(cfg, ("source_val",), progress=False) == synth.world_dir(cfg)


def test_mirroring_source_crops_whose_look_shades_sides_differently_is_refused(tmp_path):
    from sa3dhp.config import load_config
    from sa3dhp.runs import image_models

    cfg = load_config("demo", [f"out_dir={tmp_path}", "source.flip_prob=0.5"])
    with pytest.raises(ValueError, match="side_contrast"):
        image_models.train_image_model(cfg, "source")
    assert not (tmp_path / "source").exists()

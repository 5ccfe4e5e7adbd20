import json

import numpy as np
import pytest

from sa3dhp.config import load_config
from sa3dhp.data import synth
from sa3dhp.data.store import read_split

TINY = [
    "data.workers=1",
    "data.mocap.clips=6",
    "data.mocap.frames=60",
    "data.source_train.clips=6",
    "data.source_train.frames=4",
    "data.source_val.clips=4",
    "data.source_val.frames=4",
    "data.target_train.clips=3",
    "data.target_train.frames=60",
    "data.target_test.clips=4",
    "data.target_test.frames=30",
    "data.target_oracle.clips=4",
    "data.target_oracle.frames=4",
    "data.target_val.clips=4",
    "data.target_val.frames=30",
]


def tiny_world(tmp_path, *extra: str) -> synth.WorldConfig:
    cfg = load_config("demo", [*TINY, f"data.cache_dir={tmp_path}", *extra]).data
    synth.build_world(cfg, progress=False)
    return cfg


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return tiny_world(tmp_path_factory.mktemp("world"))


def test_every_split_is_built_in_the_documented_format(world):
    for split in synth.SPLITS:
        data = synth.load_split(world, split)
        assert data.meta["split"] == split and data.meta["format"] == 1
        assert len(data) == data.meta["num_frames"] > 0
        if split != "mocap":
            assert data.images.dtype == np.uint8 and data.images.shape[1:] == (64, 64, 3)
        if data.labelled:
            assert data.poses.dtype == np.float32 and data.poses.shape[1:] == (17, 3)


def test_target_train_holds_no_labels(world):
    directory = synth.world_dir(world) / "target_train"
    meta = json.loads((directory / "meta.json").read_text())
    assert meta["labelled"] is False
    with np.load(directory / "shard-00000.npz") as z:
        assert set(z.files) == {"images", "clip", "frame"}
    data = read_split(directory)
    assert data.poses is None and data.roots is None and data.action is None
    assert data.meta["clip_length"] >= 60 and data.num_clips == 3


def test_every_rendered_joint_falls_inside_its_crop(world):
    for split in ("source_train", "source_val", "target_test", "target_oracle"):
        uv = synth.joints_in_crop(synth.load_split(world, split))
        assert (uv > 0).all() and (uv < 64).all(), split


def test_deterministic_for_a_seed_and_cached_by_config(tmp_path, world):
    again = tiny_world(tmp_path)
    for split in ("mocap", "target_train", "source_train"):
        a, b = synth.load_split(world, split), synth.load_split(again, split)
        np.testing.assert_array_equal(a.clip, b.clip)
        if a.images is not None:
            np.testing.assert_array_equal(a.images, b.images)
        if a.poses is not None:
            np.testing.assert_array_equal(a.poses, b.poses)
    other = load_config("demo", [*TINY, f"data.cache_dir={tmp_path}", "data.seed=1"]).data
    assert synth.world_dir(other) != synth.world_dir(again)
    stamp = (synth.world_dir(again) / "mocap" / "meta.json").stat().st_mtime_ns
    synth.build_world(again, progress=False)  # cached: nothing is rebuilt
    assert (synth.world_dir(again) / "mocap" / "meta.json").stat().st_mtime_ns == stamp


def test_mocap_subjects_are_never_rendered(world):
    mocap = synth.load_split(world, "mocap")
    assert mocap.images is None
    a = _subject_lengths(mocap)
    for split in ("source_train", "source_val", "target_val", "target_test", "target_oracle"):
        b = _subject_lengths(synth.load_split(world, split))
        # no mocap subject is rendered: every pair of subjects differs by > 1 mm in some bone
        assert (np.abs(a[:, None] - b[None]).max(axis=-1) > 1.0).all(), split


def _subject_lengths(split) -> np.ndarray:
    """Bone lengths ``(subjects, 13)`` mm of each subject of a labelled split, from its poses;
    checks that every frame of a subject has its subject's lengths."""
    from sa3dhp.kinematics import direction_bone_lengths

    lengths = direction_bone_lengths(split.poses.astype(np.float64))
    out = []
    for s in np.unique(split.subject):
        mine = lengths[split.subject == s]
        assert np.abs(mine - mine[0]).max() < 0.05  # lengths identify a subject
        out.append(mine[0])
    return np.array(out)


def test_target_val_and_target_test_share_no_clip_or_subject(world):
    val, test = synth.load_split(world, "target_val"), synth.load_split(world, "target_test")
    assert val.labelled and test.labelled and len(val) > 0
    a, b = _subject_lengths(val), _subject_lengths(test)
    # no subject of target_val is one of target_test: every pair differs by > 1 mm somewhere
    assert (np.abs(a[:, None] - b[None]).max(axis=-1) > 1.0).all()
    # no frame of one split is a frame of the other
    flat = {img.tobytes() for img in test.images}
    assert not any(img.tobytes() in flat for img in val.images)


def test_split_hash_follows_the_split_content():
    base = load_config("demo").data
    look = load_config("demo", ["data.target_look=source"]).data
    for split in synth.SPLITS:
        same = synth.split_hash(base, split) == synth.split_hash(look, split)
        assert same == (not split.startswith("target")), split
    assert synth.split_hash(base, "target_val") != synth.split_hash(base, "target_test")


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("data.size=-64", "data.size"),
        ("data.target_train.frames=30", "data.target_train.frames"),
        ("data.target_appearance={sparkle: 1}", "data.target_appearance"),
        ("data.source_motion={action_weights: {moonwalk: 1.0}}", "action_weights"),
        ("data.crop_scale=0.5", "data.crop_scale"),
        ("data.target_style=moon", "data.target_style"),
        ("data.target_look=moon", "data.target_look"),
    ],
)
def test_invalid_config_values_are_refused(tmp_path, override, key):
    cfg = load_config("demo", [f"data.cache_dir={tmp_path}", override]).data
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        synth.build_world(cfg, progress=False)


def test_unknown_config_key_is_refused():
    with pytest.raises(ValueError, match=r"unknown config key 'data\.sise'"):
        load_config("demo", ["data.sise=64"])

"""The held-out mocap split: one key (data.mocap_holdout), the same clips for every stage."""

import numpy as np
import pytest

from sa3dhp import provenance as prov
from sa3dhp.config import load_config
from sa3dhp.data import splits, synth
from sa3dhp.data.clips import clip_array
from sa3dhp.relation_pairs import RelationData
from sa3dhp.runs import priors


def _mocap(clips: int = 10, length: int = 4):
    clip = np.repeat(np.arange(100, 100 + clips), length)
    poses = np.random.default_rng(0).normal(size=(clips * length, 17, 3)).astype(np.float32)
    return poses, clip


def test_the_last_clips_are_held_out_and_at_least_one():
    _, clip = _mocap(10)
    assert np.unique(clip[splits.heldout_mask(clip, 0.2)]).tolist() == [108, 109]
    assert np.unique(clip[splits.heldout_mask(clip, 0.01)]).tolist() == [109]
    with pytest.raises(ValueError, match="holds out 10 of 10 mocap clips"):
        splits.heldout_mask(clip, 0.99)


def test_every_stage_holds_out_the_same_clips():
    poses, clip = _mocap(10)
    train_frames, val_frames = splits.split_frames(poses, clip, 0.3)  # the pose prior
    train_clips, val_clips = splits.split_clips(clip_array(poses, clip), 0.3)  # the motion prior
    assert np.array_equal(train_frames, train_clips.reshape(-1, 17, 3))
    rel = RelationData(poses, clip, 0.3)  # relation networks and the scorer
    assert np.array_equal(val_frames, val_clips.reshape(-1, 17, 3))
    assert np.array_equal(val_frames, rel.val_poses.numpy())
    assert np.array_equal(train_frames, rel.train_poses.numpy())
    assert len(train_frames) + len(val_frames) == len(poses)
    held = {p.tobytes() for p in val_frames}
    assert not any(p.tobytes() in held for p in train_frames)  # no leak


def test_the_key_is_in_the_priors_records_and_not_in_the_world_hash():
    a = load_config("demo")
    b = load_config("demo", ["data.mocap_holdout=0.2"])
    assert synth.world_hash(a.data) == synth.world_hash(b.data)  # nothing to regenerate
    ra, rb = priors.pose_prior_record(a), priors.pose_prior_record(b)
    assert ra["data"]["mocap_holdout"] == 0.1 and rb["data"]["mocap_holdout"] == 0.2
    # every stage that reads mocap records it (the motion prior and relation networks too)
    rm = prov.stage_record(b.motion_prior, seed=0, world=b.data, splits=["mocap"])
    assert rm["data"]["mocap_holdout"] == 0.2
    with pytest.raises(ValueError, match=r"data.mocap_holdout=0.0: must be in \(0, 1\)"):
        synth.validate(load_config("demo", ["data.mocap_holdout=0"]).data)

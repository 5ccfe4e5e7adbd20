"""Relation networks (Tz/Tv) and the non-localness score."""

import numpy as np
import pytest
import torch

from sa3dhp import relation_pairs as pairs_mod
from sa3dhp import relations as rel
from sa3dhp import scoring
from sa3dhp.data import motion as motion_mod
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.pose_prior import PosePrior
from sa3dhp.runs.relation_nets import relation_network
from sa3dhp.train import relations as trel


def test_relation_net_recovers_an_exactly_known_latent_map():
    # a signed permutation of the cube, like flip acts on a disentangled latent
    g = torch.Generator().manual_seed(0)
    u = torch.rand(6000, 8, generator=g) * 2 - 1
    perm = torch.tensor([3, 0, 1, 2, 7, 6, 5, 4])
    sign = torch.tensor([1.0, -1, 1, -1, 1, 1, -1, 1])

    def exact(x):
        return x[:, perm] * sign

    net = trel.fit_relation(u[:5000], exact(u[:5000]), steps=1500, hidden=128, lr=2e-3)
    held_out = u[5000:]
    err = pairs_mod.relative_error(net(held_out), exact(held_out), held_out)
    assert err < 0.1
    # an untrained network is far off: the test can fail
    untrained = trel.fit_relation(u[:10], exact(u[:10]), steps=0, hidden=128)
    assert pairs_mod.relative_error(untrained(held_out), exact(held_out), held_out) > 0.5


def test_relative_error_edge_cases():
    a = torch.zeros(4, 3)
    assert pairs_mod.relative_error(a, a, a) == 0.0
    assert pairs_mod.relative_error(a + 1, a, a) == float("inf")


def test_parse_relations_canonicalises_and_refuses_bad_names():
    assert trel.parse_relations("flip, inplane50+flip,flip") == ["flip", "flip+inplane50"]
    with pytest.raises(ValueError, match=r"unknown relation .sideways"):
        trel.parse_relations("flip,sideways")
    with pytest.raises(ValueError, match="no relation"):
        trel.parse_relations(" , ")


def test_motion_pairs_follow_the_relation():
    clips = torch.randn(3, 60, 17, 3) * 100
    slow = rel.get("slow-backward")
    anchor, related = pairs_mod.motion_pairs(slow, clips, 30, 2, torch.Generator(), augment=False)
    assert anchor.shape == related.shape == (6, 30, 17, 3)
    src = clips.repeat_interleave(2, dim=0)  # span 60 = the clip: the start is 0
    assert torch.equal(anchor, src[:, ::2])
    assert torch.equal(related, src[:, 15:45].flip(1))
    with pytest.raises(ValueError, match="needs 60-frame clips"):
        pairs_mod.motion_pairs(slow, clips[:, :40], 30, 1, torch.Generator())


def test_arch_dimension_follows_the_space():
    assert trel.arch_of("flip", 64)["dim"] == 32
    assert trel.arch_of("flip-backward", 64)["dim"] == 128
    assert rel.get("slow").space == "v"


@pytest.fixture(scope="module")
def tiny_mocap():
    rng = np.random.default_rng(0)
    poses, clip = [], []
    for c in range(12):
        subject = motion_mod.sample_subject(rng)
        m = motion_mod.generate_motion(subject, 60, motion_mod.mocap_style(), rng).poses
        poses.append(m)
        clip.append(np.full(60, c))
    return pairs_mod.RelationData(np.concatenate(poses), np.concatenate(clip), 0.25)


def test_identity_scores_zero_nonlocalness_and_full_plausibility(tiny_mocap):
    torch.manual_seed(0)
    prior = PosePrior(hidden=32, blocks=1).eval().requires_grad_(False)
    motion = MotionPrior(hidden=8).eval().requires_grad_(False)
    cfg = trel.RelationsConfig(
        score_steps=20, score_poses=200, reference_poses=400, windows_per_clip=2, hidden=32
    )
    fitted = []

    def network(relation):  # the run's quick fit, observed
        fitted.append(relation.name)
        return relation_network(cfg, tiny_mocap, prior, motion, None)(relation)

    rows = scoring.score_relations(
        ["identity", "flip", "inplane100", "backward"], tiny_mocap, prior, motion, network,
        cfg.score_poses, cfg.reference_poses, cfg.windows_per_clip, progress=False,
    )  # fmt: skip
    assert fitted == ["flip", "inplane100", "backward"]  # identity needs no network
    assert {r["fit_from"] for r in rows} == {"exact", "quick fit (20 steps)"}
    by = {r["relation"]: r for r in rows}
    assert by["identity"]["nonlocalness"] == 0.0
    assert by["identity"]["plausibility"] == 1.0
    assert by["identity"]["fit_relative_error"] == 0.0
    assert by["flip"]["nonlocalness"] > 0
    assert by["backward"]["space"] == "v" and by["backward"]["nonlocalness"] > 0
    # a person turned 100 degrees in the image plane is far from any mocap pose
    assert by["inplane100"]["plausibility"] < 0.5
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert rows == sorted(rows, key=lambda r: -r["score"])


def test_score_outputs_are_written(tmp_path):
    rows = [
        {"relation": "flip", "space": "z", "nonlocalness": 1.0, "nonlocalness_norm": 0.5,
         "plausibility": 1.0, "fit_relative_error": 0.1, "score": 0.45, "rank": 1},
        {"relation": "backward", "space": "v", "nonlocalness": 0.5, "nonlocalness_norm": 0.3,
         "plausibility": 0.9, "fit_relative_error": 0.2, "score": 0.2, "rank": 2},
    ]  # fmt: skip
    files = scoring.write_scores(rows, tmp_path)
    assert all(p.exists() and p.stat().st_size > 0 for p in files.values())
    assert "| 1 | flip | z |" in files["markdown"].read_text()

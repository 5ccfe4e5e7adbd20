"""Our control ``adapt.teacher=exact``: the relation applied to G's own answer through the frozen
priors, in place of the relation network (:mod:`sa3dhp.train.exact_teacher`)."""

import pytest
import torch

from sa3dhp import relations as rel
from sa3dhp import skeleton as sk
from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.pose_prior import PosePrior
from sa3dhp.models.relation_net import RelationNet
from sa3dhp.provenance import at_default
from sa3dhp.train import adapt, adapt_terms
from sa3dhp.train import exact_teacher as et
from tests.test_adapt import _tiny


def test_double_rate_fills_the_in_between_frames_by_linear_interpolation():
    z = torch.tensor([[0.0, 2.0, 6.0]]).unsqueeze(-1)  # (1, 3, 1)
    assert et.double_rate(z).flatten().tolist() == [0.0, 1.0, 2.0, 4.0, 6.0, 6.0]


@pytest.mark.parametrize("name", ["slow", "slow-backward", "backward"])
def test_the_exact_motion_teacher_lands_on_the_frames_the_student_sees(name):
    """On a clip whose latent is linear in time (each frame's latent is its time), the exact
    relation of the anchor's latents is the latents of the frames ``Relation.video`` takes."""
    r = rel.get(name)
    frames = torch.arange(float(r.clip_length(8))).view(1, -1, 1)  # latent = 30 FPS frame time
    video = frames.view(1, -1, 1, 1, 1)
    anchor = r.anchor_video(video).view(1, -1, 1)
    expected = r.video(video).view(1, -1, 1)
    assert et.motion_latents(None, r, anchor).tolist() == expected.tolist()  # type: ignore[arg-type]


def test_the_exact_pose_teacher_is_the_mirror_of_the_decoded_pose_re_encoded():
    torch.manual_seed(0)
    prior = PosePrior(hidden=32).eval()
    z = torch.rand(5, 32) * 2 - 1
    pose = prior.decode(z)
    mirrored = pose * torch.tensor([-1.0, 1.0, 1.0])  # x -> -x, then left <-> right
    mirrored = mirrored[:, list(sk.FLIP_PERMUTATION)]
    assert torch.allclose(et.pose_teacher(prior, rel.get("flip"), z), prior.encode(mirrored))
    assert not torch.allclose(et.pose_teacher(prior, rel.get("flip"), z), z, atol=1e-3)
    with pytest.raises(ValueError, match="L_z takes a spatial relation, got 'backward'"):
        et.pose_teacher(prior, rel.get("backward"), z)
    # a spatial part goes through the prior frame by frame; backward alone does not
    seq = z.view(1, 5, 32)
    flip_bw = et.motion_latents(prior, rel.get("flip-backward"), seq)
    assert torch.allclose(flip_bw, prior.encode(mirrored).flip(0).view(1, 5, 32))
    assert torch.equal(et.motion_latents(prior, rel.get("backward"), seq), seq.flip(1))


def _adapter(kind: str, name: str, teacher: str, with_nets: bool = True, **kw):
    torch.manual_seed(0)
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16).eval()
    motion = MotionPrior(hidden=8).eval().requires_grad_(False)
    prior = PosePrior(hidden=32).eval().requires_grad_(False)
    nets = {name: RelationNet(32 if kind == "z" else 128, 16).eval()} if with_nets else {}
    clips = torch.randint(0, 256, (6, 60, 3, 32, 32), dtype=torch.uint8)
    params = adapt_terms.set_trainable(model, ["layer2"])
    cfg = adapt.AdaptConfig(
        losses=[f"{kind}:{name}"], frames=4, clips=2, amp=False, teacher=teacher, **kw
    )
    adapter = adapt.Adapter(cfg, model, motion, nets, clips, torch.device("cpu"), prior=prior)
    return adapter, model, motion, prior, clips, params


def test_exact_backward_asks_nothing_of_a_g_that_reads_one_frame_at_a_time():
    adapter, *_ = _adapter("v", "backward", "exact")
    loss = adapter.loss(0, torch.Generator().manual_seed(1))["loss"]
    assert loss.item() < 1e-5
    network, *_ = _adapter("v", "backward", "network")
    assert network.loss(0, torch.Generator().manual_seed(1))["loss"].item() > 1e-3


def test_exact_teachers_need_no_relation_network_the_networks_do():
    adapter, *_ = _adapter("z", "flip", "exact", with_nets=False)
    assert adapter.loss(0, torch.Generator().manual_seed(1))["loss"].item() > 0
    with pytest.raises(ValueError, match="no relation network for 'flip': train relations first"):
        _adapter("z", "flip", "network", with_nets=False)


def test_the_exact_flip_term_is_the_l1_to_the_teacher_built_by_hand_and_trains_layer2():
    adapter, model, _, prior, clips, params = _adapter("z", "flip", "exact")
    loss = adapter.loss(0, torch.Generator().manual_seed(1))["loss"]
    gen = torch.Generator().manual_seed(1)
    x = adapt_terms.frame_batch(clips, 4, gen).float() / 255.0
    flip = rel.get("flip")
    teacher = prior.encode(flip.pose(prior.decode(model(x))))
    expected = (teacher - model(flip.image(x))).abs().mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    model.zero_grad()
    loss.backward()
    assert sum(p.grad.abs().sum() for p in params) > 0


def test_exact_teacher_needs_the_prior_a_bad_choice_is_refused_and_the_default_is_left_out(
    tmp_path,
):
    with pytest.raises(ValueError, match=r"adapt\.teacher=exact needs the pose prior"):
        _tiny(tmp_path, ["z:flip"], steps=1, teacher="exact")
    with pytest.raises(ValueError, match=r"adapt\.teacher=oracle: choose network"):
        _tiny(tmp_path, ["z:flip"], steps=1, run="b", teacher="oracle")
    assert at_default(adapt.AdaptConfig(), ("teacher",)) == ("teacher",)
    assert at_default(adapt.AdaptConfig(teacher="exact"), ("teacher",)) == ()


def test_the_benchmark_sets_only_the_teacher_and_reads_first_and_last_losses(tmp_path):
    from sa3dhp.config import load_config
    from tests.conftest import load_benchmark

    bench = load_benchmark("exact_teacher")
    cfg = load_config(bench.BASE[0], bench.BASE[1])
    cfg5 = bench.exact(cfg, 5, steps=7)
    assert (cfg5.seed, cfg5.adapt.teacher, cfg5.adapt.steps) == (5, "exact", 7)
    assert bench.exact(cfg, 0).adapt.steps == cfg.adapt.steps
    assert cfg5.adapt == adapt.AdaptConfig(**{**vars(cfg.adapt), "teacher": "exact", "steps": 7})
    (tmp_path / "history.jsonl").write_text(
        '{"step": 8, "L_CR": 2.5, "z_std": 0.4}\n{"step": 9, "L_z(flip)": 0.4}\n'
        '{"step": 16, "L_CR": 2.0}\n{"step": 17, "target_val_mpjpe": 90.0}\n'
    )
    (tmp_path / "metrics.json").write_text('{"final_losses": {"L_CR": 2.1, "L_z(flip)": 0.3}}')
    assert bench.losses_of(tmp_path) == {
        "L_CR": {"first": 2.5, "last_quarter": 2.1},
        "L_z(flip)": {"first": 0.4, "last_quarter": 0.3},
    }

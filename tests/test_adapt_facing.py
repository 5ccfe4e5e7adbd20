"""Our relation option ``adapt.relation_facing=free``: L_z / L_v take G(tau x) or its depth
mirror, whichever is nearer to the relation's answer, so they do not ask G to settle facing."""

import pytest
import torch

from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.pose_prior import PosePrior
from sa3dhp.models.relation_net import RelationNet
from sa3dhp.provenance import at_default
from sa3dhp.train import adapt, adapt_terms
from tests.test_adapt import _tiny


def test_relation_l1_takes_the_nearer_of_the_student_and_its_mirror():
    g = torch.Generator().manual_seed(0)
    teacher, student = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    paper = adapt_terms.relation_l1(teacher, student)
    assert paper.item() == pytest.approx((teacher - student).abs().mean().item())
    # a mirror equal to the student changes nothing; the teacher itself as the mirror of the
    # first two samples removes their share of the loss, and only theirs
    assert adapt_terms.relation_l1(teacher, student, student).item() == pytest.approx(paper.item())
    mirror = student.clone()
    mirror[:2] = teacher[:2]
    expected = (teacher[2:] - student[2:]).abs().mean(-1).sum() / 5
    assert adapt_terms.relation_l1(teacher, student, mirror).item() == pytest.approx(
        expected.item(), rel=1e-6
    )


@pytest.mark.parametrize("kind", ["z", "v"])
def test_free_facing_is_the_nearer_of_the_student_and_its_depth_mirror(kind):
    """The adapter's loss equals :func:`relation_l1` with the mirror built by hand, is never above
    the paper's, and trains ``layer2`` through both sides."""
    torch.manual_seed(0)
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16).eval()
    motion = MotionPrior(hidden=8).eval().requires_grad_(False)
    prior = PosePrior(hidden=32).eval().requires_grad_(False)
    name = "flip" if kind == "z" else "slow-backward"
    nets = {name: RelationNet(32 if kind == "z" else 128, 16).eval().requires_grad_(False)}
    clips = torch.randint(0, 256, (6, 60, 3, 32, 32), dtype=torch.uint8)
    params = adapt_terms.set_trainable(model, ["layer2"])
    cpu = torch.device("cpu")

    def loss(facing: str) -> torch.Tensor:
        cfg = adapt.AdaptConfig(
            losses=[f"{kind}:{name}"], frames=6, clips=3, amp=False, relation_facing=facing
        )
        adapter = adapt.Adapter(cfg, model, motion, nets, clips, cpu, prior=prior)
        return adapter.loss(0, torch.Generator().manual_seed(1))["loss"]

    # by hand, on the same batch
    relation, gen = adapt_terms.rel.get(name), torch.Generator().manual_seed(1)
    if kind == "z":
        x = adapt_terms.frame_batch(clips, 6, gen).float() / 255.0
        teacher, student = nets[name](model(x)), model(relation.image(x))
        mirror = adapt_terms.depth_mirror_latent(prior, student)
    else:
        x = adapt_terms.clip_batch(clips, 3, relation.clip_length(30), gen).float() / 255.0
        za = adapt_terms.encode(model, relation.anchor_video(x), cpu, False)
        zt = adapt_terms.encode(model, relation.video(x), cpu, False)
        teacher, student = nets[name](motion.encode(za)), motion.encode(zt)
        flat = adapt_terms.depth_mirror_latent(prior, zt.flatten(0, 1))
        mirror = motion.encode(flat.view_as(zt))
    expected = adapt_terms.relation_l1(teacher, student, mirror)
    assert not torch.allclose(mirror, student, atol=1e-4)
    paper = adapt_terms.relation_l1(teacher, student).item()
    # with these random networks some frame's mirror is nearer for L_z; for L_v none need be
    assert expected.item() < paper if kind == "z" else expected.item() <= paper
    free = loss("free")
    assert free.item() == pytest.approx(expected.item(), rel=1e-5)
    assert free.item() <= loss("match").item() + 1e-7
    model.zero_grad()
    free.backward()
    assert all(p.grad is not None for p in params)
    assert sum(p.grad.abs().sum() for p in params) > 0


def test_free_facing_needs_the_prior_a_bad_choice_is_refused_and_the_default_is_left_out(
    tmp_path,
):
    with pytest.raises(ValueError, match=r"adapt\.relation_facing=free needs the pose prior"):
        _tiny(tmp_path, ["z:flip"], steps=1, relation_facing="free")
    with pytest.raises(ValueError, match=r"adapt\.relation_facing=any: choose match"):
        _tiny(tmp_path, ["z:flip"], steps=1, run="b", relation_facing="any")
    assert at_default(adapt.AdaptConfig(), ("relation_facing",)) == ("relation_facing",)
    assert at_default(adapt.AdaptConfig(relation_facing="free"), ("relation_facing",)) == ()

"""Our L_CR option ``adapt.cr_negatives=same_clip``: each anchor's negatives are other frames of
its own clip, so the loss cannot be lowered by telling clips apart by their look."""

import pytest
import torch
import torch.nn.functional as F

from sa3dhp import skeleton as sk
from sa3dhp.config import load_config
from sa3dhp.kinematics import pose_torso_frame
from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.relation_net import RelationNet
from sa3dhp.train import adapt, adapt_terms
from tests.conftest import random_poses
from tests.test_adapt import _tiny


def test_grouped_info_nce_is_the_mean_of_each_groups_own_info_nce():
    g = torch.Generator().manual_seed(1)
    a = F.normalize(torch.randn(12, 8, generator=g), dim=-1)
    b = F.normalize(a + 0.3 * torch.randn(12, 8, generator=g), dim=-1)
    groups = torch.arange(3).repeat_interleave(4)
    per_group = [adapt_terms.info_nce(a[groups == k], b[groups == k], 0.1) for k in range(3)]
    grouped = adapt_terms.info_nce(a, b, 0.1, groups)
    assert grouped.item() == pytest.approx(torch.stack(per_group).mean().item(), rel=1e-5)
    # one group for all is the paper's loss; other groups' samples no longer count
    assert adapt_terms.info_nce(a, b, 0.1, torch.zeros(12)).item() == pytest.approx(
        adapt_terms.info_nce(a, b, 0.1).item(), rel=1e-6
    )
    assert grouped.item() != pytest.approx(adapt_terms.info_nce(a, b, 0.1).item(), rel=1e-3)


def test_clip_frames_batch_takes_spread_frames_of_distinct_clips():
    # clip c, frame t is filled with the value 4 * c + t // 15 (t's stretch of a 60-frame clip)
    c, t = torch.meshgrid(torch.arange(6), torch.arange(60), indexing="ij")
    clips = (4 * c + t // 15).to(torch.uint8)[:, :, None, None, None].expand(6, 60, 3, 2, 2)
    x, groups = adapt_terms.clip_frames_batch(clips, 17, 4, torch.Generator().manual_seed(0))
    assert x.shape == (16, 3, 2, 2) and groups.tolist() == [i // 4 for i in range(16)]
    values = x[:, 0, 0, 0].long().view(4, 4)
    assert len(set((values[:, 0] // 4).tolist())) == 4  # four distinct clips
    assert (values // 4 == values[:, :1] // 4).all()  # each group from one clip
    assert (values % 4 == torch.arange(4)).all()  # one frame in each quarter of its clip
    with pytest.raises(ValueError, match="cr_per_clip=1"):
        adapt_terms.clip_frames_batch(clips, 16, 1, torch.Generator())


def test_same_clip_negatives_train_layer2_only_and_a_bad_choice_is_refused(tmp_path):
    model, before, out = _tiny(tmp_path, ["cr"], steps=2, cr_negatives="same_clip", cr_per_clip=2)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("layer2.") for k in changed)
    paper, _, out_paper = _tiny(tmp_path, ["cr"], steps=2, run="paper")
    assert out != out_paper  # another batch and another loss
    with pytest.raises(ValueError, match=r"adapt\.cr_negatives=frames: choose clips"):
        load_config("demo", ["adapt.cr_negatives=frames"])
    assert isinstance(paper, ImageToLatent) and adapt.AdaptConfig().cr_negatives == "clips"


def test_the_collapse_guard_skips_same_clip_batches_and_refuses_a_set_it_cannot_read(tmp_path):
    torch.manual_seed(0)
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16).eval()
    clips = torch.randint(0, 256, (6, 60, 3, 32, 32), dtype=torch.uint8)

    def cr_loss(negatives: str, guard: float) -> float:
        cfg = adapt.AdaptConfig(
            losses=["cr", "z:flip"], frames=4, cr_negatives=negatives, cr_per_clip=2,
            collapse_guard=guard, amp=False,
        )  # fmt: skip
        nets = {"flip": RelationNet(32, 16)}
        adapter = adapt.Adapter(cfg, model, None, nets, clips, torch.device("cpu"))
        adapter.guard_std = torch.full((32,), 10.0)  # a floor far above G's spread
        return adapter.loss(0, torch.Generator().manual_seed(0))["loss"].item()

    # with one frame per clip the guard adds its hinge to L_CR; with same_clip it reads nothing
    # (that batch holds two frames of each clip) and leaves it to L_z's batches
    assert cr_loss("clips", 1.0) > cr_loss("clips", 0.0) + 1.0
    assert cr_loss("same_clip", 1.0) == cr_loss("same_clip", 0.0)
    with pytest.raises(ValueError, match=r"adapt\.collapse_guard=1\.0: no term of \['cr'\]"):
        _tiny(tmp_path, ["cr"], steps=1, run="x", cr_negatives="same_clip", collapse_guard=1.0)
    with pytest.raises(ValueError, match=r"set adapt\.collapse_guard=0"):
        _tiny(tmp_path, ["v:slow-backward"], steps=1, run="y", collapse_guard=1.0)


def test_mirror_positives_take_the_nearer_of_the_view_and_its_mirror():
    g = torch.Generator().manual_seed(2)
    a = F.normalize(torch.randn(6, 8, generator=g), dim=-1)
    far = F.normalize(torch.randn(6, 8, generator=g), dim=-1)
    paper = adapt_terms.info_nce(a, far, 0.1)
    # with each view's mirror equal to the view itself, nothing changes
    assert adapt_terms.info_nce(a, far, 0.1, mirrors=(a, far)).item() == pytest.approx(paper.item())
    # the other view's mirror is the anchor itself: the loss falls as if the views agreed
    agreed = adapt_terms.info_nce(a, a, 0.1)
    mirrored = adapt_terms.info_nce(a, far, 0.1, mirrors=(far, a))
    assert mirrored.item() < paper.item() and mirrored.item() == pytest.approx(
        agreed.item(), rel=0.2
    )


class _PoseAsLatent:
    """A stand-in pose prior whose latent is the root-relative pose itself (51 numbers)."""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z.view(-1, 17, 3)

    def encode(self, pose: torch.Tensor) -> torch.Tensor:
        return pose.flatten(1)


def test_the_depth_mirror_of_a_latent_keeps_the_image_and_faces_the_other_way(tmp_path):
    poses = torch.as_tensor(random_poses(6, seed=3), dtype=torch.float32)
    poses = poses - poses[:, :1]
    z = poses.flatten(1).requires_grad_(True)
    mirrored = adapt_terms.depth_mirror_latent(_PoseAsLatent(), z).view(-1, 17, 3)
    back = mirrored[:, list(sk.FLIP_PERMUTATION)]  # undo the left/right swap
    assert torch.allclose(back[..., :2], poses[..., :2]) and torch.allclose(
        back[..., 2], -poses[..., 2]
    )
    fwd, fwd_m = pose_torso_frame(poses)[..., 2], pose_torso_frame(mirrored.detach())[..., 2]
    assert torch.allclose(fwd_m[:, 2], -fwd[:, 2], atol=1e-5)  # towards <-> away from the camera
    mirrored.sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"adapt\.cr_positive=view_or_mirror needs the pose"):
        _tiny(tmp_path, ["cr"], steps=1, cr_positive="view_or_mirror")

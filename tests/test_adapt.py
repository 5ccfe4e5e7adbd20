"""Unsupervised adaptation: loss grammar, InfoNCE, which parameters move, AdaBN."""

import pytest
import torch

from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.relation_net import RelationNet
from sa3dhp.train import adapt, core


def test_parse_losses_checks_the_space_of_each_relation():
    terms = adapt.parse_losses(["cr", "z:flip", "v:slow-backward", "hcr"])
    assert [k for k, _ in terms] == ["cr", "z", "v", "hcr"]
    assert terms[2][1].slow and terms[2][1].backward
    with pytest.raises(ValueError, match="use 'v:backward'"):
        adapt.parse_losses(["z:backward"])
    with pytest.raises(ValueError, match="use 'z:flip'"):
        adapt.parse_losses(["v:flip"])
    with pytest.raises(ValueError, match="bad entry 'xx'"):
        adapt.parse_losses(["xx"])
    assert adapt.relation_names(adapt.DEMO_LOSSES) == ["flip", "flip-backward", "slow-backward"]


def test_info_nce_prefers_matching_views():
    g = torch.Generator().manual_seed(0)
    a = torch.nn.functional.normalize(torch.randn(16, 8, generator=g), dim=-1)
    matched = adapt.info_nce(a, a, 0.07)
    shuffled = adapt.info_nce(a, a.roll(1, 0), 0.07)
    assert matched < 0.1 < shuffled


def test_pose_preserving_keeps_shapes_and_range():
    x = torch.randint(0, 256, (2, 5, 3, 32, 32), dtype=torch.uint8)
    out = adapt.pose_preserving(x, torch.Generator().manual_seed(0), 3)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    assert not torch.allclose(out, x.float() / 255)


def _tiny(tmp_path, losses, steps=4):
    torch.manual_seed(0)
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16)
    motion = MotionPrior(hidden=8)
    nets = {"flip": RelationNet(32, 16), "slow-backward": RelationNet(128, 16)}
    clips = torch.randint(0, 256, (6, 60, 3, 32, 32), dtype=torch.uint8)
    cfg = adapt.AdaptConfig(losses=losses, steps=steps, frames=4, clips=2, log_every=1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = adapt.train(cfg, model, motion, nets, clips, tmp_path / "run", device="cpu")
    return model, before, out


def test_only_layer2_changes_during_adaptation(tmp_path):
    model, before, out = _tiny(tmp_path, ["cr", "z:flip", "v:slow-backward", "hcr"])
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed, "adaptation changed nothing"
    assert all(k.startswith("layer2.") for k in changed), sorted(changed)[:5]
    # BatchNorm statistics stay those of the source, everywhere (layer2 included)
    assert not any("running" in k for k in changed)
    assert set(out) == {"L_CR", "L_z(flip)", "L_v(slow-backward)", "L_HCR"}
    history = core.read_history(tmp_path / "run")
    assert [h["step"] for h in history] == [1, 2, 3, 4]
    info = core.checkpoint_info(tmp_path / "run" / "checkpoint.safetensors", adapt.STAGE)
    assert info["step"] == 4 and info["extra"]["variant"] == "adapted"


def test_missing_relation_network_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no relation network for 'flip-backward'"):
        _tiny(tmp_path, ["v:flip-backward"], steps=1)


def test_adabn_changes_statistics_not_weights():
    torch.manual_seed(0)
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8)
    adapt.adabn(model, images, batch=16)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any("running_mean" in k for k in changed)
    assert all("running" in k or "num_batches" in k for k in changed)
    assert not model.training

"""Unsupervised adaptation: loss grammar, InfoNCE, which parameters move, AdaBN, determinism."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sa3dhp import checkpoint
from sa3dhp.data import augment
from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.relation_net import RelationNet
from sa3dhp.train import adapt, adapt_terms
from sa3dhp.train import logging as run_logging


def test_parse_losses_checks_the_space_of_each_relation():
    terms = adapt_terms.parse_losses(["cr", "z:flip", "v:slow-backward", "hcr"])
    assert [k for k, _ in terms] == ["cr", "z", "v", "hcr"]
    assert terms[2][1].slow and terms[2][1].backward
    with pytest.raises(ValueError, match="use 'v:backward'"):
        adapt_terms.parse_losses(["z:backward"])
    with pytest.raises(ValueError, match="use 'z:flip'"):
        adapt_terms.parse_losses(["v:flip"])
    with pytest.raises(ValueError, match="bad entry 'xx'"):
        adapt_terms.parse_losses(["xx"])
    assert adapt_terms.relation_names(adapt_terms.DEMO_LOSSES) == [
        "flip",
        "flip-backward",
        "slow-backward",
    ]


def test_info_nce_prefers_matching_views():
    g = torch.Generator().manual_seed(0)
    a = torch.nn.functional.normalize(torch.randn(16, 8, generator=g), dim=-1)
    matched = adapt_terms.info_nce(a, a, 0.07)
    shuffled = adapt_terms.info_nce(a, a.roll(1, 0), 0.07)
    assert matched < 0.1 < shuffled


def test_pose_preserving_keeps_shapes_and_range():
    x = torch.randint(0, 256, (2, 5, 3, 32, 32), dtype=torch.uint8)
    out = augment.pose_preserving(x, torch.Generator().manual_seed(0), 3)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    assert not torch.allclose(out, x.float() / 255)


def _tiny(tmp_path, losses, steps=4, seed=0, run="run", checkpoint_every=80, perturb=0, **extra):
    torch.manual_seed(0)
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16)
    motion = MotionPrior(hidden=8)
    nets = {"flip": RelationNet(32, 16), "slow-backward": RelationNet(128, 16)}
    clips = torch.randint(0, 256, (6, 60, 3, 32, 32), dtype=torch.uint8)
    torch.rand(perturb)  # moves the global RNG on: the run must not depend on its state
    cfg = adapt.AdaptConfig(
        losses=losses,
        steps=steps,
        frames=4,
        clips=2,
        log_every=1,
        checkpoint_every=checkpoint_every,
        **extra,
    )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = adapt.train(cfg, model, motion, nets, clips, Path(tmp_path) / run, seed, device="cpu")
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
    history = run_logging.read_history(tmp_path / "run")
    assert [h["step"] for h in history] == [1, 2, 3, 4]
    info = checkpoint.checkpoint_info(tmp_path / "run" / "checkpoint.safetensors", adapt.STAGE)
    assert info["step"] == 4 and info["extra"]["variant"] == "adapted"


def test_missing_relation_network_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no relation network for 'flip-backward'"):
        _tiny(tmp_path, ["v:flip-backward"], steps=1)


def test_adabn_changes_statistics_not_weights():
    torch.manual_seed(0)
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8)
    adapt_terms.adabn(model, images, batch=16)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any("running_mean" in k for k in changed)
    assert all("running" in k or "num_batches" in k for k in changed)
    assert not model.training


ALL_TERMS = ["cr", "z:flip", "v:slow-backward", "hcr"]


def test_adaptation_is_deterministic_for_a_seed(tmp_path):
    a, _, out_a = _tiny(tmp_path, ALL_TERMS, run="a", perturb=1)
    b, _, out_b = _tiny(tmp_path, ALL_TERMS, run="b", perturb=7)  # other global RNG state
    c, _, _ = _tiny(tmp_path, ALL_TERMS, run="c", seed=1, perturb=1)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert out_a == out_b and run_logging.read_history(tmp_path / "a") == run_logging.read_history(
        tmp_path / "b"
    )
    heads = [load_file(str(tmp_path / r / "checkpoint.safetensors")) for r in ("a", "b")]
    assert all(torch.equal(heads[0][k], heads[1][k]) for k in heads[0])  # G and both heads
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert run_logging.read_history(tmp_path / "a") != run_logging.read_history(tmp_path / "c")


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "SA3DHP_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1", **extra}
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    return env


def test_killed_adaptation_resumes_to_the_straight_run(tmp_path):
    kwargs = {"steps": 6, "checkpoint_every": 2}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the subprocesses (OMP_NUM_THREADS=1): the same float sums
    try:
        _tiny(tmp_path, ALL_TERMS, run="straight", **kwargs)
    finally:
        torch.set_num_threads(threads)
    code = (
        "import sys; from tests.test_adapt import ALL_TERMS, _tiny; "
        f"_tiny(sys.argv[1], ALL_TERMS, run='killed', **{kwargs!r})"
    )
    cmd = [sys.executable, "-c", code, str(tmp_path)]
    root = Path(__file__).resolve().parents[1]
    killed = subprocess.run(cmd, env=_env(SA3DHP_CRASH_AT_STEP="3"), cwd=root, timeout=300)
    assert killed.returncode == 17  # died after step 3; the last checkpoint is step 2
    ckpt = tmp_path / "killed" / "checkpoint.safetensors"
    assert checkpoint.checkpoint_info(ckpt, adapt.STAGE)["step"] == 2
    resumed = subprocess.run(cmd, env=_env(), cwd=root, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a = load_file(str(tmp_path / "straight" / "checkpoint.safetensors"))
    b = load_file(str(ckpt))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert run_logging.read_history(tmp_path / "straight") == run_logging.read_history(
        tmp_path / "killed"
    )


def test_named_loss_sets_stand_for_their_terms():
    assert [k for k, _ in adapt_terms.parse_losses(["paper"])] == ["cr", "z", "v", "v"]
    assert adapt_terms.relation_names(["paper"]) == adapt_terms.relation_names(
        adapt_terms.PAPER_LOSSES
    )
    with pytest.raises(ValueError, match="named set"):
        adapt_terms.parse_losses(["papers"])


def test_spread_hinge_is_zero_while_g_keeps_its_spread_and_pulls_a_collapse_apart():
    g = torch.Generator().manual_seed(0)
    spread = torch.randn(64, 32, generator=g) * 0.3
    floor = spread.std(dim=0)
    assert float(adapt_terms.spread_hinge(spread, floor)) == 0.0
    collapsed = (spread * 0.1).requires_grad_(True)
    penalty = adapt_terms.spread_hinge(collapsed, floor)
    assert float(penalty.detach()) > 0.2
    penalty.backward()
    # the gradient pushes samples away from the batch mean (larger spread)
    away = (collapsed.grad * (collapsed - collapsed.mean(0)).detach()).sum()
    assert float(away) < 0


def test_collapse_guard_changes_the_lower_order_steps_only_when_on(tmp_path):
    off, on = (_tiny_guard(tmp_path / f"g{guard}", guard) for guard in (0.0, 5.0))
    assert not torch.equal(off.layer2[0].conv1.weight, on.layer2[0].conv1.weight)
    # only the trained block moves, with or without the guard
    assert torch.equal(off.layer3[0].conv1.weight, on.layer3[0].conv1.weight)


def _tiny_guard(run_dir, guard) -> ImageToLatent:
    torch.manual_seed(0)
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16)
    nets = {"flip": RelationNet(32, 16)}
    clips = torch.randint(0, 256, (6, 60, 3, 32, 32), dtype=torch.uint8)
    cfg = adapt.AdaptConfig(
        losses=["z:flip"], steps=2, frames=4, log_every=1, collapse_guard=guard, amp=False
    )
    adapt.train(cfg, model, None, nets, clips, run_dir, seed=0, device="cpu")
    return model


def test_bn_target_refreshes_statistics_deterministically(tmp_path):
    kwargs = {"bn": "target", "bn_every": 2, "adabn_frames": 64}
    a, before, _ = _tiny(tmp_path, ["cr", "z:flip"], run="a", **kwargs)
    b, _, _ = _tiny(tmp_path, ["cr", "z:flip"], run="b", perturb=3, **kwargs)
    sa, sb = a.state_dict(), b.state_dict()
    changed = {k for k in before if not torch.equal(before[k], sa[k])}
    assert any("running_mean" in k and not k.startswith("layer2.") for k in changed)
    weights = {k for k in changed if "running" not in k and "num_batches" not in k}
    assert weights and all(k.startswith("layer2.") for k in weights)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)  # refreshes are keyed by the step
    message = r"^adapt\.bn=batch: choose source \(the paper's\) or target$"
    with pytest.raises(ValueError, match=message):
        _tiny(tmp_path, ["z:flip"], run="c", steps=1, bn="batch")


@pytest.mark.parametrize("kind", ["z", "v"])
def test_fixed_teacher_pulls_only_the_transformed_side(kind):
    """``teacher_grad=False``: the loss has the same value, and its gradient is that of
    |T(teacher) - student| with the teacher side computed without gradient."""
    torch.manual_seed(0)
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16).eval()
    motion = MotionPrior(hidden=8).eval().requires_grad_(False)
    name = "flip" if kind == "z" else "slow-backward"
    nets = {name: RelationNet(32 if kind == "z" else 128, 16).eval().requires_grad_(False)}
    clips = torch.randint(0, 256, (6, 60, 3, 32, 32), dtype=torch.uint8)
    params = adapt_terms.set_trainable(model, ["layer2"])

    def grads(teacher_grad: bool) -> tuple[float, list[torch.Tensor]]:
        cfg = adapt.AdaptConfig(
            losses=[f"{kind}:{name}"], frames=4, clips=2, amp=False, teacher_grad=teacher_grad
        )
        adapter = adapt.Adapter(cfg, model, motion, nets, clips, torch.device("cpu"))
        model.zero_grad()
        loss = adapter.loss(0, torch.Generator().manual_seed(1))["loss"]
        loss.backward()
        return loss.item(), [p.grad.clone() for p in params]

    both_value, both = grads(True)
    fixed_value, fixed = grads(False)
    assert fixed_value == pytest.approx(both_value, rel=1e-6)
    assert any(not torch.allclose(a, b) for a, b in zip(both, fixed, strict=True))
    # by hand: the same batch, the teacher under no_grad
    relation = adapt_terms.rel.get(name)
    gen = torch.Generator().manual_seed(1)
    model.zero_grad()
    if kind == "z":
        x = adapt_terms.frame_batch(clips, 4, gen).float() / 255.0
        with torch.no_grad():
            teacher = nets[name](model(x))
        student = model(relation.image(x))
    else:
        x = adapt_terms.clip_batch(clips, 2, relation.clip_length(30), gen).float() / 255.0
        with torch.no_grad():
            teacher = nets[name](
                motion.encode(
                    adapt_terms.encode(model, relation.anchor_video(x), torch.device("cpu"), False)
                )
            )
        student = motion.encode(
            adapt_terms.encode(model, relation.video(x), torch.device("cpu"), False)
        )
    (teacher - student).abs().mean().backward()
    for p, g in zip(params, fixed, strict=True):
        torch.testing.assert_close(p.grad, g)


def test_source_anchor_term_fits_source_labels_and_is_refused_without_them(tmp_path):
    """Our ``src`` term is the source-training loss on labelled source frames: it needs the
    source split and the prior, trains only the chosen blocks, and lowers its own loss."""
    from sa3dhp.models.pose_prior import PosePrior

    assert [k for k, _ in adapt_terms.parse_losses(["src", "z:flip"])] == ["src", "z"]
    assert adapt_terms.uses_source(["cr", "src"]) and not adapt_terms.uses_source(["paper"])
    torch.manual_seed(0)
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16)
    prior = PosePrior(hidden=32, blocks=1).eval()
    clips = torch.randint(0, 256, (6, 60, 3, 32, 32), dtype=torch.uint8)
    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    poses = (torch.randn(1, 17, 3) * 300).expand(16, -1, -1)  # one pose: a fit must show
    cfg = adapt.AdaptConfig(
        losses=["src"], steps=10, frames=8, log_every=1, amp=False, lr=1e-3, trainable=["fc_blocks"]
    )
    with pytest.raises(ValueError, match="'src' needs the labelled source split"):
        adapt.train(cfg, model, None, {}, clips, tmp_path / "none", seed=0, device="cpu")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = adapt.train(
        cfg, model, None, {}, clips, tmp_path / "run", 0, "cpu", prior=prior, source=(images, poses)
    )
    assert set(out) == {"L_src"}
    changed = {k for k in before if not torch.equal(before[k], model.state_dict()[k])}
    assert changed and all(k.startswith("fc_blocks.") for k in changed)
    losses = [h["L_src"] for h in run_logging.read_history(tmp_path / "run") if "L_src" in h]
    assert losses[-1] < losses[0]


def test_nonlocal_guard_is_zero_when_tau_moves_g_enough_and_pulls_a_fixed_point_apart():
    """Our non-localness guard: W x max(0, d_tau - mean |G(x) - G(tau x)|); G answering tau x as
    it answers x (a fixed point of tau) costs W x d_tau and its gradient pushes them apart."""
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16)
    clips = torch.randint(0, 256, (6, 60, 3, 32, 32), dtype=torch.uint8)
    cfg = adapt.AdaptConfig(losses=["z:flip"], nonlocal_guard=2.0, amp=False)
    adapter = adapt.Adapter(
        cfg, model, None, {"flip": RelationNet(32, 16)}, clips, torch.device("cpu"),
        nonlocalness={"flip": 0.5},
    )  # fmt: skip
    a = torch.zeros(4, 32, requires_grad=True)
    b = torch.full((4, 32), 0.01)  # near a fixed point (|a - b| has no slope at exactly 0)
    fixed = adapter._nonlocal("flip", a, b)
    assert fixed.item() == pytest.approx(0.98)  # 2.0 x (0.5 - 0.01)
    fixed.backward()
    assert a.grad.abs().sum() > 0
    assert float(adapter._nonlocal("flip", torch.ones(4, 32), b)) == 0.0  # distance 1 >= 0.5
    with pytest.raises(ValueError, match="no non-localness for 'flip-backward'"):
        adapter._nonlocal("flip-backward", a, b)
    off = adapt.Adapter(
        adapt.AdaptConfig(losses=["z:flip"]), model, None, {"flip": RelationNet(32, 16)}, clips,
        torch.device("cpu"),
    )  # fmt: skip
    assert off._nonlocal("flip", a, b) == 0.0

"""Forward / backward / no-NaN / output-shape tests for every model."""

import pytest
import torch

from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.pose_prior import LatentCritic, PosePrior
from sa3dhp.models.relation_net import RelationNet
from tests.conftest import random_poses


def _check_backward(module: torch.nn.Module, loss: torch.Tensor) -> None:
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in module.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("arch", ["mlp", "tree"])
@pytest.mark.parametrize("lengths", ["predicted", "canonical"])
def test_pose_prior(arch, lengths):
    torch.manual_seed(0)
    model = PosePrior(arch=arch, hidden=64, lengths=lengths)
    y = torch.as_tensor(random_poses(8), dtype=torch.float32)
    z, rec = model(y)
    assert z.shape == (8, 32) and rec.shape == (8, 17, 3)
    assert z.abs().max() <= 1 and torch.isfinite(rec).all()
    assert rec[:, 0].abs().max() == 0  # root-relative
    _check_backward(model, (rec - y).norm(dim=-1).mean())
    assert model.sample(5).shape == (5, 17, 3)
    with pytest.raises(ValueError, match=r"\(B, 17, 3\)"):
        model.encode(torch.zeros(8, 16, 3))


def test_latent_critic():
    critic = LatentCritic(hidden=32)
    out = critic(torch.rand(6, 32) * 2 - 1)
    assert out.shape == (6,)
    _check_backward(critic, out.mean())


@pytest.mark.parametrize("skip", [True, False])
def test_motion_prior(skip):
    torch.manual_seed(0)
    model = MotionPrior(skip=skip)
    z = torch.rand(3, 30, 32) * 2 - 1
    v, rec = model(z)
    assert v.shape == (3, 128) and rec.shape == (3, 30, 32)
    assert v.abs().max() <= 1 and rec.abs().max() <= 1
    _check_backward(model, (rec - z).abs().mean())
    assert hasattr(model, "enc_skip") == skip
    with pytest.raises(ValueError, match=r"\(B, T, 32\)"):
        model.encode(torch.zeros(3, 30, 31))
    if skip:  # the skip path is a map of whole 30-frame sequences
        with pytest.raises(ValueError, match="30-frame"):
            model.encode(torch.zeros(3, 20, 32))


@pytest.mark.parametrize("whitening", [0.0, 0.25, 1.0])
def test_motion_prior_pca_init_reconstructs_a_linear_code(whitening):
    """Started at the PCA code, the auto-encoder reconstructs sequences that lie in a
    low-dimensional linear subspace almost exactly, before any training."""
    torch.manual_seed(0)
    basis = torch.randn(8, 30 * 32)
    z = (0.05 * torch.randn(600, 8) @ basis).view(600, 30, 32).clamp(-1, 1)
    model = MotionPrior(hidden=16, motion_dim=16).eval()
    before = (model(z)[1] - z).abs().mean()
    model.init_skip_pca(z, whitening=whitening)
    after = (model(z)[1] - z).abs().mean()
    # what remains is tanh's curvature (spread 2: a 1-sigma code is 8 % short); the BiLSTM paths
    # start silent, and components the data does not have (rank 8 < 16) stay finite
    assert after < 0.2 * before and after < 0.25 * z.abs().mean()
    assert all(torch.isfinite(p).all() for p in model.parameters())
    with pytest.raises(ValueError, match="skip=True"):
        MotionPrior(hidden=16, skip=False).init_skip_pca(z)


@pytest.mark.parametrize("backbone", ["resnet18", "resnet50"])
@pytest.mark.parametrize("head", ["latent", "pose"])
def test_image_to_latent(backbone, head):
    torch.manual_seed(0)
    model = ImageToLatent(backbone, weights=None, conv_channels=64, fc_hidden=64, head=head)
    x = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    out = model(x)
    assert out.shape == ((2, 32) if head == "latent" else (2, 17, 3))
    assert torch.isfinite(out).all()
    if head == "latent":
        assert out.abs().max() <= 1
    _check_backward(model, out.square().mean())
    assert "random" in model.weights_source


@pytest.mark.parametrize("dim", [32, 128])
def test_relation_net(dim):
    net = RelationNet(dim, hidden=64)
    u = torch.rand(5, dim) * 2 - 1
    out = net(u)
    assert out.shape == (5, dim) and out.abs().max() <= 1
    _check_backward(net, (out - u).abs().mean())
    with pytest.raises(ValueError, match=str(dim)):
        net(torch.zeros(5, dim + 1))


def test_random_roll_is_the_inplane_relation():
    from sa3dhp import relations as rel
    from sa3dhp.data.augment import random_roll

    y = torch.randn(64, 17, 3) * 100
    out = random_roll(y, 50.0, 1.0, torch.Generator().manual_seed(0))
    angles = (torch.rand(64, generator=torch.Generator().manual_seed(0)) * 2 - 1) * 50
    i = int(torch.argmax(angles))  # a positive angle: inplaneT turns by +T
    expected = rel.get(f"inplane{float(angles[i]):.8f}").pose(y[i : i + 1])
    assert torch.allclose(out[i : i + 1], expected, atol=1e-3)
    assert torch.allclose(out.norm(dim=-1), y.norm(dim=-1), atol=1e-3)  # a rotation
    assert torch.equal(random_roll(y, 50.0, 0.0, torch.Generator()), y)


def test_no_init_builds_without_initialising_and_loading_restores_every_weight():
    from torch.nn import init

    from sa3dhp.models import no_init

    torch.manual_seed(0)
    ref = ImageToLatent("resnet18", weights=None, conv_channels=16, fc_hidden=16).eval()
    before = init.kaiming_uniform_
    state = torch.random.get_rng_state()
    with no_init():
        built = ImageToLatent("resnet18", weights=None, conv_channels=16, fc_hidden=16)
    assert torch.equal(torch.random.get_rng_state(), state)  # nothing was drawn
    assert init.kaiming_uniform_ is before  # the initialisers are back
    built.load_state_dict(ref.state_dict())
    x = torch.rand(2, 3, 64, 64)
    assert torch.equal(built.eval()(x), ref(x))
    with pytest.raises(RuntimeError), no_init():
        raise RuntimeError("a failed build")
    assert init.kaiming_uniform_ is before  # restored after an error too

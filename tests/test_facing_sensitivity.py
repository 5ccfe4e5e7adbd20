"""benchmarks/facing_sensitivity.py: the Jacobian of G's mean latent and its eigen-summary."""

import torch

from sa3dhp.models.image_to_latent import ImageToLatent
from tests.conftest import load_benchmark


def test_sensitivity_finds_the_direction_the_weights_move_most():
    bench = load_benchmark("facing_sensitivity")
    g = torch.Generator().manual_seed(0)
    axis = torch.zeros(32)
    axis[3] = 1.0
    # every weight moves latent 3 ten times as much as any other direction
    jac = 0.1 * torch.randn(32, 500, generator=g)
    jac[3] = 10 * torch.randn(500, generator=g)
    row = bench.sensitivity(jac, axis)
    assert row["top_cosine_with_facing"] > 0.99 and row["facing_over_top"] > 0.99
    assert row["top_share"] > 0.9 > row["second_share"]
    other = torch.zeros(32)
    other[5] = 1.0
    far = bench.sensitivity(jac, other)
    assert far["top_cosine_with_facing"] < 0.05 and far["facing_over_top"] < 0.01


def test_the_mean_jacobian_is_that_of_layer2_alone_and_matches_a_finite_difference():
    bench = load_benchmark("facing_sensitivity")
    torch.manual_seed(0)
    model = ImageToLatent("resnet18", weights="none", conv_channels=16, fc_hidden=16).eval()
    model = model.double()
    x = torch.rand(6, 3, 32, 32, dtype=torch.float64)
    jac = bench.mean_jacobian(model, x)
    params = [p for k, p in model.named_parameters() if k.startswith("layer2.")]
    assert jac.shape == (32, sum(p.numel() for p in params))
    assert all(not p.requires_grad for k, p in model.named_parameters() if "layer2" not in k)
    # a small step of layer2's weights moves the mean latent by J times the step
    step = 1e-6 * torch.randn(jac.shape[1], dtype=torch.float64)
    with torch.no_grad():
        before = model(x).mean(0)
        offset = 0
        for p in params:
            p += step[offset : offset + p.numel()].view_as(p)
            offset += p.numel()
        after = model(x).mean(0)
    assert torch.allclose(after - before, jac @ step, rtol=1e-3, atol=1e-12)
    assert (after - before).abs().max() > 0

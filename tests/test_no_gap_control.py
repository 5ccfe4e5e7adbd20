"""benchmarks/no_gap_control.py: the no-gap world keeps every split Gs, the priors and the
relation networks trained on, and makes the target the source domain."""

from sa3dhp.config import load_config
from sa3dhp.data.world import appearance_style, motion_style, split_hash
from tests.conftest import load_benchmark

ngc = load_benchmark("no_gap_control")


def test_no_gap_world_is_the_source_domain_with_the_same_training_splits():
    base = load_config(ngc.BASE[0], ngc.BASE[1])
    ng = load_config(ngc.BASE[0], [*ngc.BASE[1], *ngc.NO_GAP])
    for split in ("source_train", "source_val", "mocap"):
        assert split_hash(ng.data, split) == split_hash(base.data, split)
    for split in ("target_train", "target_val"):
        assert split_hash(ng.data, split) != split_hash(base.data, split)
    assert motion_style(ng.data, "target") == motion_style(ng.data, "source")
    assert appearance_style(ng.data, "target") == appearance_style(ng.data, "source")
    assert motion_style(base.data, "target") != motion_style(base.data, "source")


def test_flip_check_on_crops_that_a_mirror_leaves_unchanged(tiny_model):
    import numpy as np

    rng = np.random.default_rng(0)
    half = rng.integers(0, 255, (6, 64, 32, 3), dtype=np.uint8)
    symmetric = np.concatenate([half, half[:, :, ::-1]], axis=2)  # flip x == x
    out = ngc.flip_check(tiny_model, symmetric)
    # Gs(flip x) is Gs(x), and a mirror in x keeps which way the body faces in depth
    assert out["facing_differs"] == 0.0
    assert out["mpjpe_mm"] >= 0.0

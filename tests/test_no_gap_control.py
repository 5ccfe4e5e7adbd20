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


def test_teacher_gap_of_the_exact_relation_is_the_round_trip_floor():
    import torch

    from sa3dhp import relations
    from sa3dhp.models.pose_prior import PosePrior
    from tests.conftest import TINY_PRIOR_ARCH

    torch.manual_seed(0)
    prior = PosePrior(**TINY_PRIOR_ARCH).eval()
    flip = relations.get("flip")
    exact = lambda z: prior.encode(flip.pose(prior.decode(z)))  # noqa: E731
    z = torch.rand(16, 32) * 2 - 1
    gap = ngc.teacher_gap(prior, exact, z)
    assert gap["network_mm"] == gap["round_trip_floor_mm"] >= 0.0
    worse = ngc.teacher_gap(prior, lambda z: -z, z)
    assert worse["network_mm"] > 0.0 and worse["round_trip_floor_mm"] == gap["round_trip_floor_mm"]


def test_unlabelled_clips_are_whole_clips_in_order(tmp_path):
    import numpy as np

    from sa3dhp.data.synth import load_split
    from tests.test_synth import TINY

    world = load_config("demo", [*TINY, f"data.cache_dir={tmp_path}"]).data
    clips = ngc.unlabelled_clips(world, 2)
    data = load_split(world, "target_train")
    length = data.meta["clip_length"]
    assert clips.shape == (2, length, *data.images.shape[1:])
    assert np.array_equal(clips[1, 0], data.images[data.clip_starts()[1]])


def test_the_symmetric_look_control_keeps_gs_splits_and_gives_the_target_the_source_look():
    sym = load_benchmark("no_gap_symmetric_look")
    from facing_probe import SETTINGS, _config  # on the path once a benchmark is loaded

    probe = _config("bench", sym.LOOK, SETTINGS[sym.LOOK])
    ng = sym.world()
    for split in ("source_train", "source_val", "mocap"):
        assert split_hash(ng.data, split) == split_hash(probe.data, split)
    assert split_hash(ng.data, "target_val") != split_hash(probe.data, "target_val")
    look = appearance_style(ng.data, "target")
    assert look == appearance_style(ng.data, "source")
    assert (look.side_contrast, look.front_print_prob) == (0.0, 1.0)  # no shading, the print
    assert motion_style(ng.data, "target") == motion_style(ng.data, "source")
    assert ng.seed == 2 and str(ng.out_dir).endswith(sym.LOOK)


def test_the_no_gap_terms_figure_reads_each_change_from_its_own_file(tmp_path):
    fig = load_benchmark("no_gap_terms_figure")

    def rows(gs: float, **others: float) -> dict:
        return {"source_only": {"mpjpe": gs}, **{k: {"mpjpe": v} for k, v in others.items()}}

    terms = {t: 60.0 + i for i, t in enumerate(fig.TERMS[1:], start=1)}
    ngc = {"by_term": {"target_val": rows(50.0, **terms)}}
    full_rows = rows(50.0, network_full_row=70.0, exact_full_row=65.0)
    exact = {
        "per_seed": {"no_gap": {"2": {"target_val": full_rows}}},
        "by_term": {"target_val": rows(50.0, **{f"{t}, exact": 55.0 for t in fig.TERMS[2:]})},
    }
    sym_terms = {"alone_" + t.replace(":", "_"): 52.0 for t in fig.TERMS[1:]}
    sym_terms |= {"alone_" + t.replace(":", "_") + "_exact": 51.0 for t in fig.TERMS[2:]}
    sym = {"by_term": {"target_val": rows(50.0, full_row=53.0, full_row_exact=52.5, **sym_terms)}}
    out = fig.changes(ngc, exact, sym)
    assert out["shaded, network"] == {
        "full row": 20.0,
        "cr": 11.0,
        "z:flip": 12.0,
        "v:flip-backward": 13.0,
        "v:slow-backward": 14.0,
    }
    assert out["shaded, exact"]["full row"] == 15.0 and out["shaded, exact"]["cr"] is None
    assert out["shaded, exact"]["z:flip"] == 5.0
    assert out["mirror-kept, network"]["full row"] == 3.0
    assert out["mirror-kept, network"]["cr"] == 2.0
    assert out["mirror-kept, exact"] == {
        "full row": 2.5,
        "cr": None,
        "z:flip": 1.0,
        "v:flip-backward": 1.0,
        "v:slow-backward": 1.0,
    }
    fig.figure(out, str(tmp_path / "f.png"))
    assert (tmp_path / "f.png").stat().st_size > 1000


def test_the_real_target_probe_shares_gs_and_the_target_with_the_bench_but_not_its_runs():
    slt = load_benchmark("symmetric_look_target")
    sym = load_benchmark("no_gap_symmetric_look")
    from sa3dhp.config import load_config

    cfg, bench = slt.world(), load_config("bench", ["seed=2"])
    for split in ("target_train", "target_val"):  # the real target, unchanged
        assert split_hash(cfg.data, split) == split_hash(bench.data, split)
    assert split_hash(cfg.data, "source_train") == split_hash(sym.world().data, "source_train")
    assert cfg.out_dir == sym.world().out_dir  # the same Gs ...
    assert slt.RUN.format(k=2, name="x") != sym.RUN.format(k=2, name="x")  # ... other runs
    table = {"source_only": {"mpjpe": 60.0}, "a": {"mpjpe": 62.5}, "b": {"mpjpe": 59.0}}
    assert slt.changes(table) == {"a": 2.5, "b": -1.0}


def test_the_real_target_probe_pairs_each_seed_on_the_same_frames():
    from types import SimpleNamespace

    import numpy as np

    slt = load_benchmark("symmetric_look_target")
    val = SimpleNamespace(clip=np.repeat(np.arange(4), 3), subject=np.repeat(np.arange(2), 6))
    names = {n for pair in slt.PAIRS for n in pair}
    seed_a = {"target_val": {n: np.full(12, 50.0) for n in names}}
    seed_b = {"target_val": {n: np.full(12, 50.0) for n in names}}
    seed_a["target_val"]["full_row"] = np.full(12, 60.0)  # +10 in one seed, +2 in the other
    seed_b["target_val"]["full_row"] = np.full(12, 52.0)
    out = slt.paired_over([seed_a, seed_b], val)
    assert out["full_row - source_only"]["per_seed_mm"] == [10.0, 2.0]
    assert out["full_row - source_only"]["diff_mm"] == 6.0
    assert out["full_row_exact - full_row"]["per_seed_mm"] == [-10.0, -2.0]

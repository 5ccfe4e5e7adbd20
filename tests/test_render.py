import numpy as np
import pytest

from sa3dhp import relations
from sa3dhp.camera import project_to_crop
from sa3dhp.data import motion as M
from sa3dhp.data import render as R

SIZE = 64


def _clip(frames: int = 60, seed: int = 0, style=None):
    rng = np.random.default_rng(seed)
    subject = M.sample_subject(rng)
    m = M.generate_motion(subject, frames, style or M.target_style(), rng)
    roots = np.stack(
        [np.linspace(-400, 300, frames), np.full(frames, 150.0), np.full(frames, 4500.0)], -1
    )
    return m.poses, roots, 1.7 * subject.height_mm


def _render(style, poses, roots, extent, seed=0, masks=False):
    renderer = R.Renderer(SIZE, style, seed=0)
    rng = np.random.default_rng(seed)
    return renderer.render(poses, roots, extent, renderer.sample_appearance(rng), rng, masks)


def test_shape_dtype_and_determinism():
    poses, roots, extent = _clip(20)
    a = _render(R.target_appearance(), poses, roots, extent, seed=3)
    b = _render(R.target_appearance(), poses, roots, extent, seed=3)
    assert a.shape == (20, SIZE, SIZE, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, _render(R.target_appearance(), poses, roots, extent, seed=4))


def test_mask_covers_the_projected_joints():
    poses, roots, extent = _clip(30, seed=1)
    _, masks = _render(R.source_appearance(), poses, roots, extent, masks=True)
    uv = project_to_crop(poses, roots, extent, SIZE)
    assert (uv >= 0).all() and (uv < SIZE).all()
    idx = np.clip(uv.astype(int), 0, SIZE - 1)
    covered = masks[np.arange(30)[:, None], idx[..., 1], idx[..., 0]]
    assert covered.mean() > 0.97


def _agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of each mask's pixels within 1 px of the other mask (worst of both directions).

    Mirroring or rotating a rasterised limb and rasterising the mirrored limb differ by up to a
    pixel at the edges, which matters for limbs 3 px wide.
    """
    import cv2

    kernel = np.ones((3, 3), np.uint8)
    near_b = cv2.dilate(b.astype(np.uint8), kernel) > 0
    near_a = cv2.dilate(a.astype(np.uint8), kernel) > 0
    return min((a & near_b).sum() / max(a.sum(), 1), (b & near_a).sum() / max(b.sum(), 1))


@pytest.mark.parametrize(
    "name", ["flip", "inplane50", "flip+inplane50", "backward", "flip-backward", "slow-backward"]
)
def test_relation_on_rendered_clip_matches_rendering_the_related_poses(name):
    rel = relations.get(name)
    poses, roots, extent = _clip(60, seed=2)
    style = R.source_appearance()
    _, masks = _render(style, poses, roots, extent, masks=True)
    _, related = _render(style, rel.motion(poses), rel.root_track(roots), extent, masks=True)
    moved = rel.video(masks[..., None].astype(np.uint8) * 255)[..., 0] > 127
    scores = [_agreement(x, y) for x, y in zip(moved, related, strict=True)]
    assert min(scores) > 0.95, min(scores)
    if not rel.flip and not rel.theta:  # pure time relations: the masks are equal exactly
        np.testing.assert_array_equal(moved, related)


def test_source_and_target_looks_differ():
    poses, roots, extent = _clip(30, seed=5)
    src = np.concatenate(
        [_render(R.source_appearance(), poses, roots, extent, seed=s) for s in range(6)]
    )
    tgt = np.concatenate(
        [_render(R.target_appearance(), poses, roots, extent, seed=s) for s in range(6)]
    )

    def high_freq(x):
        x = x.astype(np.float32).mean(-1)
        return np.abs(np.diff(x, axis=-1)).mean()

    assert high_freq(tgt) > 2 * high_freq(src)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"blur_prob": 1.5}, "blur_prob"),
        ({"noise_std": (5.0, 1.0)}, "noise_std"),
        ({"palette": "neon"}, "palette"),
        ({"distractors": (-1, 2)}, "distractors"),
    ],
)
def test_invalid_style_values_are_refused(kwargs, field):
    with pytest.raises(ValueError, match=field):
        R.AppearanceStyle(**kwargs)
    with pytest.raises(ValueError, match="valid keys"):
        R.AppearanceStyle.from_dict({"sparkles": 1})
    with pytest.raises(ValueError, match="size"):
        R.Renderer(-64, R.source_appearance())

"""Tests of the synthetic-world renderer (sa3dhp.data.render)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from sa3dhp import relations
from sa3dhp import skeleton as sk
from sa3dhp.camera import project_to_crop
from sa3dhp.data import render as R

SIZE = 64


def _rotate(points: np.ndarray, centre: np.ndarray, axis: int, angle: np.ndarray) -> np.ndarray:
    """Rotate ``(T, K, 3)`` points about ``centre`` ``(T, 3)`` by ``angle`` ``(T,)`` radians."""
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    i, j = (k for k in range(3) if k != axis)
    rel = points - centre[:, None]
    out = rel.copy()
    out[..., i] = c * rel[..., i] - s * rel[..., j]
    out[..., j] = s * rel[..., i] + c * rel[..., j]
    return out + centre[:, None]


def _clip(frames: int, seed: int, height_mm: float = 1720.0):
    """A smooth clip: ``(T, 17, 3)`` poses with swinging limbs, ``(T, 3)`` roots, extent (mm)."""
    rng = np.random.default_rng(seed)
    scale = height_mm / 1720.0
    pose = np.repeat(sk.rest_pose()[None].astype(np.float64) * scale, frames, 0)
    t = np.arange(frames) / 30.0
    chains = (
        (sk.L_SHOULDER, [sk.L_ELBOW, sk.L_WRIST]),
        (sk.R_SHOULDER, [sk.R_ELBOW, sk.R_WRIST]),
        (sk.L_HIP, [sk.L_KNEE, sk.L_ANKLE]),
        (sk.R_HIP, [sk.R_KNEE, sk.R_ANKLE]),
    )
    for k, (base, kids) in enumerate(chains):
        angle = rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * 1.1 * t + np.pi * (k % 2))
        pose[:, kids] = _rotate(pose[:, kids], pose[:, base], 0, angle)
        pose[:, kids[1:]] = _rotate(pose[:, kids[1:]], pose[:, kids[0]], 0, 0.4 + 0.3 * angle)
    yaw = rng.uniform(0, 2 * np.pi) + 0.8 * t
    pose = _rotate(pose, np.zeros((frames, 3)), 1, yaw)
    z = rng.uniform(3500, 6500)
    start = np.array([rng.uniform(-0.25, 0.25) * z, rng.uniform(-0.1, 0.1) * z, z])
    roots = start + np.arange(frames)[:, None] * rng.normal(0, 8.0, 3)
    return pose, roots, 1.7 * height_mm


def _render(style, poses, roots, extent, seed=0, size=SIZE, masks=False):
    renderer = R.Renderer(size, style, seed=0)
    rng = np.random.default_rng(seed)
    return renderer.render(poses, roots, extent, renderer.sample_appearance(rng), rng, masks)


def _clean_target() -> R.AppearanceStyle:
    """The target look with every degradation on except sensor noise (so renders are exact)."""
    return replace(
        R.target_appearance(),
        noise_std=(0.0, 0.0),
        blur_prob=1.0,
        jpeg_prob=1.0,
        occluder_prob=1.0,
        fabric_noise_prob=1.0,
        striped_top_prob=1.0,
    )


@pytest.mark.parametrize(
    ("style", "size"),
    [
        (R.source_appearance(), 64),
        (R.target_appearance(), 64),
        (R.target_appearance(), 32),
        (R.source_appearance(), 224),
    ],
)
def test_shape_dtype_and_determinism(style, size):
    poses, roots, extent = _clip(12, seed=0)
    a, m = _render(style, poses, roots, extent, seed=3, size=size, masks=True)
    b = _render(style, poses, roots, extent, seed=3, size=size)
    assert a.shape == (12, size, size, 3) and a.dtype == np.uint8
    assert m.shape == (12, size, size) and m.dtype == bool and m.any(axis=(1, 2)).all()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, _render(style, poses, roots, extent, seed=4, size=size))


def _tall_person_arms_raised() -> np.ndarray:
    """A 1.95 m person with both arms straight up, ``(17, 3)`` mm, facing the camera."""
    rest = sk.rest_pose().astype(np.float64)
    span = rest[:, 1].max() - rest[:, 1].min()  # ankle to head top
    pose = rest * 1950.0 / (span + 80.0)  # + ankle height above the floor
    lengths = sk.bone_lengths(pose)
    for shoulder, elbow, wrist, sx in (
        (sk.L_SHOULDER, sk.L_ELBOW, sk.L_WRIST, 0.15),
        (sk.R_SHOULDER, sk.R_ELBOW, sk.R_WRIST, -0.15),
    ):
        up = np.array([sx, -1.0, 0.0]) / np.hypot(sx, 1.0)
        pose[elbow] = pose[shoulder] + lengths[elbow] * up
        pose[wrist] = pose[elbow] + lengths[wrist] * up
    return pose


def test_every_joint_of_a_tall_person_falls_inside_the_crop_and_under_the_mask():
    rng = np.random.default_rng(0)
    n = 40
    base = np.repeat(_tall_person_arms_raised()[None], n, 0)
    poses = _rotate(base, np.zeros((n, 3)), 1, rng.uniform(0, 2 * np.pi, n))  # any heading
    poses = _rotate(poses, np.zeros((n, 3)), 0, rng.uniform(-0.3, 0.3, n))  # leaning
    z = rng.uniform(3000, 7000, n)
    roots = np.stack([rng.uniform(-0.3, 0.3, n) * z, rng.uniform(-0.3, 0.3, n) * z, z], -1)
    extent = 1.7 * 1950.0
    uv = project_to_crop(poses, roots, extent, SIZE)
    assert (uv >= 0).all() and (uv < SIZE).all(), (uv.min(), uv.max())
    _, masks = _render(R.source_appearance(), poses, roots, extent, masks=True)
    _assert_mask_covers(masks, uv)


def _assert_mask_covers(masks: np.ndarray, uv: np.ndarray) -> None:
    idx = np.floor(uv).astype(int)
    frames = np.arange(len(masks))[:, None]
    exact = masks[frames, idx[..., 1], idx[..., 0]]
    near = cv2.dilate(masks.astype(np.uint8).transpose(1, 2, 0), np.ones((3, 3), np.uint8))
    near = near.reshape(*masks.shape[1:], -1).transpose(2, 0, 1)[frames, idx[..., 1], idx[..., 0]]
    assert near.all(), np.argwhere(~near)
    assert exact.mean() > 0.95, exact.mean()


@pytest.mark.parametrize("style", [R.source_appearance(), _clean_target()])
def test_mask_covers_the_projected_joints(style):
    poses, roots, extent = _clip(30, seed=1)
    _, masks = _render(style, poses, roots, extent, masks=True)
    _assert_mask_covers(masks, project_to_crop(poses, roots, extent, SIZE))


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a & b).sum(axis=(-2, -1)) / np.maximum((a | b).sum(axis=(-2, -1)), 1)


def _move_masks(rel: relations.Relation, masks: np.ndarray) -> np.ndarray:
    return rel.video(masks[..., None].astype(np.uint8) * 255)[..., 0] >= 128


@pytest.mark.parametrize("name", ["flip", "inplane50", "flip+inplane50"])
def test_spatial_relation_on_a_rendered_clip_matches_rendering_the_related_poses(name):
    rel = relations.get(name)
    for seed in range(2):
        poses, roots, extent = _clip(20, seed=10 + seed)
        style = R.source_appearance()
        img, masks = _render(style, poses, roots, extent, size=128, masks=True)
        img2, related = _render(
            style, rel.motion(poses), rel.root_track(roots), extent, size=128, masks=True
        )
        iou = _iou(_move_masks(rel, masks), related)
        assert iou.min() > 0.88 and iou.mean() > 0.9, iou
        # colours are not mirrored (left limbs are lighter), but the body is where it should be
        assert img.shape == img2.shape


@pytest.mark.parametrize("name", ["backward", "flip-backward", "slow-backward"])
def test_temporal_relation_on_a_rendered_clip_matches_rendering_the_related_motion(name):
    rel = relations.get(name)
    poses, roots, extent = _clip(60, seed=2)
    style = _clean_target()
    video, masks = _render(style, poses, roots, extent, masks=True)
    related_video, related = _render(
        style, rel.motion(poses), rel.root_track(roots), extent, masks=True
    )
    iou = _iou(_move_masks(rel, masks), related)
    assert iou.min() > 0.9, iou.min()
    if not rel.flip:  # time alone: frames are functions of their own pose, so renders are exact
        np.testing.assert_array_equal(rel.video(video), related_video)
        np.testing.assert_array_equal(rel.video(masks[..., None])[..., 0], related)
    if rel.slow:  # the anchor side: the clip at 15 FPS
        anchor, _ = _render(style, rel.anchor_motion(poses), roots[::2], extent, masks=True)
        np.testing.assert_array_equal(rel.anchor_video(video), anchor)
        assert len(anchor) == len(related_video) == 30


def test_frames_depend_only_on_their_own_pose_and_noise_only_varies_per_frame():
    poses, roots, extent = _clip(1, seed=4)
    poses, roots = np.repeat(poses, 6, 0), np.repeat(roots, 6, 0)
    still = _render(_clean_target(), poses, roots, extent, seed=1)
    assert (still == still[0]).all()
    noisy_style = replace(_clean_target(), noise_std=(6.0, 6.0), jpeg_prob=0.0)
    noisy = _render(noisy_style, poses, roots, extent, seed=1).astype(np.float32)
    diff = np.abs(noisy[1:] - noisy[0]).mean()
    assert 2.0 < diff < 12.0, diff


def test_background_moves_with_the_pelvis():
    style = replace(
        R.target_appearance(),
        texture_background_prob=1.0,
        gradient_background_prob=0.0,
        blur_prob=0.0,
        noise_std=(0.0, 0.0),
        jpeg_prob=0.0,
        occluder_prob=0.0,
    )
    poses, _, extent = _clip(1, seed=5)
    poses = np.repeat(poses, 2, 0)
    step = 5  # pixels
    roots = np.array([[0.0, 0.0, 4500.0], [step * extent / SIZE, 0.0, 4500.0]])
    img, masks = _render(style, poses, roots, extent, masks=True)
    body = cv2.dilate((masks[0] | masks[1]).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    keep = ~body[:, : SIZE - step] & ~body[:, step:]
    np.testing.assert_array_equal(img[1][:, : SIZE - step][keep], img[0][:, step:][keep])


def test_left_and_right_limbs_have_different_colours():
    pose = sk.rest_pose().astype(np.float64)[None]
    root = np.array([[0.0, 0.0, 4000.0]])
    extent = 1.7 * 1720.0
    renderer = R.Renderer(128, R.source_appearance(), seed=0)
    uv = project_to_crop(pose, root, extent, 128)[0]
    for seed in range(5):
        rng = np.random.default_rng(seed)
        app = renderer.sample_appearance(rng)
        img = renderer.render(pose, root, extent, app, rng)[0].astype(np.float32)
        for a, b, c, d in ((sk.L_HIP, sk.L_KNEE, sk.R_HIP, sk.R_KNEE),):
            left = np.floor(0.5 * (uv[a] + uv[b])).astype(int)
            right = np.floor(0.5 * (uv[c] + uv[d])).astype(int)
            diff = np.abs(img[left[1], left[0]] - img[right[1], right[0]]).sum()
            assert diff > 30, (seed, diff)


def test_source_and_target_looks_differ():
    def stats(style):
        images, masks = [], []
        for seed in range(8):
            poses, roots, extent = _clip(4, seed=20 + seed)
            img, m = _render(style, poses, roots, extent, seed=seed, masks=True)
            images.append(img)
            masks.append(m)
        img = np.concatenate(images).astype(np.float32)
        m = np.concatenate(masks)
        grey = img.mean(-1)
        lap = np.abs(grey[:, 1:-1, 1:-1] * 4 - grey[:, :-2, 1:-1] - grey[:, 2:, 1:-1])
        lap = np.abs(lap - grey[:, 1:-1, :-2] - grey[:, 1:-1, 2:])
        background_std = np.mean([g[~k].std() for g, k in zip(grey, m, strict=True)])
        return lap.mean(), background_std

    src_hf, src_bg = stats(R.source_appearance())
    # the target's textures, without its image-quality degradations (blur and JPEG smooth them)
    clean = replace(R.target_appearance(), blur_prob=0.0, jpeg_prob=0.0, noise_std=(0.0, 0.0))
    tgt_hf, tgt_bg = stats(clean)
    assert tgt_hf > 3 * src_hf, (src_hf, tgt_hf)
    assert tgt_bg > 2 * src_bg, (src_bg, tgt_bg)
    # with them, high frequencies still differ (noise and JPEG add some, blur removes some)
    degraded_hf, _ = stats(R.target_appearance())
    assert degraded_hf > 2 * src_hf and degraded_hf != tgt_hf


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"blur_prob": 1.5}, "blur_prob"),
        ({"occluder_prob": -0.1}, "occluder_prob"),
        ({"side_contrast": 2.0}, "side_contrast"),
        ({"noise_std": (5.0, 1.0)}, "noise_std"),
        ({"distractors": (-1, 2)}, "distractors"),
        ({"palette": "neon"}, "palette"),
        ({"jpeg_quality": (10, 120)}, "jpeg_quality"),
        ({"texture_bank_size": 0}, "texture_bank_size"),
        ({"colour_cast": "strong"}, "colour_cast"),
    ],
)
def test_invalid_style_values_are_refused(kwargs, field):
    with pytest.raises(ValueError, match=field):
        R.AppearanceStyle(**kwargs)
    with pytest.raises(ValueError, match=field):
        R.AppearanceStyle.from_dict(kwargs)


def test_from_dict_and_renderer_arguments():
    style = R.target_appearance()
    assert R.AppearanceStyle.from_dict(style.to_dict()) == style
    assert R.AppearanceStyle.from_dict({"gain": [0.5, 1.0]}).gain == (0.5, 1.0)
    with pytest.raises(ValueError, match=r"valid keys: \['palette'"):
        R.AppearanceStyle.from_dict({"sparkles": 1})
    with pytest.raises(ValueError, match=r"palette.*'source', 'target'"):
        R.AppearanceStyle(palette="neon")
    for size in (-64, 0, 8, 1024):
        with pytest.raises(ValueError, match="size"):
            R.Renderer(size, R.source_appearance())
    renderer = R.Renderer(SIZE, R.source_appearance())
    rng = np.random.default_rng(0)
    app = renderer.sample_appearance(rng)
    poses, roots, extent = _clip(2, seed=0)
    with pytest.raises(ValueError, match="extent_mm"):
        renderer.render(poses, roots, -1.0, app, rng)
    with pytest.raises(ValueError, match=r"\(T, 17, 3\)"):
        renderer.render(poses[:, :16], roots, extent, app, rng)
    with pytest.raises(ValueError, match="size"):
        R.Renderer(32, R.source_appearance()).render(poses, roots, extent, app, rng)


def test_debug_overlay_draws_left_blue_and_right_red():
    poses, roots, extent = _clip(1, seed=6)
    image = _render(R.source_appearance(), poses, roots, extent)[0]
    before = image.copy()
    joints = project_to_crop(poses, roots, extent, SIZE)[0]
    out = R.render_debug_overlay(image, joints, scale=4, thickness=2)
    assert out.shape == (4 * SIZE, 4 * SIZE, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(image, before)
    for child, blue in ((sk.L_KNEE, True), (sk.R_KNEE, False)):
        mid = np.floor(2 * (joints[child] + joints[sk.PARENTS[child]])).astype(int)
        r, _, b = out[mid[1], mid[0]].astype(int)
        assert (b > r) == blue, (child, r, b)
    with pytest.raises(ValueError, match="joints"):
        R.render_debug_overlay(image, joints[:5])


def test_front_print_shows_only_when_the_front_faces_the_camera():
    style = replace(
        R.source_appearance(), front_print_prob=1.0, striped_top_prob=0.0, fabric_noise_prob=0.0
    )
    renderer = R.Renderer(128, style, seed=0)
    facing = sk.rest_pose().astype(np.float64)[None]  # faces the camera
    away = _rotate(facing, np.zeros((1, 3)), 1, np.array([np.pi]))
    root = np.array([[0.0, 0.0, 4000.0]])
    extent = 1.7 * 1720.0
    for seed in range(4):
        app = renderer.sample_appearance(np.random.default_rng(seed))
        assert app.front_print
        plain = replace(app, front_print=False)
        for pose, shows in ((facing, True), (away, False)):
            rng = np.random.default_rng(0)
            img = renderer.render(pose, root, extent, app, rng)[0].astype(np.float32)
            ref = renderer.render(pose, root, extent, plain, rng)[0].astype(np.float32)
            chest = project_to_crop(pose, root, extent, 128)[0, sk.SPINE].astype(int)
            x, y = chest
            diff = np.abs(img - ref).sum(-1)
            assert (diff[y - 6 : y, x - 3 : x + 4].mean() > 60) == shows, (seed, shows)
            assert (diff > 0).mean() < 0.05  # the print is a small patch, nothing else changed

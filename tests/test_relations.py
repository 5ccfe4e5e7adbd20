import numpy as np
import pytest
import torch

from sa3dhp import relations
from sa3dhp import skeleton as sk
from sa3dhp.camera import inplane_rotation, project_to_crop
from tests.conftest import random_poses

SIZE = 64
EXTENT = 1.7 * 1800.0
SPATIAL = [n for n in relations.catalogue() if not relations.get(n).is_temporal]


def _roots(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack(
        [rng.uniform(-900, 900, n), rng.uniform(-400, 400, n), rng.uniform(3000, 6500, n)], -1
    )


def _crop_action(rel: relations.Relation, pts: np.ndarray) -> np.ndarray:
    """What the relation does to crop coordinates (continuous, centre SIZE/2)."""
    c = SIZE / 2
    out = pts.copy()
    if rel.flip:
        out[..., 0] = SIZE - out[..., 0]
        out = out[..., list(sk.FLIP_PERMUTATION), :]
    if rel.theta:
        a = inplane_rotation(rel.theta)[:2, :2]
        out = (out - c) @ a.T + c
    return out


@pytest.mark.parametrize("name", SPATIAL)
def test_pose_action_matches_crop_action_under_perspective(name):
    rel = relations.get(name)
    y, root = random_poses(32, seed=3), _roots(32)
    expected = _crop_action(rel, project_to_crop(y, root, EXTENT, SIZE))
    got = project_to_crop(rel.pose(y), rel.root(root), EXTENT, SIZE)
    assert np.abs(got - expected).max() < 1e-6  # exact; the acceptance bound is 1 px


def _blob(pt: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    g = np.exp(-((xx - pt[0]) ** 2 + (yy - pt[1]) ** 2) / (2 * sigma**2))
    return np.repeat((g * 255).round().astype(np.uint8)[..., None], 3, axis=-1)


def _centroid(img: np.ndarray) -> np.ndarray:
    w = img[..., 0].astype(np.float64)
    w = np.where(w > 0.2 * w.max(), w, 0.0)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    return np.array([(w * xx).sum(), (w * yy).sum()]) / w.sum()


@pytest.mark.parametrize("name", SPATIAL)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_image_action_moves_joints_where_pose_action_projects_them(name, backend):
    rel = relations.get(name)
    y, root = random_poses(4, seed=5), _roots(4, seed=6)
    src = project_to_crop(y, root, EXTENT, SIZE)
    dst = project_to_crop(rel.pose(y), rel.root(root), EXTENT, SIZE)
    perm = np.asarray(sk.FLIP_PERMUTATION) if rel.flip else np.arange(17)
    checked = 0
    for n in range(4):
        for j in range(17):
            if np.linalg.norm(src[n, j] - SIZE / 2) > 24:  # stay clear of the rotated corners
                continue
            img = _blob(src[n, j])
            if backend == "numpy":
                out = rel.image(img)
            else:
                out = rel.image(torch.as_tensor(img).permute(2, 0, 1)).permute(1, 2, 0).numpy()
            # joint j of y is joint perm[j] of tau(y)
            k = int(np.nonzero(perm == j)[0][0]) if rel.flip else j
            assert np.linalg.norm(_centroid(out) - dst[n, k]) < 1.0
            checked += 1
    assert checked > 20


def test_torch_and_numpy_images_agree():
    rng = np.random.default_rng(0)
    img = (rng.random((2, SIZE, SIZE, 3)) * 255).astype(np.uint8)
    img = np.stack([cv_smooth(i) for i in img])
    for name in ("flip", "inplane50", "flip+inplane25"):
        rel = relations.get(name)
        a = rel.image(img).astype(np.float64)
        b = rel.image(torch.as_tensor(img).permute(0, 3, 1, 2).float()).permute(0, 2, 3, 1).numpy()
        inner = slice(12, 52)
        assert np.abs(a[:, inner, inner] - b[:, inner, inner]).mean() < 1.0


def cv_smooth(img: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(img, (9, 9), 3)


def test_flip_twice_and_backward_twice_are_identity():
    y = random_poses(8)
    flip, back = relations.get("flip"), relations.get("backward")
    np.testing.assert_allclose(flip.pose(flip.pose(y)), y, atol=1e-9)
    motion = y[None].repeat(3, 0)
    np.testing.assert_array_equal(back.motion(back.motion(motion)), motion)
    video = np.arange(30 * 8 * 8 * 3, dtype=np.uint8).reshape(30, 8, 8, 3)
    np.testing.assert_array_equal(back.video(back.video(video)), video)
    np.testing.assert_array_equal(flip.image(flip.image(video[0])), video[0])
    rot = relations.get("inplane50")
    np.testing.assert_allclose(relations.get("inplane310").pose(rot.pose(y)), y, atol=1e-9)


def test_temporal_relations_pair_frames_like_the_paper():
    frames = np.arange(60)
    motion = np.broadcast_to(frames[:, None, None], (60, 17, 3)).astype(np.float64)
    video = np.broadcast_to(frames[:, None, None, None], (60, 4, 4, 3)).astype(np.uint8)
    slow_back = relations.get("slow-backward")
    np.testing.assert_array_equal(slow_back.anchor_motion(motion)[:, 0, 0], frames[::2])
    np.testing.assert_array_equal(slow_back.motion(motion)[:, 0, 0], frames[15:45][::-1])
    np.testing.assert_array_equal(slow_back.video(video)[:, 0, 0, 0], frames[15:45][::-1])
    tv = torch.as_tensor(video).permute(0, 3, 1, 2)[None]  # (N, T, C, H, W)
    np.testing.assert_array_equal(slow_back.video(tv)[0, :, 0, 0, 0].numpy(), frames[15:45][::-1])
    fb = relations.get("flip-backward")
    assert fb.clip_length(30) == 30 and slow_back.clip_length(30) == 60
    np.testing.assert_array_equal(fb.anchor_motion(motion[:30]), motion[:30])
    y = random_poses(30)
    np.testing.assert_allclose(fb.motion(y), relations.get("flip").pose(y)[::-1])


def test_names_round_trip_and_compose():
    for name in relations.catalogue():
        assert relations.get(name).name == name
    rel = relations.get("flip+inplane50-backward")
    assert rel.flip and rel.theta == 50 and rel.backward and not rel.slow
    assert relations.get("identity").name == "identity"


@pytest.mark.parametrize("bad", ["", "flop", "inplane", "flip+flip", "inplane-50", "slow_backward"])
def test_unknown_names_are_refused_with_the_grammar(bad):
    with pytest.raises(ValueError, match="atom :="):
        relations.get(bad)


def test_bad_inputs_are_refused():
    flip = relations.get("flip")
    with pytest.raises(ValueError, match=r"\(\.\.\., 17, 3\)"):
        flip.pose(np.zeros((17, 2)))
    bad = sk.rest_pose().copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        flip.pose(bad)
    with pytest.raises(ValueError, match="acts on time"):
        relations.get("backward").pose(sk.rest_pose())
    with pytest.raises(ValueError, match="multiple of 4"):
        relations.get("slow").motion(np.zeros((30, 17, 3)))

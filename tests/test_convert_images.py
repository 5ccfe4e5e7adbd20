"""Image-dataset converters: small files in the real SURREAL, 3DPW, MPI-INF-3DHP, mmpose and
LSP layouts, with joints known by construction (within 1 mm; 3D projects onto the converted 2D
within 1 px; a raised left hand stays a raised left hand)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from sa3dhp import skeleton as sk
from sa3dhp.convert import convert
from sa3dhp.convert.image_datasets import project, surreal_extrinsic
from sa3dhp.convert.mocap import ConvertError
from sa3dhp.data.store import read_split
from tests.conftest import random_poses

scipy_io = pytest.importorskip("scipy.io")
h5py = pytest.importorskip("h5py")


def _camera_poses(t: int = 4, table: tuple[int, ...] | None = None) -> np.ndarray:
    """``(T, 17, 3)`` camera-frame mm, 4 m away, the left wrist raised above the left shoulder;
    with a ``table`` whose source joint serves two of ours (SMPL: neck and head), those two are
    the same point, as the format can only hold."""
    p = random_poses(t, seed=5) + np.array([100.0, 200.0, 4000.0])
    p[:, sk.L_WRIST] = p[:, sk.L_SHOULDER] + np.array([0.0, -500.0, 0.0])  # y down: up
    if table is not None:
        for j, src in enumerate(table):
            p[:, j] = p[:, table.index(src)]
    return p


def _expand(ours: np.ndarray, table: tuple[int, ...], n: int) -> np.ndarray:
    """Our joints placed at ``table``'s source indices of an ``n``-joint array (noise else)."""
    out = np.random.default_rng(0).normal(0, 100, (len(ours), n, ours.shape[-1]))
    out[:, list(table)] = ours
    return out


def _check(split, truth: np.ndarray, k: np.ndarray | None) -> None:
    assert np.abs(split.poses - (truth - truth[:, :1])).max() < 1.0
    assert np.abs(split.roots - truth[:, 0]).max() < 1.0
    left_up = split.poses[:, sk.L_WRIST, 1] < split.poses[:, sk.L_SHOULDER, 1] - 400
    assert left_up.all()  # a raised left hand, still the left
    femur = np.linalg.norm(split.poses[:, sk.L_KNEE] - split.poses[:, sk.L_HIP], axis=-1)
    assert (femur > 250).all() and (femur < 700).all()
    if k is not None:
        cam = split.poses + split.roots[:, None]
        assert np.abs(project(cam, k) - split.joints_2d).max() < 1.0


def test_surreal_info_mat_with_its_camera_and_crops(tmp_path):
    from sa3dhp.media import write_video

    truth = _camera_poses(table=sk.FROM_SMPL24)
    cam_loc = np.array([[8.0], [1.0], [0.5]])
    rt = surreal_extrinsic(cam_loc)
    world = ((truth / 1000.0) - rt[:, 3]) @ rt[:, :3]  # camera = R world + t
    j3 = _expand(world, sk.FROM_SMPL24, 24)
    k = np.array([[600.0, 0, 160.0], [0, 600.0, 120.0], [0, 0, 1]])
    j2 = _expand(project(truth, k), sk.FROM_SMPL24, 24)
    scipy_io.savemat(
        tmp_path / "run0_info.mat",
        {"joints3D": j3.transpose(2, 1, 0), "joints2D": j2.transpose(2, 1, 0), "camLoc": cam_loc},
    )
    rng = np.random.default_rng(0)
    write_video(tmp_path / "run0.mp4", rng.integers(0, 255, (4, 240, 320, 3), dtype=np.uint8), 30)
    split = read_split(convert("surreal", [str(tmp_path)], tmp_path / "s", size=32))
    _check(split, truth, k)
    assert split.images.shape == (4, 32, 32, 3) and split.meta["image_size"] == 32


def test_3dpw_sequence_pickle_in_its_moving_camera(tmp_path):
    truth = _camera_poses(table=sk.FROM_SMPL24)
    ext = np.tile(np.eye(4), (4, 1, 1))
    ext[:, :3, 3] = [0.2, -0.1, 0.3]  # metres
    world = truth / 1000.0 - ext[:, None, :3, 3]
    k = np.array([[1961.0, 0, 540.0], [0, 1969.0, 960.0], [0, 0, 1]])
    seq = {
        "sequence": "downtown_walk",
        "cam_poses": ext,
        "cam_intrinsics": k,
        "jointPositions": [_expand(world, sk.FROM_SMPL24, 24).reshape(4, 72)],
        "campose_valid": [np.array([1, 1, 0, 1])],
    }
    (tmp_path / "downtown_walk_00.pkl").write_bytes(pickle.dumps(seq))
    split = read_split(convert("3dpw", [str(tmp_path / "downtown_walk_00.pkl")], tmp_path / "s"))
    _check(split, truth[[0, 1, 3]], k)
    assert split.frame.tolist() == [0, 1, 3]


def test_mpi_inf_3dhp_training_annot_and_calibration(tmp_path):
    truth = _camera_poses()
    k = np.array([[1497.7, 0, 1024.7], [0, 1497.8, 1051.5], [0, 0, 1]])
    a3 = np.empty((2, 1), dtype=object)
    a2 = np.empty((2, 1), dtype=object)
    for c in range(2):
        a3[c, 0] = _expand(truth, sk.FROM_MPI_INF_3DHP_28, 28).reshape(4, 84)
        a2[c, 0] = _expand(project(truth, k), sk.FROM_MPI_INF_3DHP_28, 28).reshape(4, 56)
    scipy_io.savemat(tmp_path / "annot.mat", {"annot3": a3, "annot2": a2})
    intr = " ".join(f"{v:g}" for v in np.pad(k, ((0, 1), (0, 1))).ravel())
    (tmp_path / "camera.calibration").write_text(
        "Skeletool Camera Calibration File V1.0\n"
        + "".join(f"name {c}\n  size 2048 2048\n  intrinsic {intr}\n" for c in range(2))
    )
    out = convert(
        "mpi-inf-3dhp",
        [str(tmp_path / "annot.mat")],
        tmp_path / "s",
        extra={"calibration": str(tmp_path / "camera.calibration")},
    )
    split = read_split(out)
    assert split.meta["clips"][1]["camera"] == 1 and len(split) == 8
    # with the sequence's videos, the crops too (one per frame, per camera)
    import cv2

    (tmp_path / "imageSequence").mkdir()
    for c in range(2):
        w = cv2.VideoWriter(
            str(tmp_path / "imageSequence" / f"video_{c}.avi"),
            cv2.VideoWriter_fourcc(*"MJPG"),
            25,
            (2048, 2048),
        )
        for _ in range(4):
            w.write(np.full((2048, 2048, 3), 90, np.uint8))
        w.release()
    extra = {"calibration": str(tmp_path / "camera.calibration"), "images": str(tmp_path)}
    crops = read_split(
        convert("mpi-inf-3dhp", [str(tmp_path / "annot.mat")], tmp_path / "c", size=16, extra=extra)
    ).images
    assert crops.shape == (8, 16, 16, 3) and abs(float(crops.mean()) - 90) < 5
    one = read_split(out)
    one.poses, one.roots, one.joints_2d = one.poses[:4], one.roots[:4], one.joints_2d[:4]
    _check(one, truth, k)


def test_mpi_inf_3dhp_test_annot_data_v73_keeps_valid_frames(tmp_path):
    truth = _camera_poses()
    a3 = _expand(truth, sk.FROM_MPI_INF_3DHP_17, 17)[:, None]  # (T, 1, 17, 3)
    with h5py.File(tmp_path / "annot_data.mat", "w") as f:  # MATLAB v7.3 stores axes reversed
        f["annot3"] = a3.transpose()
        f["annot2"] = np.zeros((4, 1, 17, 2)).transpose()
        f["valid_frame"] = np.array([[1, 0, 1, 1]]).transpose()
    split = read_split(convert("mpi-inf-3dhp", [str(tmp_path / "annot_data.mat")], tmp_path / "s"))
    _check(split, truth[[0, 2, 3]], None)


def test_mpi_inf_3dhp_test_crops_come_from_the_valid_frames_images(tmp_path):
    import cv2

    k = np.array([[1500.0, 0, 1024.0], [0, 1500.0, 1024.0], [0, 0, 1]])
    truth = _camera_poses()
    a2 = project(truth, k)
    with h5py.File(tmp_path / "annot_data.mat", "w") as f:
        f["annot3"] = _expand(truth, sk.FROM_MPI_INF_3DHP_17, 17)[:, None].transpose()
        f["annot2"] = _expand(a2, sk.FROM_MPI_INF_3DHP_17, 17)[:, None].transpose()
        f["valid_frame"] = np.array([[1, 0, 1, 1]]).transpose()
    (tmp_path / "imageSequence").mkdir()
    for i in range(4):  # img_000001.jpg is frame 0; each frame its own grey, a disc at the pelvis
        img = np.full((2048, 2048, 3), 40 * (i + 1), np.uint8)
        centre = tuple(round(v) for v in a2[i, sk.PELVIS])
        cv2.circle(img, centre, 150, (255, 255, 255), -1)
        cv2.imwrite(str(tmp_path / "imageSequence" / f"img_{i + 1:06d}.jpg"), img)
    extra = {"images": str(tmp_path)}
    out = convert(
        "mpi-inf-3dhp", [str(tmp_path / "annot_data.mat")], tmp_path / "c", size=32, extra=extra
    )
    split = read_split(out)
    assert split.images.shape == (3, 32, 32, 3) and list(split.frame) == [0, 2, 3]
    corner = split.images[:, :3, :3].reshape(3, -1).mean(1)
    np.testing.assert_allclose(corner, [40, 120, 160], atol=6)  # the valid frames' own images
    assert (split.images[:, 15:17, 15:17].mean(axis=(1, 2, 3)) > 240).all()  # pelvis centred
    # a missing frame: one line naming it, nothing left behind
    (tmp_path / "imageSequence" / "img_000003.jpg").unlink()
    with pytest.raises(ConvertError, match=r"img_000003\.jpg: missing"):
        convert(
            "mpi-inf-3dhp", [str(tmp_path / "annot_data.mat")], tmp_path / "d", size=32, extra=extra
        )
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("joints", ["h36m", "3dhp"])
def test_mmpose_npz_in_either_joint_order(tmp_path, joints):
    truth = _camera_poses()
    table = tuple(range(17)) if joints == "h36m" else sk.FROM_MPI_INF_3DHP_17
    s = np.zeros((4, 17, 4))
    s[:, list(table), :3] = truth / 1000.0
    part = np.zeros((4, 17, 3))
    np.savez(
        tmp_path / "h36m_test.npz",
        S=s,
        part=part,
        imgname=np.array([f"{i}.jpg" for i in range(4)]),
        center=np.zeros((4, 2)),
        scale=np.ones(4),
    )
    split = read_split(
        convert(
            "mmpose-npz",
            [str(tmp_path / "h36m_test.npz")],
            tmp_path / "s",
            extra={"joints": joints},
        )
    )
    _check(split, truth, None)


def test_lsp_joints_mat_is_2d_only(tmp_path):
    rng = np.random.default_rng(0)
    j = np.concatenate([rng.uniform(0, 200, (2, 14, 5)), np.ones((1, 14, 5))])
    scipy_io.savemat(tmp_path / "joints.mat", {"joints": j})
    split = read_split(convert("lsp", [str(tmp_path / "joints.mat")], tmp_path / "s"))
    assert not split.labelled and split.poses is None
    xy = j[:2].transpose(2, 1, 0)
    assert np.allclose(split.joints_2d[:, sk.L_WRIST], xy[:, 11]) and np.allclose(
        split.joints_2d[:, sk.HEAD], xy[:, 13]
    )
    assert np.allclose(split.joints_2d[:, sk.PELVIS], (xy[:, 2] + xy[:, 3]) / 2)


def test_3dpw_crops_come_from_its_image_files_centred_on_the_pelvis(tmp_path):
    import cv2

    truth = _camera_poses(table=sk.FROM_SMPL24)
    ext = np.tile(np.eye(4), (4, 1, 1))
    k = np.array([[1961.0, 0, 540.0], [0, 1969.0, 960.0], [0, 0, 1]])
    world = _expand(truth / 1000.0, sk.FROM_SMPL24, 24).reshape(4, 72)
    seq = {
        "sequence": "s",
        "cam_poses": ext,
        "cam_intrinsics": k,
        "jointPositions": [world],
        "campose_valid": [np.ones(4)],
    }
    (tmp_path / "s.pkl").write_bytes(pickle.dumps(seq))
    folder = tmp_path / "3DPW" / "imageFiles" / "s"
    folder.mkdir(parents=True)
    for i, (u, v) in enumerate(project(truth[:, 0], k)):
        img = np.zeros((1920, 1080, 3), np.uint8)
        cv2.circle(img, (round(u), round(v)), 60, (0, 0, 255), -1)  # red (BGR) at the pelvis
        cv2.imwrite(str(folder / f"image_{i:05d}.jpg"), img)
    split = read_split(
        convert(
            "3dpw",
            [str(tmp_path / "s.pkl")],
            tmp_path / "out",
            size=32,
            extra={"images": str(tmp_path / "3DPW")},
        )
    )
    assert split.images.shape == (4, 32, 32, 3) and split.meta["image_size"] == 32
    centre = split.images[:, 15:17, 15:17].reshape(4, -1, 3).mean(1)
    assert (centre[:, 0] > 200).all() and (centre[:, 2] < 60).all()  # red in RGB
    corner = split.images[:, 0, 0]
    assert (corner.max(1) < 40).all()


def test_mmpose_crops_are_boxed_from_the_2d_joints_and_the_pose(tmp_path):
    import cv2

    truth = _camera_poses()
    k = np.array([[1145.0, 0, 500.0], [0, 1145.0, 500.0], [0, 0, 1]])
    s = np.zeros((4, 17, 4))
    s[..., :3] = truth / 1000.0
    part = np.zeros((4, 17, 3))
    part[..., :2] = project(truth, k)
    (tmp_path / "imgs").mkdir()
    names = []
    for i, (u, v) in enumerate(part[:, 0, :2]):
        img = np.zeros((1000, 1000, 3), np.uint8)
        cv2.circle(img, (round(u), round(v)), 30, (255, 0, 0), -1)
        cv2.imwrite(str(tmp_path / "imgs" / f"{i}.png"), img)
        names.append(f"imgs/{i}.png")
    np.savez(tmp_path / "m.npz", S=s, part=part, imgname=np.array(names))
    extra = {"joints": "h36m", "images": str(tmp_path)}
    split = read_split(
        convert("mmpose-npz", [str(tmp_path / "m.npz")], tmp_path / "o", size=32, extra=extra)
    )
    assert split.images.shape == (4, 32, 32, 3)
    centre = split.images[:, 15:17, 15:17].reshape(4, -1, 3).mean(1)
    assert (centre[:, 2] > 180).all()  # the blue disc at the 2D pelvis
    # the box's side follows the pose's size in pixels: about crop_scale x the height at its depth
    from sa3dhp.convert.image_datasets import crop_boxes, crop_boxes_2d

    assert np.allclose(
        crop_boxes_2d(truth - truth[:, :1], part[..., :2], 1.7)[:, 2],
        crop_boxes(truth[:, 0], truth - truth[:, :1], k, 1.7)[:, 2],
        rtol=0.1,
    )

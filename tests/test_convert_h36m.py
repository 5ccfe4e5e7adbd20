"""The Human3.6M converter: small files in its real layouts (``.cdf``, the h5 and npz of its
common re-releases, the camera files), converted and checked within a millimetre; pickles with
code refused; crops cut from its videos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sa3dhp import cli
from sa3dhp import skeleton as sk
from sa3dhp.convert import convert
from sa3dhp.convert.mocap import MocapConvertConfig
from sa3dhp.data.store import read_split


def _h36m_world(t: int = 5) -> np.ndarray:
    """``(T, 32, 3)`` mm, world (z up): our 17 known joints at their H36M indices, noise else."""
    from tests.conftest import random_poses

    rng = np.random.default_rng(1)
    ours = (
        random_poses(t, seed=3) @ np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0.0]]).T
    )  # y down -> z up
    out = rng.normal(0, 300, (t, 32, 3))
    out[:, list(sk.FROM_H36M_32)] = (
        ours + np.array([500.0, 2000.0, 900.0]) + np.arange(t)[:, None, None]
    )
    return out


_R = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])  # world z up -> camera y down
_T = np.array([-3000.0, 1800.0, 1500.0])


def _write_h36m(tmp_path, layout: str) -> Path:
    world = _h36m_world()
    if layout == "npz":
        path = tmp_path / "data_3d_h36m.npz"
        np.savez(path, positions_3d={"S1": {"Walking": world / 1000.0}})
        return path
    folder = (
        tmp_path
        / "S1"
        / ("MyPoses/3D_positions" if layout == "h5" else "MyPoseFeatures/D3_Positions")
    )
    folder.mkdir(parents=True)
    if layout == "h5":
        import h5py

        with h5py.File(folder / "Walking.h5", "w") as f:
            f["3D_positions"] = world.reshape(-1, 96).T
        return folder / "Walking.h5"
    from cdflib.cdfwrite import CDF

    cdf = CDF(str(folder / "Walking.cdf"), cdf_spec={"Majority": "row_major"}, delete=True)
    spec = {"Variable": "Pose", "Data_Type": CDF.CDF_DOUBLE, "Num_Elements": 1, "Rec_Vary": True,
            "Dim_Sizes": [len(world), 96]}  # fmt: skip
    cdf.write_var(spec, var_data=world.reshape(1, -1, 96))
    cdf.close()
    return folder / "Walking.cdf"


def _write_cameras(tmp_path, layout: str) -> Path:
    if layout == "pkl":
        import pickle

        path = tmp_path / "cameras.pkl"
        path.write_bytes(
            pickle.dumps({("S1", "54138969"): {"R": _R, "T": _T[:, None], "name": "54138969"}})
        )
        return path
    import h5py

    path = tmp_path / "cameras.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("subject1/camera1")
        g["R"], g["T"] = _R, _T[:, None]
        g["Name"] = np.array([ord(c) for c in "54138969"], np.uint8)
    return path


@pytest.mark.parametrize("layout,cams", [("npz", "pkl"), ("h5", "h5"), ("cdf", "pkl")])
def test_h36m_layouts_in_their_cameras_within_a_millimetre(tmp_path, layout, cams):
    poses = _write_h36m(tmp_path, layout)
    cameras = _write_cameras(tmp_path, cams)
    out = convert(
        "h36m", [str(poses)], tmp_path / "s", MocapConvertConfig(fps=50), cameras=str(cameras)
    )
    split = read_split(out)
    world = _h36m_world()[:, list(sk.FROM_H36M_32)]
    cam = (world - _T) @ _R.T
    assert np.abs(split.poses - (cam - cam[:, :1])).max() < 1.0
    assert np.abs(split.roots - cam[:, 0]).max() < 1.0
    assert split.meta["clips"][0] == {
        "subject": "S1",
        "action": "Walking",
        "camera": "54138969",
        "start": 0,
    }


def test_a_pickle_with_code_in_it_is_refused(tmp_path, capsys):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / "cameras.pkl").write_bytes(pickle.dumps({("S1", "c"): Evil()}))
    poses = _write_h36m(tmp_path, "npz")
    cams = str(tmp_path / "cameras.pkl")
    rc = cli.main(
        ["data", "convert", "h36m", str(poses), "--cameras", cams, "--out", str(tmp_path / "s")]
    )
    err = capsys.readouterr()
    assert rc == 2 and "pwned" not in err.out
    assert (
        len(err.err.strip().splitlines()) == 1
        and "cameras.pkl" in err.err
        and "builtins.print" in err.err
    )
    assert not (tmp_path / "s").exists()


def test_the_real_config_names_converted_splits_for_the_user_to_fill_in():
    from sa3dhp.config import load_config

    cfg = load_config("real")
    assert cfg.data.paths == {
        "mocap": "data/mocap_cmu",
        "source_train": "data/surreal_train",
        "source_val": "data/surreal_val",
        "target_train": "data/target_videos",
    }


def test_h36m_crops_come_from_its_videos_centred_on_the_pelvis(tmp_path):
    import pickle

    import cv2

    from sa3dhp.media import write_video

    poses = _write_h36m(tmp_path, "npz")
    k = np.array([[1145.0, 0, 512.0], [0, 1144.0, 515.0], [0, 0, 1]])
    cam_file = tmp_path / "cameras.pkl"
    cam = {"R": _R, "T": _T[:, None], "name": "54138969", "f": k[[0, 1], [0, 1]], "c": k[:2, 2]}
    cam_file.write_bytes(pickle.dumps({("S1", "54138969"): cam}))
    world = _h36m_world()[:, list(sk.FROM_H36M_32)]
    pelvis = (world[:, 0] - _T) @ _R.T
    frames = []
    for x in pelvis:
        img = np.zeros((1002, 1000, 3), np.uint8)
        u, v = (k @ x)[:2] / x[2]
        cv2.circle(img, (round(u), round(v)), 40, (255, 0, 0), -1)  # red in RGB
        frames.append(img)
    (tmp_path / "S1" / "Videos").mkdir(parents=True)
    write_video(tmp_path / "S1" / "Videos" / "Walking.54138969.mp4", frames, 50)
    split = read_split(
        convert(
            "h36m",
            [str(poses)],
            tmp_path / "s",
            MocapConvertConfig(fps=50),
            cameras=str(cam_file),
            size=32,
            extra={"images": str(tmp_path)},
        )
    )
    assert split.images.shape == (5, 32, 32, 3)
    centre = split.images[:, 15:17, 15:17].reshape(5, -1, 3).mean(1)
    assert (centre[:, 0] > 180).all() and (centre[:, 2] < 80).all()

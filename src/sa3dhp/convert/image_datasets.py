"""Image datasets with 3D (or 2D) labels: SURREAL, 3DPW, MPI-INF-3DHP, mmpose's npz and LSP.

Each reader returns frame-level arrays in our conventions (17 joints, mm, camera frame x right,
y down, z forward, root-relative poses plus the pelvis position ``roots``; ``joints_2d`` in image
pixels where the format has 2D) and, where it can, the person-centred crops of the training
convention (:mod:`sa3dhp.camera`: centred on the pelvis' projection, side = ``crop_scale`` x the
person's height at the pelvis depth). The 17-joint tables are in :mod:`sa3dhp.skeleton`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from sa3dhp import skeleton as sk
from sa3dhp.camera import Intrinsics, crop_box
from sa3dhp.convert.mocap import ConvertError
from sa3dhp.convert.safe_pickle import load_npz_objects, load_pickle

#: SURREAL's fixed camera (Blender: 60 mm lens, 32 mm sensor, 320 x 240 pixels).
SURREAL_INTRINSICS = Intrinsics(focal=600.0, cx=160.0, cy=120.0)
#: LSP's 14 joints -> ours: pelvis, spine and thorax are approximate (midpoints), neck <- neck,
#: head <- head top.
LSP_NAMES = (
    "r_ankle",
    "r_knee",
    "r_hip",
    "l_hip",
    "l_knee",
    "l_ankle",
    "r_wrist",
    "r_elbow",
    "r_shoulder",
    "l_shoulder",
    "l_elbow",
    "l_wrist",
    "neck",
    "head_top",
)


def _loadmat(path: Path) -> dict:
    """A MATLAB file: v5 with scipy, v7.3 (HDF5) with h5py (axes reversed back to MATLAB's)."""
    if not path.is_file():
        raise ConvertError(f"{path}: no such file")
    import h5py

    if h5py.is_hdf5(str(path)):
        with h5py.File(path, "r") as f:
            return {k: np.asarray(f[k]).transpose() for k in f if isinstance(f[k], h5py.Dataset)}
    import scipy.io

    try:
        return scipy.io.loadmat(str(path))
    except Exception as e:
        raise ConvertError(f"{path}: not a readable .mat file ({type(e).__name__})") from None


def _need(d: dict, keys: tuple[str, ...], path: Path, what: str) -> None:
    missing = [k for k in keys if k not in d]
    if missing:
        raise ConvertError(f"{path}: no {', '.join(missing)} ({what})")


def project(cam: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Pinhole projection ``(..., 3)`` camera-frame points -> ``(..., 2)`` pixels with ``K``."""
    uvw = cam @ k.T
    return uvw[..., :2] / uvw[..., 2:3]


def _finish(cam: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not np.all(np.isfinite(cam)):
        bad = int(np.flatnonzero(~np.isfinite(cam).all(axis=(1, 2)))[0])
        raise ConvertError(f"{name}: frame {bad} has NaN or infinite joints")
    return (cam - cam[:, :1]).astype(np.float32), cam[:, 0].astype(np.float32)


# -------------------------------------------------------------------------------- SURREAL
def surreal_extrinsic(cam_loc: np.ndarray) -> np.ndarray:
    """SURREAL's world -> camera ``[R | t]`` ``(3, 4)`` from the Blender camera location (m)."""
    r_world2bcam = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]]).T
    t_world2bcam = -r_world2bcam @ np.asarray(cam_loc, float).reshape(3)
    r_bcam2cv = np.diag([1.0, -1.0, -1.0])
    return np.concatenate([r_bcam2cv @ r_world2bcam, (r_bcam2cv @ t_world2bcam)[:, None]], 1)


def read_surreal(path: str | Path) -> dict[str, np.ndarray]:
    """``*_info.mat``: ``joints3D`` (3, 24, T) m world, ``joints2D`` (2, 24, T) px, ``camLoc``."""
    path = Path(path)
    d = _loadmat(path)
    _need(d, ("joints3D", "joints2D", "camLoc"), path, "SURREAL's *_info.mat")
    j3 = np.asarray(d["joints3D"], float)
    if j3.ndim == 2:  # a one-frame clip is stored without its time axis
        j3 = j3[..., None]
    if j3.shape[:2] != (3, 24):
        raise ConvertError(f"{path}: joints3D is {j3.shape}, expected (3, 24, T)")
    rt = surreal_extrinsic(d["camLoc"])
    world = j3.transpose(2, 1, 0)[:, list(sk.FROM_SMPL24)] * 1000.0
    cam = world @ rt[:, :3].T + rt[:, 3] * 1000.0
    poses, roots = _finish(cam, str(path))
    j2 = np.asarray(d["joints2D"], float).reshape(2, 24, -1).transpose(2, 1, 0)
    return {
        "poses": poses,
        "roots": roots,
        "joints_2d": j2[:, list(sk.FROM_SMPL24)].astype(np.float32),
    }


# ----------------------------------------------------------------------------------- 3DPW
def read_3dpw(path: str | Path) -> list[dict[str, np.ndarray]]:
    """A 3DPW sequence ``.pkl``: per person, the valid frames' poses in the moving camera and
    their 2D projection with ``cam_intrinsics`` (``jointPositions`` are SMPL's 24 joints, m)."""
    path = Path(path)
    seq = load_pickle(path)
    if not isinstance(seq, dict):
        raise ConvertError(f"{path}: expected a dict (a 3DPW sequence file)")
    _need(seq, ("jointPositions", "cam_poses", "cam_intrinsics", "campose_valid"), path, "3DPW")
    ext = np.asarray(seq["cam_poses"], float)
    k = np.asarray(seq["cam_intrinsics"], float)
    people = []
    for p, joints in enumerate(seq["jointPositions"]):
        joints = np.asarray(joints, float)
        if joints.ndim != 2 or joints.shape[1] != 72 or len(joints) != len(ext):
            raise ConvertError(
                f"{path}: person {p}'s jointPositions is {joints.shape}, expected (T, 72)"
            )
        world = joints.reshape(-1, 24, 3)[:, list(sk.FROM_SMPL24)] * 1000.0
        cam = np.einsum("tij,tkj->tki", ext[:, :3, :3], world) + ext[:, None, :3, 3] * 1000.0
        valid = np.asarray(seq["campose_valid"][p]).astype(bool)
        poses, roots = _finish(cam[valid], str(path))
        people.append(
            {
                "poses": poses,
                "roots": roots,
                "joints_2d": project(cam[valid], k).astype(np.float32),
                "frame_ids": np.flatnonzero(valid),
                "K": k,
                "sequence": str(seq.get("sequence", path.stem)),
            }
        )
    return people


def cut_crops(
    frames: Iterable[np.ndarray], boxes: np.ndarray, size: int, source: Path | str, what: str
) -> np.ndarray:
    """One training crop ``(N, S, S, 3)`` per box ``(N, 3)`` from ``frames`` taken in order (a
    video's decoded frames or images read one by one); fewer frames than boxes is refused in one
    line naming ``source`` and ``what`` the boxes come from."""
    from sa3dhp.detect import cut_crop

    crops = [cut_crop(f, b, size) for f, b in zip(frames, boxes, strict=False)]
    if len(crops) < len(boxes):
        raise ConvertError(f"{source}: {len(crops)} frames for the {len(boxes)} crops of {what}")
    return np.stack(crops)


def read_images(paths: list[Path], hint: str) -> Iterator[np.ndarray]:
    """The images at ``paths``, read lazily, after checking that every one exists (the error
    names the first missing file and ``hint`` says where they are looked for)."""
    from sa3dhp.media import read_image

    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise ConvertError(f"{missing[0]}: missing ({len(missing)} of {len(paths)}; {hint})")
    return (read_image(p) for p in paths)


def crops_from_images(images: list[Path], rec: dict, crop_scale: float, size: int) -> np.ndarray:
    """The training crops ``(N, S, S, 3)`` of ``rec`` (poses, roots, K) from one image per row."""
    boxes = crop_boxes(rec["roots"], rec["poses"], rec["K"], crop_scale)
    frames = read_images(images, "the record's frames")
    return cut_crops(frames, boxes, size, images[0], "the record")


def images_3dpw(root: Path, rec: dict) -> list[Path]:
    """3DPW's frames of a record: ``imageFiles/<sequence>/image_<frame:05d>.jpg`` under ``root``."""
    folder = root / "imageFiles" / rec["sequence"]
    return [folder / f"image_{int(i):05d}.jpg" for i in rec["frame_ids"]]


# --------------------------------------------------------------------------- MPI-INF-3DHP
def read_calibration(path: str | Path) -> dict[int, np.ndarray]:
    """``camera.calibration``: ``{camera: K (3, 3)}`` from each ``intrinsic`` 4 x 4 row."""
    path = Path(path)
    if not path.is_file():
        raise ConvertError(f"{path}: no such camera.calibration")
    out, cam = {}, None
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["name"]:
            cam = int(parts[1])
        elif parts[:1] == ["intrinsic"] and cam is not None:
            out[cam] = np.array(parts[1:17], float).reshape(4, 4)[:3, :3]
    if not out:
        raise ConvertError(f"{path}: no 'name' / 'intrinsic' entries (MPI-INF-3DHP's format)")
    return out


def read_3dhp_train(annot: str | Path, calibration: str | Path) -> list[dict[str, np.ndarray]]:
    """Training ``annot.mat``: per camera ``annot3`` (T, 84) camera mm and ``annot2`` (T, 56) px."""
    annot = Path(annot)
    d = _loadmat(annot)
    _need(d, ("annot3", "annot2"), annot, "MPI-INF-3DHP's training annot.mat")
    ks = read_calibration(calibration)
    out = []
    for c in range(np.asarray(d["annot3"]).size):
        a3 = np.asarray(np.asarray(d["annot3"]).ravel()[c], float).reshape(-1, 28, 3)
        a2 = np.asarray(np.asarray(d["annot2"]).ravel()[c], float).reshape(-1, 28, 2)
        poses, roots = _finish(a3[:, list(sk.FROM_MPI_INF_3DHP_28)], f"{annot} camera {c}")
        out.append(
            {
                "poses": poses,
                "roots": roots,
                "camera": c,
                "K": ks.get(c),
                "joints_2d": a2[:, list(sk.FROM_MPI_INF_3DHP_28)].astype(np.float32),
            }
        )
    return out


def images_3dhp_test(root: Path, rec: dict) -> list[Path]:
    """A test sequence's frames of the valid rows of ``rec``:
    ``root/imageSequence/img_<frame + 1:06d>.jpg`` (MPI-INF-3DHP numbers them from 1)."""
    return [root / "imageSequence" / f"img_{int(i) + 1:06d}.jpg" for i in rec["frame_ids"]]


def read_3dhp_test(annot: str | Path) -> dict[str, np.ndarray]:
    """Test ``annot_data.mat`` (v7.3): ``annot3`` (T, 1, 17, 3) mm, ``annot2``, ``valid_frame``;
    only valid frames are kept."""
    annot = Path(annot)
    d = _loadmat(annot)
    _need(d, ("annot3", "annot2", "valid_frame"), annot, "MPI-INF-3DHP's test annot_data.mat")
    valid = np.asarray(d["valid_frame"]).ravel().astype(bool)
    a3 = np.asarray(d["annot3"], float).reshape(-1, 17, 3)[valid]
    a2 = np.asarray(d["annot2"], float).reshape(-1, 17, 2)[valid]
    poses, roots = _finish(a3[:, list(sk.FROM_MPI_INF_3DHP_17)], str(annot))
    return {
        "poses": poses,
        "roots": roots,
        "frame_ids": np.flatnonzero(valid),
        "joints_2d": a2[:, list(sk.FROM_MPI_INF_3DHP_17)].astype(np.float32),
    }


# ---------------------------------------------------------------------------- mmpose npz
def read_mmpose_npz(path: str | Path, joints: str) -> dict[str, np.ndarray]:
    """mmpose's body3d annotation npz: ``S`` (N, 17, 4) camera metres + visibility, ``part``
    (N, 17, 3) pixels + visibility, ``imgname``; ``joints`` = h36m (our order) or 3dhp."""
    path = Path(path)
    if joints not in ("h36m", "3dhp"):
        raise ConvertError(f"--joints {joints!r}: use h36m or 3dhp (mmpose's two 17-joint orders)")
    d = load_npz_objects(path)
    _need(d, ("S", "part", "imgname"), path, "mmpose's body3d npz")
    s, part = np.asarray(d["S"], float), np.asarray(d["part"], float)
    if s.ndim != 3 or s.shape[1:] != (17, 4) or part.shape[:2] != s.shape[:2]:
        raise ConvertError(f"{path}: S is {s.shape} and part {part.shape}, expected (N, 17, 4/3)")
    table = tuple(range(17)) if joints == "h36m" else sk.FROM_MPI_INF_3DHP_17
    poses, roots = _finish(s[:, list(table), :3] * 1000.0, str(path))
    return {
        "poses": poses,
        "roots": roots,
        "joints_2d": part[:, list(table), :2].astype(np.float32),
        "imgname": np.asarray(d["imgname"]).astype(str),
    }


# ------------------------------------------------------------------------------------ LSP
def read_lsp(path: str | Path) -> np.ndarray:
    """``joints.mat``: LSP's (3, 14, N) or LSP-extended's (14, 3, N) -> our ``(N, 17, 2)`` px."""
    path = Path(path)
    d = _loadmat(path)
    _need(d, ("joints",), path, "LSP's joints.mat")
    j = np.asarray(d["joints"], float)
    if j.shape[:2] == (3, 14):
        j = j.transpose(2, 1, 0)
    elif j.shape[:2] == (14, 3):
        j = j.transpose(2, 0, 1)
    else:
        raise ConvertError(f"{path}: joints is {j.shape}, expected (3, 14, N) or (14, 3, N)")
    xy = {n: j[:, i, :2] for i, n in enumerate(LSP_NAMES)}
    pelvis = (xy["l_hip"] + xy["r_hip"]) / 2
    thorax = (xy["l_shoulder"] + xy["r_shoulder"]) / 2
    named = {
        **xy,
        "pelvis": pelvis,
        "thorax": thorax,
        "spine": (pelvis + thorax) / 2,
        "head": xy["head_top"],
    }
    return np.stack([named[n] for n in sk.JOINT_NAMES], axis=1).astype(np.float32)


def extent_of(poses: np.ndarray, crop_scale: float) -> np.ndarray:
    """The training crop's side at the pelvis depth, mm: ``crop_scale`` x the height from the
    bone lengths."""
    from sa3dhp.predict import person_height_mm

    return crop_scale * person_height_mm(poses)


def crop_boxes(
    roots: np.ndarray, poses: np.ndarray, k: np.ndarray, crop_scale: float
) -> np.ndarray:
    """``(N, 3)`` crop centre and side in pixels for camera-frame pelvis positions."""
    intr = Intrinsics(focal=float(k[0, 0]), cx=float(k[0, 2]), cy=float(k[1, 2]))
    return crop_box(roots.astype(np.float64), extent_of(poses, crop_scale), intr)


def crop_boxes_2d(poses: np.ndarray, joints_2d: np.ndarray, crop_scale: float) -> np.ndarray:
    """``(N, 3)`` crop centre and side in pixels where only the 2D joints are known with the 3D
    pose (no intrinsics): centred on the pelvis' 2D position, the pixels per mm from the
    weak-perspective fit of the 2D joints to the pose's x, y about the pelvis."""
    d2 = joints_2d - joints_2d[:, :1]
    d3 = poses[..., :2] - poses[:, :1, :2]
    scale = (d2 * d3).sum(axis=(1, 2)) / np.maximum((d3 * d3).sum(axis=(1, 2)), 1e-9)
    side = extent_of(poses, crop_scale) * scale
    return np.concatenate([joints_2d[:, 0], side[:, None]], axis=1)


def sequence_name(path: Path) -> str:
    """A readable name for a file (its stem without the dataset's suffixes)."""
    return re.sub(r"_info$", "", path.stem)

"""Human3.6M 3D poses in the three layouts people have, seen by each of its four cameras.

Poses (world frame, 32 joints, :data:`sa3dhp.skeleton.FROM_H36M_32` picks our 17):

* raw ``S*/MyPoseFeatures/D3_Positions/<action>.cdf``: variable ``Pose`` ``(1, T, 96)`` mm
  (read with ``cdflib``);
* 3d-pose-baseline's ``S*/MyPoses/3D_positions/<action>.h5``: dataset ``3D_positions``
  ``(96, T)`` mm (``h5py``);
* VideoPose3D's ``data_3d_h36m.npz``: ``positions_3d`` = ``{subject: {action: (T, 32, 3)}}``
  in metres (a pickled dict, read with :mod:`sa3dhp.convert.safe_pickle`).

Cameras (``--cameras FILE``): 3d-pose-baseline's ``cameras.h5`` (``subject<s>/camera<c>/{R, T,
Name}``) or mmpose's ``cameras.pkl`` (``{(subject, camera): {"R", "T", "name", ...}}``). Both
give the world-to-camera rotation ``R`` and the camera centre ``T`` (mm): a joint ``X`` is at
``R (X - T)`` in the camera frame, which is our camera frame (x right, y down, z forward). Each
source frame becomes one pose per camera; ``meta.json["clips"]`` says which subject, action and
camera each clip is.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from sa3dhp import skeleton as sk
from sa3dhp.convert.mocap import ConvertError, resample
from sa3dhp.convert.safe_pickle import load_npz_objects, load_pickle

Sequences = dict[tuple[str, str], np.ndarray]  # (subject, action) -> (T, 32, 3) mm, world


def _subject_of(path: Path) -> str:
    for part in reversed(path.parts):
        if re.fullmatch(r"S\d+", part):
            return part
    raise ConvertError(f"{path}: cannot tell the subject (expected a folder S1, S5, ... above it)")


def _as_32(values: np.ndarray, path: Path) -> np.ndarray:
    if values.ndim != 2 or values.shape[1] != 96:
        raise ConvertError(
            f"{path}: expected 96 values per frame (32 joints x 3), got {values.shape}"
        )
    return values.reshape(-1, 32, 3).astype(np.float64)


def read_poses(path: str | Path) -> Sequences:
    """The 32-joint world poses (mm) in one file of any of the three layouts."""
    path = Path(path)
    if not path.is_file():
        raise ConvertError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        data = load_npz_objects(path)
        if "positions_3d" not in data:
            raise ConvertError(f"{path}: no 'positions_3d' (VideoPose3D's data_3d_h36m.npz)")
        table = data["positions_3d"]
        table = table.item() if isinstance(table, np.ndarray) else table
        out = {}
        for subject, actions in table.items():
            for action, pos in actions.items():
                pos = np.asarray(pos, dtype=np.float64)
                if pos.ndim != 3 or pos.shape[1:] != (32, 3):
                    raise ConvertError(f"{path}: {subject}/{action} is {pos.shape}, not (T, 32, 3)")
                out[(str(subject), str(action))] = pos * 1000.0
        return out
    if suffix == ".h5":
        import h5py

        try:
            with h5py.File(path, "r") as f:
                values = np.asarray(f["3D_positions"]).T
        except (OSError, KeyError) as e:
            raise ConvertError(f"{path}: not 3d-pose-baseline's h5 ({type(e).__name__})") from None
        return {(_subject_of(path), path.stem): _as_32(values, path)}
    if suffix == ".cdf":
        import cdflib

        try:
            values = np.asarray(cdflib.CDF(str(path)).varget("Pose"))
        except Exception as e:
            raise ConvertError(f"{path}: not a D3_Positions .cdf ({type(e).__name__})") from None
        return {(_subject_of(path), path.stem): _as_32(values.reshape(-1, 96), path)}
    raise ConvertError(f"{path}: not an h36m pose file (.cdf, .h5 or .npz)")


def _name(value: object) -> str:
    """A camera name stored as a string, bytes or an array of character codes."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, str):
        return value
    return "".join(chr(int(c)) for c in np.asarray(value).ravel())


def _intrinsics(f: object, c: object) -> np.ndarray | None:
    if f is None or c is None:
        return None
    fx, fy = np.asarray(f, float).ravel()[:2]
    cx, cy = np.asarray(c, float).ravel()[:2]
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def read_cameras(
    path: str | Path,
) -> dict[str, list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]]]:
    """``{subject: [(camera name, R (3, 3), T (3,) mm, K (3, 3) or None), ...]}`` from
    cameras.h5 or cameras.pkl (``K`` from their ``f`` and ``c`` where given)."""
    path = Path(path)
    if not path.is_file():
        raise ConvertError(f"{path}: no such cameras file (--cameras cameras.h5 or cameras.pkl)")
    out: dict[str, list] = {}
    if path.suffix.lower() == ".pkl":
        table = load_pickle(path)
        if not isinstance(table, dict):
            raise ConvertError(f"{path}: expected a dict keyed by (subject, camera)")
        for key, cam in sorted(table.items(), key=lambda kv: str(kv[0])):
            subject, name = (key if isinstance(key, tuple) else (None, key))[:2]
            r, t = np.asarray(cam["R"], float), np.asarray(cam["T"], float).reshape(3)
            k = _intrinsics(cam.get("f"), cam.get("c"))
            out.setdefault(str(subject), []).append((str(cam.get("name", name)), r, t, k))
        return out
    import h5py

    try:
        with h5py.File(path, "r") as f:
            for sub in sorted(f):
                subject = "S" + re.sub(r"\D", "", sub)
                for cam in sorted(f[sub]):
                    g = f[sub][cam]
                    name = _name(g["Name"][()]) if "Name" in g else cam
                    r, t = np.asarray(g["R"], float), np.asarray(g["T"], float).reshape(3)
                    k = _intrinsics(
                        g["f"][()] if "f" in g else None, g["c"][()] if "c" in g else None
                    )
                    out.setdefault(subject, []).append((str(name), r, t, k))
    except (OSError, KeyError) as e:
        raise ConvertError(
            f"{path}: not 3d-pose-baseline's cameras.h5 ({type(e).__name__})"
        ) from None
    return out


def _video_crops(
    root: Path,
    subj: str,
    action: str,
    camera: str,
    cam: np.ndarray,
    k: np.ndarray | None,
    step: float,
    crop_scale: float,
    size: int,
) -> np.ndarray:
    """Crops of one camera's video (``root/S*/Videos/<action>.<camera>.mp4``) for the poses
    ``cam`` ``(T, 17, 3)`` (camera frame mm), the frame of pose ``i`` being ``round(i * step)``."""
    from sa3dhp.convert.image_datasets import crop_boxes, cut_crops
    from sa3dhp.media import read_video

    video = root / subj / "Videos" / f"{action}.{camera}.mp4"
    if not video.is_file():
        raise ConvertError(f"{video}: missing (--videos names the folder holding S*/Videos/)")
    if k is None:
        raise ConvertError(f"the cameras file gives no f and c for camera {camera}: no crops")
    boxes = crop_boxes(cam[:, 0], cam - cam[:, :1], k, crop_scale)
    want = {round(i * step) for i in range(len(cam))}  # increasing in i: the frames in order
    frames = (f for j, f in enumerate(read_video(video)) if j in want)
    return cut_crops(frames, boxes, size, video, "its poses")


def h36m_split(
    files: list[Path],
    cameras: str | Path,
    fps: float,
    source_fps: float = 50.0,
    clip_frames: int = 0,
    videos: str | Path | None = None,
    crop_scale: float = 1.7,
    size: int = 64,
) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and meta of a labelled pose split: one clip per (subject, action, camera), or,
    with ``clip_frames``, clips of that many frames (usable as ``data.mocap``). With ``videos``
    (the folder holding ``S*/Videos/<action>.<camera>.mp4``), the crops of our convention at
    ``size``, from the frames nearest in time to each pose."""
    seqs: Sequences = {}
    for f in files:
        seqs.update(read_poses(f))
    cams = read_cameras(cameras)
    poses, roots, clip, frame, subject, clips, images = [], [], [], [], [], [], []
    subjects = sorted({s for s, _ in seqs})
    for (subj, action), pos in sorted(seqs.items()):
        if subj not in cams:
            raise ConvertError(f"{cameras}: no cameras of subject {subj}")
        if not np.all(np.isfinite(pos)):
            raise ConvertError(f"{subj}/{action}: NaN or infinite joints")
        joints = resample(pos[:, list(sk.FROM_H36M_32)], source_fps, fps)
        for name, r, t, k in cams[subj]:
            whole = (joints - t) @ r.T
            crops = None
            if videos is not None:
                crops = _video_crops(
                    Path(videos), subj, action, name, whole, k, source_fps / fps, crop_scale, size
                )
            step = clip_frames or len(whole)
            for start in range(0, len(whole) - step + 1, step):
                cam = whole[start : start + step]
                c = len(clips)
                clips.append({"subject": subj, "action": action, "camera": name, "start": start})
                if crops is not None:
                    images.append(crops[start : start + step])
                poses.append(cam - cam[:, :1])
                roots.append(cam[:, 0])
                clip.append(np.full(len(cam), c))
                frame.append(np.arange(len(cam)))
                subject.append(np.full(len(cam), subjects.index(subj)))
    if not poses:
        raise ConvertError(f"{', '.join(map(str, files))}: no Human3.6M sequences")
    arrays = {
        "poses": np.concatenate(poses).astype(np.float32),
        "roots": np.concatenate(roots).astype(np.float32),
        "clip": np.concatenate(clip),
        "frame": np.concatenate(frame),
        "action": np.full(sum(len(p) for p in poses), -1),
        "subject": np.concatenate(subject),
    }
    if images:
        arrays["images"] = np.concatenate(images)
    meta = {"split": "h36m", "labelled": True, "fps": fps,
            "image_size": size if images else None,
            "clip_length": clip_frames or None, "actions": [], "subjects": subjects,
            "clips": clips}  # fmt: skip
    return arrays, meta

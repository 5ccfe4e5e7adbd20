"""Image datasets (:mod:`sa3dhp.convert.image_datasets`) as splits: one clip per sequence,
person, camera or file; SURREAL's crops from its ``.mp4`` beside each ``*_info.mat``.

Extra inputs (``extra``): ``calibration`` (MPI-INF-3DHP training: ``camera.calibration``),
``joints`` (mmpose-npz: ``h36m`` or ``3dhp``), ``images`` (the crops' frames: 3DPW's folder
holding ``imageFiles/``; an MPI-INF-3DHP training sequence's folder holding
``imageSequence/video_<camera>.avi``, or a test sequence's (``TS1``...) holding
``imageSequence/img_<frame>.jpg``; the folder mmpose's ``imgname`` paths start from).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sa3dhp.convert import image_datasets as ds
from sa3dhp.convert.mocap import ConvertError, input_files

READERS = ("surreal", "3dpw", "mpi-inf-3dhp", "mmpose-npz", "lsp")
_SUFFIXES = {
    "surreal": ("_info.mat",),
    "3dpw": (".pkl",),
    "mpi-inf-3dhp": (".mat",),
    "mmpose-npz": (".npz",),
    "lsp": (".mat",),
}


def _surreal_crops(info: Path, rec: dict, crop_scale: float, size: int) -> np.ndarray | None:
    """The training crops of a SURREAL clip, from ``<name>.mp4`` beside ``<name>_info.mat``."""
    from sa3dhp.media import read_video

    video = info.with_name(info.name.removesuffix("_info.mat") + ".mp4")
    if not video.is_file():
        return None
    k = np.array([[600.0, 0, 160.0], [0, 600.0, 120.0], [0, 0, 1]])
    boxes = ds.crop_boxes(rec["roots"], rec["poses"], k, crop_scale)
    return ds.cut_crops(read_video(video), boxes, size, video, "its info.mat")


def _video_crops(video: Path, rec: dict, crop_scale: float, size: int) -> np.ndarray:
    """The training crops of ``rec`` (poses, roots, K), one per frame of ``video``."""
    from sa3dhp.media import read_video

    if not video.is_file():
        raise ConvertError(f"{video}: missing (--images names the sequence's folder)")
    if rec.get("K") is None:
        raise ConvertError(f"camera {rec.get('camera')}: no intrinsics in the calibration file")
    boxes = ds.crop_boxes(rec["roots"], rec["poses"], rec["K"], crop_scale)
    return ds.cut_crops(read_video(video), boxes, size, video, "its annotation")


def _crops_2d(paths: list[Path], rec: dict, crop_scale: float, size: int, hint: str) -> np.ndarray:
    """Crops of one image per row of ``rec``, boxed from its 2D joints and 3D pose (formats
    without intrinsics: mmpose's npz, MPI-INF-3DHP's test set)."""
    boxes = ds.crop_boxes_2d(rec["poses"], rec["joints_2d"], crop_scale)
    return ds.cut_crops(ds.read_images(paths, hint), boxes, size, paths[0], "its annotation")


def _records(fmt: str, path: Path, extra: dict, crop_scale: float, size: int) -> list[dict]:
    if fmt == "surreal":
        rec = ds.read_surreal(path)
        crops = _surreal_crops(path, rec, crop_scale, size)
        if crops is not None:
            rec["images"] = crops
        return [rec]
    if fmt == "3dpw":
        people = ds.read_3dpw(path)
        if extra.get("images"):
            for rec in people:
                frames = ds.images_3dpw(Path(extra["images"]), rec)
                rec["images"] = ds.crops_from_images(frames, rec, crop_scale, size)
        return people
    if fmt == "mpi-inf-3dhp":
        if not extra.get("calibration"):  # the test set
            rec = ds.read_3dhp_test(path)
            if extra.get("images"):
                frames = ds.images_3dhp_test(Path(extra["images"]), rec)
                hint = "--images names the test sequence's folder (TS1, ...)"
                rec["images"] = _crops_2d(frames, rec, crop_scale, size, hint)
            return [rec]
        cams = ds.read_3dhp_train(path, extra["calibration"])
        if extra.get("images"):
            for rec in cams:
                video = Path(extra["images"]) / "imageSequence" / f"video_{rec['camera']}.avi"
                rec["images"] = _video_crops(video, rec, crop_scale, size)
        return cams
    if fmt == "mmpose-npz":
        rec = ds.read_mmpose_npz(path, extra.get("joints", "h36m"))
        if extra.get("images"):
            frames = [Path(extra["images"]) / str(name) for name in rec["imgname"]]
            hint = "--images names the folder of imgname's paths"
            rec["images"] = _crops_2d(frames, rec, crop_scale, size, hint)
        return [rec]
    return [{"joints_2d": ds.read_lsp(path)}]


def split(
    fmt: str, inputs: list[str], extra: dict, crop_scale: float, size: int
) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and meta of the split of ``inputs`` in image format ``fmt``."""
    files = input_files(inputs, _SUFFIXES[fmt], fmt)
    keys = ("poses", "roots", "joints_2d", "images")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in (*keys, "clip", "frame", "subject")}
    clips = []
    for s, path in enumerate(files):
        for rec in _records(fmt, path, extra, crop_scale, size):
            n = len(rec["joints_2d"])
            c = len(clips)
            clips.append({"file": str(path), **{k: int(rec[k]) for k in ("camera",) if k in rec}})
            for k in keys:
                if k in rec:
                    parts[k].append(rec[k])
            parts["clip"].append(np.full(n, c))
            parts["frame"].append(rec.get("frame_ids", np.arange(n)))
            parts["subject"].append(np.full(n, s))
    arrays = {k: np.concatenate(v) for k, v in parts.items() if v}
    if len({len(parts["clip"])} | {len(parts[k]) for k in keys if parts[k]}) != 1:
        raise ConvertError(f"{fmt}: some files have crops or 3D and others not; convert them apart")
    labelled = "poses" in arrays
    if not labelled:
        arrays.pop("subject")
    meta = {
        "split": fmt,
        "labelled": labelled,
        "fps": 30,
        "image_size": size if "images" in arrays else None,
        "clip_length": None,
        "actions": [],
        "source_format": fmt,
        "files": [str(f) for f in files],
        "clips": clips,
        "settings": {"crop_scale": crop_scale, "size": size, **extra},
    }
    if labelled:
        arrays["action"] = np.full(len(arrays["clip"]), -1)
        arrays["extent_mm"] = ds.extent_of(arrays["poses"], crop_scale).astype(np.float32)
    return arrays, meta

"""Dataset converters: ``sa3dhp data convert FORMAT INPUT... --out DIR`` writes one split in the
:mod:`sa3dhp.data.store` format (``read_split(DIR)`` reads it), with ``meta.json`` recording the
source format, the files read and the conversion's settings.

Formats built so far: ``bvh`` (:mod:`sa3dhp.convert.bvh`) and ``cmu-amc``
(:mod:`sa3dhp.convert.asf_amc`): mocap, placed in virtual cameras (:mod:`sa3dhp.convert.mocap`);
``h36m`` (:mod:`sa3dhp.convert.h36m`): Human3.6M's poses in its own four cameras; ``videos``: a
folder of unlabelled videos as a target split (people detected and tracked,
:mod:`sa3dhp.data.user_videos`).
The split is written to a temporary directory and renamed at the end, so a failed conversion
leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np

from sa3dhp import skeleton as sk
from sa3dhp.convert import asf_amc, bvh, h36m, image_formats
from sa3dhp.convert.mocap import (
    ConvertError,
    MocapConvertConfig,
    input_files,
    mocap_split,
    to_y_down,
)
from sa3dhp.data.store import write_split

FORMATS = (
    "bvh",
    "cmu-amc",
    "h36m",
    "surreal",
    "3dpw",
    "mpi-inf-3dhp",
    "mmpose-npz",
    "lsp",
    "videos",
)
#: mm per unit of each ``--units`` choice.
UNITS = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "inch": 25.4}


def _guess_units(joints: np.ndarray, path: Path) -> float:
    """The unit that makes the first frame's femur an adult's (350-550 mm)."""
    femur = float(np.linalg.norm(joints[0, sk.L_KNEE] - joints[0, sk.L_HIP]))
    for scale in UNITS.values():
        if 300.0 <= femur * scale <= 650.0:
            return scale
    raise ConvertError(
        f"{path}: cannot tell the units (the femur measures {femur:g} file units); give "
        f"--units {'|'.join(UNITS)}"
    )


def _bvh_sequences(inputs: list[str], units: str, up: str) -> list[tuple[str, np.ndarray, float]]:
    out = []
    for path in input_files(inputs, (".bvh",), "bvh"):
        motion = bvh.read_bvh(path)
        joints = bvh.to_h36m(motion, path)
        scale = UNITS[units] if units != "auto" else _guess_units(joints, path)
        out.append((str(path), to_y_down(joints * scale, up), motion.fps))
    return out


def _amc_sequences(inputs: list[str], fps: float, up: str) -> list[tuple[str, np.ndarray, float]]:
    files = input_files(inputs, (".asf", ".amc"), "cmu-amc")
    asfs = [f for f in files if f.suffix.lower() == ".asf"]
    if len(asfs) != 1:
        raise ConvertError(
            f"cmu-amc needs exactly one .asf skeleton among its inputs, got {len(asfs)} "
            "(convert one subject at a time: SUBJECT.asf and its .amc takes)"
        )
    skel = asf_amc.read_asf(asfs[0])
    out = []
    for path in (f for f in files if f.suffix.lower() == ".amc"):
        ends = asf_amc.forward_kinematics(skel, asf_amc.read_amc(path, skel))
        out.append((str(path), to_y_down(asf_amc.to_h36m(ends, path), up), fps))
    if not out:
        raise ConvertError(f"{asfs[0]}: no .amc takes beside the skeleton")
    return out


def convert(
    fmt: str,
    inputs: list[str],
    out: str | Path,
    cfg: MocapConvertConfig | None = None,
    units: str = "auto",
    up: str = "y",
    source_fps: float | None = None,
    cameras: str | None = None,
    clip_frames: int = 0,
    detector: str = "hog",
    crop_scale: float = 1.7,
    size: int = 64,
    extra: dict | None = None,
) -> Path:
    """Convert ``inputs`` of format ``fmt`` into the split directory ``out``.

    Args:
        units: of BVH positions: mm, cm, m, inch, or auto (from the femur's length).
        up: the file's up axis (y for BVH and CMU, z for some exports).
        source_fps: the frame rate of AMC takes (default 120, CMU's; AMC files do not store it)
            or of Human3.6M poses (default 50).
        cameras: Human3.6M's cameras file (cameras.h5 or cameras.pkl).
        clip_frames: Human3.6M: cut sequences into clips of this length (0: whole sequences;
            mocap formats and videos use ``cfg.clip_frames``).
        detector, crop_scale, size: videos and image datasets: the person detector and the
            crops' convention.
        extra: image datasets' own inputs (``calibration``, ``joints``; see
            :mod:`sa3dhp.convert.image_formats`).

    Raises:
        ConvertError: an input is missing, of the wrong layout, truncated or with NaN joints.
    """
    cfg = cfg or MocapConvertConfig()
    if units != "auto" and units not in UNITS:
        raise ConvertError(f"--units {units!r}: choose auto or one of {', '.join(UNITS)}")
    if fmt == "bvh":
        seqs = _bvh_sequences(inputs, units, up)
    elif fmt == "cmu-amc":
        seqs = _amc_sequences(inputs, source_fps or 120.0, up)
    elif fmt in image_formats.READERS:
        arrays, meta = image_formats.split(fmt, inputs, extra or {}, crop_scale, size)
        return _write(out, arrays, meta)
    elif fmt == "videos":
        return _write(out, *_video_split(inputs, detector, crop_scale, size, cfg.clip_frames))
    elif fmt == "h36m":
        if not cameras:
            raise ConvertError("h36m needs --cameras cameras.h5 (3d-pose-baseline) or cameras.pkl")
        files = input_files(inputs, (".cdf", ".h5", ".npz"), "h36m")
        arrays, meta = h36m.h36m_split(
            files, cameras, cfg.fps, source_fps or 50.0, clip_frames,
            (extra or {}).get("images"), crop_scale, size,
        )  # fmt: skip
        meta.update(
            {"source_format": fmt, "files": [str(f) for f in files], "cameras_file": str(cameras),
             "settings": {"fps": cfg.fps, "source_fps": source_fps or 50.0,
                          "clip_frames": clip_frames}}
        )  # fmt: skip
        return _write(out, arrays, meta)
    else:
        raise ConvertError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    arrays, meta = mocap_split(seqs, cfg)
    meta.update(
        {
            "source_format": fmt,
            "files": [name for name, _, _ in seqs],
            "settings": {
                **asdict(cfg),
                "units": units,
                "up": up,
                "source_fps": source_fps or 120.0,
            },
        }
    )
    return _write(out, arrays, meta)


def _video_split(
    inputs: list[str], detector: str, crop_scale: float, size: int, frames: int
) -> tuple[dict[str, np.ndarray], dict]:
    from sa3dhp.data.user_videos import clips_from_videos, videos_digest
    from sa3dhp.detect import make_detector

    clips, report = clips_from_videos(inputs, make_detector(detector), crop_scale, size, frames)
    c, length = clips.shape[:2]
    arrays = {
        "images": clips.reshape(c * length, size, size, 3),
        "clip": np.repeat(np.arange(c), length),
        "frame": np.tile(np.arange(length), c),
    }
    meta = {
        "split": "target_train",
        "labelled": False,
        "fps": 30,
        "image_size": size,
        "clip_length": length,
        "actions": [],
        "source_format": "videos",
        "files": videos_digest(inputs),
        "settings": {"detector": detector, "crop_scale": crop_scale, "clip_frames": frames},
        "videos": report,
    }
    return arrays, meta


def _write(out: str | Path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConvertError(f"--out {out}: is a file, not a directory")
    return write_split(out, arrays, meta)

"""The one on-disk format of sa3dhp datasets (synthetic splits and real-dataset converters).

A split is a directory holding ``meta.json`` and one or more ``shard-XXXXX.npz`` files (plain
``numpy.savez``, memory-friendly, no pickles). Every shard holds frame-level arrays, frames of a
clip contiguous and in time order:

=============  ===================  =======================================================
key            shape / dtype        meaning
=============  ===================  =======================================================
``images``     (F, S, S, 3) uint8   person-centred crops (RGB); absent for pose-only splits
``poses``      (F, 17, 3) float32   root-relative 3D pose, camera frame, mm; absent when the
                                    split is unlabelled (``meta["labelled"] == false``)
``roots``      (F, 3) float32       pelvis in the camera frame, mm (labelled splits only)
``clip``       (F,) int32           clip id, unique within the split
``frame``      (F,) int32           frame index within its clip
``action``     (F,) int16           action index into ``meta["actions"]`` (-1: unknown;
                                    labelled splits only)
``subject``    (F,) int32           subject id (labelled splits only)
``extent_mm``  (F,) float32         crop side in mm at the pelvis depth (labelled splits only)
``joints_2d``  (F, 17, 2) float32   2D joints in the source image's pixels (converted image
                                    datasets that have them)
=============  ===================  =======================================================

``meta.json``: ``{"format": FORMAT_VERSION, "split": ..., "labelled": bool, "fps": 30,
"image_size": S or null, "joints": [...17 names...], "actions": [...], "num_frames": F,
"num_clips": C, "clip_length": frames per clip or null, ...}``.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sa3dhp import skeleton as sk

FORMAT_VERSION = 1


class SplitError(ValueError):
    """A split directory is unreadable or does not hold what its ``meta.json`` says (one line
    naming the file)."""


LABEL_KEYS = ("poses", "roots", "action", "subject", "extent_mm")
_DTYPES = {
    "images": np.uint8,
    "poses": np.float32,
    "roots": np.float32,
    "clip": np.int32,
    "frame": np.int32,
    "action": np.int16,
    "subject": np.int32,
    "extent_mm": np.float32,
    "joints_2d": np.float32,
}


@dataclass
class Split:
    """A split loaded in memory. Label arrays are None for unlabelled splits."""

    meta: dict
    clip: np.ndarray
    frame: np.ndarray
    images: np.ndarray | None = None
    poses: np.ndarray | None = None
    roots: np.ndarray | None = None
    action: np.ndarray | None = None
    subject: np.ndarray | None = None
    extent_mm: np.ndarray | None = None
    joints_2d: np.ndarray | None = None
    _starts: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.clip.shape[0])

    @property
    def labelled(self) -> bool:
        return bool(self.meta.get("labelled", False))

    def clip_starts(self) -> np.ndarray:
        """``(C + 1,)`` frame offsets of every clip (clips are contiguous)."""
        if self._starts is None:
            change = np.nonzero(np.diff(self.clip))[0] + 1
            self._starts = np.concatenate([[0], change, [len(self)]]).astype(np.int64)
        return self._starts

    @property
    def num_clips(self) -> int:
        return len(self.clip_starts()) - 1


def write_split(directory: str | Path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write a split atomically (temporary directory, then rename).

    Args:
        directory: target split directory (replaced if present).
        arrays: frame-level arrays (see the module docstring); ``clip`` and ``frame`` required.
        meta: metadata; ``format``, ``num_frames``, ``num_clips``, ``joints`` are filled in.
    """
    directory = Path(directory)
    if "clip" not in arrays or "frame" not in arrays:
        raise ValueError("a split needs 'clip' and 'frame' arrays")
    unknown = set(arrays) - set(_DTYPES)
    if unknown:
        raise ValueError(f"unknown split arrays {sorted(unknown)}; allowed: {sorted(_DTYPES)}")
    n = len(arrays["clip"])
    out = {}
    for k, v in arrays.items():
        v = np.ascontiguousarray(v, dtype=_DTYPES[k])
        if v.shape[0] != n:
            raise ValueError(f"array '{k}' has {v.shape[0]} frames, expected {n}")
        out[k] = v
    if not meta.get("labelled", False) and any(k in out for k in LABEL_KEYS):
        raise ValueError(f"an unlabelled split may not hold {[k for k in LABEL_KEYS if k in out]}")
    meta = {
        **meta,
        "format": FORMAT_VERSION,
        "num_frames": n,
        "num_clips": len(np.unique(out["clip"])),
        "joints": list(sk.JOINT_NAMES),
    }
    remove_stale_temporaries(directory.parent)
    tmp = directory.with_name(directory.name + f".tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    np.savez(tmp / "shard-00000.npz", **out)
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    if directory.exists():
        for f in directory.iterdir():
            f.unlink()
        directory.rmdir()
    os.replace(tmp, directory)
    return directory


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temporaries(parent: str | Path) -> list[Path]:
    """Delete ``*.tmp-PID`` split directories under ``parent`` left by killed builds (their
    process is gone); return what was deleted."""
    removed = []
    for tmp in Path(parent).glob("*.tmp-*") if Path(parent).is_dir() else ():
        pid = tmp.name.rpartition(".tmp-")[2]
        if tmp.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def read_meta(directory: str | Path) -> dict:
    """``meta.json`` of a split directory, checked to be a JSON object of this format.

    Raises:
        FileNotFoundError: no ``meta.json``.
        SplitError: not JSON, not an object, or another format version.
    """
    path = Path(directory) / "meta.json"
    if not path.is_file():
        raise FileNotFoundError(f"{directory}: not a sa3dhp split (no meta.json)")
    try:
        meta = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise SplitError(f"{path}: not valid JSON ({e}); rebuild the split") from None
    if not isinstance(meta, dict):
        raise SplitError(f"{path}: must hold a JSON object, got a {type(meta).__name__}")
    if meta.get("format") != FORMAT_VERSION:
        raise SplitError(
            f"{path}: split format {meta.get('format')!r}, expected {FORMAT_VERSION}; rebuild it"
        )
    return meta


def _check_content(directory: Path, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Refuse arrays that do not match ``meta`` (frame and clip counts, image size, shapes,
    dtypes, labels)."""

    def bad(what: str) -> SplitError:
        return SplitError(f"{directory}: {what}; the split is damaged: rebuild it")

    for k in ("clip", "frame"):
        if k not in arrays:
            raise bad(f"no '{k}' array")
    n = len(arrays["clip"])
    if meta.get("num_frames") != n:
        raise bad(f"meta.json says {meta.get('num_frames')!r} frames, the shards hold {n}")
    for k, v in arrays.items():
        if k in _DTYPES and v.dtype != _DTYPES[k]:
            raise bad(f"array '{k}' is {v.dtype}, expected {np.dtype(_DTYPES[k])}")
        if len(v) != n:
            raise bad(f"array '{k}' has {len(v)} frames, expected {n}")
    if meta.get("num_clips") != len(np.unique(arrays["clip"])):
        raise bad(f"meta.json says {meta.get('num_clips')!r} clips, the shards hold "
                  f"{len(np.unique(arrays['clip']))}")  # fmt: skip
    size = meta.get("image_size")
    if "images" in arrays and arrays["images"].shape[1:] != (size, size, 3):
        raise bad(f"images are {arrays['images'].shape[1:]}, meta.json says size {size!r}")
    if "poses" in arrays and arrays["poses"].shape[1:] != (sk.NUM_JOINTS, 3):
        raise bad(f"poses are {arrays['poses'].shape[1:]}, expected ({sk.NUM_JOINTS}, 3)")
    labelled = bool(meta.get("labelled", False))
    if labelled and "poses" not in arrays:
        raise bad("meta.json says labelled, but there are no poses")
    if not labelled and any(k in arrays for k in LABEL_KEYS):
        raise bad("meta.json says unlabelled, but the shards hold labels")


def read_split(directory: str | Path, *, images: bool = True) -> Split:
    """Load a split written by :func:`write_split` (all shards, concatenated).

    Args:
        directory: split directory.
        images: load the images too (skip them for pose-only work).
    """
    directory = Path(directory)
    meta = read_meta(directory)
    shards = sorted(directory.glob("shard-*.npz"))
    if not shards:
        raise FileNotFoundError(f"{directory}: no shard-*.npz files")
    parts: dict[str, list[np.ndarray]] = {}
    for shard in shards:
        try:
            with np.load(shard, allow_pickle=False) as z:
                for k in z.files:
                    if k not in _DTYPES:
                        raise SplitError(f"{shard}: unknown array '{k}'")
                    if k == "images" and not images:
                        continue
                    parts.setdefault(k, []).append(z[k])
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            if isinstance(e, SplitError):
                raise
            raise SplitError(
                f"{shard}: unreadable or truncated shard ({type(e).__name__}: {e}); rebuild the "
                "split"
            ) from None
    arrays = {k: np.concatenate(v) if len(v) > 1 else v[0] for k, v in parts.items()}
    _check_content(directory, meta, arrays)
    return Split(meta=meta, **arrays)

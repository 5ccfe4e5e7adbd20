"""Provenance of runs: what made a checkpoint, recorded in it and checked before it is reused.

This module owns the *provenance record* of a stage's checkpoint and the check that refuses to
resume from (or skip to) a checkpoint made by anything else. A record is a plain JSON dict::

    {"config": {...}, "seed": 0, "data": {"mocap": "<split hash>"},
     "parents": {"pose_prior": "<weights digest>"}}

* ``config`` -- the stage's resolved config section (a dataclass) as a plain dict, minus the
  cadence keys that do not change results (:data:`CADENCE_KEYS`) and any key a stage folds into
  another part of the record (e.g. G's ``init`` path becomes the parent ``init``);
* ``seed`` -- the run seed;
* ``data`` -- ``{split: sa3dhp.data.synth.split_hash(world, split)}`` of every split the stage
  trained on (the hashes leave out ``cache_dir`` and ``workers``);
* ``parents`` -- ``{name: weights_digest(path)}`` of every checkpoint the stage was built from.

:func:`weights_digest` hashes tensor names, dtypes, shapes and bytes, not the file: the metadata
holds a random token, so two bit-identical trainings give the same digest. The record is stored
in the checkpoint's metadata (``save_checkpoint(..., provenance=record)``) and read back
with :func:`record_of`. :func:`check` raises :class:`ProvenanceError` (one line naming the file
and every difference) when a checkpoint's record differs from the expected one, or when it has
none (a checkpoint written before runs were keyed by what made them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import mmap
import os
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sa3dhp.checkpoint import CheckpointError, checkpoint_info

#: Config keys that only change how often a run checkpoints or logs, never its results.
CADENCE_KEYS: frozenset[str] = frozenset({"checkpoint_every", "log_every", "eval_every"})

_HINT = "start afresh with --force or another out_dir"


class ProvenanceError(CheckpointError):
    """A checkpoint was made by another config, data, seed or parents (one-line message)."""


def _plain(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, keys strings)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def config_record(section: Any, drop: Iterable[str] = ()) -> dict[str, Any]:
    """A config section (dataclass or dict) as a plain dict without :data:`CADENCE_KEYS` and
    ``drop``."""
    if dataclasses.is_dataclass(section) and not isinstance(section, type):
        d = dataclasses.asdict(section)
    else:
        d = dict(section)
    skip = CADENCE_KEYS | set(drop)
    return _plain({k: v for k, v in d.items() if k not in skip})


def at_default(section: Any, names: Iterable[str]) -> tuple[str, ...]:
    """The fields ``names`` of the dataclass ``section`` that hold their default value: options
    added after runs were made, which a record leaves out at their default so that those runs
    keep their record."""
    defaults = {f.name: f.default for f in dataclasses.fields(section)}
    return tuple(n for n in names if getattr(section, n) == defaults[n])


_DIGESTS: dict[tuple, str] = {}


def weights_digest(path: str | Path) -> str:
    """sha256 (16 hex digits) over the tensor names, dtypes, shapes and bytes of a safetensors
    file; the metadata (random token, step, config) is left out.

    Raises:
        CheckpointError: the file is missing or not a readable safetensors file.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        raise CheckpointError(
            f"{path}: no such checkpoint (a parent of this run; train that stage first)"
        ) from None
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, st.st_ino)
    if key in _DIGESTS:
        return _DIGESTS[key]
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            (n,) = struct.unpack("<Q", buf[:8])
            header = json.loads(bytes(buf[8 : 8 + n]))
            base = 8 + n
            for name in sorted(k for k in header if k != "__metadata__"):
                entry = header[name]
                start, end = entry["data_offsets"]
                h.update(json.dumps([name, entry["dtype"], entry["shape"]]).encode())
                h.update(buf[base + start : base + end])
    except (OSError, ValueError, KeyError, TypeError, struct.error) as e:
        raise CheckpointError(
            f"{path}: unreadable checkpoint, expected a safetensors file ({type(e).__name__})"
        ) from None
    digest = h.hexdigest()[:16]
    _DIGESTS[key] = digest
    return digest


def stage_record(
    section: Any,
    *,
    seed: int,
    world: Any = None,
    splits: Iterable[str] = (),
    parents: Mapping[str, str | Path] | None = None,
    drop: Iterable[str] = (),
) -> dict[str, Any]:
    """The provenance record of a stage trained with config ``section`` (minus ``drop``) and
    ``seed`` on ``splits`` of ``world`` (a :class:`~sa3dhp.data.synth.WorldConfig`), from the
    ``parents`` checkpoints ``{name: path}`` (their :func:`weights_digest` is recorded); with the
    mocap split, also the held-out share ``data.mocap_holdout``."""
    from sa3dhp.data.world import split_hash

    data: dict[str, Any] = {s: split_hash(world, s) for s in splits}
    if "mocap" in data:  # which mocap clips are held out changes what is trained on
        data["mocap_holdout"] = float(world.mocap_holdout)
    return _plain(
        {
            "config": config_record(section, drop),
            "seed": int(seed),
            "data": data,
            "parents": {name: weights_digest(p) for name, p in (parents or {}).items()},
        }
    )


def record_of(path: str | Path, stage: str) -> dict[str, Any] | None:
    """The provenance record stored in a checkpoint (header only), or None when it has none.

    Raises:
        CheckpointError: missing, corrupt or another stage's checkpoint.
    """
    return checkpoint_info(path, stage).get("provenance")


_MISSING = object()


def _show(value: Any) -> str:
    return "<none>" if value is _MISSING else json.dumps(value, sort_keys=True)


def differences(found: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """What differs between two records, one ``"<part> key: old -> new"`` group per part."""
    groups = []
    for part in ("config", "data", "parents"):
        old, new = found.get(part) or {}, expected.get(part) or {}
        items = []
        for k in sorted(set(old) | set(new)):
            a, b = old.get(k, _MISSING), new.get(k, _MISSING)
            if a != b:
                if part == "config":
                    items.append(f"{k}: {_show(a)} -> {_show(b)}")
                else:
                    fa = "<none>" if a is _MISSING else str(a)
                    fb = "<none>" if b is _MISSING else str(b)
                    items.append(f"{k}: {fa} -> {fb}")
        if items:
            groups.append(f"{part} " + ", ".join(items))
    if found.get("seed") != expected.get("seed"):
        groups.append(f"seed: {found.get('seed')} -> {expected.get('seed')}")
    for k in sorted(set(found) | set(expected)):
        if k not in ("config", "data", "parents", "seed") and found.get(k) != expected.get(k):
            groups.append(f"{k}: {found.get(k)} -> {expected.get(k)}")
    return groups


def check(path: str | Path, expected: Mapping[str, Any], stage: str) -> None:
    """Refuse a checkpoint whose provenance record differs from ``expected`` (header only; no
    weights are read).

    Raises:
        ProvenanceError: ``"<path>: made with another setting (config lr: 0.003 -> 0.5); start
            afresh with --force or another out_dir"``, or ``"<path>: records no provenance
            ..."`` for a checkpoint without a record.
        CheckpointError: missing, corrupt or another stage's checkpoint.
    """
    found = record_of(path, stage)
    if found is None:
        raise ProvenanceError(
            f"{path}: records no provenance (written before runs were keyed by what made them), "
            f"so it cannot be resumed or reused; {_HINT}"
        )
    diffs = differences(found, _plain(dict(expected)))
    if diffs:
        raise ProvenanceError(f"{path}: made with another setting ({'; '.join(diffs)}); {_HINT}")


def check_existing(path: str | Path, expected: Mapping[str, Any], stage: str) -> None:
    """:func:`check` when ``path`` exists (a fresh run has nothing to check)."""
    if os.path.exists(path):
        check(path, expected, stage)

"""The embedded synthetic world: builds every split into a versioned, config-keyed cache.

Splits (see :mod:`sa3dhp.data.store` for the format):

* ``mocap`` -- unpaired 3D poses and motions (no images), from subjects and sequences that are
  never rendered, drawn from a balanced mix of every action (like CMU MoCap);
* ``source_train`` / ``source_val`` -- labelled frames in the *source* look (SURREAL-like);
* ``target_train`` -- unlabelled clips in the *target* look ("in the wild"), >= 60 frames at
  30 FPS so that the slow relation can be built; stores no pose, root or action at all;
* ``target_val`` -- labelled target clips for probes of the world, budgets and settings (its
  clips and subjects are distinct from ``target_test``'s);
* ``target_test`` -- labelled target clips, read only by the final evaluation of settings that
  are already fixed;
* ``target_oracle`` -- labelled target frames, only for the upper-bound (oracle) baseline.

Source and target differ in appearance (:mod:`sa3dhp.data.render` presets), in action mix and
pose extremity, and in camera elevation (:mod:`sa3dhp.data.motion` presets). Every split has its
own subjects. Output is deterministic for a seed and independent of the number of workers: each
clip draws from its own random stream ``(seed, split, clip)``.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sa3dhp.camera import project_to_crop
from sa3dhp.data import motion as motion_mod
from sa3dhp.data import render as render_mod
from sa3dhp.data.store import Split, SplitError, read_split, remove_stale_temporaries, write_split
from sa3dhp.data.world import (
    _SPLIT_DOMAIN,
    SPLITS,
    WorldConfig,
    _spec,
    appearance_style,
    motion_style,
    split_hash,
    validate,
    world_dir,
    world_hash,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# generation
# --------------------------------------------------------------------------------------------


def _sample_roots(rng: np.random.Generator, n: int, cfg: WorldConfig) -> np.ndarray:
    """A smooth pelvis trajectory ``(n, 3)`` mm in the camera frame."""
    z0 = rng.uniform(*cfg.depth_mm)
    x0, y0 = rng.uniform(-cfg.lateral, cfg.lateral, 2) * z0 * np.array([1.0, 0.5])
    v = rng.normal(0, 1, 3)
    v *= rng.uniform(0, cfg.drift_mm_s) / (np.linalg.norm(v) + 1e-9) / 30.0  # mm per frame
    t = np.arange(n)[:, None]
    roots = np.array([x0, y0, z0]) + t * v
    roots[:, 2] = np.clip(roots[:, 2], cfg.depth_mm[0], cfg.depth_mm[1] + 1000.0)
    return roots.astype(np.float32)


def _clip_rng(cfg: WorldConfig, split: str, clip: int) -> np.random.Generator:
    return np.random.default_rng([cfg.seed, SPLITS.index(split), clip, 7])


def _subjects(cfg: WorldConfig, split: str) -> list:
    spec = _spec(cfg, split)
    n = max(4, round(spec.clips * cfg.subjects_per_clip))
    rng = np.random.default_rng([cfg.seed, SPLITS.index(split), 1_000_003])
    return [motion_mod.sample_subject(rng) for _ in range(n)]


def _make_clips(args: tuple[WorldConfig, str, int, int]) -> dict[str, np.ndarray]:
    """Generate (and render) clips ``[start, stop)`` of a split."""
    cfg, split, start, stop = args
    spec = _spec(cfg, split)
    domain = _SPLIT_DOMAIN[split]
    style = motion_style(cfg, domain)
    subjects = _subjects(cfg, split)
    renderer = None
    if domain != "mocap":
        renderer = render_mod.Renderer(
            cfg.size, appearance_style(cfg, domain), seed=cfg.seed * 31 + SPLITS.index(split)
        )
    out: dict[str, list[np.ndarray]] = {}
    for c in range(start, stop):
        rng = _clip_rng(cfg, split, c)
        subject_id = c % len(subjects)
        subject = subjects[subject_id]
        n_motion = (spec.frames - 1) * spec.stride + 1
        m = motion_mod.generate_motion(subject, n_motion, style, rng)
        keep = slice(None, None, spec.stride)
        poses, actions = m.poses[keep], m.actions[keep]
        arrays = {
            "poses": poses,
            "clip": np.full(spec.frames, c),
            "frame": np.arange(spec.frames),
            "action": actions,
            "subject": np.full(spec.frames, subject_id),
        }
        if renderer is not None:
            roots = _sample_roots(rng, n_motion, cfg)[keep]
            extent = cfg.crop_scale * float(subject.height_mm)
            appearance = renderer.sample_appearance(rng)
            arrays["images"] = renderer.render(poses, roots, extent, appearance, rng)
            arrays["roots"] = roots
            arrays["extent_mm"] = np.full(spec.frames, extent)
        for k, v in arrays.items():
            out.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in out.items()}


def build_split(cfg: WorldConfig, split: str, directory: Path, progress: bool = True) -> Path:
    """Generate one split into ``directory``."""
    spec = _spec(cfg, split)
    chunk = max(1, min(25, spec.clips // (4 * cfg.workers) or 1))
    tasks = [(cfg, split, s, min(s + chunk, spec.clips)) for s in range(0, spec.clips, chunk)]
    parts: list[dict[str, np.ndarray]] = []
    quiet = not progress or os.environ.get("SA3DHP_NO_PROGRESS") == "1"
    bar = tqdm(total=spec.clips, desc=f"synth {split}", unit="clip", disable=quiet)
    if cfg.workers > 1:
        with mp.get_context("fork").Pool(cfg.workers) as pool:
            for part in pool.imap(_make_clips, tasks):
                parts.append(part)
                bar.update(len(np.unique(part["clip"])))
    else:
        for task in tasks:
            parts.append(_make_clips(task))
            bar.update(task[3] - task[2])
    bar.close()
    arrays = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    domain = _SPLIT_DOMAIN[split]
    labelled = split != "target_train"
    if not labelled:
        arrays = {k: v for k, v in arrays.items() if k in ("images", "clip", "frame")}
    meta = {
        "split": split,
        "domain": domain,
        "labelled": labelled,
        "fps": 30 // spec.stride if spec.stride <= 30 else 1,
        "stride": spec.stride,
        "clip_length": spec.frames,
        "image_size": None if domain == "mocap" else cfg.size,
        "actions": list(motion_mod.ACTIONS),
        "world_hash": world_hash(cfg),
        "split_hash": split_hash(cfg, split),
    }
    return write_split(directory, arrays, meta)


def _rank() -> int:
    """This process's rank under torchrun (0 otherwise)."""
    return int(os.environ.get("RANK", "0"))


#: How long ranks other than 0 wait for rank 0 to build the world (s).
WAIT_TIMEOUT_S = 6 * 3600.0


def _wait_for(directories: list[Path]) -> None:
    """Wait (ranks other than 0) until rank 0 has written every split in ``directories``."""
    t0 = time.monotonic()
    while not all((d / "meta.json").is_file() for d in directories):
        if time.monotonic() - t0 > WAIT_TIMEOUT_S:
            missing = [str(d) for d in directories if not (d / "meta.json").is_file()]
            raise TimeoutError(f"rank {_rank()}: rank 0 did not build {missing} in time")
        time.sleep(min(1.0, WAIT_TIMEOUT_S / 10))


def build_world(
    cfg: WorldConfig, splits: tuple[str, ...] = SPLITS, progress: bool = True, force: bool = False
) -> Path:
    """Build every missing split of the world (cached by config hash); return its directory.

    Under torchrun only rank 0 builds; the other ranks wait for its splits. Temporary split
    directories left by a killed build are deleted first.
    """
    validate(cfg)
    root = world_dir(cfg)
    todo = [s for s in splits if force or not (root / s / "meta.json").is_file()]
    if _rank() != 0:
        _wait_for([root / s for s in splits])
        return root
    root.mkdir(parents=True, exist_ok=True)
    for stale in remove_stale_temporaries(root):
        log.info("removed %s, left by a killed build", stale)
    (root / "world.json").write_text(json.dumps(asdict(cfg), indent=1, default=str))
    timings = {}
    for split in todo:
        t0 = time.perf_counter()
        build_split(cfg, split, root / split, progress=progress)
        timings[split] = round(time.perf_counter() - t0, 2)
    if timings:
        (root / f"build-times-{int(time.time())}.json").write_text(json.dumps(timings, indent=1))
    return root


def load_split(cfg: WorldConfig, split: str, *, images: bool = True, build: bool = True) -> Split:
    """Load a split of the world, building it first if needed.

    A cached split that is damaged (unreadable shard, ``meta.json`` that does not match the
    content) or that belongs to another world (its recorded world hash, split name or image
    size differ) is rebuilt with a warning; with ``build=False`` it is refused.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}'; choose from {', '.join(SPLITS)}")
    if cfg.paths.get(split):
        return load_converted(cfg, split, images)
    directory = world_dir(cfg) / split
    if not (directory / "meta.json").is_file():
        if not build:
            raise FileNotFoundError(f"{directory} is missing: run `sa3dhp data synth` first")
        build_world(cfg, (split,))
    try:
        return _read_checked(cfg, split, directory, images)
    except SplitError as e:
        if not build:
            raise
        log.warning("%s; rebuilding it", e)
        build_world(cfg, (split,), force=True)
        return _read_checked(cfg, split, directory, images)


def load_converted(cfg: WorldConfig, split: str, images: bool = True) -> Split:
    """The converted split that ``data.paths`` names for ``split``, checked for what the split
    needs (mocap: 3D poses; image splits: crops of ``data.size``).

    Raises:
        SplitError / FileNotFoundError: one line naming the directory and what is missing.
    """
    directory = Path(cfg.paths[split])
    data = read_split(directory, images=images)
    needs_images = _SPLIT_DOMAIN[split] != "mocap"
    if split == "mocap" and data.poses is None:
        raise SplitError(f"{directory}: data.mocap needs 3D poses; this split has none")
    if needs_images and images and data.images is None:
        raise SplitError(f"{directory}: data.{split} needs image crops; this split has none")
    size = data.meta.get("image_size")
    if needs_images and size is not None and size != cfg.size:
        raise SplitError(
            f"{directory}: crops of {size} px, the config's data.size is {cfg.size}: convert "
            "again at that size or set data.size"
        )
    return data


def _read_checked(cfg: WorldConfig, split: str, directory: Path, images: bool) -> Split:
    data = read_split(directory, images=images)
    expected = {
        "world_hash": world_hash(cfg),
        "split": split,
        "image_size": None if _SPLIT_DOMAIN[split] == "mocap" else cfg.size,
    }
    for key, value in expected.items():
        if data.meta.get(key) != value:
            raise SplitError(
                f"{directory}/meta.json: {key} is {data.meta.get(key)!r}, this world has {value!r}"
            )
    return data


def joints_in_crop(split: Split) -> np.ndarray:
    """Crop coordinates ``(F, 17, 2)`` of every labelled frame's joints."""
    if split.poses is None or split.roots is None or split.extent_mm is None:
        raise ValueError(f"split '{split.meta.get('split')}' has no labels")
    return project_to_crop(split.poses, split.roots, split.extent_mm, split.meta["image_size"])

"""What defines the synthetic world: its splits, :class:`WorldConfig` (every key that changes
what is generated), the named target styles and looks, validation, and the hashes that key the
cache (:func:`world_hash`) and each split's content (:func:`split_hash`). Generation and the
cache itself are :mod:`sa3dhp.data.synth`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from sa3dhp.data import motion as motion_mod
from sa3dhp.data import render as render_mod

#: Bump when generated data would change for the same config.
GENERATOR_VERSION = 6
MIN_TARGET_CLIP = 60

#: Every split. New splits go at the end: a split's random streams are keyed by its index here.
SPLITS = (
    "mocap",
    "source_train",
    "source_val",
    "target_train",
    "target_test",
    "target_oracle",
    "target_val",
)
_SPLIT_DOMAIN = {
    "mocap": "mocap",
    "source_train": "source",
    "source_val": "source",
    "target_train": "target",
    "target_test": "target",
    "target_oracle": "target",
    "target_val": "target",
}


#: Named target motion styles (``data.target_style``).
TARGET_STYLES = {
    "wild": motion_mod.target_style,
    "wild_high_cameras": motion_mod.high_camera_target_style,
    "source": motion_mod.source_style,  # probes: how much of the gap the motion causes
}
#: Named target looks (``data.target_look``).
TARGET_LOOKS = {
    "wild": render_mod.target_appearance,
    "source": render_mod.source_appearance,  # probes: how much of the gap the look causes
}


@dataclass
class SplitSpec:
    """Size of a split: ``clips`` clips of ``frames`` stored frames, ``stride`` motion frames apart
    (stride > 1 gives diverse single frames; stride 1 gives 30 FPS video)."""

    clips: int = 100
    frames: int = 30
    stride: int = 1


@dataclass
class WorldConfig:
    """Everything that defines the synthetic world (its hash keys the cache)."""

    seed: int = 0
    size: int = 64
    crop_scale: float = 1.7  # crop side / subject height, like a detector box with margin
    depth_mm: list[float] = field(default_factory=lambda: [3500.0, 7000.0])
    lateral: float = 0.3  # max |x| / z and |y| / z of the pelvis (stays in the camera's view)
    drift_mm_s: float = 400.0  # max speed of the pelvis across the scene
    subjects_per_clip: float = 0.1  # distinct subjects per clip of a split (at least 4)
    cache_dir: str = "out/cache"
    workers: int = 2
    mocap: SplitSpec = field(default_factory=lambda: SplitSpec(1600, 60, 1))
    # share of mocap clips (the last ones) that every prior and relation network holds out
    # (sa3dhp.data.splits); it does not change what is generated
    mocap_holdout: float = 0.1
    source_train: SplitSpec = field(default_factory=lambda: SplitSpec(800, 20, 5))
    source_val: SplitSpec = field(default_factory=lambda: SplitSpec(100, 20, 5))
    target_train: SplitSpec = field(default_factory=lambda: SplitSpec(240, 60, 1))
    target_test: SplitSpec = field(default_factory=lambda: SplitSpec(100, 30, 2))
    target_oracle: SplitSpec = field(default_factory=lambda: SplitSpec(600, 20, 5))
    target_val: SplitSpec = field(default_factory=lambda: SplitSpec(60, 30, 2))
    mocap_motion: dict[str, Any] = field(default_factory=dict)  # overrides of mocap_style()
    source_motion: dict[str, Any] = field(default_factory=dict)  # overrides of source_style()
    target_style: str = (
        "wild"  # target motion: wild (headline) | wild_high_cameras (stress) | source
    )
    target_look: str = "wild"  # target appearance: wild | source (probes of the domain gap)
    target_motion: dict[str, Any] = field(default_factory=dict)  # overrides of target_style()
    source_appearance: dict[str, Any] = field(default_factory=dict)  # of source_appearance()
    target_appearance: dict[str, Any] = field(default_factory=dict)  # of target_appearance()
    # converted splits (`sa3dhp data convert`) that replace synthetic ones, by split name:
    # `data.mocap=DIR` (short for data.paths.mocap=DIR); they are read, never generated
    paths: dict[str, str] = field(default_factory=dict)


def _spec(cfg: WorldConfig, split: str) -> SplitSpec:
    spec = getattr(cfg, split)
    return spec if isinstance(spec, SplitSpec) else SplitSpec(**dict(spec))


def motion_style(cfg: WorldConfig, domain: str) -> motion_mod.MotionStyle:
    """The motion style of a domain (``mocap``, ``source``, ``target``) with config overrides."""
    presets = {
        "mocap": (motion_mod.mocap_style, cfg.mocap_motion),
        "source": (motion_mod.source_style, cfg.source_motion),
        "target": (TARGET_STYLES[cfg.target_style], cfg.target_motion),
    }
    preset, overrides = presets[domain]
    return _with_overrides(preset(), dict(overrides), f"data.{domain}_motion")


def _with_overrides(style, overrides: dict[str, Any], where: str):
    """``style`` with fields replaced by ``overrides``; unknown keys are refused."""
    allowed = {f.name for f in fields(style)}
    unknown = set(overrides) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in overrides.items()}
    return replace(style, **values)


def appearance_style(cfg: WorldConfig, domain: str) -> render_mod.AppearanceStyle:
    """The appearance style of ``source`` or ``target`` with config overrides."""
    preset, overrides = {
        "source": (render_mod.source_appearance, cfg.source_appearance),
        "target": (TARGET_LOOKS[cfg.target_look], cfg.target_appearance),
    }[domain]
    return _with_overrides(preset(), dict(overrides), f"data.{domain}_appearance")


def validate(cfg: WorldConfig) -> None:
    """Refuse invalid values with a message naming the key and the allowed values."""
    unknown = sorted(set(cfg.paths) - set(SPLITS))
    if unknown:
        raise ValueError(f"data.paths: unknown split(s) {unknown}; splits: {', '.join(SPLITS)}")
    if not 16 <= cfg.size <= 512:
        raise ValueError(f"data.size={cfg.size}: must be an integer in [16, 512] (64 by default)")
    if cfg.crop_scale < 1.2:
        raise ValueError(f"data.crop_scale={cfg.crop_scale}: must be >= 1.2 so bodies fit")
    lo, hi = cfg.depth_mm
    if not 1000 <= lo <= hi:
        raise ValueError(f"data.depth_mm={list(cfg.depth_mm)}: need 1000 <= min <= max (mm)")
    if not 0 <= cfg.lateral <= 0.6:
        raise ValueError(f"data.lateral={cfg.lateral}: must be in [0, 0.6]")
    if cfg.target_style not in TARGET_STYLES:
        raise ValueError(
            f"data.target_style='{cfg.target_style}': choose from {', '.join(TARGET_STYLES)}"
        )
    if cfg.target_look not in TARGET_LOOKS:
        raise ValueError(
            f"data.target_look='{cfg.target_look}': choose from {', '.join(TARGET_LOOKS)}"
        )
    if not 0 < cfg.mocap_holdout < 1:
        raise ValueError(f"data.mocap_holdout={cfg.mocap_holdout}: must be in (0, 1)")
    if cfg.workers < 1:
        raise ValueError(f"data.workers={cfg.workers}: must be >= 1")
    for split in SPLITS:
        spec = _spec(cfg, split)
        if spec.clips < 1 or spec.frames < 1 or spec.stride < 1:
            raise ValueError(
                f"data.{split}: clips, frames and stride must be positive integers, got "
                f"{asdict(spec)}"
            )
    if (
        _spec(cfg, "target_train").frames < MIN_TARGET_CLIP
        or _spec(cfg, "target_train").stride != 1
    ):
        raise ValueError(
            f"data.target_train.frames={_spec(cfg, 'target_train').frames} (stride "
            f"{_spec(cfg, 'target_train').stride}): target clips need >= {MIN_TARGET_CLIP} "
            "frames at 30 FPS (stride 1) so the slow relation can be built"
        )
    if _spec(cfg, "mocap").frames < MIN_TARGET_CLIP:
        raise ValueError(f"data.mocap.frames must be >= {MIN_TARGET_CLIP} (slow motion pairs)")
    for domain in ("mocap", "source", "target"):
        motion_style(cfg, domain)
    for domain in ("source", "target"):
        appearance_style(cfg, domain)


def world_hash(cfg: WorldConfig) -> str:
    """Hash of everything that changes the generated data (not cache_dir or workers)."""
    d = asdict(cfg) if not isinstance(cfg, dict) else dict(cfg)
    d.pop("cache_dir", None)
    d.pop("workers", None)
    d.pop("mocap_holdout", None)  # chooses held-out clips, generates nothing
    d.pop("paths", None)  # converted splits are read, not generated (each has its own hash)
    d["generator_version"] = GENERATOR_VERSION
    blob = json.dumps(d, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


#: World keys that every split's content depends on.
_SHARED_KEYS = (
    "seed",
    "size",
    "crop_scale",
    "depth_mm",
    "lateral",
    "drift_mm_s",
    "subjects_per_clip",
)


def split_hash(cfg: WorldConfig, split: str) -> str:
    """Hash of everything that changes one split's content (a run trained on a split records it;
    changing only the target's look leaves the source splits' hashes alone). A converted split
    (``data.paths``) hashes its own files."""
    d = asdict(cfg) if not isinstance(cfg, dict) else dict(cfg)
    if (d.get("paths") or {}).get(split):
        return converted_hash(d["paths"][split])
    domain = _SPLIT_DOMAIN[split]
    keyed = {k: d[k] for k in _SHARED_KEYS}
    keyed |= {"split": split, "spec": asdict(_spec(cfg, split)), "generator": GENERATOR_VERSION}
    keyed["motion"] = d[f"{domain}_motion"]
    if domain == "target":
        keyed["style"] = [d["target_style"], d["target_look"]]
    if domain != "mocap":
        keyed["appearance"] = d[f"{domain}_appearance"]
    blob = json.dumps(keyed, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def converted_hash(directory: str | Path) -> str:
    """Hash of a converted split's files (``meta.json`` and its shards), 12 hex digits.

    Raises:
        FileNotFoundError: no split there.
    """
    directory = Path(directory)
    if not (directory / "meta.json").is_file():
        raise FileNotFoundError(
            f"{directory}: no converted split there (no meta.json); make one with "
            "`sa3dhp data convert FORMAT INPUT --out DIR`"
        )
    h = hashlib.sha256()
    for path in [directory / "meta.json", *sorted(directory.glob("shard-*.npz"))]:
        with path.open("rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(block)
    return "c" + h.hexdigest()[:11]


def world_dir(cfg: WorldConfig) -> Path:
    """Cache directory of this world."""
    return Path(cfg.cache_dir) / f"synth-v{GENERATOR_VERSION}-{world_hash(cfg)}"

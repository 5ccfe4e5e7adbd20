"""Configuration: nested dataclasses, merged from defaults <- YAML <- CLI dot-list overrides.

Each component owns its config dataclass next to its code; :class:`Config` composes them. A
YAML file or ``key.sub=value`` overrides may change any field; unknown keys are refused with the
valid ones in the message. The resolved config is saved with every run (``config.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sa3dhp.data.synth import WorldConfig
from sa3dhp.train import core
from sa3dhp.train.adapt import AdaptConfig
from sa3dhp.train.motion_prior import MotionPriorConfig
from sa3dhp.train.pose_prior import PosePriorConfig
from sa3dhp.train.relations import RelationsConfig
from sa3dhp.train.source import SourceConfig


@dataclass
class DemoConfig:
    """What ``sa3dhp demo`` (and ``--config bench``) runs besides Algorithm 1 itself."""

    direct_regression: bool = True  # train and report the direct-regression baseline
    # a named target style (``data.target_style``) reported as stress rows with its own oracle,
    # e.g. wild_high_cameras; "" = none
    stress_target: str = ""


@dataclass
class Config:
    """The whole pipeline's configuration."""

    out_dir: str = "out/demo"
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    data: WorldConfig = field(default_factory=WorldConfig)
    pose_prior: PosePriorConfig = field(default_factory=PosePriorConfig)
    motion_prior: MotionPriorConfig = field(default_factory=MotionPriorConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    relations: RelationsConfig = field(default_factory=RelationsConfig)
    adapt: AdaptConfig = field(default_factory=AdaptConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)


def builtin_configs() -> list[str]:
    """Names of the YAML configs shipped with the package (``--config NAME``)."""
    return sorted(
        p.name[:-5] for p in resources.files("sa3dhp.configs").iterdir() if p.name.endswith(".yaml")
    )


def resolve_config_path(name_or_path: str) -> Path:
    """A config file path from a built-in name (``demo``) or a path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    builtin = resources.files("sa3dhp.configs") / f"{name_or_path}.yaml"
    if builtin.is_file():
        return Path(str(builtin))
    raise ValueError(
        f"config '{name_or_path}' not found: give a YAML path or one of {builtin_configs()}"
    )


def load_config(
    config: str | None = None, overrides: list[str] | tuple[str, ...] = (), schema: type = Config
) -> Any:
    """Merge the dataclass defaults, a YAML file (built-in name or path) and dot-list overrides.

    Raises:
        ValueError: one line naming an unknown key (with the valid ones) or a bad value.
    """
    path = resolve_config_path(config) if config else None
    return core.load_config(schema, path, overrides)


def save_config(cfg: Any, run_dir: str | Path) -> Path:
    """Write the resolved config as ``run_dir/config.yaml``."""
    return core.save_resolved_config(run_dir, cfg)

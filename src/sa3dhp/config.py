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

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from sa3dhp.data.synth import WorldConfig


@dataclass
class Config:
    """The whole pipeline's configuration."""

    out_dir: str = "out/demo"
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    data: WorldConfig = field(default_factory=WorldConfig)


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
    """Merge the dataclass defaults, a YAML file (name or path) and dot-list overrides."""
    base = OmegaConf.structured(schema)
    layers = [base]
    if config:
        layers.append(OmegaConf.load(resolve_config_path(config)))
    bad = [o for o in overrides if "=" not in o]
    if bad:
        raise ValueError(f"overrides must look like key.sub=value, got {bad}")
    layers.append(OmegaConf.from_dotlist(list(overrides)))
    try:
        merged = OmegaConf.merge(*layers)
    except ConfigKeyError as e:
        key = e.full_key or e.key
        parent = OmegaConf.select(base, str(key).rpartition(".")[0]) if "." in str(key) else base
        valid = sorted(parent.keys()) if parent is not None and hasattr(parent, "keys") else []
        raise ValueError(f"unknown config key '{key}'; valid keys here: {valid}") from None
    except OmegaConfBaseException as e:
        raise ValueError(f"invalid config value: {str(e).splitlines()[0]}") from None
    return OmegaConf.to_object(merged)


def to_yaml(cfg: Any) -> str:
    """YAML text of a config dataclass."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def save_config(cfg: Any, path: str | Path) -> Path:
    """Write the resolved config next to a run's outputs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_yaml(cfg))
    return path

"""Configuration: nested dataclasses, merged from defaults <- YAML <- CLI dot-list overrides.

Each component owns its config dataclass next to its code; :class:`Config` composes them. A
YAML file or ``key.sub=value`` overrides may change any field; unknown keys are refused with the
valid ones in the message. The resolved config is saved with every run (``config.yaml``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from sa3dhp.checkpoint import one_line
from sa3dhp.data.world import WorldConfig
from sa3dhp.files import atomic_write
from sa3dhp.train.adapt import AdaptConfig, check_choices
from sa3dhp.train.motion_prior import MotionPriorConfig
from sa3dhp.train.pose_prior import PosePriorConfig
from sa3dhp.train.relations import RelationsConfig
from sa3dhp.train.source import SourceConfig

T = TypeVar("T")


@dataclass
class DemoConfig:
    """What ``sa3dhp demo`` (and ``--config bench``) runs besides Algorithm 1 itself."""

    # also train and report the direct-regression baseline (off: it added 3.5 of the demo's
    # 27.5 minutes; `sa3dhp ablate rows` reports it in Table 2)
    direct_regression: bool = False
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


def _split_paths(overrides: list[str] | tuple[str, ...]) -> list[str]:
    """``data.<split>=DIR`` (a converted split in place of a synthetic one) is short for
    ``data.paths.<split>=DIR``; other overrides pass unchanged."""
    from sa3dhp.data.world import SPLITS

    out = []
    for o in overrides:
        key, _, value = o.partition("=")
        parts = key.split(".")
        if len(parts) == 2 and parts[0] == "data" and parts[1] in SPLITS and value[:1] != "{":
            o = f"data.paths.{parts[1]}={value}"
        out.append(o)
    return out


def load_config(
    config: str | None = None, overrides: list[str] | tuple[str, ...] = (), schema: type = Config
) -> Any:
    """Merge the dataclass defaults, a YAML file (built-in name or path) and dot-list overrides.

    Raises:
        ValueError: one line naming an unknown key (with the valid ones) or a bad value.
    """
    path = resolve_config_path(config) if config else None
    cfg = merge_config(schema, path, _split_paths(overrides))
    if isinstance(cfg, Config):
        validate_counts(cfg)
    return cfg


#: Count-like keys of the stage sections and the smallest value each may take.
_AT_LEAST = {
    "steps": 1, "batch_size": 1, "checkpoint_every": 1, "log_every": 1, "eval_every": 0,
    "bn_every": 1,
}  # fmt: skip
_STAGE_SECTIONS = ("pose_prior", "motion_prior", "source", "relations", "adapt")


def validate_counts(cfg: Config) -> None:
    """Refuse step counts, batch sizes and cadences that cannot train (``steps=-5`` would train
    nothing and exit 0; ``checkpoint_every=0`` would divide by zero), and learning rates <= 0.

    A key ``steps`` or ``*_steps`` must be >= 1, as must ``batch_size``, ``checkpoint_every``,
    ``log_every`` and ``bn_every``; ``eval_every`` >= 0 (0: never); ``lr`` and ``lr_*`` > 0;
    ``adapt.bn`` is ``source`` or ``target``. The ``data`` section has its own checks
    (:func:`sa3dhp.data.synth.validate`).

    Raises:
        ValueError: one line naming the key, its value and the allowed range.
    """
    for section in _STAGE_SECTIONS:
        for f in dataclasses.fields(getattr(cfg, section)):
            value = getattr(getattr(cfg, section), f.name)
            key = f"{section}.{f.name}"
            least = _AT_LEAST.get(f.name, 1 if f.name.endswith("_steps") else None)
            if least is not None and (not isinstance(value, int) or value < least):
                zero = " (0: never)" if least == 0 else ""
                raise ValueError(f"{key}={value}: must be an integer >= {least}{zero}")
            if (f.name == "lr" or f.name.startswith("lr_")) and not value > 0:
                raise ValueError(f"{key}={value}: a learning rate must be > 0")
    check_choices(cfg.adapt)


def _valid_keys(base: Any, full_key: str) -> tuple[str, list[str]]:
    parent_key = full_key.rpartition(".")[0]
    node = OmegaConf.select(base, parent_key) if parent_key else base
    keys = sorted(str(k) for k in node.keys()) if OmegaConf.is_dict(node) else []
    return parent_key, keys


def merge_config(
    dataclass_type: type[T], yaml_path: str | Path | None = None, overrides: Sequence[str] = ()
) -> T:
    """A ``dataclass_type`` instance: its defaults <- the YAML file <- ``key.sub=value`` overrides.

    Raises:
        ValueError: (one line) unknown key (naming it and the valid keys), bad value, malformed
            override, unreadable YAML file.
    """
    base = OmegaConf.structured(dataclass_type)
    layers = [base]
    if yaml_path is not None:
        yaml_path = Path(yaml_path)
        if not yaml_path.is_file():
            raise ValueError(f"{yaml_path}: config file not found")
        try:
            loaded = OmegaConf.load(yaml_path)
        except Exception as e:
            raise ValueError(f"{yaml_path}: unreadable YAML ({one_line(e)})") from None
        if not OmegaConf.is_dict(loaded):
            raise ValueError(f"{yaml_path}: a config file must hold a mapping of keys to values")
        layers.append(loaded)
    bad = [o for o in overrides if "=" not in o or o.startswith("=")]
    if bad:
        raise ValueError(f"overrides must look like key=value or key.sub=value, got {bad}")
    layers.append(OmegaConf.from_dotlist(list(overrides)))
    try:
        merged = OmegaConf.merge(*layers)
        return OmegaConf.to_object(merged)  # type: ignore[return-value]
    except ConfigKeyError as e:
        key = str(e.full_key or e.key)
        parent, valid = _valid_keys(base, key)
        where = f" in '{parent}'" if parent else ""
        raise ValueError(f"unknown config key '{key}'{where}; valid keys: {valid}") from None
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None) or getattr(e, "key", None)
        what = f" for '{key}'" if key else ""
        msg = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise ValueError(f"invalid config value{what}: {msg}") from None


def save_config(cfg: Any, run_dir: str | Path) -> Path:
    """Write ``run_dir/config.yaml`` (atomically) from a config dataclass instance or a dict."""
    node = OmegaConf.structured(cfg) if dataclasses.is_dataclass(cfg) else OmegaConf.create(cfg)
    text = OmegaConf.to_yaml(node, resolve=True)
    path = Path(run_dir) / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: tmp.write_text(text))
    return path

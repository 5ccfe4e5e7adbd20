"""What every command shares: the config arguments, --force, and loading the config."""

from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = "Overrides: trailing key.sub=value pairs change any config field, e.g. data.size=128."


def _add_config_args(p: argparse.ArgumentParser, default: str = "demo") -> None:
    p.add_argument(
        "--config", default=default, help=f"config name or YAML path (default: {default})"
    )
    p.add_argument("overrides", nargs="*", help="config overrides key.sub=value")


def _add_force_arg(p: argparse.ArgumentParser, text: str | None = None) -> None:
    p.add_argument(
        "--force",
        action="store_true",
        help=text
        or "delete this stage's run directory first and start afresh (an existing run made "
        "with another config, data, seed or parent checkpoints is refused otherwise)",
    )


def _load(args: argparse.Namespace):
    from sa3dhp.config import load_config

    cfg = load_config(args.config, args.overrides)
    for key, value in (("out_dir", cfg.out_dir), ("data.cache_dir", cfg.data.cache_dir)):
        if Path(value).exists() and not Path(value).is_dir():
            raise ValueError(f"{key}={value} is a file, not a directory; give a directory path")
    return cfg

"""Checkpoints, read and written by training, evaluation and inference alike:
:func:`save_checkpoint` / :func:`load_checkpoint` / :func:`load_weights` / :func:`checkpoint_info`.

A checkpoint ``NAME.safetensors`` is a pair of files:

- ``NAME.safetensors``: the weights of every model (keys ``model.<name>.<state-dict key>``)
  and string metadata: ``format``, ``stage``, ``arch`` (JSON), ``step``, ``models`` (JSON),
  ``config`` (JSON), ``extra`` (JSON), ``token``, ``state_file`` and, when given,
  ``provenance`` (JSON, the record of :mod:`sa3dhp.provenance`: what made the weights);
- ``NAME.state-<token>.pt``: optimizer and GradScaler state dicts, the RNG states (Python,
  NumPy, torch CPU, CUDA) as tensors and plain numbers, the step and the same token. It is
  written by :func:`torch.save` and read only by ``torch.load(..., weights_only=True)``, which
  refuses any pickled object other than tensors and plain containers, so a malicious file
  cannot run code.

The state file is written first, then the weights file replaces the previous one with
``os.replace`` (the commit point); the previous state file is deleted only after that. Each
file is written to a temporary file in the same directory and fsync'ed first. A process killed
at any moment therefore leaves either the previous complete checkpoint or the new one.
Every problem (missing, corrupt, truncated, refused, other stage, other architecture) raises
:class:`CheckpointError` with a one-line message naming the file and what was expected.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import secrets
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from sa3dhp import rng_state
from sa3dhp.files import atomic_write

FORMAT_VERSION = 2


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, refused, or not the one expected (one-line message)."""


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside DDP / ``torch.compile`` wrappers."""
    while True:
        if isinstance(model, nn.parallel.DistributedDataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod  # type: ignore[assignment]
        else:
            return model


def one_line(e: BaseException, limit: int = 160) -> str:
    """A short single-line description of an exception."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    hint = next((ln for ln in lines if "Unsupported global" in ln), lines[0] if lines else "")
    text = f"{type(e).__name__}: {hint}" if hint else type(e).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _state_prefix(path: Path) -> str:
    return f"{path.stem}.state-"


def _to_container(cfg: Any) -> Any:
    if cfg is None:
        return {}
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)
    return cfg


def save_checkpoint(
    path: str | Path,
    *,
    stage: str,
    arch: dict,
    models: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer] | None = None,
    step: int = 0,
    config: dict | Any | None = None,
    extra: dict | None = None,
    scalers: dict[str, torch.amp.GradScaler] | None = None,
    provenance: dict | None = None,
) -> Path:
    """Write a checkpoint atomically (weights ``path`` + its state file; module docstring).

    Call on rank 0 only. ``arch``, ``extra`` and ``provenance`` (the run's record, see
    :mod:`sa3dhp.provenance`) must be JSON-serialisable, ``config`` a dict or a dataclass. Model
    names must not contain dots. The global RNG states are saved as well.

    Returns:
        ``path``.
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"{path}: checkpoint paths must end in .safetensors")
    for name in [*models, *(optimizers or {}), *(scalers or {})]:
        if not name or "." in name:
            raise ValueError(f"checkpoint entry names must be non-empty without dots: '{name}'")
    try:
        arch_json = json.dumps(arch, sort_keys=True)
        extra_json = json.dumps(extra or {}, sort_keys=True)
        prov_json = None if provenance is None else json.dumps(provenance, sort_keys=True)
    except TypeError as e:
        raise TypeError(
            f"checkpoint arch/extra/provenance must be JSON-serialisable: {e}"
        ) from None
    config_json = json.dumps(_to_container(config), sort_keys=True, default=str)

    tensors: dict[str, torch.Tensor] = {}
    for name, model in models.items():
        for key, value in unwrap(model).state_dict().items():
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"model '{name}': state-dict entry '{key}' is not a tensor")
            tensors[f"model.{name}.{key}"] = value.detach().to("cpu", copy=True).contiguous()
    token = secrets.token_hex(8)
    state_name = f"{_state_prefix(path)}{token}.pt"
    state = {
        "format": FORMAT_VERSION,
        "token": token,
        "stage": stage,
        "step": int(step),
        "optimizers": {k: o.state_dict() for k, o in (optimizers or {}).items()},
        "scalers": {k: s.state_dict() for k, s in (scalers or {}).items()},
        "rng": rng_state.capture(),
    }
    metadata = {
        "format": str(FORMAT_VERSION),
        "stage": stage,
        "arch": arch_json,
        "step": str(int(step)),
        "models": json.dumps(sorted(models)),
        "config": config_json,
        "extra": extra_json,
        "token": token,
        "state_file": state_name,
    }
    if prov_json is not None:
        metadata["provenance"] = prov_json
    path.parent.mkdir(parents=True, exist_ok=True)
    state_path = path.with_name(state_name)
    atomic_write(state_path, lambda tmp: torch.save(state, tmp))
    try:
        atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))
    except BaseException:
        with contextlib.suppress(OSError):
            state_path.unlink()
        raise
    # committed: the previous state file (and leftovers of killed saves) are garbage now
    for old in path.parent.iterdir():
        stale_state = old.name.startswith(_state_prefix(path)) and old.name != state_name
        stale_tmp = old.name.startswith((f".{path.name}.tmp-", f".{_state_prefix(path)}"))
        if stale_state or stale_tmp:
            with contextlib.suppress(OSError):
                old.unlink()
    return path


def _read_metadata(path: Path, stage: str) -> dict[str, str]:
    """Header metadata of a checkpoint, after checking that it exists and is one of ours."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint (expected a '{stage}' checkpoint)")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
    except Exception as e:
        raise CheckpointError(
            f"{path}: corrupt or truncated checkpoint, expected a '{stage}' safetensors "
            f"checkpoint ({one_line(e)})"
        ) from None
    if "stage" not in meta or "format" not in meta:
        raise CheckpointError(f"{path}: not an sa3dhp checkpoint (expected a '{stage}' checkpoint)")
    if meta["format"] != str(FORMAT_VERSION):
        raise CheckpointError(
            f"{path}: checkpoint format {meta['format']}, expected format {FORMAT_VERSION}"
        )
    if meta["stage"] != stage:
        raise CheckpointError(
            f"{path}: checkpoint is from stage '{meta['stage']}', expected '{stage}'"
        )
    return meta


def _check_arch(path: Path, meta: dict[str, str], arch: dict | None) -> dict:
    try:
        found = json.loads(meta["arch"])
    except (KeyError, ValueError):
        raise CheckpointError(
            f"{path}: checkpoint metadata is corrupt (no readable 'arch')"
        ) from None
    if arch is None:
        return found
    expected = json.loads(json.dumps(arch, sort_keys=True))
    if found != expected:
        diffs = [
            f"{k}={json.dumps(found.get(k, '<missing>'))} (expected "
            f"{json.dumps(expected.get(k, '<missing>'))})"
            for k in sorted(set(found) | set(expected))
            if found.get(k, "<missing>") != expected.get(k, "<missing>")
        ]
        raise CheckpointError(
            f"{path}: checkpoint architecture differs from the expected one: {', '.join(diffs)}"
        )
    return found


def read_checkpoint(
    path: str | Path, *, stage: str, arch: dict | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """All tensors and metadata of a checkpoint's weights file, after checking stage and arch.

    Raises:
        CheckpointError: missing, corrupt, other stage or other architecture.
    """
    path = Path(path)
    meta = _read_metadata(path, stage)
    _check_arch(path, meta, arch)
    try:
        tensors = load_file(str(path))
    except Exception as e:
        raise CheckpointError(
            f"{path}: corrupt or truncated checkpoint, expected a '{stage}' safetensors "
            f"checkpoint ({one_line(e)})"
        ) from None
    return tensors, meta


def _read_state(path: Path, meta: dict[str, str]) -> dict[str, Any]:
    """The checkpoint's state file, loaded with ``weights_only=True`` and matched by token."""
    name = meta.get("state_file", "")
    if not name or Path(name).name != name or not name.startswith(_state_prefix(path)):
        raise CheckpointError(f"{path}: checkpoint metadata names no valid state file ('{name}')")
    state_path = path.with_name(name)
    if not state_path.is_file():
        raise CheckpointError(
            f"{state_path}: missing state file (optimizer/RNG state) of checkpoint {path}"
        )
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(
            f"{state_path}: refused or unreadable state file, expected tensors and plain "
            f"containers written by sa3dhp ({one_line(e)})"
        ) from None
    if not isinstance(state, dict) or state.get("token") != meta.get("token"):
        raise CheckpointError(
            f"{state_path}: state file does not belong to {path} (expected token "
            f"{meta.get('token')})"
        )
    return state


def load_checkpoint(
    path: str | Path,
    *,
    stage: str,
    arch: dict | None = None,
    models: dict[str, nn.Module] | None = None,
    optimizers: dict[str, torch.optim.Optimizer] | None = None,
    scalers: dict[str, torch.amp.GradScaler] | None = None,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Load a checkpoint into the given models / optimizers / scalers (and the global RNGs).

    Everything is read and checked before anything is modified. The state file is only read
    when optimizers, scalers or ``restore_rng`` need it. With ``arch=None`` any architecture is
    accepted (the weights must still fit the models).

    Returns:
        ``{"step": int, "arch": dict, "config": dict, "extra": dict}``.

    Raises:
        CheckpointError: missing, corrupt, refused, other stage or architecture, or entries
        that do not fit.
    """
    path = Path(path)
    tensors, meta = read_checkpoint(path, stage=stage, arch=arch)
    names = json.loads(meta.get("models", "[]"))
    states: dict[str, dict[str, torch.Tensor]] = {}
    for name in models or {}:
        if name not in names:
            raise CheckpointError(f"{path}: no weights for model '{name}' (the file has {names})")
        prefix = f"model.{name}."
        states[name] = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    state: dict[str, Any] = {}
    if optimizers or scalers or restore_rng:
        state = _read_state(path, meta)
        for kind, wanted in (("optimizers", optimizers), ("scalers", scalers)):
            for name in wanted or {}:
                if name not in state.get(kind, {}):
                    raise CheckpointError(
                        f"{path}: no {kind[:-1]} state '{name}' (the file has "
                        f"{sorted(state.get(kind, {}))})"
                    )
    for name, model in (models or {}).items():
        try:
            unwrap(model).load_state_dict(states[name])
        except RuntimeError as e:
            raise CheckpointError(
                f"{path}: weights of '{name}' do not fit the model ({one_line(e)})"
            ) from None
    for name, opt in (optimizers or {}).items():
        try:
            opt.load_state_dict(state["optimizers"][name])
        except (ValueError, KeyError, RuntimeError) as e:
            raise CheckpointError(
                f"{path}: optimizer state '{name}' does not fit the optimizer ({one_line(e)})"
            ) from None
    for name, scaler in (scalers or {}).items():
        if state["scalers"][name] and scaler.is_enabled():
            scaler.load_state_dict(state["scalers"][name])
    if restore_rng:
        rng_state.restore(state["rng"])
    return {
        "step": int(meta["step"]),
        "arch": json.loads(meta["arch"]),
        "config": json.loads(meta.get("config", "{}")),
        "extra": json.loads(meta.get("extra", "{}")),
    }


def load_weights(
    path: str | Path, stage: str, arch: dict | None = None
) -> dict[str, dict[str, torch.Tensor]]:
    """Model state dicts of a checkpoint, ``{model name: state_dict}``, for inference (only
    the safetensors file is read)."""
    tensors, meta = read_checkpoint(path, stage=stage, arch=arch)
    out: dict[str, dict[str, torch.Tensor]] = {name: {} for name in json.loads(meta["models"])}
    for k, v in tensors.items():
        if k.startswith("model."):
            name, key = k[len("model.") :].split(".", 1)
            out.setdefault(name, {})[key] = v
    return out


def checkpoint_info(path: str | Path, stage: str) -> dict[str, Any]:
    """Metadata of a checkpoint (stage-checked, header only): step, arch, config, extra, models
    and provenance (None when the checkpoint records none)."""
    path = Path(path)
    meta = _read_metadata(path, stage)
    try:
        info = {k: json.loads(meta[k]) for k in ("arch", "config", "extra", "models")}
        prov = json.loads(meta["provenance"]) if "provenance" in meta else None
        return info | {"step": int(meta["step"]), "provenance": prov}
    except (KeyError, ValueError):
        raise CheckpointError(f"{path}: checkpoint metadata is corrupt") from None


def latest_checkpoint(run_dir: str | Path, stage: str | None = None) -> Path | None:
    """The readable ``*.safetensors`` checkpoint of ``run_dir`` with the highest step (of
    ``stage`` if given; newest file on ties), or None. Only file headers are read."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return None
    best: tuple[int, float, Path] | None = None
    for p in run_dir.glob("*.safetensors"):
        if p.name.startswith("."):
            continue
        try:
            with safe_open(str(p), framework="pt") as f:
                meta = f.metadata() or {}
            key = (int(meta["step"]), p.stat().st_mtime, p)
        except Exception:
            continue
        if meta.get("format") != str(FORMAT_VERSION) or (stage and meta.get("stage") != stage):
            continue
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None

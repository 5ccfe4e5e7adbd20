"""The shared training core: the pieces every stage's explicit training loop is built from.

A stage writes its own readable loop (``lr -> eval/checkpoint -> step -> log``, see
:mod:`sa3dhp.train.toy` for a template); this module provides the parts, it never owns the loop.

* **Checkpoints** -- :func:`save_checkpoint` / :func:`load_checkpoint` / :func:`load_weights`.
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
* **Step-level resume** -- all randomness of step ``k`` comes from ``(seed, k)``
  (:func:`step_generator`, :func:`seed_step`) and batches from
  :meth:`EpochSampler.batch_indices` ``(k)``; with the optimizer state restored, a run killed
  at any moment and restarted with the same command repeats exactly what the uninterrupted run
  would have done (:func:`latest_checkpoint` finds where to restart; :func:`crash_hook` lets
  tests kill a run after a given step).
* **Distribution** -- :func:`init_distributed` reads the torchrun environment (``RANK``,
  ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``...) and returns a :class:`DistContext`
  (NCCL on CUDA, gloo on CPU; a plain single process without torchrun). Only rank 0 writes
  checkpoints and logs.
* **Devices / AMP** -- :func:`resolve_device`, :func:`autocast` (bf16 on CUDA and on CPUs
  with native bf16),
  :func:`make_grad_scaler`.
* **Logging** -- :class:`RunLogger`: tqdm bar (off when ``SA3DHP_NO_PROGRESS=1``), TensorBoard
  scalars under ``run_dir/tb`` and ``run_dir/history.jsonl`` (:func:`read_history`).
* **Config** -- :func:`load_config` (dataclass defaults <- YAML <- ``key=value`` overrides) and
  :func:`save_resolved_config` (``run_dir/config.yaml``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import os
import random
import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist
from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException
from safetensors.torch import load_file, safe_open, save_file
from torch import nn
from torch.utils.data import DistributedSampler
from tqdm import tqdm

FORMAT_VERSION = 2
NO_PROGRESS_ENV = "SA3DHP_NO_PROGRESS"

T = TypeVar("T")


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, refused, or not the one expected (one-line message)."""


# ---------------------------------------------------------------------------------------------
# devices, AMP and distribution
# ---------------------------------------------------------------------------------------------


def resolve_device(preference: str = "auto") -> torch.device:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; ``cpu``; ``cuda[:N]``.

    Raises:
        ValueError: CUDA requested but unavailable (or no such GPU index), or an unknown name.
    """
    pref = str(preference).strip().lower()
    if pref == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if pref == "cpu":
        return torch.device("cpu")
    if pref == "cuda" or pref.startswith("cuda:"):
        if not torch.cuda.is_available():
            why = (
                "this torch build has no CUDA support; install a CUDA build of torch"
                if torch.version.cuda is None
                else "no GPU is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)"
            )
            raise ValueError(
                f"device={preference} requested but CUDA is unavailable: {why}; "
                "or run with device=cpu (or device=auto)"
            )
        dev = torch.device(pref)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={preference} requested but only {torch.cuda.device_count()} GPU(s) are "
                "visible; use device=cuda or a smaller index"
            )
        return dev
    raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got '{preference}'")


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bf16 natively on this CPU (AVX512-BF16 or AMX), so that bf16
    autocast speeds convolutions up instead of emulating them (asked once per process: every
    training step enters :func:`autocast`)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def autocast(
    device: torch.device, enabled: bool = True, dtype: torch.dtype = torch.bfloat16
) -> contextlib.AbstractContextManager:
    """Mixed-precision context when ``enabled``: ``dtype`` (bf16) autocast on CUDA, and on a
    CPU with native bf16 (:func:`cpu_has_native_bf16`); else a no-op (fp32)."""
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=dtype)
    if enabled and device.type == "cpu" and dtype == torch.bfloat16 and cpu_has_native_bf16():
        return torch.autocast("cpu", dtype=dtype)
    return contextlib.nullcontext()


def make_grad_scaler(device: torch.device, enabled: bool = False) -> torch.amp.GradScaler:
    """A GradScaler for fp16 training: active only when ``enabled`` and on CUDA (bf16 and fp32
    need none; a disabled scaler passes ``scale``/``step``/``update`` through)."""
    return torch.amp.GradScaler(device.type, enabled=enabled and device.type == "cuda")


def _unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside DDP / ``torch.compile`` wrappers."""
    while True:
        if isinstance(model, nn.parallel.DistributedDataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod  # type: ignore[assignment]
        else:
            return model


class DistContext:
    """Process-group state of a run (a single process when not launched by torchrun).

    Attributes:
        rank, world_size, local_rank: this process's place in the run.
        device: the device this process computes on.
        backend: ``nccl``, ``gloo`` or None (single process).
    """

    def __init__(
        self,
        device: torch.device,
        rank: int = 0,
        world_size: int = 1,
        local_rank: int = 0,
        backend: str | None = None,
    ) -> None:
        self.device, self.rank, self.world_size = device, rank, world_size
        self.local_rank, self.backend = local_rank, backend

    def __repr__(self) -> str:
        return (
            f"DistContext(rank={self.rank}, world_size={self.world_size}, "
            f"device={self.device}, backend={self.backend})"
        )

    @property
    def is_main(self) -> bool:
        """True on rank 0, the only rank that writes checkpoints and logs."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1

    def wrap(self, model: nn.Module, **ddp_kwargs: Any) -> nn.Module:
        """``DistributedDataParallel(model)`` when distributed, else ``model`` itself."""
        if not self.distributed:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids, **ddp_kwargs)

    def broadcast_params(self, model: nn.Module) -> None:
        """Copy rank 0's parameters and buffers to every rank (for models not wrapped in DDP)."""
        if self.distributed:
            for t in list(model.parameters()) + list(model.buffers()):
                dist.broadcast(t.data, src=0)

    def sync_grads(self, model: nn.Module) -> None:
        """Average gradients over ranks (for models not wrapped in DDP)."""
        if self.distributed:
            for p in model.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                    p.grad /= self.world_size

    def all_reduce_mean(self, value: torch.Tensor | float) -> torch.Tensor:
        """Mean of a tensor (or number) over ranks; a copy, the input is left unchanged."""
        t = torch.as_tensor(value, device=self.device).detach().clone()
        if self.distributed:
            if not t.is_floating_point():
                t = t.double()
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
            t /= self.world_size
        return t

    def barrier(self) -> None:
        """Wait for every rank (no-op for a single process)."""
        if self.distributed:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group (after a final barrier); no-op for a single process."""
        if self.distributed and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def progress_disabled() -> bool:
    """Whether progress bars are switched off (``SA3DHP_NO_PROGRESS=1``)."""
    return os.environ.get(NO_PROGRESS_ENV, "") not in ("", "0")


def is_main_process() -> bool:
    """Rank 0 of a torchrun launch, or a plain single process."""
    return int(os.environ.get("RANK", "0")) == 0


def init_distributed(device_preference: str = "auto") -> DistContext:
    """Join the torchrun process group when ``WORLD_SIZE > 1``, else run as a single process.

    The backend is NCCL when the resolved device is CUDA (each rank on ``cuda:LOCAL_RANK``),
    gloo otherwise. ``MASTER_ADDR`` / ``MASTER_PORT`` come from torchrun's environment.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device_preference)
    if world <= 1:
        return DistContext(dev, 0, 1, 0, None)
    if dev.type == "cuda":
        if local >= torch.cuda.device_count():
            raise ValueError(
                f"LOCAL_RANK={local} but only {torch.cuda.device_count()} GPU(s) are visible; "
                "start at most that many processes per node (torchrun --nproc_per_node)"
            )
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return DistContext(dev, rank, world, local, backend)


# ---------------------------------------------------------------------------------------------
# randomness and batches
# ---------------------------------------------------------------------------------------------


def _mix(seed: int, step: int, *salt: int) -> int:
    """A well-mixed 63-bit seed from integers (NumPy SeedSequence; any sign accepted)."""
    words = [int(v) % 2**64 for v in (seed, step, *salt)]
    state = np.random.SeedSequence(words).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def step_generator(seed: int, step: int, *salt: int) -> torch.Generator:
    """A CPU generator whose state depends only on ``(seed, step, *salt)`` (e.g. salt = rank)."""
    return torch.Generator().manual_seed(_mix(seed, step, *salt))


def seed_step(seed: int, step: int, *salt: int) -> None:
    """Reseed Python's, NumPy's and torch's global RNGs (CPU and CUDA) from ``(seed, step,
    *salt)``, so that dropout and other global-RNG draws of a step do not depend on history."""
    s = _mix(seed, step, *salt)
    random.seed(s)
    np.random.seed(s % 2**32)  # noqa: NPY002
    torch.manual_seed(s)


class EpochSampler:
    """Batch indices of any global step, with :class:`~torch.utils.data.DistributedSampler`
    semantics and no replay on resume.

    Epoch ``e`` is ``DistributedSampler(range(num_samples), world_size, rank, shuffle=True,
    seed=seed, drop_last=drop_last)`` after ``set_epoch(e)`` -- a permutation drawn from
    ``seed + e``, dropped or padded to a multiple of ``world_size``, every ``world_size``-th
    index from ``rank`` -- cut into batches of ``batch_size // world_size`` (``batch_size`` is
    the global batch). With ``drop_last`` an incomplete last batch of an epoch is dropped,
    otherwise it is kept (smaller). When a rank's share is smaller than one batch, the share is
    repeated to fill one batch per epoch.

    Args:
        num_samples: dataset size.
        batch_size: global batch size over all ranks.
        seed: shuffling seed.
        rank, world_size: this process's rank and the number of processes.
        drop_last: drop incomplete tails (of the sampler and of the last batch).
    """

    def __init__(
        self,
        num_samples: int,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = True,
    ) -> None:
        if num_samples < 1:
            raise ValueError(f"EpochSampler needs num_samples >= 1, got {num_samples}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"EpochSampler: invalid rank {rank} for world_size {world_size}")
        if batch_size < world_size:
            raise ValueError(
                f"EpochSampler: global batch_size {batch_size} is smaller than world_size "
                f"{world_size}; use a batch_size of at least one sample per rank"
            )
        self.num_samples, self.batch_size, self.seed = num_samples, batch_size, seed
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last
        self.per_rank_batch = batch_size // world_size
        self._sampler = DistributedSampler(
            range(num_samples),
            num_replicas=world_size,
            rank=rank,
            shuffle=True,
            seed=seed,
            drop_last=drop_last,
        )
        self.per_rank = max(1, len(self._sampler))
        if self.per_rank < self.per_rank_batch:
            self.steps_per_epoch = 1
        elif drop_last:
            self.steps_per_epoch = self.per_rank // self.per_rank_batch
        else:
            self.steps_per_epoch = -(-self.per_rank // self.per_rank_batch)
        self._epoch, self._indices = -1, torch.empty(0, dtype=torch.long)

    def epoch_indices(self, epoch: int) -> torch.Tensor:
        """This rank's sample indices of ``epoch`` (cached for the current epoch)."""
        if epoch != self._epoch:
            self._sampler.set_epoch(epoch)
            idx = torch.tensor(list(iter(self._sampler)), dtype=torch.long)
            if len(idx) == 0:  # world_size > num_samples with drop_last: reuse the permutation
                g = torch.Generator().manual_seed(self.seed + epoch)
                idx = torch.randperm(self.num_samples, generator=g)
            if len(idx) < self.per_rank_batch:
                idx = idx.repeat(-(-self.per_rank_batch // len(idx)))[: self.per_rank_batch]
            self._epoch, self._indices = epoch, idx
        return self._indices

    def batch_indices(self, step: int) -> torch.Tensor:
        """``LongTensor`` of this rank's batch at global ``step`` (0-based)."""
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        epoch, i = divmod(step, self.steps_per_epoch)
        b = self.per_rank_batch
        return self.epoch_indices(epoch)[i * b : (i + 1) * b]


def cosine_lr(optimizer: torch.optim.Optimizer, base_lr: float, step: int, total: int) -> float:
    """Set every group's learning rate to the cosine schedule's value at ``step``; return it."""
    lr = base_lr * 0.5 * (1 + math.cos(math.pi * step / max(total, 1)))
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def crash_hook(step: int) -> None:
    """Test hook: with ``SA3DHP_CRASH_AT_STEP=k`` the process dies right after step ``k``,
    without any cleanup (simulates a kill between checkpoints)."""
    if os.environ.get("SA3DHP_CRASH_AT_STEP") == str(step):
        os._exit(17)


# ---------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------


def _one_line(e: BaseException, limit: int = 160) -> str:
    """A short single-line description of an exception."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    hint = next((ln for ln in lines if "Unsupported global" in ln), lines[0] if lines else "")
    text = f"{type(e).__name__}: {hint}" if hint else type(e).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _file_mode() -> int:
    """``0o666`` minus the process umask (what ``open`` would give a new file)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` a temporary file next to ``path``, fsync it, then ``os.replace`` it."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        write(tmp)
        os.chmod(tmp, _FILE_MODE)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


_FILE_MODE = _file_mode()


def _rng_state() -> dict[str, Any]:
    """Global RNG states as tensors and plain numbers (``weights_only``-loadable)."""
    version, py_state, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)  # noqa: NPY002
    state: dict[str, Any] = {
        "python": {
            "version": int(version),
            "state": torch.tensor(py_state, dtype=torch.int64),
            "gauss": gauss,
        },
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
        "cuda": list(torch.cuda.get_rng_state_all()) if torch.cuda.is_available() else [],
    }
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    py = state["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    npy = state["numpy"]
    keys = npy["keys"].numpy().astype(np.uint32)
    np_state = (npy["kind"], keys, npy["pos"], npy["has_gauss"], npy["cached_gaussian"])
    np.random.set_state(np_state)  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda[: torch.cuda.device_count()])


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
        for key, value in _unwrap(model).state_dict().items():
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
        "rng": _rng_state(),
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
    _atomic_write(state_path, lambda tmp: torch.save(state, tmp))
    try:
        _atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))
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
            f"checkpoint ({_one_line(e)})"
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
            f"checkpoint ({_one_line(e)})"
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
            f"containers written by sa3dhp ({_one_line(e)})"
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
            _unwrap(model).load_state_dict(states[name])
        except RuntimeError as e:
            raise CheckpointError(
                f"{path}: weights of '{name}' do not fit the model ({_one_line(e)})"
            ) from None
    for name, opt in (optimizers or {}).items():
        try:
            opt.load_state_dict(state["optimizers"][name])
        except (ValueError, KeyError, RuntimeError) as e:
            raise CheckpointError(
                f"{path}: optimizer state '{name}' does not fit the optimizer ({_one_line(e)})"
            ) from None
    for name, scaler in (scalers or {}).items():
        if state["scalers"][name] and scaler.is_enabled():
            scaler.load_state_dict(state["scalers"][name])
    if restore_rng:
        _set_rng_state(state["rng"])
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


# ---------------------------------------------------------------------------------------------
# logging
# ---------------------------------------------------------------------------------------------


def _history_lines(path: Path) -> Iterator[tuple[str, dict]]:
    """``(line, record)`` of every complete JSON line of a history file (a line cut short by a
    kill is skipped)."""
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "step" in rec:
            yield line, rec


class RunLogger:
    """Progress bar, TensorBoard scalars (``run_dir/tb``) and ``run_dir/history.jsonl``.

    Disabled (does nothing) unless ``enabled`` -- pass ``ctx.is_main``. The bar is hidden when
    ``SA3DHP_NO_PROGRESS=1``. A resumed run drops the history records and TensorBoard events
    after the step it resumes from and appends from there, so no step is logged twice.

    Args:
        run_dir: the run's directory.
        enabled: False on ranks other than 0.
        total_steps: length of the progress bar.
        desc: progress-bar label and TensorBoard tag prefix (``desc/name``).
        start_step: open at once, resuming after this step (else :meth:`start` or the first
            :meth:`log` opens it).
    """

    def __init__(
        self,
        run_dir: str | Path,
        enabled: bool = True,
        total_steps: int = 0,
        desc: str = "",
        start_step: int | None = None,
    ) -> None:
        self.run_dir, self.enabled = Path(run_dir), enabled
        self.total, self.desc = total_steps, desc
        self.history = self.run_dir / "history.jsonl"
        self.bar: tqdm | None = None
        self.writer: Any = None
        self._last = 0
        if start_step is not None:
            self.start(start_step)

    def start(self, step: int = 0) -> None:
        """Open the bar and writers at ``step``; history records after ``step`` are dropped."""
        if not self.enabled or self.bar is not None:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.history.exists():
            kept = [line for line, rec in _history_lines(self.history) if rec["step"] <= step]
            text = "".join(line + "\n" for line in kept)
            _atomic_write(self.history, lambda tmp: tmp.write_text(text))
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(self.run_dir / "tb"), purge_step=step + 1)
        disable = progress_disabled()
        self.bar = tqdm(
            total=self.total, initial=step, desc=self.desc, disable=disable, dynamic_ncols=True
        )
        self._last = step

    def log(self, step: int, **scalars: float | torch.Tensor) -> None:
        """Record scalars at ``step`` (history line, TensorBoard) and advance the bar."""
        if not self.enabled:
            return
        if self.bar is None:
            self.start(step - 1)
        values = {k: float(v) for k, v in scalars.items()}
        with open(self.history, "a") as f:
            f.write(json.dumps({"step": int(step), **values}) + "\n")
        for k, v in values.items():
            self.writer.add_scalar(f"{self.desc}/{k}" if self.desc else k, v, step)
        assert self.bar is not None
        self.bar.update(max(0, step - self._last))
        self._last = step
        self.bar.set_postfix({k: f"{v:.4g}" for k, v in list(values.items())[:4]}, refresh=False)

    def close(self) -> None:
        """Flush and close the writers and the bar."""
        if self.bar is not None:
            self.bar.close()
            self.writer.close()
            self.bar = self.writer = None

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_history(run_dir: str | Path) -> list[dict[str, float]]:
    """The logged scalars of a run, one dict (``step`` + values) per logged step, in order
    (records of the same step, e.g. training and validation scalars, are merged)."""
    merged: dict[int, dict[str, float]] = {}
    for _, rec in _history_lines(Path(run_dir) / "history.jsonl"):
        merged.setdefault(rec["step"], {}).update(rec)
    return list(merged.values())


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------


def _valid_keys(base: Any, full_key: str) -> tuple[str, list[str]]:
    parent_key = full_key.rpartition(".")[0]
    node = OmegaConf.select(base, parent_key) if parent_key else base
    keys = sorted(str(k) for k in node.keys()) if OmegaConf.is_dict(node) else []
    return parent_key, keys


def load_config(
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
            raise ValueError(f"{yaml_path}: unreadable YAML ({_one_line(e)})") from None
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


def save_resolved_config(run_dir: str | Path, cfg: Any) -> Path:
    """Write ``run_dir/config.yaml`` (atomically) from a config dataclass instance or a dict."""
    node = OmegaConf.structured(cfg) if dataclasses.is_dataclass(cfg) else OmegaConf.create(cfg)
    text = OmegaConf.to_yaml(node, resolve=True)
    path = Path(run_dir) / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, lambda tmp: tmp.write_text(text))
    return path

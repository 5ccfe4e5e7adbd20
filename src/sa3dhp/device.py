"""Devices and mixed precision: which device a run computes on, and bf16 autocast where it
helps (CUDA, and CPUs with native bf16)."""

from __future__ import annotations

import contextlib
import functools

import torch


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


def machine() -> dict:
    """What a measured time depends on: CPU model and threads, native bf16, the GPU if any, and
    the torch version (recorded beside every results table's timings)."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {
        "cpu": cpu,
        "threads": torch.get_num_threads(),
        "native_bf16": cpu_has_native_bf16(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
    }


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

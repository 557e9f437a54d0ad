"""Compile StableHLO to an `Executable`, through the in-memory cache, timing XLA."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import client
from .cache import MEMORY_CACHE
from .executable import Executable


class CompileError(RuntimeError):
    """XLA rejected a module (invalid StableHLO, unsupported op, ...)."""


@dataclass
class CompileStats:
    """How the executable was obtained: XLA seconds, or a cache hit."""

    xla_seconds: float = 0.0
    cache_hit: bool = False


def compile_stablehlo(
    module: bytes | str,
    out_sig: list[tuple[tuple, np.dtype]],
    *,
    name: str = "main",
    cache_key: str | None = None,
    device=None,
) -> tuple[Executable, CompileStats]:
    """Compile (or fetch from the cache) a StableHLO module for one device.

    Args:
        module: StableHLO text or MLIR bytecode with a public @main.
        out_sig: (shape, numpy dtype) of each result, for the result handlers.
        name: the user-facing function name, used in error messages.
        cache_key: an opaque key for the in-memory cache (None: don't cache).
    """
    dev = device or client.default_device()
    key = (cache_key, dev.id, dev.platform) if cache_key is not None else None
    if key is not None:
        exe = MEMORY_CACHE.get(key)
        if exe is not None:
            return exe, CompileStats(0.0, True)
    t0 = time.perf_counter()
    try:
        loaded = client.compile_and_load(module, dev)
    except client.runtime_error_types() as e:
        raise CompileError(f"XLA could not compile {name!r}: {e}") from e
    stats = CompileStats(time.perf_counter() - t0, False)
    exe = Executable(name, loaded, out_sig, dev)
    if key is not None:
        MEMORY_CACHE.put(key, exe)
    return exe, stats

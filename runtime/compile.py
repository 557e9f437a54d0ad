"""Compile StableHLO to an `Executable`: in-memory cache, then the disk cache, then XLA."""
from __future__ import annotations

import collections
import hashlib
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import client, disk_cache, errors, lapack, sharding, tiered
from .cache import MEMORY_CACHE
from .executable import Executable
from .host_callbacks import CALLBACK_TARGET, HostCallbackSet

# process-wide: XLA compilations, executables loaded from the disk cache, blobs XLA refused
COUNTS: collections.Counter = collections.Counter()

# NOTE: XLA's CPU compiler recurses once per op of a fused chain on a thread with a fixed 8 MB
# stack: ~25,000 chained ops crash the process (JAX's own jit path at ~50,000), and compile time
# grows quadratically long before (measured: 9 s at 5,000, 43 s at 10,000, 188 s at 20,000).
DEFAULT_MAX_CHAIN = 10_000
_LIMITS = {"max_chain": DEFAULT_MAX_CHAIN}


def set_compile_limits(max_chain: int | None = None) -> None:
    """The longest chain of dependent ops a program may have to be compiled (None: default)."""
    value = DEFAULT_MAX_CHAIN if max_chain is None else int(max_chain)
    if value < 1:
        raise ValueError(f"max_chain must be positive, got {max_chain!r}")
    _LIMITS["max_chain"] = value


def compile_limits() -> dict[str, int]:
    return dict(_LIMITS)

@dataclass
class CompileStats:
    """How the executable was obtained: XLA seconds, or a memory or disk cache hit.

    xla_seconds: time in XLA's compiler (0 on any cache hit).
    cache_hit: found in the in-memory cache.
    disk_hit: loaded from the persistent cache (read + deserialize took `disk_seconds`).
    disk_seconds: on a disk hit, reading + deserializing; after a compile, serializing +
        writing the new entry (0 when the disk cache is off).
    """

    xla_seconds: float = 0.0
    cache_hit: bool = False
    disk_hit: bool = False
    disk_seconds: float = 0.0
    tiered: bool = False  # a quick program now; the tuned one compiles in the background


def persistent_key(module: bytes | str, device, options_bytes: bytes) -> str:
    """The disk cache key: everything the compiled code depends on, hashed.

    The StableHLO module as given to XLA (donation/aliasing are attributes inside it), the
    device's platform, platform version and kind, the jaxlib version, the serialized
    CompileOptions (debug overrides, device assignment), XLA_FLAGS, and for CPUs the host's
    architecture and CPU feature flags (XLA compiles for the host CPU).
    """
    h = hashlib.sha256(b"tfx-xla-cache-key-v1\0")
    for part in (module.encode() if isinstance(module, str) else bytes(module),
                 device.platform, client.platform_version(device), client.device_kind(device),
                 client.jaxlib_version(), options_bytes,
                 os.environ.get("XLA_FLAGS", ""), os.environ.get("LIBTPU_INIT_ARGS", ""),
                 _host_cpu() if device.platform == "cpu" else ""):
        b = part.encode() if isinstance(part, str) else part
        h.update(len(b).to_bytes(8, "little") + b)  # length-prefixed: no ambiguous joins
    return h.hexdigest()


def _host_cpu() -> str:
    global _HOST_CPU
    if _HOST_CPU is None:
        flags = ""
        try:  # Linux: the CPU features XLA's CPU backend may compile for
            with open("/proc/cpuinfo") as f:
                flags = next((ln for ln in f if ln.startswith(("flags", "Features"))), "")
        except OSError:
            pass
        _HOST_CPU = f"{platform.machine()}|{platform.processor()}|{flags.strip()}"
    return _HOST_CPU


_HOST_CPU: str | None = None


def compile_stablehlo(
    module: bytes | str,
    out_sig: list[tuple[tuple, np.dtype]],
    *,
    name: str = "main",
    cache_key: str | None = None,
    device=None,
    measure_chain: Callable[[int], int] | None = None,
    owner: object = None,
    host_callbacks: tuple = (),
    module_object: object = None,
    xla_options: dict | None = None,
    quick_module: bytes | str | Callable[[], bytes | None] | None = None,
    alternative: tuple | Callable[[], tuple | None] | None = None,
) -> tuple[Executable, CompileStats]:
    """Compile (or fetch from a cache) a StableHLO module for one device.

    Args:
        module: StableHLO text or MLIR bytecode with a public @main.
        out_sig: (shape, numpy dtype) of each result, for the result handlers.
        name: the user-facing function name, used in error messages.
        cache_key: an opaque key for the in-memory cache (None: don't cache). Only keyed
            compilations use the persistent disk cache (keyed by the module itself).
        measure_chain: given the chain limit, the module's longest chain of dependent ops (0
            when it cannot reach the limit); a longer chain is refused before XLA sees it.
        owner: what the executable is compiled for (a function): the in-memory cache drops
            the entry once every owner is garbage-collected.
        host_callbacks: the module's host callbacks as data ((kind, attrs, operand types) per
            index: prints, assertions); such programs need `module_object` (the ir.Module) and
            never use the persistent cache (a serialized executable can't carry callbacks).
        xla_options: XLA debug options for this compile ({name: value}); they join the
            persistent key, and callers' `cache_key` must tell them apart.
        quick_module: the same function lowered to compile faster (and run slower). When
            `module` is in no cache and tiered compilation is on, this one is compiled now
            and `module` on a background thread, which then upgrades the returned
            executable in place (runtime/tiered.py); `stats.tiered` says so.
        alternative: (module, xla_options): the same function lowered another way. With
            tiering, the background compiles it too and keeps whichever of the two runs the
            first call's inputs faster (cached under `module`'s keys).
        Both may be given as functions returning them (or None): called only when `module`
        is in no cache, so a cache hit lowers nothing more.

    Raises:
        tx.errors.ResourceExhaustedError: the chain is too long for XLA's compiler; other
            tx.errors classes for what XLA reports.
    """
    dev = device or client.default_device()
    if not host_callbacks and CALLBACK_TARGET in (module if isinstance(module, bytes)
                                                  else module.encode()):
        # NOTE: XLA would crash the process calling a callback nobody registered
        raise errors.InternalError(None, None, f"{name!r} calls host callbacks but none were "
                                   "given to compile it with")
    lapack.prepare(module)
    key = (cache_key, dev.id, dev.platform) if cache_key is not None else None
    if key is not None:
        exe = MEMORY_CACHE.get(key, owner)
        if exe is not None:
            return exe, CompileStats(0.0, True)
    opts = client.compile_options(xla_options, device=dev)
    disk = disk_cache.default_cache() if key is not None and not host_callbacks else None
    dkey = persistent_key(module, dev, client.compile_options_bytes(opts)) if disk else ""
    loaded = None
    callbacks = HostCallbackSet(host_callbacks) if host_callbacks else None
    stats = CompileStats()
    code_bytes, serialized = 0, None
    if disk is not None:
        t0 = time.perf_counter()
        blob = disk.get(dkey)
        if blob is not None:
            code_bytes, serialized = len(blob), blob
            try:
                loaded = client.deserialize_executable(blob, dev, opts)
            except Exception:  # stale or damaged in a way the checksum can't see: recompile
                COUNTS["disk_load_errors"] += 1
                disk.discard(dkey)
            else:
                COUNTS["disk_loads"] += 1
                stats = CompileStats(0.0, False, True, time.perf_counter() - t0)
    if loaded is None and quick_module is not None and key is not None and not host_callbacks \
            and tiered.enabled():
        quick = quick_module() if callable(quick_module) else quick_module
        if quick is not None:
            alt = alternative() if callable(alternative) else alternative
            return _compile_tiered(module, quick, out_sig, name, dev, opts, key, owner,
                                   disk, dkey, measure_chain, xla_options, alt)
    if loaded is None:
        _check_chain(name, measure_chain)
        t0 = time.perf_counter()
        try:
            if callbacks is not None:
                loaded = client.compile_with_callbacks(module_object, callbacks.functions, dev,
                                                       opts)
            else:
                loaded = client.compile_and_load(module, dev, opts)
        except client.runtime_error_types() as e:
            raise errors.from_status(e, f"XLA could not compile {name!r}") from e
        COUNTS["xla_compiles"] += 1
        stats = CompileStats(time.perf_counter() - t0, False)
        if disk is not None:
            t0 = time.perf_counter()
            try:
                blob = client.serialize_executable(loaded)
                code_bytes = len(blob)
                disk.put(dkey, blob)
            except Exception as e:  # never fail a compile because of the cache
                disk_cache.warn_once(f"tfx: could not serialize an executable for the compile "
                                     f"cache: {type(e).__name__}: {e}")
            stats.disk_seconds = time.perf_counter() - t0
    exe = Executable(name, loaded, out_sig, dev, code_bytes, serialized, callbacks)
    if key is not None:
        MEMORY_CACHE.put(key, exe, owner)
    return exe, stats


def _compile_tiered(module, quick_module, out_sig, name, dev, opts, key, owner, disk, dkey,
                    measure_chain, xla_options, alternative) -> tuple[Executable, CompileStats]:
    """Compile `quick_module` now (with XLA's default options: `xla_options` tune `module`);
    `module` in the background, then upgrade in place."""
    _check_chain(name, measure_chain)
    t0 = time.perf_counter()
    try:
        quick = client.compile_and_load(quick_module, dev,
                                        client.compile_options(device=dev) if xla_options else opts)
    except client.runtime_error_types() as e:
        raise errors.from_status(e, f"XLA could not compile {name!r}") from e
    COUNTS["xla_compiles"] += 1
    stats = CompileStats(time.perf_counter() - t0, False, tiered=True)
    exe = Executable(name, quick, out_sig, dev)
    MEMORY_CACHE.put(key, exe, owner)  # later lookups get this object, upgraded when ready

    def compile_tuned(inputs: list | None) -> tuple:
        loaded = client.compile_and_load(module, dev, opts)
        COUNTS["xla_compiles"] += 1
        if alternative is not None and inputs is not None:
            other = client.compile_and_load(alternative[0], dev,
                                            client.compile_options(alternative[1], device=dev))
            COUNTS["xla_compiles"] += 1
            loaded = tiered.faster(loaded, other, inputs)
        blob = None
        if disk is not None:  # the tuned program is the one a later process should load
            try:
                blob = client.serialize_executable(loaded)
                disk.put(dkey, blob)
            except Exception as e:  # never fail a compile because of the cache
                disk_cache.warn_once(f"tfx: could not serialize an executable for the "
                                     f"compile cache: {type(e).__name__}: {e}")
        return loaded, blob

    exe.defer(lambda outputs, inputs: tiered.submit(
        lambda: compile_tuned(inputs if alternative is not None else None),
        lambda tuned: exe.upgrade(*tuned), wait_for=outputs))
    return exe, stats


def compile_sharded(
    module: bytes | str,
    out_sig: list[tuple[tuple, np.dtype]],
    mesh: sharding.MeshSpec,
    in_specs: list[sharding.Spec],
    out_specs: list[sharding.Spec | None],
    *,
    name: str = "main",
    cache_key: str | None = None,
    owner: object = None,
    measure_chain: Callable[[int], int] | None = None,
) -> tuple[Executable, CompileStats]:
    """Compile an SPMD module (its arguments and results annotated with shardings over `mesh`)
    for every device of the mesh, with XLA's partitioner.

    Args:
        in_specs: how each argument is split (the module's annotations, for explain()).
        out_specs: how each result is split, None where the partitioner chose: the chosen
            one is read back from the compiled program.

    Raises:
        tx.errors.UnimplementedError: a result split in a way no spec on the mesh names.
    """
    lapack.prepare(module)
    key = (cache_key, "mesh", mesh) if cache_key is not None else None
    if key is not None:
        exe = MEMORY_CACHE.get(key, owner)
        if exe is not None:
            return exe, CompileStats(0.0, True)
    _check_chain(name, measure_chain)
    t0 = time.perf_counter()
    try:
        loaded = sharding.compile_for_mesh(module, mesh, sharding.compile_options(mesh))
    except client.runtime_error_types() as e:
        raise errors.from_status(e, f"XLA could not compile {name!r} for {mesh.size} "
                                 "devices") from e
    COUNTS["xla_compiles"] += 1
    stats = CompileStats(time.perf_counter() - t0, False)
    chosen = loaded.get_output_shardings()  # None for a one-device mesh
    specs = []
    for i, ((shape, _), forced) in enumerate(zip(out_sig, out_specs)):
        spec = forced if forced is not None else sharding.replicated(len(shape)) \
            if chosen is None else sharding.spec_of_result(chosen[i], mesh, len(shape))
        if spec is None:
            raise errors.UnimplementedError(
                None, None, f"{name!r}: XLA split result {i} over the mesh in a way tfx can't "
                "name as a layout; give it a layout (relayout the result)")
        specs.append(spec)
    exe = Executable(name, loaded, out_sig, mesh=mesh, in_specs=in_specs, out_specs=specs)
    if key is not None:
        MEMORY_CACHE.put(key, exe, owner)
    return exe, stats


def release(cache_key: str, owner: object, device=None) -> None:
    """`owner` dropped its executable compiled under `cache_key`: the in-memory cache keeps it
    only for other owners (or until the byte bound evicts it)."""
    dev = device or client.default_device()
    MEMORY_CACHE.disown((cache_key, dev.id, dev.platform), owner)


def _check_chain(name: str, measure_chain: Callable[[int], int] | None) -> None:
    limit = _LIMITS["max_chain"]
    chain = measure_chain(limit) if measure_chain is not None else 0
    if chain > limit:
        raise errors.ResourceExhaustedError(
            None, None,
            f"{name!r} has a chain of {chain:,} dependent ops, over the {limit:,} tfx compiles "
            "(XLA's CPU compiler recurses once per chained op: it crashes the process past about "
            "25,000 and takes minutes long before). The usual cause is a long Python loop "
            "unrolled into the trace: write it as `for i in tx.range(n)` or tx.while_loop, so "
            "its body compiles once. To try anyway: "
            "tx.config.set_compile_limits(max_chain=...).")


def counts() -> dict[str, int]:
    """Process-wide: XLA compilations, disk-cache loads and load errors, and the disk cache's
    own counters (hits, misses, writes, corrupt_dropped, evictions, write_errors)."""
    return {**{k: COUNTS[k] for k in ("xla_compiles", "disk_loads", "disk_load_errors")},
            **{f"disk_{k}": v for k, v in disk_cache.stats().items()}}

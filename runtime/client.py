"""The only module touching jaxlib's client API: backends, devices, transfers, compile, execute.

NOTE: several names here are private jaxlib API (pinned to jax==jaxlib==0.10.2); keep them in
this one file so an upgrade touches one place.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # silence PJRT start-up chatter

import jax  # noqa: F401  (initialises jaxlib's backends)
import jax.extend as jex
import numpy as np
from jax.core import ShapedArray
from jax.errors import JaxRuntimeError
from jaxlib import xla_client as xc

from . import errors

_RUNTIME_ERRORS = (JaxRuntimeError,)

Buffer = Any  # a jax.Array living on one device


@dataclass(frozen=True)
class Device:
    """A physical device as TF names it (`/physical_device:CPU:0`)."""

    name: str
    device_type: str
    index: int
    raw: Any

    def __repr__(self) -> str:
        return f"PhysicalDevice(name={self.name!r}, device_type={self.device_type!r})"


@functools.cache
def backend(platform: str | None = None):
    return jex.backend.get_backend(platform)


def list_devices(device_type: str | None = None) -> list[Device]:
    """Every local device of every backend jaxlib has (CPU always; GPU/TPU with a plugin)."""
    out = []
    for plat, be in sorted(jex.backend.backends().items()):
        for i, d in enumerate(be.local_devices()):
            kind = {"cuda": "GPU", "rocm": "GPU", "gpu": "GPU"}.get(plat, plat.upper())
            if device_type is None or device_type.upper() == kind:
                out.append(Device(f"/physical_device:{kind}:{i}", kind, i, d))
    return out


@functools.cache
def default_device():
    """The first device of the default backend (GPU/TPU when present, else CPU)."""
    return backend().local_devices()[0]


@functools.cache
def _sharding(dev):
    return jax.sharding.SingleDeviceSharding(dev)


@functools.lru_cache(maxsize=4096)
def _aval(shape: tuple, dtype: np.dtype) -> ShapedArray:
    return ShapedArray(shape, dtype)


def device_put(array: np.ndarray, device=None) -> Buffer:
    """Copy a numpy array to a device buffer, keeping 64-bit dtypes (no x64 flag needed).

    NOTE: force_copy, because a zero-copy put would alias memory the caller may mutate.
    """
    dev = device or default_device()
    a = np.asarray(array)
    return xc.batched_device_put(
        _aval(a.shape, a.dtype), _sharding(dev), [a], [dev], True, True, enable_x64=True
    )


def to_numpy(buf: Buffer) -> np.ndarray:
    """A host copy of a device buffer; a buffer whose computation failed raises its error.

    NOTE: reading a failed buffer (out of memory at dispatch, ...) through the buffer protocol
    aborts the whole process inside jaxlib; waiting on it first raises the status instead.
    """
    try:
        buf.block_until_ready()
    except _RUNTIME_ERRORS as e:
        raise errors.from_status(e, "the computation of this tensor failed") from e
    if not buf.is_fully_addressable and not buf.sharding.is_fully_replicated:
        # split over several processes' devices: gathered by a collective program, which
        # every process must run too (in the same order)
        from . import process_gather

        return process_gather.host_value(buf)
    return np.asarray(buf)


def compile_options(debug: dict | None = None, device=None) -> xc.CompileOptions:
    """XLA compile options for one device (its device assignment when it is not device 0)."""
    opts = xc.CompileOptions()
    if debug:
        opts.env_option_overrides = list(debug.items())
    if device is not None and device.id != 0:
        opts.device_assignment = xc.DeviceAssignment.create(np.array([[device.id]]))
    return opts


def compile_options_bytes(options: xc.CompileOptions) -> bytes:
    """The serialized CompileOptions proto (a cache-key ingredient)."""
    return options.SerializeAsString()


def compile_and_load(module: bytes | str, device=None, options: xc.CompileOptions | None = None):
    """XLA-compile StableHLO (text or bytecode) for one device."""
    dev = device or default_device()
    opts = options or compile_options(device=dev)
    return dev.client.compile_and_load(module, xc.DeviceList((dev,)), opts)


def compile_with_callbacks(module, callbacks: list, device=None,
                           options: xc.CompileOptions | None = None):
    """XLA-compile an MLIR module (an ir.Module: jaxlib takes host callbacks only with one)
    whose host callback custom calls call `callbacks[index]`."""
    dev = device or default_device()
    opts = options or compile_options(device=dev)
    return dev.client.compile_and_load(module, xc.DeviceList((dev,)), opts,
                                       host_callbacks=callbacks)


def serialize_executable(loaded) -> bytes:
    """The compiled executable as bytes (native code for this jaxlib, platform and host)."""
    return loaded.client.serialize_executable(loaded)


def deserialize_executable(blob: bytes, device=None, options: xc.CompileOptions | None = None):
    """Load bytes from `serialize_executable` onto one device, without compiling.

    NOTE: the blob is native code: only ever pass bytes this user's own process wrote.
    """
    dev = device or default_device()
    opts = options or compile_options(device=dev)
    return dev.client.deserialize_executable(blob, xc.DeviceList((dev,)), opts)


def jaxlib_version() -> str:
    from jaxlib import version

    return version.__version__


def result_handlers(out_sig: list[tuple[tuple, np.dtype]], device=None) -> list:
    sh = _sharding(device or default_device())
    return [
        xc.array_result_handler(_aval(tuple(s), np.dtype(d)), sh, committed=True, _skip_checks=True)
        for s, d in out_sig
    ]


def cpp_dispatcher(loaded, name: str, in_sig: list, out_sig: list, device=None):
    """jaxlib's C++ dispatch path (the one JAX's jitted calls use) over our loaded executable.

    It converts numpy arguments in C++, about twice as fast as one `device_put` each from
    Python. Returns a callable `(*args) -> list of buffers`, or None where it can't be used.

    NOTE: only for programs without 64-bit (or complex) inputs or outputs: without jax's x64
    flag the C++ path canonicalizes 64-bit host arrays to 32 bits (complex128 to complex64),
    which would silently change values.
    Private API (pinned jaxlib): any failure to build it falls back to the plain path.
    """
    if any(np.dtype(d).itemsize >= 8 for _, d in list(in_sig) + list(out_sig)):
        return None
    try:
        from jax import tree_util
        from jax._src import tree_util as jtu
        from jax._src.interpreters import pxla
        from jaxlib import _jax

        dev = device or default_device()
        sh = _sharding(dev)
        n_in, n_out = len(in_sig), len(out_sig)
        out_avals = [_aval(tuple(s), np.dtype(d)) for s, d in out_sig]
        fastpath = pxla.MeshExecutableFastpathData(
            loaded, tree_util.tree_structure([0] * n_out), [sh] * n_in, [sh] * n_out, out_avals,
            [True] * n_out, [True] * n_in, [None] * n_in, [])
        handlers = result_handlers(out_sig, dev)

        def run(*args):
            bufs = [a if isinstance(a, jax.Array) else device_put(a, dev) for a in args]
            return list(loaded.execute_sharded(bufs).consume_with_handlers(handlers))

        def cache_miss(*args):
            return run(*args), fastpath, False

        # `run` is also what jaxlib calls directly under jax.disable_jit().
        return _jax.pjit(name, run, cache_miss, [], [], pxla.JitGlobalCppCacheKeys(),
                         jtu.dispatch_registry, pxla.cc_shard_arg, _jax.PjitFunctionCache(8))
    except Exception:  # API drift: keep working on the plain path
        return None


def stablehlo_to_hlo_text(bytecode: bytes) -> str:
    """Pre-optimisation HLO text of a StableHLO module."""
    from jaxlib import _jax

    comp = _jax.mlir.mlir_module_to_xla_computation(bytecode, use_tuple_args=False,
                                                    return_tuple=False)
    return comp.as_hlo_text()


def runtime_error_types() -> tuple[type, ...]:
    return _RUNTIME_ERRORS


def platform_version(device=None) -> str:
    """`platform:platform_version` of the device's backend (default backend without one)."""
    be = device.client if device is not None else backend()
    return f"{be.platform}:{be.platform_version}"


def device_kind(device=None) -> str:
    return (device or default_device()).device_kind


def copy_buffer(buf: Buffer) -> Buffer:
    """A new device buffer with the same contents and placement (so the original can be
    donated safely)."""
    from . import sharding

    placed = sharding.layout_of(buf)
    if placed is not None:
        return sharding.put(to_numpy(buf), *placed)
    return device_put(to_numpy(buf))

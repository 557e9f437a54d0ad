"""The whole value of an array split over several processes' devices, on the host of each.

A process can read only its own devices' pieces, so the pieces are first all-gathered on the
devices by XLA: an identity program whose argument keeps the array's sharding and whose result
is replicated, compiled with the SPMD partitioner (Shardy) for the array's mesh. It is a
collective: every process holding part of the array must call `host_value` on it, in the same
order (as with every other computation of a multi-process program).
"""
from __future__ import annotations

import functools

import jax
import numpy as np
from jaxlib import xla_client as xc

from . import client, errors

_ELEMENT = {"float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64",
            "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64", "uint8": "ui8",
            "uint16": "ui16", "uint32": "ui32", "uint64": "ui64", "bool": "i1",
            "complex64": "complex<f32>", "complex128": "complex<f64>"}


def _axes(entry) -> list[str]:
    if entry is None:
        return []
    return [entry] if isinstance(entry, str) else list(entry)


def _dims(spec: tuple[tuple[str, ...], ...]) -> str:
    return "[" + ", ".join("{" + ", ".join(f'"{a}"' for a in axes) + "}" for axes in spec) + "]"


def gather_module(shape: tuple[int, ...], dtype: np.dtype, axes: tuple[tuple[str, int], ...],
                  spec: tuple[tuple[str, ...], ...]) -> str:
    """StableHLO text: `f(x) = x`, x split as `spec` over a mesh of `axes`, the result whole."""
    element = _ELEMENT.get(np.dtype(dtype).name)
    if element is None:
        raise errors.UnimplementedError(None, None, f"host_value: no gather for dtype {dtype}")
    tensor = "tensor<" + "".join(f"{n}x" for n in shape) + element + ">"
    mesh = ", ".join(f'"{name}"={size}' for name, size in axes)
    size = int(np.prod([s for _, s in axes]))
    whole = ((),) * len(shape)
    return (
        f"module @gather attributes {{mhlo.num_partitions = {size} : i32, "
        f"mhlo.num_replicas = 1 : i32}} {{\n"
        f"  sdy.mesh @mesh = <[{mesh}]>\n"
        f"  func.func public @main(%x: {tensor} {{sdy.sharding = #sdy.sharding<@mesh, "
        f"{_dims(spec)}>}}) -> ({tensor} {{sdy.sharding = #sdy.sharding<@mesh, "
        f"{_dims(whole)}>}}) {{\n"
        f"    return %x : {tensor}\n"
        f"  }}\n"
        f"}}\n")


@functools.lru_cache(maxsize=64)
def _gatherer(shape: tuple[int, ...], dtype: str, axes: tuple[tuple[str, int], ...],
              spec: tuple[tuple[str, ...], ...], device_ids: tuple[int, ...]):
    by_id = {d.id: d for d in client.backend().devices()}
    devs = [by_id[i] for i in device_ids]
    opts = xc.CompileOptions()
    bo = opts.executable_build_options
    bo.num_replicas, bo.num_partitions = 1, len(devs)
    bo.use_spmd_partitioning = True
    bo.use_shardy_partitioner = True
    opts.device_assignment = xc.DeviceAssignment.create(
        np.array(device_ids, dtype=np.int64).reshape(1, len(devs)))
    module = gather_module(shape, np.dtype(dtype), axes, spec)
    return client.backend().compile_and_load(module, xc.DeviceList(tuple(devs)), opts)


def host_value(buf: jax.Array) -> np.ndarray:
    """`np.asarray(buf)`, also when `buf` is split over devices of other processes."""
    sharding = buf.sharding
    if buf.is_fully_addressable or sharding.is_fully_replicated:
        return np.asarray(buf)
    if not isinstance(sharding, jax.sharding.NamedSharding):
        raise errors.UnimplementedError(
            None, None, f"host_value: cannot gather an array with sharding {sharding}")
    mesh = sharding.mesh
    axes = tuple((str(n), int(s)) for n, s in mesh.shape.items())
    spec = tuple(tuple(_axes(e)) for e in sharding.spec)
    spec = spec + ((),) * (buf.ndim - len(spec))
    device_ids = tuple(int(d.id) for d in mesh.devices.flat)
    exe = _gatherer(tuple(buf.shape), np.dtype(buf.dtype).name, axes, spec, device_ids)
    try:
        pieces = exe.execute_sharded([buf]).disassemble_into_single_device_arrays()[0]
        return np.asarray(pieces[0])
    except client.runtime_error_types() as e:
        raise errors.from_status(e, "gathering a tensor split over several processes") from e

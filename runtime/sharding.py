"""Meshes of devices and arrays split over them: jax shardings for buffers, XLA's tiled sharding
of compiled results, and compile options for the SPMD partitioner.

A `MeshSpec` is pure data (axis names, sizes, global device ids in row-major order); a `Spec` says
per tensor dimension which mesh axes split it (`()` for none), the way a PartitionSpec does.
"""
from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
from jax.core import ShapedArray
from jaxlib import xla_client as xc

Spec = tuple[tuple[str, ...], ...]  # per dimension, the mesh axes splitting it (major first)


@dataclass(frozen=True)
class MeshSpec:
    """A logical mesh: `shape[i]` devices along axis `axis_names[i]`; `device_ids` are the
    global ids of its devices in row-major order."""

    axis_names: tuple[str, ...]
    shape: tuple[int, ...]
    device_ids: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.device_ids)

    @property
    def axes(self) -> tuple[tuple[str, int], ...]:
        return tuple(zip(self.axis_names, self.shape))

    def axis_size(self, name: str) -> int:
        return self.shape[self.axis_names.index(name)]


def all_devices() -> list:
    """Every device of the default backend, across processes, by global id."""
    from .client import backend

    return sorted(backend().devices(), key=lambda d: d.id)


@functools.cache
def _device_by_id() -> dict[int, Any]:
    return {d.id: d for d in all_devices()}


def devices_of(mesh: MeshSpec) -> list:
    by_id = _device_by_id()
    missing = [i for i in mesh.device_ids if i not in by_id]
    if missing:
        from .errors import InvalidArgumentError

        raise InvalidArgumentError(
            None, None, f"a mesh {dict(mesh.axes)} on devices {list(mesh.device_ids)} needs "
            f"devices {missing}, which this process does not have ({len(by_id)} devices: "
            "e.g. a saved function relayouts onto another machine's mesh)")
    return [by_id[i] for i in mesh.device_ids]


@functools.lru_cache(maxsize=256)
def jax_mesh(mesh: MeshSpec) -> jax.sharding.Mesh:
    devs = np.empty(mesh.size, dtype=object)
    devs[:] = devices_of(mesh)
    return jax.sharding.Mesh(devs.reshape(mesh.shape), mesh.axis_names)


def _partition_spec(spec: Spec) -> jax.sharding.PartitionSpec:
    parts = [None if not axes else axes[0] if len(axes) == 1 else tuple(axes) for axes in spec]
    return jax.sharding.PartitionSpec(*parts)


@functools.lru_cache(maxsize=4096)
def named_sharding(mesh: MeshSpec, spec: Spec) -> jax.sharding.NamedSharding:
    return jax.sharding.NamedSharding(jax_mesh(mesh), _partition_spec(spec))


def replicated(rank: int) -> Spec:
    return ((),) * rank


def put(array: np.ndarray, mesh: MeshSpec, spec: Spec) -> Any:
    """A host array split over the mesh's devices as `spec` says (each process transfers only
    the pieces its own devices hold)."""
    a = np.asarray(array)
    sh = named_sharding(mesh, spec)
    where = sh.addressable_devices_indices_map(a.shape)
    # NOTE: one put per device, then assembled: batched_device_put keeps 64-bit dtypes only
    # for one device (with several it fails, or without enable_x64 truncates int64 to 32 bits)
    pieces = []
    for dev, idx in where.items():
        piece = np.array(a[idx], order="C", copy=True)  # (ascontiguousarray makes 0-d 1-d)
        pieces.append(xc.batched_device_put(ShapedArray(piece.shape, a.dtype),
                                            _single(dev), [piece], [dev], True, True,
                                            enable_x64=True))
    return jax.make_array_from_single_device_arrays(a.shape, sh, pieces)


@functools.lru_cache(maxsize=1024)
def _single(dev: Any) -> Any:
    return jax.sharding.SingleDeviceSharding(dev)


def layout_of(buf: Any) -> tuple[MeshSpec, Spec] | None:
    """The mesh and spec of a buffer split over (or replicated on) several devices; None for
    a single-device buffer."""
    sh = getattr(buf, "sharding", None)
    if not isinstance(sh, jax.sharding.NamedSharding):
        return None
    return _named_layout(sh, buf.ndim)


@functools.lru_cache(maxsize=4096)
def _named_layout(sh: jax.sharding.NamedSharding, ndim: int) -> tuple[MeshSpec, Spec] | None:
    m = sh.mesh
    if m.size == 1:
        return None
    mesh = MeshSpec(tuple(m.axis_names), tuple(m.devices.shape),
                    tuple(int(d.id) for d in m.devices.flat))
    spec = []
    for p in tuple(sh.spec) + (None,) * (ndim - len(sh.spec)):
        spec.append(() if p is None else (p,) if isinstance(p, str) else tuple(p))
    return mesh, tuple(spec)


def shard_shape(shape: Sequence[int], mesh: MeshSpec, spec: Spec) -> tuple[int, ...]:
    """The shape of one device's piece."""
    out = []
    for n, axes in zip(shape, spec):
        k = int(np.prod([mesh.axis_size(a) for a in axes])) if axes else 1
        out.append(n // k)
    return tuple(out)


# ------------------------------------------------------------------ XLA's view of a sharding
def tile_assignment(mesh: MeshSpec, spec: Spec) -> tuple[list[int], list[int], bool]:
    """(tile dimensions, logical device order, replicated last dim?) of `spec` on `mesh`, as
    XLA's HloSharding describes a tiled array (devices numbered by mesh position)."""
    ids = np.arange(mesh.size).reshape(mesh.shape)
    used = [a for axes in spec for a in axes]
    rest = [a for a in mesh.axis_names if a not in used]
    order = [mesh.axis_names.index(a) for a in used + rest]
    devs = ids.transpose(order).reshape(-1).tolist()
    dims = [int(np.prod([mesh.axis_size(a) for a in axes])) if axes else 1 for axes in spec]
    rep = int(np.prod([mesh.axis_size(a) for a in rest])) if rest else 1
    if rep > 1:
        dims.append(rep)
    return dims, devs, rep > 1


def spec_matches(op_sharding: Any, mesh: MeshSpec, spec: Spec) -> bool:
    """Whether XLA's sharding of a result (an OpSharding proto) is `spec` on `mesh`."""
    hs = xc.HloSharding.from_proto(op_sharding)
    dims, devs, rep = tile_assignment(mesh, spec)
    if hs.is_replicated():
        return all(d == 1 for d in dims[:len(spec)])
    if not hs.is_tiled():
        return False
    return (list(hs.tile_assignment_dimensions()) == dims
            and list(hs.tile_assignment_devices()) == devs
            and bool(hs.replicate_on_last_tile_dim()) == rep)


def candidate_specs(mesh: MeshSpec, rank: int) -> list[Spec]:
    """Every spec splitting each dimension by at most two mesh axes, replicated first."""
    choices: list[Spec] = [replicated(rank)]
    names = mesh.axis_names
    for k in range(1, len(names) + 1):
        for axes in itertools.permutations(names, k):
            for dims in itertools.product(range(rank), repeat=k):
                spec: list[tuple[str, ...]] = [() for _ in range(rank)]
                for a, d in zip(axes, dims):
                    spec[d] = spec[d] + (a,)
                s = tuple(spec)
                if s not in choices:
                    choices.append(s)
    return choices


def spec_of_result(op_sharding: Any, mesh: MeshSpec, rank: int) -> Spec | None:
    """The spec XLA chose for a result, or None when it is none we can name."""
    for spec in candidate_specs(mesh, rank):
        if spec_matches(op_sharding, mesh, spec):
            return spec
    return None


def compile_options(mesh: MeshSpec, debug: dict | None = None) -> xc.CompileOptions:
    """Options for one SPMD program over the mesh's devices (Shardy partitioner)."""
    opts = xc.CompileOptions()
    if debug:
        opts.env_option_overrides = list(debug.items())
    bo = opts.executable_build_options
    bo.num_replicas = 1
    bo.num_partitions = mesh.size
    bo.use_spmd_partitioning = True
    bo.use_shardy_partitioner = True
    opts.device_assignment = xc.DeviceAssignment.create(
        np.array(mesh.device_ids, dtype=np.int64).reshape(1, mesh.size))
    return opts


def compile_for_mesh(module: bytes | str, mesh: MeshSpec, options: xc.CompileOptions):
    """XLA-compile an SPMD module for every device of the mesh."""
    devs = devices_of(mesh)
    return devs[0].client.compile_and_load(module, xc.DeviceList(tuple(devs)), options)


def result_handlers(out_sig: Sequence[tuple[tuple, np.dtype]], mesh: MeshSpec,
                    specs: Sequence[Spec]) -> list:
    return [xc.array_result_handler(ShapedArray(tuple(s), np.dtype(d)), named_sharding(mesh, sp),
                                    committed=True, _skip_checks=True)
            for (s, d), sp in zip(out_sig, specs)]


def hlo_sharding_text(mesh: MeshSpec, spec: Spec) -> str:
    """XLA's printed form of `spec` on `mesh` (what explain() shows next to the spec)."""
    if all(not axes for axes in spec):
        return "{replicated}"
    dims, devs, rep = tile_assignment(mesh, spec)
    tail = " last_tile_dim_replicate" if rep else ""
    return "{devices=[" + ",".join(map(str, dims)) + "]" + ",".join(map(str, devs)) + tail + "}"

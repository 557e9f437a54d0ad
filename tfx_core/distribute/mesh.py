"""`Mesh` and `Layout` (tf.experimental.dtensor's names): devices arranged on named axes, and
how each dimension of a tensor is split over them."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from runtime import sharding
from runtime.sharding import MeshSpec

UNSHARDED = "unsharded"
MATCH = "match"


def device_string(dev: Any) -> str:
    kind = {"cuda": "GPU", "rocm": "GPU", "gpu": "GPU"}.get(dev.platform, dev.platform.upper())
    return f"/job:localhost/replica:0/task:{dev.process_index}/device:{kind}:{dev.id}"


class Mesh:
    """Devices on named axes (tf.experimental.dtensor.Mesh): `shape()[i]` devices along
    `dim_names[i]`; `global_device_ids` (an int array of the mesh's shape) index the global
    device list of every process, row-major."""

    def __init__(self, dim_names: Sequence[str], global_device_ids: Any,
                 local_device_ids: Sequence[int] | None = None,
                 local_devices: Sequence[Any] | None = None, mesh_name: str = "",
                 global_devices: Sequence[Any] | None = None, use_xla_spmd: bool = True):
        ids = np.asarray(global_device_ids, dtype=np.int64)
        names = tuple(str(n) for n in dim_names)
        if ids.ndim != len(names):
            raise ValueError(f"Mesh: {len(names)} dim_names {list(names)} for device ids of "
                             f"rank {ids.ndim} (shape {list(ids.shape)})")
        if len(set(names)) != len(names):
            raise ValueError(f"Mesh: dim_names must be distinct, got {list(names)}")
        bad = [n for n in names if not n or n in (UNSHARDED, MATCH)]
        if bad:
            raise ValueError(f"Mesh: {bad[0]!r} can't name a mesh dimension")
        everything = sharding.all_devices()
        flat = [int(i) for i in ids.reshape(-1)]
        if len(set(flat)) != len(flat):
            raise ValueError(f"Mesh: a device appears twice in {flat}")
        if any(not 0 <= i < len(everything) for i in flat):
            raise ValueError(f"Mesh: device ids {flat} must index the {len(everything)} "
                             "devices there are")
        devs = [everything[i] for i in flat]
        self._names = names
        self._shape = tuple(int(n) for n in ids.shape)
        self._ids = ids
        self._devices = devs
        self._spec = MeshSpec(names, self._shape, tuple(int(d.id) for d in devs))
        self._name = mesh_name
        if len(devs) > 1:  # from now on calls look at their inputs' layouts
            from tfx_core.framework.sharded_execution import activate

            activate()

    # ------------------------------------------------------------ TF's accessors
    @property
    def dim_names(self) -> list[str]:
        return list(self._names)

    @property
    def name(self) -> str:
        return self._name

    @property
    def size(self) -> int:
        return len(self._devices)

    def shape(self) -> list[int]:
        return list(self._shape)

    def dim_size(self, dim_name: str) -> int:
        if dim_name not in self._names:
            raise ValueError(f"Mesh has no dimension {dim_name!r} (it has {list(self._names)})")
        return self._shape[self._names.index(dim_name)]

    def contains_dim(self, dim_name: str) -> bool:
        return dim_name in self._names

    def global_device_ids(self) -> np.ndarray:
        return self._ids.copy()

    def local_device_ids(self) -> list[int]:
        me = _process_index()
        return [int(i) for i, d in zip(self._ids.reshape(-1), self._devices)
                if d.process_index == me]

    def local_devices(self) -> list[str]:
        me = _process_index()
        return [device_string(d) for d in self._devices if d.process_index == me]

    def global_devices(self) -> list[str]:
        return [device_string(d) for d in self._devices]

    def num_local_devices(self) -> int:
        return len(self.local_device_ids())

    def device_type(self) -> str:
        return device_string(self._devices[0]).rsplit(":", 2)[-2].upper()

    def is_single_device(self) -> bool:
        return False

    @property
    def spec(self) -> MeshSpec:
        """The runtime's view: axis names, sizes and device ids."""
        return self._spec

    def to_string(self) -> str:
        dims = ",".join(f"{n}={s}" for n, s in zip(self._names, self._shape))
        ids = ",".join(str(i) for i in self._ids.reshape(-1))
        return f"{self._name}|{dims}|{ids}|{','.join(self.global_devices())}"

    @classmethod
    def from_string(cls, text: str) -> Mesh:
        try:
            name, dims, ids, _ = text.split("|")
            pairs = [d.split("=") for d in dims.split(",")] if dims else []
            shape = [int(s) for _, s in pairs]
            flat = [int(i) for i in ids.split(",")] if ids else []
        except ValueError as e:
            raise ValueError(f"Mesh.from_string: not a mesh string: {text!r}") from e
        return cls([n for n, _ in pairs], np.asarray(flat).reshape(shape), mesh_name=name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mesh) and other._spec == self._spec

    def __hash__(self) -> int:
        return hash(self._spec)

    def __repr__(self) -> str:
        dims = ", ".join(f"{n!r}: {s}" for n, s in zip(self._names, self._shape))
        return f"Mesh({{{dims}}}, devices={[int(d.id) for d in self._devices]})"


def _process_index() -> int:
    from runtime.client import backend

    return backend().process_index()


def mesh_from_spec(spec: MeshSpec) -> Mesh:
    """The Mesh of a buffer's runtime layout (device ids as the global device list's)."""
    index = {int(d.id): i for i, d in enumerate(sharding.all_devices())}
    ids = np.asarray([index[i] for i in spec.device_ids]).reshape(spec.shape)
    return Mesh(list(spec.axis_names), ids)


def create_mesh(mesh_dims: Sequence[tuple[str, int]] | dict[str, int] | None = None,
                mesh_name: str = "", devices: Sequence[Any] | None = None,
                device_type: str | None = None, use_xla_spmd: bool = True) -> Mesh:
    """A mesh over this process's devices (tf.experimental.dtensor.create_mesh).

    mesh_dims: [(name, size), ...] or {name: size}; None: one axis "x" over every device.
    devices: device strings ('/device:CPU:3', 'CPU:3') or indices to use, in mesh order.
    """
    local = [d for d in sharding.all_devices() if d.process_index == _process_index()]
    if device_type is not None:
        kinds = {"CPU": ("cpu",), "GPU": ("cuda", "rocm", "gpu"), "TPU": ("tpu",)}
        want = kinds.get(device_type.upper(), (device_type.lower(),))
        local = [d for d in local if d.platform in want]
    chosen = local if devices is None else [_pick_device(local, d) for d in devices]
    return _mesh_over(mesh_dims, chosen, mesh_name)


def create_distributed_mesh(mesh_dims: Sequence[tuple[str, int]] | dict[str, int],
                            mesh_name: str = "", local_devices: Sequence[Any] | None = None,
                            device_type: str | None = None,
                            use_xla_spmd: bool = True) -> Mesh:
    """A mesh over the devices of every process (after tx.distribute's multi-process set-up;
    with one process, the same as create_mesh)."""
    if local_devices is not None:
        raise ValueError("create_distributed_mesh: local_devices is not supported; every "
                         "process contributes all its devices")
    return _mesh_over(mesh_dims, sharding.all_devices(), mesh_name)


def _pick_device(local: list, d: Any) -> Any:
    if isinstance(d, int):
        matches = [x for x in local if x.id == d]
    else:
        want = int(str(d).rsplit(":", 1)[-1])
        matches = [x for x in local if x.id == want]
    if not matches:
        raise ValueError(f"create_mesh: no device {d!r} among {[int(x.id) for x in local]}")
    return matches[0]


def _mesh_over(mesh_dims: Any, devices: list, mesh_name: str) -> Mesh:
    if mesh_dims is None:
        dims = [("x", len(devices))]
    elif isinstance(mesh_dims, dict):
        dims = list(mesh_dims.items())
    else:
        dims = [tuple(d) for d in mesh_dims]
    shape = [int(s) for _, s in dims]
    if math.prod(shape) != len(devices):
        raise ValueError(f"create_mesh: mesh_dims {dims} need {math.prod(shape)} devices, "
                         f"there are {len(devices)}")
    index = {int(d.id): i for i, d in enumerate(sharding.all_devices())}
    ids = np.asarray([index[int(d.id)] for d in devices]).reshape(shape)
    return Mesh([n for n, _ in dims], ids, mesh_name=mesh_name)


class Layout:
    """How a tensor is split over a mesh (tf.experimental.dtensor.Layout): `sharding_specs[i]`
    names the mesh dimension splitting tensor dimension i, or UNSHARDED."""

    def __init__(self, sharding_specs: Sequence[str], mesh: Mesh):
        if not isinstance(mesh, Mesh):
            raise TypeError(f"Layout: mesh must be a Mesh, got {type(mesh).__name__}")
        specs = [str(s) for s in sharding_specs]
        for s in specs:
            if s != UNSHARDED and not mesh.contains_dim(s):
                raise ValueError(f"Layout: {s!r} is not a dimension of the mesh "
                                 f"{mesh.dim_names} (or {UNSHARDED!r})")
        used = [s for s in specs if s != UNSHARDED]
        if len(set(used)) != len(used):
            raise ValueError(f"Layout: a mesh dimension splits two tensor dimensions: {specs}")
        self._specs = specs
        self._mesh = mesh

    @property
    def sharding_specs(self) -> list[str]:
        return list(self._specs)

    @property
    def mesh(self) -> Mesh:
        return self._mesh

    @property
    def rank(self) -> int:
        return len(self._specs)

    @classmethod
    def replicated(cls, mesh: Mesh, rank: int) -> Layout:
        return cls([UNSHARDED] * rank, mesh)

    @classmethod
    def batch_sharded(cls, mesh: Mesh, batch_dim: str, rank: int, axis: int = 0) -> Layout:
        specs = [UNSHARDED] * rank
        specs[axis] = batch_dim
        return cls(specs, mesh)

    @classmethod
    def inner_sharded(cls, mesh: Mesh, inner_dim: str, rank: int) -> Layout:
        return cls.batch_sharded(mesh, inner_dim, rank, axis=rank - 1)

    def is_fully_replicated(self) -> bool:
        return all(s == UNSHARDED for s in self._specs)

    def num_shards(self, idx: int) -> int:
        s = self._specs[idx]
        return 1 if s == UNSHARDED else self._mesh.dim_size(s)

    def global_shape_from_local_shape(self, local_shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(int(n) * self.num_shards(i) for i, n in enumerate(local_shape))

    def local_shape_from_global_shape(self, global_shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(int(n) // self.num_shards(i) for i, n in enumerate(global_shape))

    @property
    def spec(self) -> sharding.Spec:
        """The runtime's view: per dimension, the mesh axes splitting it."""
        return tuple(() if s == UNSHARDED else (s,) for s in self._specs)

    def to_string(self) -> str:
        return f"sharding_specs:{','.join(self._specs)}, mesh:{self._mesh.to_string()}"

    @classmethod
    def from_string(cls, text: str) -> Layout:
        head, sep, mesh = text.partition(", mesh:")
        if not sep or not head.startswith("sharding_specs:"):
            raise ValueError(f"Layout.from_string: not a layout string: {text!r}")
        specs = head[len("sharding_specs:"):]
        return cls(specs.split(",") if specs else [], Mesh.from_string(mesh))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layout) and other._specs == self._specs \
            and other._mesh == self._mesh

    def __hash__(self) -> int:
        return hash((tuple(self._specs), self._mesh))

    def __repr__(self) -> str:
        return f"Layout({self._specs}, {self._mesh!r})"


def layout_from_runtime(mesh: MeshSpec, spec: sharding.Spec) -> Layout:
    """The Layout of a buffer's runtime layout (a dimension split by several axes is shown by
    the first; tfx's own layouts never do that)."""
    return Layout([axes[0] if axes else UNSHARDED for axes in spec], mesh_from_spec(mesh))

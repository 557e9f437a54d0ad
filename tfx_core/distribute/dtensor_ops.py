"""Moving tensors onto meshes (tf.experimental.dtensor's functions): relayout, copy_to_mesh,
pack/unpack, fetch_layout, DVariable, a default mesh, and the process/device queries."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
import numpy as np

from compiler.interpreters import bind
from compiler.ops.sharding.constraint import sharding_constraint_op
from compiler.tracing import user_location
from runtime import client, sharding
from tfx_core.distribute.mesh import Layout, Mesh, device_string, layout_from_runtime
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import Variable, active_trace

_DEFAULT = threading.local()


def _check_layout_fits(t: Tensor, layout: Layout, what: str) -> None:
    if not isinstance(layout, Layout):
        raise TypeError(f"{what}: layout must be a Layout, got {type(layout).__name__}"
                        f"{_where()}")
    shape = list(t.shape)
    if layout.rank != len(shape):
        raise ValueError(f"{what}: layout {layout.sharding_specs} has rank {layout.rank}, the "
                         f"tensor ({t.dtype.name}) has shape {shape}{_where()}")
    for i, n in enumerate(shape):
        k = layout.num_shards(i)
        if n is not None and n % k:
            raise ValueError(f"{what}: dimension {i} of shape {shape} (size {n}) is not "
                             f"divisible by mesh dimension {layout.sharding_specs[i]!r} "
                             f"of size {k}{_where()}")


def _where() -> str:
    loc = user_location()
    return f" ({loc})" if loc else ""


def fetch_layout(tensor: Any) -> Layout | None:
    """The layout of an eager tensor on a mesh (None for a tensor on one device)."""
    t = tensor._as_tensor() if isinstance(tensor, Variable) else tensor
    if not isinstance(t, Tensor) or t._buf is None:
        return None
    lay = sharding.layout_of(t._buf)
    return None if lay is None else layout_from_runtime(*lay)


def is_dtensor(tensor: Any) -> bool:
    """Whether `tensor` lives on a mesh of several devices."""
    return fetch_layout(tensor) is not None


def check_layout(tensor: Any, layout: Layout) -> None:
    """Raise ValueError unless `tensor` has exactly `layout`."""
    got = fetch_layout(tensor)
    if got != layout:
        raise ValueError(f"check_layout: the tensor's layout is {got}, expected {layout}")


def _put(t: Tensor, layout: Layout) -> Tensor:
    buf = sharding.put(client.to_numpy(t._buf), layout.mesh.spec, layout.spec)
    return Tensor(buf, t._type)


def relayout(tensor: Any, layout: Layout, name: str | None = None) -> Tensor:
    """`tensor` split as `layout` says (tf.experimental.dtensor.relayout). Inside
    @tx.function it tells XLA's partitioner how this intermediate value is split."""
    t = convert_to_tensor(tensor)
    _check_layout_fits(t, layout, "relayout")
    if t._buf is not None and sharding.layout_of(t._buf) == (layout.mesh.spec, layout.spec):
        return t
    # traced: a constraint XLA's partitioner honours; eager: a program over the mesh that
    # moves the pieces (differentiable either way: the gradient gets the same layout)
    return bind(sharding_constraint_op, t, mesh=layout.mesh.spec.axes, spec=layout.spec,
                devices=layout.mesh.spec.device_ids)


def relayout_like(tensor: Any, layout_tensor: Any, name: str | None = None) -> Tensor:
    lay = fetch_layout(layout_tensor)
    if lay is None:
        raise ValueError("relayout_like: layout_tensor is not on a mesh")
    return relayout(tensor, lay)


def copy_to_mesh(tensor: Any, layout: Layout, source_layout: Layout | None = None) -> Tensor:
    """A tensor on one device copied onto a mesh as `layout` says."""
    t = convert_to_tensor(tensor)
    if t._buf is None:
        return relayout(t, layout)
    _check_layout_fits(t, layout, "copy_to_mesh")
    return _put(t, layout)


def pack(tensors: Sequence[Any], layout: Layout) -> Tensor:
    """One tensor on the mesh from its pieces, one per local device in mesh order
    (tf.experimental.dtensor.pack)."""
    mesh = layout.mesh
    devs = [d for d in sharding.devices_of(mesh.spec)
            if d.process_index == client.backend().process_index()]
    parts = [np.asarray(convert_to_tensor(x).numpy()) for x in tensors]
    if len(parts) != len(devs):
        raise ValueError(f"pack: {len(parts)} tensors for the mesh's {len(devs)} local devices")
    shapes = {p.shape for p in parts}
    dtypes = {p.dtype for p in parts}
    if len(shapes) != 1 or len(dtypes) != 1:
        raise ValueError(f"pack: the pieces differ in shape or dtype ({sorted(map(str, shapes))}"
                         f", {sorted(map(str, dtypes))})")
    local = parts[0].shape
    if len(local) != layout.rank:
        raise ValueError(f"pack: pieces of rank {len(local)} for a layout of rank {layout.rank}")
    full = layout.global_shape_from_local_shape(local)
    arrays = [client.device_put(p, d) for p, d in zip(parts, devs)]
    buf = jax.make_array_from_single_device_arrays(
        full, sharding.named_sharding(mesh.spec, layout.spec), arrays)
    return Tensor(buf, convert_to_tensor(tensors[0])._type.with_shape(full))


def unpack(tensor: Any) -> list[Tensor]:
    """The pieces of a tensor on a mesh, one per local device in mesh order (as tensors on the
    default device)."""
    t = convert_to_tensor(tensor)
    if sharding.layout_of(t._buf) is None:
        raise ValueError("unpack: the tensor is not on a mesh")
    order = {int(d.id): i for i, d in enumerate(t._buf.sharding.mesh.devices.flat)}
    shards = sorted(t._buf.addressable_shards, key=lambda s: order[int(s.device.id)])
    return [convert_to_tensor(np.asarray(s.data)) for s in shards]


def call_with_layout(fn: Callable, layout: Layout | None, *args: Any, **kwargs: Any) -> Any:
    """fn(*args, **kwargs) with its (tensor) result placed as `layout` says."""
    out = fn(*args, **kwargs)
    return out if layout is None else relayout(out, layout)


class DVariable(Variable):
    """A Variable living on a mesh (tf.experimental.dtensor.DVariable): its initial value's
    layout (or `layout=`) is kept by every assignment."""

    def __init__(self, initial_value: Any, *args: Any, layout: Layout | None = None,
                 **kwargs: Any):
        super().__init__(initial_value, *args, **kwargs)
        t = self._tensor
        if layout is None:
            layout = fetch_layout(t)
            if layout is None:
                raise ValueError("DVariable: the initial value is not on a mesh; pass layout=")
        _check_layout_fits(t, layout, "DVariable")
        place_on_mesh(self, layout)

    @property
    def layout(self) -> Layout:
        return fetch_layout(self._tensor)


def place_on_mesh(var: Variable, layout: Layout) -> None:
    """Put `var` on a mesh as `layout` says, for good: later assignments keep the layout."""
    if active_trace() is not None:
        raise ValueError("a Variable is placed on a mesh when it is created, outside "
                         "@tx.function")
    var._mesh_layout = (layout.mesh.spec, layout.spec)
    var._set_buffer(var._tensor._buf)


@contextlib.contextmanager
def default_mesh(mesh: Mesh) -> Iterator[None]:
    """Make `mesh` the default (get_default_mesh) in this block."""
    stack = getattr(_DEFAULT, "stack", None)
    if stack is None:
        stack = _DEFAULT.stack = []
    stack.append(mesh)
    try:
        yield
    finally:
        stack.pop()


run_on = default_mesh


def get_default_mesh() -> Mesh | None:
    stack = getattr(_DEFAULT, "stack", None)
    return stack[-1] if stack else None


# ---------------------------------------------------------------- processes and devices
def client_id() -> int:
    return client.backend().process_index()


def num_clients() -> int:
    return max(int(d.process_index) for d in sharding.all_devices()) + 1


def _kind_devices(device_type: str | None, local: bool) -> list:
    devs = sharding.all_devices()
    if local:
        devs = [d for d in devs if d.process_index == client_id()]
    if device_type is None:
        return devs
    kinds = {"CPU": ("cpu",), "GPU": ("cuda", "rocm", "gpu"), "TPU": ("tpu",)}
    want = kinds.get(device_type.upper(), (device_type.lower(),))
    return [d for d in devs if d.platform in want]


def num_local_devices(device_type: str | None = None) -> int:
    return len(_kind_devices(device_type, True))


def num_global_devices(device_type: str | None = None) -> int:
    return len(_kind_devices(device_type, False))


def local_devices(device_type: str | None = None, for_client_id: int | None = None) -> list:
    devs = _kind_devices(device_type, False)
    who = client_id() if for_client_id is None else for_client_id
    return [device_string(d) for d in devs if d.process_index == who]


def preferred_device_type() -> str:
    return client.list_devices()[0].device_type if client.list_devices() else "CPU"


def job_name() -> str:
    return "localhost"


def full_job_name(task_id: int | None = None) -> str:
    return f"/job:localhost/replica:0/task:{client_id() if task_id is None else task_id}"


def jobs() -> list[str]:
    return [full_job_name(i) for i in range(num_clients())]


def heartbeat_enabled() -> bool:
    return num_clients() > 1


def device_name() -> str:
    mesh = get_default_mesh()
    return mesh.to_string() if mesh is not None else "/job:localhost/replica:0/task:0/device:CPU:0"


def barrier(mesh: Mesh, barrier_name: str | None = None, timeout_in_ms: int | None = None) -> None:
    """Wait until every device of `mesh` has finished its work so far (and, across processes,
    until every process gets here): a sum over every device of the mesh, waited for."""
    from tfx_core.ops.reduction_ops import reduce_sum

    ones = copy_to_mesh(np.ones(mesh.shape(), np.float32), Layout(mesh.dim_names, mesh))
    reduce_sum(ones)._buf.block_until_ready()


def initialize_accelerator_system(device_type: str | None = None,
                                  enable_coordination_service: bool = True,
                                  num_logical_cpu_devices: int | None = None,
                                  experimental_reset_context: bool = False,
                                  experimental_enable_megcore: bool = False) -> str:
    """Nothing to set up on one process (multi-process set-up: tx.distribute); returns the
    device type."""
    return (device_type or preferred_device_type()).upper()


def shutdown_accelerator_system() -> None:
    """Nothing to tear down (kept for TF code that calls it)."""

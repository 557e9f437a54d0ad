"""Per-replica programs (TF's `strategy.run`): `replica_map` runs its body once per device
along one mesh axis, each on its own slice (Shardy's manual computation); inside it,
`all_reduce` combines a value across the replicas and `replica_id` says which one this is.

Attrs shared by all three: `mesh` ((axis name, size), ...) and `axis`, the replica axis;
replica_map also has `devices`, the mesh's device ids (opaque here: where its caller runs it).
"""
from __future__ import annotations

import itertools

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import sdy
from jaxlib.mlir.dialects import stablehlo as hlo

from ...interpreters import bind
from ...ir.graph import Graph
from ...ir.types import I32, TensorType
from ...lowering import helpers as H
from ...lowering.sharding import MESH_SYMBOL
from ...registry import NOT_DIFFERENTIABLE, OpDef, OpTypeError, register
from ..fusion import evaluate_reference

_CHANNELS = itertools.count(1)  # a channel handle per collective (unique in any module)


def _axis_size(mesh: tuple, axis: str) -> int:
    sizes = dict(mesh)
    if axis not in sizes:
        raise OpTypeError(f"replica axis {axis!r} is not one of the mesh's {list(sizes)}")
    return sizes[axis]


def _local(t: TensorType, split: bool, n: int) -> TensorType:
    if not split:
        return t
    if t.rank == 0 or t.shape[0] is None or t.shape[0] % n:
        raise OpTypeError(f"a per-replica input {t} must have a first dimension divisible by "
                          f"the {n} replicas")
    return t.with_shape((t.shape[0] // n,) + tuple(t.shape[1:]))


def _global(t: TensorType, split: bool, n: int) -> TensorType:
    return t.with_shape((t.shape[0] * n,) + tuple(t.shape[1:])) if split else t


# ---------------------------------------------------------------- replica_map
def _map_infer(*xs: TensorType, body: Graph, mesh: tuple, axis: str, in_split: tuple,
               out_split: tuple, devices: tuple = ()):
    n = _axis_size(mesh, axis)
    if len(in_split) != len(xs) or len(out_split) != len(body.outputs):
        raise OpTypeError("replica_map: one split flag per input and per output")
    local = tuple(_local(t, s, n) for t, s in zip(xs, in_split))
    if local != body.input_types:
        raise OpTypeError(f"replica_map: the body takes {list(body.input_types)}, the replicas "
                          f"get {list(local)}")
    for t, s in zip(body.output_types, out_split):
        if s and t.rank == 0:
            raise OpTypeError("replica_map: a per-replica output needs a first dimension")
    return tuple(_global(t, s, n) for t, s in zip(body.output_types, out_split))


def _sharding_list(flags: tuple, types: tuple, axis: str) -> str:
    def one(split: bool, t: TensorType) -> str:
        dims = [f'{{"{axis}"}}' if split and d == 0 else "{}" for d in range(t.rank)]
        return f"<@{MESH_SYMBOL}, [{', '.join(dims)}]>"

    return "[" + ", ".join(one(s, t) for s, t in zip(flags, types)) + "]"


def _map_lower(ctx, *xs, body: Graph, mesh: tuple, axis: str, in_split: tuple,
               out_split: tuple, devices: tuple = ()):
    plan = ctx.sharding
    if plan is None or tuple(plan.mesh) != tuple(mesh):
        raise ValueError("a per-replica computation (strategy.run) runs over its strategy's "
                         "mesh of devices; this program is compiled for "
                         f"{'one device' if plan is None else list(plan.mesh)}")
    ins = _sharding_list(in_split, ctx.types_in, axis)
    outs = _sharding_list(out_split, ctx.types_out, axis)
    op = sdy.ManualComputationOp(
        [H.ir_type(t) for t in ctx.types_out], list(xs),
        ir.Attribute.parse(f"#sdy.sharding_per_value<{ins}>"),
        ir.Attribute.parse(f"#sdy.sharding_per_value<{outs}>"),
        ir.Attribute.parse(f'#sdy<manual_axes{{"{axis}"}}>'))
    block = op.regions[0].blocks.append(*[H.ir_type(t) for t in body.input_types])
    with ir.InsertionPoint(block):
        sdy.ReturnOp(ctx.lower_graph(body, list(block.arguments)))
    return list(op.results)


def _map_reference(*xs, body: Graph, mesh: tuple, axis: str, in_split: tuple,
                   out_split: tuple, devices: tuple = ()):
    """Each replica's body on its slice, in turn (collectives inside see one replica each:
    exact for one replica, which is what a program without devices can check)."""
    n = dict(mesh)[axis]
    results = []
    for r in range(n):
        part = [np.array_split(x, n)[r] if s else x for x, s in zip(xs, in_split)]
        results.append(evaluate_reference(body, tuple(part)))
    outs = []
    for i, s in enumerate(out_split):
        outs.append(np.concatenate([res[i] for res in results]) if s else results[0][i])
    return tuple(outs)


replica_map_op = register(
    OpDef("replica_map", infer=_map_infer, lower=_map_lower, reference=_map_reference,
          vjp=NOT_DIFFERENTIABLE, traits=frozenset(), multiple_results=True)
)


# ---------------------------------------------------------------- all_reduce
_COMBINE = {"sum": hlo.add, "max": hlo.maximum, "min": hlo.minimum}


def replica_groups(mesh: tuple, axis: str) -> np.ndarray:
    """Device positions (partition ids) that differ only along `axis`, one group per row."""
    names = [a for a, _ in mesh]
    ids = np.arange(int(np.prod([s for _, s in mesh]))).reshape([s for _, s in mesh])
    k = names.index(axis)
    return np.moveaxis(ids, k, -1).reshape(-1, dict(mesh)[axis])


def _ar_infer(x: TensorType, *, mesh: tuple, axis: str, reduce: str):
    _axis_size(mesh, axis)
    if reduce not in _COMBINE:
        raise OpTypeError(f"all_reduce: reduce must be one of {sorted(_COMBINE)}, got "
                          f"{reduce!r}")
    if x.dtype.is_bool:
        raise OpTypeError(f"all_reduce: a numeric tensor is required, got {x}")
    return x


def _ar_lower(ctx, x, *, mesh: tuple, axis: str, reduce: str):
    groups = replica_groups(mesh, axis)
    attr = ir.DenseIntElementsAttr.get(groups.astype(np.int64))
    t = ctx.types_in[0]
    op = hlo.AllReduceOp([H.ir_type(t)], [x], attr,
                         channel_handle=hlo.ChannelHandle.get(next(_CHANNELS), 1),
                         use_global_device_ids=ir.UnitAttr.get())
    scalar = H.ir_type(TensorType(t.dtype, ()))
    block = op.regions[0].blocks.append(scalar, scalar)
    with ir.InsertionPoint(block):
        hlo.return_([_COMBINE[reduce](block.arguments[0], block.arguments[1])])
    return op.results[0]


def _ar_vjp(ctx, g, *, mesh: tuple, axis: str, reduce: str):
    if reduce != "sum":
        return (None,)
    # every replica's input reaches every replica's sum: its gradient is the summed cotangent
    return (bind(all_reduce_op, g, mesh=mesh, axis=axis, reduce="sum"),)


all_reduce_op = register(
    OpDef("all_reduce", infer=_ar_infer, lower=_ar_lower,
          reference=lambda x, **_: np.array(x), vjp=_ar_vjp, traits=frozenset())
)


# ---------------------------------------------------------------- replica_id
def _id_lower(ctx, *, mesh: tuple, axis: str):
    # the partition id is the device's position in the mesh (row-major): its coordinate
    # along `axis` is (id // stride) % size
    names = [a for a, _ in mesh]
    k = names.index(axis)
    stride = int(np.prod([s for _, s in mesh][k + 1:]))
    pid = hlo.partition_id()
    i = hlo.convert(H.ir_type(TensorType(I32, ())), pid)
    if stride != 1:
        i = hlo.divide(i, H.splat(stride, TensorType(I32, ())))
    return hlo.remainder(i, H.splat(dict(mesh)[axis], TensorType(I32, ())))


def _id_infer(*, mesh: tuple, axis: str) -> TensorType:
    _axis_size(mesh, axis)
    return TensorType(I32, ())


# NOTE: not PURE: its value differs per device, so it must never be folded or merged
replica_id_op = register(
    OpDef("replica_id", infer=_id_infer, lower=_id_lower,
          reference=lambda **_: np.array(0, np.int32), vjp=NOT_DIFFERENTIABLE,
          traits=frozenset())
)

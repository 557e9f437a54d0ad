"""Sharding annotations for XLA's SPMD partitioner (Shardy): a logical mesh, how each argument
and result of @main is split over it, and the `sdy` attributes that say so in the module.

The compiler knows no devices: a mesh here is axis names and sizes only; whoever compiles the
module maps its positions to devices (the runtime's device assignment).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jaxlib.mlir import ir
from jaxlib.mlir.dialects import sdy

MESH_SYMBOL = "mesh"
Axes = tuple[tuple[str, int], ...]  # (name, size) per mesh axis, major first
Spec = tuple[tuple[str, ...], ...]  # per tensor dimension, the mesh axes splitting it


@dataclass(frozen=True)
class ShardingPlan:
    """One SPMD program: its mesh, and the spec of each @main argument and result (None: the
    partitioner chooses)."""

    mesh: Axes
    inputs: tuple[Spec | None, ...]
    outputs: tuple[Spec | None, ...] = ()

    @property
    def num_partitions(self) -> int:
        n = 1
        for _, size in self.mesh:
            n *= size
        return n

    @property
    def cache_key(self) -> str:
        return f"mesh={self.mesh} in={self.inputs} out={self.outputs}"


def check_spec(spec: Spec, shape: Sequence[int], mesh: Axes, what: str) -> None:
    """Raise ValueError when `spec` can't split `shape` on `mesh` (unknown or repeated axis,
    wrong rank, a dimension not divisible by its axes' product)."""
    sizes = dict(mesh)
    if len(spec) != len(shape):
        raise ValueError(f"{what}: a layout of rank {len(spec)} for a tensor of rank "
                         f"{len(shape)} (shape {list(shape)})")
    seen: set[str] = set()
    for d, axes in enumerate(spec):
        k = 1
        for a in axes:
            if a not in sizes:
                raise ValueError(f"{what}: mesh axis {a!r} is not one of the mesh's "
                                 f"{list(sizes)}")
            if a in seen:
                raise ValueError(f"{what}: mesh axis {a!r} splits two dimensions")
            seen.add(a)
            k *= sizes[a]
        if shape[d] is not None and shape[d] % k:
            raise ValueError(f"{what}: dimension {d} of size {shape[d]} is not divisible by "
                             f"{k}, the number of devices along {'×'.join(axes)}")


def register(ctx: ir.Context) -> None:
    """Load the sdy dialect into a fresh context (before anything is parsed in it)."""
    sdy.register_dialect(ctx)


def declare_mesh(module: ir.Module, mesh: Axes) -> None:
    """Add `sdy.mesh @mesh` and the partition count to `module` (inside its context)."""
    axes = ", ".join(f'"{name}"={size}' for name, size in mesh)
    with ir.InsertionPoint.at_block_begin(module.body):
        sdy.MeshOp(MESH_SYMBOL, ir.Attribute.parse(f"#sdy.mesh<[{axes}]>"))
    n = 1
    for _, size in mesh:
        n *= size
    i32 = ir.IntegerType.get_signless(32)
    module.operation.attributes["mhlo.num_partitions"] = ir.IntegerAttr.get(i32, n)
    module.operation.attributes["mhlo.num_replicas"] = ir.IntegerAttr.get(i32, 1)


def _dims(spec: Spec) -> str:
    return ", ".join("{" + ", ".join(f'"{a}"' for a in axes) + "}" for axes in spec)


def tensor_sharding(spec: Spec) -> ir.Attribute:
    """`#sdy.sharding<@mesh, [...]>` for an argument or result (closed dims: exactly this)."""
    return ir.Attribute.parse(f"#sdy.sharding<@{MESH_SYMBOL}, [{_dims(spec)}]>")


def constrain(value: ir.Value, spec: Spec) -> ir.Value:
    """`value` with its sharding fixed to `spec` at this point of the program."""
    return sdy.ShardingConstraintOp(value, tensor_sharding(spec)).result


def annotate(fn, plan: ShardingPlan, n_args: int, n_results: int) -> None:
    """Put each argument's and result's spec of `plan` on @main's attributes, keeping the
    attributes already there (donation)."""
    def merged(old, specs, n):
        out = []
        for i in range(n):
            entries = {}
            if old is not None:
                for named in ir.DictAttr(old[i]):
                    entries[named.name] = named.attr
            spec = specs[i] if i < len(specs) else None
            if spec is not None:
                entries["sdy.sharding"] = tensor_sharding(spec)
            out.append(ir.DictAttr.get(entries))
        return ir.ArrayAttr.get(out)

    attrs = fn.operation.attributes
    old_args = attrs["arg_attrs"] if "arg_attrs" in attrs else None
    old_res = attrs["res_attrs"] if "res_attrs" in attrs else None
    attrs["arg_attrs"] = merged(old_args, plan.inputs, n_args)
    attrs["res_attrs"] = merged(old_res, plan.outputs, n_results)

"""Running programs over a mesh of devices: when an input is split over (or replicated on)
several devices, the program is compiled once more as one SPMD program for that mesh — XLA's
partitioner splits the work and inserts the collectives — and runs on every device at once.

Nothing here costs a single-device program anything until the first mesh exists (`ACTIVE`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from compiler.ir.graph import Graph, GraphBuilder, freeze_attrs
from compiler.ir.printer import print_graph
from compiler.lowering.sharding import ShardingPlan
from compiler.lowering.stablehlo import lower_graph
from compiler.ops.sharding.constraint import sharding_constraint_op
from compiler.ops.sharding.replicas import replica_map_op
from runtime import client, sharding
from runtime.compile import compile_sharded
from runtime.executable import Executable
from tfx_core import config
from tfx_core.errors import InvalidArgumentError

# Set once a buffer split over several devices may exist: only then do calls look at layouts.
ACTIVE = {"on": False}


def activate() -> None:
    """A mesh is in use from now on: calls check their inputs' layouts (and the eager fast
    paths that can't are dropped)."""
    if not ACTIVE["on"]:
        ACTIVE["on"] = True
        from tfx_core.ops.math_ops import clear_fast_paths

        clear_fast_paths()


def _constraint_meshes(g: Graph, out: set) -> set:
    for op in g.ops:
        if op.opdef is sharding_constraint_op or op.opdef is replica_map_op:
            attrs = dict(op.attrs)
            names = tuple(n for n, _ in attrs["mesh"])
            sizes = tuple(s for _, s in attrs["mesh"])
            out.add(sharding.MeshSpec(names, sizes, tuple(attrs["devices"])))
        for _, v in op.attrs:
            for sub in _nested_graphs(v):
                _constraint_meshes(sub, out)
    return out


def _nested_graphs(v: Any) -> list[Graph]:
    if isinstance(v, Graph):
        return [v]
    if isinstance(v, tuple):
        return [g for x in v for g in _nested_graphs(x)]
    return []


def needs_mesh(graph: Graph) -> bool:
    """Whether `graph` has per-replica code (strategy.run), which only a mesh can run."""
    for op in graph.ops:
        if op.opdef is replica_map_op:
            return True
        for _, v in op.attrs:
            if any(needs_mesh(g) for g in _nested_graphs(v)):
                return True
    return False


class MeshOnly:
    """Stands for the single-device executable of a program only a mesh can run."""

    nbytes = 0

    def __init__(self, name: str):
        self.name = name
        self.device = client.default_device()

    def __call__(self, buffers: Any) -> Any:
        raise InvalidArgumentError(
            None, None, f"{self.name!r} runs per-replica code (strategy.run) and runs only "
            "over its strategy's mesh of devices")

    def optimized_hlo(self) -> str:
        return ""

    def memory_stats(self) -> dict:
        return {}


def program_mesh(name: str, layouts: Sequence[Any], graph: Graph | None) -> Any:
    """The one mesh a program runs on (from its inputs' layouts and the layouts its body asks
    for), or None for a single-device program."""
    meshes = {lay[0] for lay in layouts if lay is not None}
    if graph is not None:
        meshes |= _constraint_meshes(graph, set())
    if not meshes:
        return None
    if len(meshes) > 1:
        shown = "; ".join(f"{dict(m.axes)} on devices {list(m.device_ids)}" for m in meshes)
        raise InvalidArgumentError(
            None, None, f"{name}: its inputs and layouts are on {len(meshes)} different meshes "
            f"({shown}); one program runs on one mesh (copy_to_mesh or relayout them first)")
    return meshes.pop()


def to_mesh(buf: Any, mesh: sharding.MeshSpec, layout: Any) -> Any:
    """A single-device buffer replicated on every device of the mesh."""
    if layout is not None:
        return buf
    return sharding.put(client.to_numpy(buf), mesh, sharding.replicated(buf.ndim))


def compile_for_mesh(name: str, graph: Graph, mesh: sharding.MeshSpec,
                     in_specs: tuple, out_specs: tuple, donate: tuple = (),
                     owner: object = None) -> Executable:
    """`graph` as one SPMD program over `mesh` (arguments split as `in_specs`, results as
    `out_specs` where given; the partitioner chooses the others)."""
    options = config.lowering_options()
    plan = ShardingPlan(mesh.axes, tuple(in_specs), tuple(out_specs))
    lowered = lower_graph(graph, options, donate=donate, sharding=plan)
    out_sig = [(t.shape, t.dtype.np_dtype) for t in graph.output_types]
    key = (f"{print_graph(graph)}\ndonate {donate}\n{options.cache_key}\n{plan.cache_key}\n"
           f"devices {mesh.device_ids}")
    exe, _ = compile_sharded(lowered.bytecode, out_sig, mesh, list(in_specs), list(out_specs),
                             name=name, cache_key=key, owner=owner,
                             measure_chain=lowered.longest_chain)
    return exe


def prepare(name: str, graph: Graph, bufs: list, cache: dict, out_specs: tuple = (),
            donate: tuple = (), owner: object = None) -> tuple[Executable, list] | None:
    """(the SPMD executable, the buffers moved onto its mesh) for a call of `graph` on `bufs`,
    or None when every buffer is on one device and the graph asks for no layout.

    `cache` keeps the executables per (mesh, input specs, output specs)."""
    layouts = [sharding.layout_of(b) for b in bufs]
    has_constraint = cache.get("has_constraint")
    if has_constraint is None:
        has_constraint = cache["has_constraint"] = bool(_constraint_meshes(graph, set()))
    if not has_constraint and all(lay is None for lay in layouts):
        return None
    mesh = program_mesh(name, layouts, graph if has_constraint else None)
    in_specs = tuple(lay[1] if lay is not None else sharding.replicated(b.ndim)
                     for b, lay in zip(bufs, layouts))
    n_out = len(graph.outputs)
    outs = tuple(out_specs) + (None,) * (n_out - len(out_specs))
    key = (mesh, in_specs, outs)
    exe = cache.get(key)
    if exe is None:
        exe = cache[key] = compile_for_mesh(name, graph, mesh, in_specs, outs, donate, owner)
    return exe, [to_mesh(b, mesh, lay) for b, lay in zip(bufs, layouts)]


def run_eager_op(key: tuple, opdef: Any, attrs: dict, in_types: tuple, out_types: tuple,
                 bufs: list, cache: dict) -> list | None:
    """One eager op on buffers of which some live on a mesh (None when none does); `key`
    identifies the op, its attrs and input types (the eager executor's key). A layout
    constraint (relayout) always runs as a program over its mesh, moving its operand there."""
    constraint = opdef is sharding_constraint_op
    if not constraint and all(sharding.layout_of(b) is None for b in bufs):
        return None
    entry = cache.get(key)
    if entry is None:
        graph = _one_op_graph(opdef, attrs, in_types, out_types)
        entry = cache[key] = (graph, {})
    graph, per_layout = entry
    forced = (dict(attrs)["spec"],) if constraint else ()
    prepared = prepare(opdef.name, graph, bufs, per_layout, forced)
    assert prepared is not None
    exe, moved = prepared
    return exe(moved)


def _one_op_graph(opdef: Any, attrs: dict, in_types: tuple, out_types: tuple) -> Graph:
    b = GraphBuilder(f"eager_{opdef.name}")
    ins = [b.add_input(t) for t in in_types]
    outs = b.add_op(opdef, ins, freeze_attrs(attrs), None, out_types)
    return b.build(outs)


_COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all",
                "collective-permute", "collective-broadcast")


def collectives(hlo_text: str) -> dict[str, int]:
    """How many of each collective an optimized HLO module runs (its -start/-done pairs and
    fused forms counted once)."""
    counts: dict[str, int] = {}
    for line in hlo_text.splitlines():
        if "=" not in line:
            continue
        rhs = line.split("=", 1)[1]
        for name in _COLLECTIVES:
            if f" {name}(" in rhs or f" {name}-start(" in rhs:
                counts[name] = counts.get(name, 0) + 1
    return counts


def _spec_text(spec: tuple) -> str:
    return "[" + ", ".join("×".join(axes) if axes else "-" for axes in spec) + "]"


def describe(exe: Executable) -> list[str]:
    """explain()'s lines for an SPMD executable: the mesh, each argument's and result's split,
    the collectives XLA's partitioner inserted, and one device's memory."""
    mesh = exe.mesh
    lines = [f"  SPMD over mesh {dict(mesh.axes)} on devices {list(mesh.device_ids)}"]
    for what, specs, sig in (("arg", exe.in_specs, None), ("result", exe.out_specs,
                                                           exe.out_sig)):
        for i, spec in enumerate(specs):
            shape = f" {list(sig[i][0])}" if sig is not None else ""
            lines.append(f"    {what} {i}{shape}: {_spec_text(spec)}  "
                         f"{sharding.hlo_sharding_text(mesh, spec)}")
    found = collectives(exe.optimized_hlo())
    shown = ", ".join(f"{k} ×{v}" for k, v in sorted(found.items())) or "none"
    lines.append(f"    collectives: {shown}")
    mem = exe.memory_stats()
    lines.append("    per device: " + ", ".join(
        f"{k.replace('_size_in_bytes', '')} {v:,} B" for k, v in mem.items()
        if k != "generated_code_size_in_bytes"))
    return lines


CONSTRAINT = sharding_constraint_op

__all__ = ["ACTIVE", "CONSTRAINT", "MeshOnly", "activate", "collectives", "compile_for_mesh",
           "describe", "needs_mesh", "prepare", "program_mesh", "run_eager_op", "to_mesh"]

"""The lowering driver: an IR Graph becomes a verified StableHLO module with a public @main."""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field

from jaxlib.mlir import ir
from jaxlib.mlir.dialects import func

from ..ir.graph import Graph, Op, walk
from ..ir.printer import print_graph
from ..ir.types import TensorType
from . import conv_formulations
from .chain import SMALL_MODULE_BYTES, count_ops, longest_chain
from .helpers import ir_type, make_context
from .options import LoweringOptions
from .sharding import ShardingPlan, annotate, declare_mesh
from .sharding import register as register_sdy


class LoweringError(RuntimeError):
    """An op's lowering rule failed or the module did not verify."""


@dataclass
class LowerCtx:
    """What a lowering rule sees besides its operands (like JAX's LoweringRuleContext)."""

    types_in: tuple[TensorType, ...]
    types_out: tuple[TensorType, ...]
    options: LoweringOptions  # the caller's: conv formulation, target platform
    lower_graph: object = None  # callable(graph, operands) -> results, for nested regions
    call: object = None  # callable(graph, operands) -> results: a call of a private function
    # callable(kind, attrs, operand types) -> index of a host callback the module calls (the
    # runtime builds the Python function from this data: see compiler/ops/debug.py)
    add_host_callback: object = None
    # the SPMD program's mesh and annotations (None: one device; sharding constraints are no-ops)
    sharding: ShardingPlan | None = None

    @property
    def type_out(self) -> TensorType:
        return self.types_out[0]


@dataclass
class LoweredModule:
    """The result of lowering: the MLIR module and its serialized forms."""

    module: ir.Module
    context: ir.Context
    # (kind, attrs, operand types) per host callback index, in index order
    host_callbacks: tuple = ()
    # XLA compile options the program asks for (conv_formulations.xla_options): the caller
    # compiles with them; they follow from the graph and options, so compile keys cover them
    xla_options: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return str(self.module)

    def text_with_locations(self) -> str:
        return self.module.operation.get_asm(enable_debug_info=True)

    @functools.cached_property
    def bytecode(self) -> bytes:
        buf = io.BytesIO()
        self.module.operation.write_bytecode(buf)
        return buf.getvalue()

    def longest_chain(self, limit: int = 0) -> int:
        """The most dependent ops on one path (what XLA's compiler recurses over); 0 when the
        module is too small to reach `limit`, so small programs are not walked."""
        with self.context:
            if len(self.bytecode) < SMALL_MODULE_BYTES or count_ops(self.module) <= limit:
                return 0
            return longest_chain(self.module)


def _location(op: Op) -> ir.Location:
    if op.loc:
        file, _, line = op.loc.rpartition(":")
        try:
            child = ir.Location.file(file, int(line), 0)
        except ValueError:
            child = ir.Location.unknown()
        return ir.Location.name(op.name, childLoc=child)
    return ir.Location.name(op.name)


class _PrivateFunctions:
    """Nested graphs emitted as private functions of the module: one per distinct body (two
    regions with the same printed body share a function), called with `func.call`."""

    def __init__(self, module: ir.Module, options: LoweringOptions,
                 callbacks: HostCallbacks | None = None, sharding: ShardingPlan | None = None):
        self.module = module
        self.options = options
        self.callbacks = callbacks
        self.sharding = sharding
        self.by_body: dict[str, str] = {}  # printed body (without its name) -> symbol
        self.symbols: set[str] = {"main"}

    def call(self, body: Graph, operands: list[ir.Value]) -> list[ir.Value]:
        key = print_graph(Graph(body.inputs, body.ops, body.outputs, ""))
        sym = self.by_body.get(key)
        if sym is None:
            sym = self._define(body)
            self.by_body[key] = sym
        res_types = [ir_type(t) for t in body.output_types]
        return list(func.CallOp(res_types, ir.FlatSymbolRefAttr.get(sym), operands).results)

    def _define(self, body: Graph) -> str:
        sym, n = body.name or "region", 1
        while sym in self.symbols:
            sym, n = f"{body.name}_{n}", n + 1
        self.symbols.add(sym)
        arg_types = [ir_type(t) for t in body.input_types]
        res_types = [ir_type(t) for t in body.output_types]
        with ir.InsertionPoint(self.module.body), ir.Location.name(sym):
            fn = func.FuncOp(sym, ir.FunctionType.get(arg_types, res_types))
            fn.sym_visibility = ir.StringAttr.get("private")
            block = fn.add_entry_block()
            with ir.InsertionPoint(block):
                func.ReturnOp(emit_ops(body, list(block.arguments), self.options, self,
                                       self.callbacks, self.sharding))
        return sym


class HostCallbacks:
    """The host callbacks a module calls, as data: (kind, attrs, operand types) per index."""

    def __init__(self) -> None:
        self.specs: list[tuple] = []

    def add(self, kind: str, attrs: dict, types: tuple) -> int:
        self.specs.append((kind, dict(attrs), tuple(types)))
        return len(self.specs) - 1


def emit_ops(graph: Graph, operands: list[ir.Value], options: LoweringOptions,
             functions: _PrivateFunctions | None = None,
             callbacks: HostCallbacks | None = None,
             sharding: ShardingPlan | None = None) -> list[ir.Value]:
    """Emit `graph`'s ops at the current insertion point; returns the output ir.Values."""
    call = functions.call if functions is not None else None
    add_callback = callbacks.add if callbacks is not None else None

    def nested(g: Graph, args: list[ir.Value]) -> list[ir.Value]:
        return emit_ops(g, args, options, functions, callbacks, sharding)

    def apply(op: Op, args: list[ir.Value]) -> list[ir.Value]:
        ctx = LowerCtx(tuple(v.type for v in op.inputs), tuple(v.type for v in op.outputs),
                       options, nested, call, add_callback, sharding)
        try:
            with _location(op):
                res = op.opdef.lower(ctx, *args, **dict(op.attrs))
        except Exception as e:  # name the op and the user's line in any lowering failure
            where = f" ({op.loc})" if op.loc else ""
            raise LoweringError(f"lowering {op.name} failed{where}: {e}") from e
        return list(res) if op.opdef.multiple_results else [res]

    return walk(graph, operands, apply)


def lower_graph(
    graph: Graph, options: LoweringOptions, donate: tuple[int, ...] = (),
    context: ir.Context | None = None, sharding: ShardingPlan | None = None
) -> LoweredModule:
    """Lower a graph with static shapes to a verified StableHLO module.

    Args:
        graph: the IR graph; every input and value type must be static.
        options: how to lower (conv formulation, target platform): the module depends on
            them, so the caller's compile keys must include `options.cache_key`.
        donate: input positions whose buffers XLA may reuse for outputs.
        context: an MLIR context to use (a fresh one by default).
        sharding: an SPMD program's mesh and argument/result specs (Shardy annotations); the
            caller's compile keys must include `sharding.cache_key`.
    """
    ctx = context or make_context()
    if sharding is not None:
        register_sdy(ctx)
    with ctx, ir.Location.unknown():
        module = ir.Module.create()
        module.operation.attributes["sym_name"] = ir.StringAttr.get(graph.name or "main")
        if sharding is not None:
            declare_mesh(module, sharding.mesh)
        arg_types = [ir_type(t) for t in graph.input_types]
        res_types = [ir_type(t) for t in graph.output_types]
        with ir.InsertionPoint(module.body):
            fn = func.FuncOp("main", ir.FunctionType.get(arg_types, res_types))
            if donate:
                fn.arg_attrs = ir.ArrayAttr.get(
                    [
                        ir.DictAttr.get(
                            {"jax.buffer_donor": ir.BoolAttr.get(True)} if i in donate else {}
                        )
                        for i in range(len(arg_types))
                    ]
                )
            if sharding is not None:
                annotate(fn, sharding, len(arg_types), len(res_types))
            block = fn.add_entry_block()
            callbacks = HostCallbacks()
            with ir.InsertionPoint(block):
                outs = emit_ops(graph, list(block.arguments), options,
                                _PrivateFunctions(module, options, callbacks, sharding),
                                callbacks, sharding)
                func.ReturnOp(outs)
        try:
            module.operation.verify()
        except ir.MLIRError as e:
            raise LoweringError(f"StableHLO for {graph.name!r} did not verify: {e}") from e
    return LoweredModule(module, ctx, tuple(callbacks.specs),
                         conv_formulations.xla_options(graph, options))

"""The eager executor: each op is a one-op graph, lowered and compiled once per signature."""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from compiler.interpreters import Interpreter, set_eager_interpreter
from compiler.ir.graph import ConstArray, Graph, GraphBuilder, freeze_attrs
from compiler.ir.printer import print_graph
from compiler.lowering.helpers import make_context
from compiler.lowering.options import LoweringOptions
from compiler.lowering.stablehlo import lower_graph
from compiler.registry import OpDef
from compiler.tracing import infer_or_raise
from runtime import Executable, compile_stablehlo
from tfx_core import config
from tfx_core.framework.sharded_execution import ACTIVE as MESHES
from tfx_core.framework.sharded_execution import CONSTRAINT, run_eager_op
from tfx_core.framework.tensor import Tensor

MAX_EAGER_CACHE = 4096  # distinct (op, attrs, types) executables kept for eager mode
# XLA options for eager programs, by platform. XLA:CPU's older loop emitters compile a small
# program in about half the time of its MLIR fusion emitters (measured: 15-22 ms against
# 29-33 ms per one-op program), with the same results and run times (issue 18).
EAGER_XLA_OPTIONS: dict[str, dict] = {"cpu": {"xla_cpu_use_fusion_emitters": False}}
# A one-op program of an exact op (one IEEE operation per element, a comparison, a sum or data
# movement: the same bits at any optimization level), whose every value has at most this many
# real elements, also skips LLVM's optimizations (xla_backend_optimization_level=0: ~9 ms per
# compile instead of 15-25): at these sizes its unoptimized loop costs at most ~8 us more per
# call (an add at 32x128: 23 against 15 us), larger ones run 3-10x slower. Not for other ops:
# with LLVM's optimizations off, math functions round differently (lgamma, tanh: measured).
SMALL_PROGRAM_ELEMENTS = 4096
EXACT_OPS = frozenset((
    "add", "subtract", "multiply", "divide", "negate", "maximum", "minimum", "abs", "sign",
    "sqrt", "floor", "ceil", "round_nearest_even", "compare", "select", "and", "or", "not", "xor",
    "shift_left", "shift_right", "is_finite", "convert", "bitcast_convert", "stop_gradient",
    "iota", "constant", "reshape", "expand_dims", "squeeze", "transpose", "broadcast_to",
    "broadcast_like", "concatenate", "slice", "pad", "reverse", "tile", "dynamic_slice",
    "dynamic_update_slice", "gather", "reduce_sum", "reduce_max", "reduce_min", "reduce_prod",
    "reduce_and", "reduce_or"))
# Eager programs share one MLIR context per thread (making one costs ~0.4 ms a program) for this
# many lowerings; a context keeps what it uniqued, so programs with big constants get their own.
CONTEXT_USES = 2000
SHARED_CONST_ELEMENTS = 64
_CONTEXTS = threading.local()


class EagerInterpreter(Interpreter):
    """Runs ops immediately on XLA (like JAX's apply_primitive), caching one exe per key."""

    def __init__(self) -> None:
        # NOTE: the compile key is (lowering options, op, attrs, input types): `cache` is the
        # table of the current options, swapped by `use_options`, so a hit hashes no options.
        self.cache: dict[tuple, tuple] = {}
        self._tables: dict[LoweringOptions, dict[tuple, tuple]] = {}
        self._lowering: tuple[LoweringOptions, dict] | None = None  # (options, their table)
        self.compiles = 0
        # tx.debugging.enable_check_numerics: called with (opdef, output tensors) after each op
        self.output_check: Any = None
        # ops on tensors split over a mesh: key -> (one-op graph, SPMD executables by layout)
        self.sharded: dict[tuple, tuple] = {}

    def set_output_check(self, check: Any) -> None:
        """Check every op's outputs with `check(opdef, outputs)` (None: stop checking)."""
        self.output_check = check

    def use_options(self, options: LoweringOptions) -> None:
        """Compile and look up with these lowering options from now on (tx.config's setting)."""
        table = self._tables.setdefault(options, {} if self._lowering else self.cache)
        self._lowering = (options, table)
        self.cache = table

    def process(self, opdef: OpDef, args: Sequence[Any], attrs: dict) -> Any:
        if not attrs and len(args) <= 2 and not MESHES["on"]:  # the common case, kept short
            try:
                entry = self.cache.get((opdef, (), *[a._type for a in args]))
            except AttributeError:
                entry = None
            if entry is not None and not opdef.multiple_results:
                try:
                    out = Tensor(entry[0].run_single([a._buf for a in args]), entry[1][0])
                except TypeError:  # a stale symbolic tensor (no buffer): the slow path says so
                    pass
                else:
                    if self.output_check is not None:
                        self.output_check(opdef, [out])
                    return out
        try:
            key = (opdef, tuple(sorted(attrs.items())) if attrs else (),
                   *[a._type for a in args])
            entry = self.cache.get(key)
        except (TypeError, AttributeError):  # unhashable attrs, or non-Tensor args
            args = [_as_eager(a, opdef) for a in args]
            key = (opdef, freeze_attrs(attrs), *[a._type for a in args])
            entry = self.cache.get(key)
        if entry is None:
            entry = self._compile(opdef, args, attrs, key)
        exe, out_types = entry
        ins = [_as_eager(a, opdef)._buf for a in args]
        bufs = None
        if MESHES["on"] or opdef is CONSTRAINT:  # an input may live on a mesh: run it there
            bufs = run_eager_op(key, opdef, attrs, tuple(a._type for a in args), out_types,
                                ins, self.sharded)
        if bufs is None:
            bufs = exe(ins)
        outs = [Tensor(b, t) for b, t in zip(bufs, out_types)]
        if self.output_check is not None:
            self.output_check(opdef, outs)
        return outs if opdef.multiple_results else outs[0]

    def unary_entry(self, opdef: OpDef, t: Any) -> tuple | None:
        """(execute, handlers, out type) for a no-attr unary op on type `t`, once compiled.

        Lets public unary ops dispatch without the bind/process frames (eager hot path).
        """
        entry = self.cache.get((opdef, (), t))
        if entry is None or self.output_check is not None or MESHES["on"]:
            return None
        exe = entry[0]
        execute, handlers = exe.raw_entry()
        return execute, handlers, entry[1][0], exe

    def _compile(self, opdef: OpDef, args: Sequence[Tensor], attrs: dict, key: tuple) -> tuple:
        in_types = tuple(a._type for a in args)
        out_types = infer_or_raise(opdef, in_types, attrs)
        b = GraphBuilder(f"eager_{opdef.name}")
        ins = [b.add_input(t) for t in in_types]
        outs = b.add_op(opdef, ins, freeze_attrs(attrs), None, out_types)
        entry = (self.compile_graph(b.build(outs), opdef.name), out_types)
        self.store(key, entry)
        return entry

    def compile_graph(self, graph: Graph, name: str) -> Executable:
        """Compile a graph with static shapes under the current lowering options (a one-op
        program, or a tape's backward pass), through the persistent compile cache."""
        if self._lowering is None:  # the first compile: ask for the platform only now
            self.use_options(config.lowering_options())
        options = self._lowering[0]
        lowered = lower_graph(graph, options, context=_context(graph))
        out_sig = [(v.type.shape, v.type.dtype.np_dtype) for v in graph.outputs]
        xla = EAGER_XLA_OPTIONS.get(options.platform)
        if xla is not None and options.platform == "cpu" and _small_and_exact(graph):
            xla = {**xla, "xla_backend_optimization_level": 0}
        # keyed by the program itself, so the persistent compile cache serves eager ops
        # across processes (a fresh notebook's first steps) as it serves functions
        key_text = f"eager\n{print_graph(graph)}\n{options.cache_key}\n{xla}"
        exe, _ = compile_stablehlo(lowered.bytecode, out_sig, name=name,
                                   cache_key=key_text, owner=self, xla_options=xla)
        self.compiles += 1
        return exe

    def store(self, key: tuple, entry: tuple) -> None:
        """Keep `entry` under `key` in the current options' table (`cache.get` finds it)."""
        if self._lowering is None:
            self.use_options(config.lowering_options())
        table = self._lowering[1]
        if len(table) >= MAX_EAGER_CACHE:  # NOTE: rare; an LRU would tax every hit
            table.clear()
        table[key] = entry


def _context(graph: Graph) -> Any:
    """This thread's shared MLIR context, or None (a fresh one) when `graph` holds a big
    constant or a region."""
    for o in graph.ops:
        for _, a in o.attrs:
            if isinstance(a, Graph) or (isinstance(a, ConstArray)
                                        and a.array.size > SHARED_CONST_ELEMENTS) or \
                    (isinstance(a, tuple) and any(isinstance(x, Graph) for x in a)):
                return None
    uses = getattr(_CONTEXTS, "uses", CONTEXT_USES)
    if uses >= CONTEXT_USES:
        _CONTEXTS.context, uses = make_context(), 0
    _CONTEXTS.uses = uses + 1
    return _CONTEXTS.context


def _small_and_exact(graph: Graph) -> bool:
    """One exact op on real values of at most SMALL_PROGRAM_ELEMENTS elements (see EXACT_OPS;
    complex products would round differently once LLVM contracts them)."""
    if len(graph.ops) != 1 or graph.ops[0].name not in EXACT_OPS:
        return False
    for t in [*graph.input_types, *(v.type for v in graph.outputs)]:
        if t.dtype.is_complex or (t.num_elements or 0) > SMALL_PROGRAM_ELEMENTS:
            return False
    return True


def _as_eager(a: Any, opdef: OpDef) -> Tensor:
    if isinstance(a, Tensor):
        if a._buf is None:
            raise TypeError(
                f"{opdef.name}: a symbolic tensor from a finished @tx.function trace was used "
                "outside it (return it from the function instead)"
            )
        return a
    raise TypeError(f"{opdef.name}: expected tensors, got {type(a).__name__}")


EAGER = EagerInterpreter()
set_eager_interpreter(EAGER)

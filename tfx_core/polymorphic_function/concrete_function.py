"""`ConcreteFunction`: one traced graph, compiled per concrete input shape, and how to call it."""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from jax import tree_util

from compiler.interpreters import is_recording, is_tracing
from compiler.ir.graph import Graph
from compiler.ir.printer import print_graph
from compiler.ir.types import TensorType
from compiler.lowering.stablehlo import LoweredModule, lower_graph
from compiler.passes import DEFAULT_PIPELINE, PassManager, PassRecord
from compiler.specialize import specialize
from runtime import Executable, client, compile_stablehlo
from tfx_core import config
from tfx_core.framework import sharded_execution
from tfx_core.framework.sharded_execution import ACTIVE as MESHES
from tfx_core.framework.sharded_execution import MeshOnly
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import AssignedVariables
from tfx_core.polymorphic_function.function_cache import FunctionCache
from tfx_core.polymorphic_function.signature import (
    check_call_matches,
    flatten_arguments,
    tensor_type_of,
)
from tfx_core.polymorphic_function.tape_call import FALLBACK, TapeState, call_recorded


@dataclass
class Compiled:
    """One XLA executable of a ConcreteFunction, for one set of concrete input shapes."""

    exe: Executable
    out_types: tuple[TensorType, ...]
    graph: Graph  # specialized, before passes
    optimized: Graph  # after passes
    lowered: LoweredModule
    pass_records: list[PassRecord]
    timings: dict[str, float] = field(default_factory=dict)
    cache_hit: bool = False  # the in-memory compile cache had it
    disk_hit: bool = False  # loaded from the persistent compile cache (no XLA compile)
    cache_key: str | None = None  # its key in the in-memory compile cache
    # the same program over meshes of devices: (mesh, input specs, output specs) -> Executable
    sharded: dict = field(default_factory=dict)


class ConcreteFunction:
    """A traced function for one input signature: its IR graph and compiled executables.

    Attributes:
        graph: the traced IR (may have None dims when traced from an input_signature).
        structured_input_signature: the nested args with TensorSpecs for tensor leaves.
        trace_seconds: how long tracing the Python function took.
    """

    def __init__(self, name: str, graph: Graph, in_tree: Any, in_leaves: list, tensor_idx: tuple,
                 captures: list, out_tree: Any, trace_seconds: float,
                 passes: tuple[str, ...] = DEFAULT_PIPELINE, updates: Sequence[Any] = (), *,
                 py_signature: Any = None, cache: FunctionCache | None = None,
                 opaque_gradients: Sequence[str] = (), baked: Sequence[Tensor] = ()):
        self.name = name
        self.graph = graph
        self._in_tree = in_tree
        self._in_leaves = in_leaves  # static leaves as traced; TensorSpecs at tensor positions
        self._tensor_idx = tensor_idx
        self._captures = captures  # tensors/Variables whose buffers are implicit trailing args
        # Variables assigned by the function: trailing outputs written back after each call.
        # Those also read are donated (the update reuses their buffer in place).
        self._updates = list(updates)
        self._n_out = len(graph.outputs) - len(self._updates)
        updated = {id(v) for v in self._updates}
        self._donate = tuple(len(tensor_idx) + i for i, p in enumerate(captures)
                             if id(p) in updated)
        self._donated_slots = tuple(i - len(tensor_idx) for i in self._donate)  # in captures
        donated = [captures[i] for i in self._donated_slots]
        self._assigned = AssignedVariables(self._updates, donated) if self._updates else None
        self._out_tree = out_tree
        self.trace_seconds = trace_seconds
        self.passes = tuple(passes)
        n = len(tensor_idx)
        self.input_types: tuple[TensorType, ...] = graph.input_types[:n]
        self._static = all(t.is_static for t in graph.input_types)
        self._single: Compiled | None = None  # the executable, once compiled, when static
        # the owning Function's cache keeps the executables per input shape
        self._cache = cache if cache is not None else FunctionCache(name)
        self._py_signature = py_signature  # so keyword calls can be canonicalized
        self._single_output = out_tree.num_leaves == 1 and out_tree.num_nodes == 1
        # a flat tuple or list of results is built directly (tree_unflatten costs more)
        flat = out_tree.num_leaves
        self._flat_output = (tuple if out_tree == tree_util.tree_structure((0,) * flat)
                             else list if out_tree == tree_util.tree_structure([0] * flat)
                             else None)
        self._in_sig = [(t.shape, t.dtype.np_dtype) for t in graph.input_types]
        # calls under an eager GradientTape: their programs and what happened to them
        self.tape = TapeState(opaque_gradients, baked)
        # the hot paths' precomputed entries (see run_tensors/run_host): False until known
        self._direct: Any = False
        self._host: Any = False

    # ------------------------------------------------------------ introspection
    @property
    def structured_input_signature(self) -> Any:
        args, kwargs = tree_util.tree_unflatten(self._in_tree, self._in_leaves)
        return args, kwargs

    @property
    def structured_outputs(self) -> Any:
        from tfx_core.framework.tensor_spec import TensorSpec

        specs = [TensorSpec(t.shape, t.dtype) for t in self.graph.output_types[:self._n_out]]
        return tree_util.tree_unflatten(self._out_tree, specs)

    @property
    def captured_inputs(self) -> list[Any]:
        return list(self._captures)

    @property
    def variables(self) -> list[Any]:
        """The Variables this function reads or assigns (captured by reference)."""
        seen = {id(v): v for v in self._captures if getattr(v, "_is_variable", False)}
        seen.update((id(v), v) for v in self._updates)
        return list(seen.values())

    @property
    def out_tree(self) -> Any:
        """The structure of the function's result."""
        return self._out_tree

    @property
    def is_static(self) -> bool:
        """Whether every input shape is known: one program, compiled once."""
        return self._static

    @property
    def in_tree(self) -> Any:
        """The structure of a call's (args, kwargs)."""
        return self._in_tree

    @property
    def in_leaves(self) -> list[Any]:
        """A call's leaves as traced: TensorSpecs at tensor positions, static values elsewhere."""
        return list(self._in_leaves)

    @property
    def tensor_indices(self) -> tuple[int, ...]:
        """Which leaves of a call are tensors (the program's explicit inputs, in order)."""
        return self._tensor_idx

    @property
    def assigned_variables(self) -> list[Any]:
        """The Variables this function assigns (written back after each call)."""
        return list(self._updates)

    def adopt_executable(self, compiled: Compiled) -> None:
        """Use `compiled` (e.g. a bundled executable of a saved model) for this static function."""
        if not self._static:
            raise ValueError(f"{self.name}: only a function of static input shapes has one "
                             "executable to adopt")
        self._single = compiled
        self._direct = self._host = False

    @property
    def num_outputs(self) -> int:
        """How many outputs of the graph are the function's results (assigned Variables'
        values follow them)."""
        return self._n_out

    @property
    def donated_inputs(self) -> tuple[int, ...]:
        """The graph inputs whose buffers a call donates (captured Variables it assigns)."""
        return self._donate

    @property
    def num_tensor_inputs(self) -> int:
        """How many leaves of a call are tensors (explicit inputs of the program)."""
        return len(self._tensor_idx)

    @property
    def executables(self) -> dict[tuple, Compiled]:
        """The executables kept now, by input shapes (least recently used first)."""
        kept = self._cache.executables(self)
        if not kept and self._single is not None:
            kept = {tuple(t.shape for t in self.input_types): self._single}
        return kept

    def _latest(self) -> Compiled | None:
        if self._single is not None:
            return self._single
        return next(reversed(self._cache.executables(self).values()), None)

    @property
    def pass_records(self) -> list[PassRecord]:
        c = self._latest()
        return c.pass_records if c else []

    @property
    def timings(self) -> dict[str, float]:
        """Seconds per stage (trace, passes, lower, xla) for the most recent compilation.

        `xla` is 0 when the executable came from a cache; `disk_load` is reading and
        deserializing it from the persistent cache, `disk_write` storing a new one there.
        """
        c = self._latest()
        out = {"trace": self.trace_seconds}
        if c is not None:
            out.update(c.timings)
        return out

    def explain(self) -> str:
        """A table of the compile stages and what each pass did."""
        lines = [f"concrete function {self.name!r}", f"  {'stage':<18} {'ms':>9}"]
        for k, v in self.timings.items():
            lines.append(f"  {k:<18} {v * 1e3:9.2f}")
        c = self._latest()
        if c is not None:
            src = ("in-memory compile cache" if c.cache_hit else "persistent compile cache"
                   if c.disk_hit else "compiled by XLA")
            lines.append(f"  executable: {src}")
        if self.pass_records:
            lines.append(f"  {'pass':<18} {'ms':>9}  {'ops':>12}  changed")
        for r in self.pass_records:
            ops = f"{r.ops_before} -> {r.ops_after}"
            lines.append(f"  {r.name:<18} {r.seconds * 1e3:9.2f}  {ops:>12}  {r.changed}")
        if c is not None:
            for key, exe in c.sharded.items():
                if key != "has_constraint":
                    lines.extend(sharded_execution.describe(exe))
        lines.extend(self.tape.describe())
        return "\n".join(lines)

    def __repr__(self) -> str:
        sig = ", ".join(str(t) for t in self.input_types)
        return f"<ConcreteFunction {self.name}({sig})>"

    # ------------------------------------------------------------ compilation
    def compiled_for(self, types: tuple[TensorType, ...]) -> Compiled:
        """The executable for these concrete explicit-input types (compiling on first use)."""
        if self._single is not None:
            return self._single
        c = self._cache.executable(self, tuple(t.shape for t in types),
                                   lambda: self._compile(types))
        if self._static:
            self._single = c
        return c

    def compiled_for_leaves(self, leaves: list) -> Compiled:
        """The executable for a flattened call's leaves (compiling on first use)."""
        return self.compiled_for(tuple(tensor_type_of(leaves[i]) for i in self._tensor_idx))

    def _compile(self, types: tuple[TensorType, ...]) -> Compiled:
        cap_types = self.graph.input_types[len(self._tensor_idx):]
        t0 = time.perf_counter()
        g = specialize(self.graph, tuple(types) + tuple(cap_types))
        t1 = time.perf_counter()
        c = self.compile_graph(g, self._donate)
        c.timings = {"specialize": t1 - t0, **c.timings}
        return c

    def specialized(self, types: tuple[TensorType, ...]) -> Graph:
        """The traced graph with these concrete explicit-input types (captures as traced)."""
        return specialize(self.graph, tuple(types) + self.graph.input_types[len(types):])

    def compile_graph(self, g: Graph, donate: tuple[int, ...] = ()) -> Compiled:
        """Optimize `g` with this function's passes, lower it and compile it (or fetch it from
        the compile caches). Also how a call under a gradient tape compiles its programs."""
        t1 = time.perf_counter()
        opt, records = PassManager(self.passes).run(g)
        t2 = time.perf_counter()
        options = config.lowering_options()
        if sharded_execution.needs_mesh(opt):
            # per-replica code (strategy.run) runs only as an SPMD program over its mesh:
            # compiled per input layouts at the call (see _on_mesh)
            exe = sharded_execution.MeshOnly(self.name)
            return Compiled(exe, opt.output_types, g, opt, None, records,  # type: ignore
                            {"passes": t2 - t1}, False, False, None)
        lowered = lower_graph(opt, options, donate=donate)
        bytecode = lowered.bytecode
        t3 = time.perf_counter()
        out_types = opt.output_types
        out_sig = [(t.shape, t.dtype.np_dtype) for t in out_types]
        # identical optimized graphs (with the same donated inputs) share one executable
        key = print_graph(opt) + (f"\ndonate {donate}" if donate else "")
        key += f"\n{options.cache_key}"  # the same graph lowered otherwise is another program
        exe, stats = compile_stablehlo(bytecode, out_sig, name=self.name, cache_key=key,
                                       measure_chain=lowered.longest_chain, owner=self,
                                       host_callbacks=lowered.host_callbacks,
                                       module_object=lowered.module,
                                       xla_options=lowered.xla_options,
                                       # lowered only when the program is in no cache
                                       quick_module=lambda: config.quick_lowering(
                                           opt, options, donate),
                                       alternative=lambda: config.alternative_lowering(
                                           opt, options, donate))
        timings = {"passes": t2 - t1, "lower": t3 - t2, "xla": stats.xla_seconds}
        if stats.disk_seconds:
            timings["disk_load" if stats.disk_hit else "disk_write"] = stats.disk_seconds
        return Compiled(exe, out_types, g, opt, lowered, records, timings, stats.cache_hit,
                        stats.disk_hit, key)

    # ------------------------------------------------------------ calling
    def call_leaves(self, leaves: list) -> Any:
        """Run on a flattened call's leaves (static leaves are ignored: they were traced)."""
        ins = [leaves[i] for i in self._tensor_idx]
        for x in ins:
            if type(x) is not Tensor:
                bufs = [x._buf if type(x) is Tensor else _to_buffer(x, self.name) for x in ins]
                return self._run(ins, bufs)
        return self.run_tensors(ins)  # eager tensors (or stale symbolic ones: it says so)

    def call_tensors(self, args: tuple) -> Any:
        """Fast path: positional eager tensors (or numpy arrays) for the tensor leaves."""
        try:
            bufs = [a._buf for a in args]
        except AttributeError:  # numpy arrays among the arguments
            return self.call_host(args)
        return self._run(args, bufs)

    # ------------------------------------------------------------ hot paths
    # NOTE: `Function.__call__` keys positional calls by argument types and calls one of these
    # two directly: they skip the general path's layers (and its per-call checks, decided once
    # here), and fall back to it for anything unusual: meshes, programs with host callbacks,
    # shapes not yet compiled, and every error (which the general path reports). A function
    # assigning Variables goes straight to its assigning run (their locks, donation).
    def run_tensors(self, args: tuple) -> Any:
        """A positional call of eager tensors (exactly this function's explicit inputs)."""
        d = self._direct
        if d is False:
            d = self._direct = self._direct_entry()
        if not d or MESHES["on"]:
            c = self._single
            if c is not None and self._assigned is not None:  # a step assigning Variables
                return self._outputs(c, self._run_assigning(c, args, [a._buf for a in args]))
            return self.call_tensors(args)
        execute, handlers, caps, out_type = d
        try:
            n = len(args)  # NOTE: spelled out for one or two, as in Function.__call__
            bufs = ([args[0]._buf, args[1]._buf] if n == 2 else [args[0]._buf] if n == 1
                    else [a._buf for a in args])
            if caps:
                bufs += [t._buf for t in caps]
            outs = execute(bufs).consume_with_handlers(handlers)
        except Exception:  # noqa: BLE001 (a stale tensor, an XLA error: said by the slow path)
            return self.call_tensors(args)
        if out_type is not None:
            return Tensor(outs[0], out_type)
        return self._outputs(self._single, outs)

    def run_host(self, args: tuple) -> Any:
        """A positional call of eager tensors and numpy arrays (numpy converted in C++)."""
        h = self._host
        if h is False:
            h = self._host = self._host_entry()
        if not h or MESHES["on"]:
            return self.call_host(args)
        cpp, caps, out_type = h
        # NOTE: private copies, so a caller mutating its array right after the call can't
        # race the asynchronous execution (XLA aliases aligned host memory on CPU).
        try:
            if len(args) == 2 and not caps:  # NOTE: spelled out, as in Function.__call__
                a, b = args
                outs = cpp(a._buf if type(a) is Tensor else a.copy(),
                           b._buf if type(b) is Tensor else b.copy())
            else:
                ins = [a._buf if type(a) is Tensor else a.copy() for a in args]
                if caps:
                    ins += [t._buf for t in caps]
                outs = cpp(*ins)
        except Exception:  # noqa: BLE001 (reported by the general path)
            return self.call_host(args)
        if out_type is not None:
            return Tensor(outs[0], out_type)
        return self._outputs(self._single, outs)

    def _direct_entry(self) -> tuple | bool | None:
        """(execute, handlers, captures, the one output's type or None) for run_tensors; None
        when it has no plain executable to run directly, False until it is compiled."""
        c = self._single
        if c is None or self._assigned is not None or type(c.exe) is MeshOnly:
            # not compiled yet: decide after it is (never, for an executable per shape)
            return False if c is None and self._static else None
        entry = c.exe.direct_entry()
        if entry is None:
            return None
        c.exe.on_upgrade(self._forget_entries)  # tiered compilation swaps the program later
        return (*entry, tuple(self._captures), c.out_types[0] if self._single_output else None)

    def _forget_entries(self) -> None:
        """The executable was upgraded (runtime/tiered.py): fetch the hot paths' entries anew."""
        self._direct = self._host = False

    def _host_entry(self) -> tuple | bool | None:
        """(C++ dispatcher, captures, the one output's type or None) for run_host; None where
        there is none, False until compiled."""
        c = self._single
        if c is None or self._assigned is not None or type(c.exe) is MeshOnly:
            return False if c is None and self._static else None
        cpp = c.exe.host_entry(self._in_sig)
        if cpp is None:
            return None
        c.exe.on_upgrade(self._forget_entries)
        return cpp, tuple(self._captures), c.out_types[0] if self._single_output else None

    def call_host(self, args: tuple) -> Any:
        """Fast path for positional tensors and numpy arrays (converted in C++ when possible)."""
        c = self._single
        if c is None or self._updates or MESHES["on"] or type(c.exe) is MeshOnly:
            bufs = [a._buf if type(a) is Tensor else client.device_put(a) for a in args]
            return self._run(args, bufs)
        # NOTE: private copies, so a caller mutating its array right after the call can't
        # race the asynchronous execution (XLA may alias host memory on CPU).
        ins = [a._buf if type(a) is Tensor else np.array(a, copy=True) for a in args]
        if self._captures:
            ins.extend(t._buf for t in self._captures)
        try:
            outs = c.exe.call_host(ins, self._in_sig)
        except Exception:
            self._explain_stale(args)
            raise
        return self._outputs(c, outs)

    def _explain_stale(self, args: Sequence[Any]) -> None:
        """Raise the clear error if a symbolic tensor from a finished trace was passed."""
        for a in args:
            _to_buffer(a, self.name)

    def structure_outputs(self, results: list[Tensor]) -> Any:
        """The function's results (tensors, in output order) in its output structure."""
        if self._single_output:
            return results[0]
        if self._flat_output is not None:
            return self._flat_output(results)
        return tree_util.tree_unflatten(self._out_tree, results)

    def call_inputs(self, ins: Sequence[Any]) -> Any:
        """Run on the explicit tensor inputs (tensors, numpy arrays, Variables)."""
        return self._run(ins, [x._buf if type(x) is Tensor else _to_buffer(x, self.name)
                               for x in ins])

    def call_recorded(self, ins: Sequence[Any]) -> Any:
        """Run on the explicit tensor inputs while eager gradient tapes record: compiled and
        recorded as one op (see tape_call), or tape_call.FALLBACK when the call must run op by
        op (explain() says why)."""
        return call_recorded(self, ins)

    def _outputs(self, c: Compiled, outs: list) -> Any:
        """Device buffers -> Tensors in the function's output structure."""
        if self._single_output:
            return Tensor(outs[0], c.out_types[0])
        results = [Tensor(b, t) for b, t in zip(outs[:self._n_out], c.out_types)]
        if self._flat_output is not None:
            return self._flat_output(results)
        return tree_util.tree_unflatten(self._out_tree, results)

    def _run(self, ins: Sequence[Any], bufs: list) -> Any:
        c = self._single
        if c is None:
            c = self.compiled_for(tuple(tensor_type_of(x) for x in ins))
        return self._outputs(c, self.execute(c, ins, bufs))

    def execute(self, c: Compiled, ins: Sequence[Any], bufs: list) -> list:
        """Run `c` (this function's executable, or one with the same inputs whose outputs
        begin with this function's) on the explicit inputs' buffers `bufs` plus the captures;
        write assigned Variables back. Returns every output buffer."""
        if self._assigned is not None:
            return self._run_assigning(c, ins, bufs)
        if self._captures:
            bufs.extend(t._buf for t in self._captures)
        exe = c.exe
        if MESHES["on"] or type(exe) is MeshOnly:
            exe, bufs = self._on_mesh(c, bufs)
        try:
            return exe(bufs)
        except TypeError:
            # NOTE: checked only on failure: `None in bufs` would call jax.Array.__eq__ (~1 us).
            self._explain_stale(ins)
            raise

    def _run_assigning(self, c: Compiled, ins: Sequence[Any], bufs: list) -> list:
        """A call that assigns Variables: atomic against every other update of them (their
        locks are held from reading their buffers to writing the results back), donating
        their old buffers only where no one else can see them."""
        # NOTE: what is only read is read before taking any lock (a thread waits for a lock
        # only while holding none, or in the global order), the donated buffers after.
        caps, donated, base = self._captures, self._donated_slots, len(bufs)
        bufs.extend([None if i in donated else t._buf for i, t in enumerate(caps)])
        assigned = self._assigned
        assigned.begin()
        try:
            for i in donated:
                bufs[base + i] = caps[i]._buf
            exe = c.exe
            if MESHES["on"] or type(exe) is MeshOnly:
                exe, bufs = self._on_mesh(c, bufs)
            try:
                outs = exe(bufs)
            except TypeError:
                self._explain_stale(ins)
                raise
            # the outputs after the function's own (residuals may follow them)
            assigned.commit(outs[self._n_out:self._n_out + len(self._updates)])
        finally:
            assigned.end()
        return outs

    def _on_mesh(self, c: Compiled, bufs: list) -> tuple[Any, list]:
        """(executable, buffers) for a call whose inputs may live on a mesh of devices: the
        SPMD program for their layouts, each assigned Variable keeping its own layout."""
        from runtime.sharding import layout_of, replicated

        forced = [None] * self._n_out
        for v in self._updates:
            lay = layout_of(v._buf)
            forced.append(lay[1] if lay is not None else replicated(len(v.shape)))
        got = sharded_execution.prepare(self.name, c.optimized, bufs, c.sharded, tuple(forced),
                                        self._donate, self)
        return (c.exe, bufs) if got is None else got

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs and self._py_signature is not None:
            bound = self._py_signature.bind(*args, **kwargs)
            args, kwargs = tuple(bound.args), dict(bound.kwargs)
        leaves, tree = flatten_arguments(self.name, (args, kwargs))
        check_call_matches(self.name, leaves, tree, self._in_tree, self._in_leaves,
                           self._tensor_idx)
        if is_recording() and not is_tracing():  # an eager tape: record the call as one op
            out = call_recorded(self, [leaves[i] for i in self._tensor_idx])
            if out is not FALLBACK:
                return out
        return self.call_leaves(leaves)


def _to_buffer(x: Any, name: str) -> Any:
    from tfx_core.framework.tensor_spec import TensorSpec

    if isinstance(x, TensorSpec):
        raise TypeError(f"{name}: called with a TensorSpec; pass tensors")
    if isinstance(x, Tensor):
        x._require_eager(f"passing it to {name!r}")
        return x._buf
    conv = getattr(x, "_as_tensor", None)
    if conv is not None:
        return conv()._buf
    return client.device_put(np.asarray(x))

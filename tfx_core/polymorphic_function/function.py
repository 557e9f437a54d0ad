"""`tx.function`: trace a Python function into IR once per signature, compile with XLA, cache."""
from __future__ import annotations

import functools
import inspect
import re
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from jax import tree_util
from numpy import ndarray

from compiler.interpreters import is_tracing, nothing_active, outside_traces
from compiler.ir.types import TensorType
from compiler.passes import PASSES
from tfx_core import config
from tfx_core.autograph import transform as autograph
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.tensor_spec import TensorSpec
from tfx_core.polymorphic_function.concrete_function import ConcreteFunction
from tfx_core.polymorphic_function.function_cache import (
    FunctionCache,
    RetracingWarning,
    user_stacklevel,
)
from tfx_core.polymorphic_function.signature import (
    describe_change,
    flatten_call,
    is_tensor_leaf,
    leaf_key,
    named_leaves,
    relax,
    relaxed_key,
    spec_error,
)
from tfx_core.polymorphic_function.tape_call import FALLBACK
from tfx_core.polymorphic_function.tracer import TraceInterpreter, trace_callable

__all__ = ["Function", "RetracingWarning", "function"]

RETRACE_WARN_COUNT = 5  # traces within RETRACE_WINDOW seconds before warning (TF warns at 5)
RETRACE_WINDOW = 10.0


class Function:
    """A Python function compiled with XLA on each new input signature (tf.function)."""

    def __init__(self, python_function: Callable, input_signature: Sequence | None = None,
                 reduce_retracing: bool = False, jit_compile: bool | None = True,
                 experimental_passes: Sequence[str] | None = None, name: str | None = None,
                 autograph: bool = True):
        self._python_function = python_function
        self._autograph = autograph
        functools.update_wrapper(self, python_function, updated=())
        self._name = name or getattr(python_function, "__name__", "function")
        self._graph_name = re.sub(r"\W", "_", self._name) or "function"
        self._input_signature = None if input_signature is None else tuple(input_signature)
        self._reduce_retracing = reduce_retracing
        self._jit_compile = jit_compile  # NOTE: tfx always compiles with XLA; kept for TF parity
        if experimental_passes is not None:
            unknown = [p for p in experimental_passes if p not in PASSES]
            if unknown:
                raise ValueError(f"tx.function: unknown passes {unknown} in experimental_passes; "
                                 f"known: {sorted(PASSES)}")
        # None: the default pipeline minus what tx.config.optimizer disabled (read per trace)
        self._passes = tuple(experimental_passes) if experimental_passes is not None else None
        self._function_cache = FunctionCache(self._name)  # every cache of this function
        self._tracing_count = 0
        self._trace_log: list[tuple[float, dict[str, str]]] = []
        self._lock = threading.Lock()  # the count and the log, when threads trace at once
        # NOTE: held by the first trace (the only one allowed to create Variables): traces of
        # other signatures wait for it, then run in parallel.
        self._first_trace = threading.RLock()
        self._py_signature: Any = None

    @property
    def python_function(self) -> Callable:
        return self._python_function

    @property
    def input_signature(self) -> tuple | None:
        return self._input_signature

    def experimental_get_tracing_count(self) -> int:
        """How many times the Python function has been traced."""
        return self._tracing_count

    def list_concrete_functions(self) -> list[ConcreteFunction]:
        """The ConcreteFunctions traced and kept now (the input_signature's, or one per
        signature called with, oldest first)."""
        return self._function_cache.concrete_functions()

    def __repr__(self) -> str:
        return f"<tx.function {self._name}>"

    # ------------------------------------------------------------ methods
    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        return self._function_cache.bound(instance, self._bound_to)

    def _bound_to(self, ref: Callable[[], Any]) -> Function:
        """This function as a method of the instance `ref()` (held weakly)."""
        return Function(_bind_weakly(self._python_function, ref), self._input_signature,
                        self._reduce_retracing, self._jit_compile, self._passes, self._name,
                        self._autograph)

    # ------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not nothing_active() or config.functions_run_eagerly():
            return self._call_slow(args, kwargs)  # a trace or tape is active, or debug mode
        if not kwargs:
            # Fast path: positional tensors and numpy arrays keyed by their types alone (no
            # pytree walk): function_cache.fast_key spelled inline, None for what it refuses
            # (never a key). NOTE: a comprehension is one more Python frame, a measurable part
            # of a call of a few us: one or two arguments, the common calls, are spelled out,
            # and checked first against the last such call of tensors (types by identity: no
            # hashing, no lookup).
            cache = self._function_cache
            n = len(args)
            if n == 2:
                a, b = args
                ta = a._type if type(a) is Tensor else None
                tb = b._type if type(b) is Tensor else None
                last = cache.last2
                if ta is last[0] and tb is last[1]:
                    return last[2](args)
                run = cache.fast.get((
                    ta if ta is not None else (a.dtype, a.shape) if type(a) is ndarray else None,
                    tb if tb is not None else (b.dtype, b.shape) if type(b) is ndarray else None))
                if run is not None:
                    if ta is not None and tb is not None and not cache.bounded:
                        cache.last2 = (ta, tb, run)
                    return run(args)
            elif n == 1:
                a = args[0]
                ta = a._type if type(a) is Tensor else None
                last = cache.last1
                if ta is last[0]:
                    return last[1](args)
                run = cache.fast.get((
                    ta if ta is not None else (a.dtype, a.shape) if type(a) is ndarray else None,))
                if run is not None:
                    if ta is not None and not cache.bounded:
                        cache.last1 = (ta, run)
                    return run(args)
            else:
                run = cache.fast.get(tuple([a._type if type(a) is Tensor else (a.dtype, a.shape)
                                            if type(a) is ndarray else None for a in args]))
                if run is not None:
                    return run(args)
        # no trace, no tape, not debug mode: the full call key
        cf, leaves = self._concrete(args, kwargs)
        return cf.call_leaves(leaves)

    def _call_slow(self, args: tuple, kwargs: dict) -> Any:
        if config.functions_run_eagerly() or is_tracing():
            # Debug mode, or called from inside another trace: run the Python (it inlines).
            return self._python_function(*args, **kwargs)
        if not nothing_active():
            return self._call_recorded(args, kwargs)
        cf, leaves = self._concrete(args, kwargs)
        return cf.call_leaves(leaves)

    def _concrete(self, args: tuple, kwargs: dict) -> tuple[ConcreteFunction, list]:
        """The trace for a call (tracing on a miss) and the call's leaves."""
        if kwargs:
            args, kwargs = self._canonical(args, kwargs)
        if self._input_signature is not None:
            cf, leaves = self._signature_call(args, kwargs)
        else:
            cf, leaves = self._lookup_or_trace(args, kwargs)
        if not kwargs:
            self._function_cache.remember_fast(args, cf)
        return cf, leaves

    def _call_recorded(self, args: tuple, kwargs: dict) -> Any:
        """A call while an eager GradientTape records: compiled and recorded as one op whose
        gradient is a second executable (tape_call); op by op where that can't be sound."""
        cf = None
        if not kwargs and all(type(a) is Tensor for a in args):
            cf = self._function_cache.fast_function(tuple([a._type for a in args]))
        if cf is not None:
            ins = args
        else:
            with outside_traces(traces=False):  # tracing is no computation for the tapes
                cf, leaves = self._concrete(args, kwargs)
            ins = [leaves[i] for i in cf.tensor_indices]
        out = cf.call_recorded(ins)
        if out is FALLBACK:  # the tapes see every op of the body
            return self._python_function(*args, **kwargs)
        return out

    def _canonical(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """Spell a call one way: parameters passed by name become positional (f(x, n=3) is
        the same call as f(x, 3)), so both share one trace."""
        if self._py_signature is None:
            try:
                self._py_signature = inspect.signature(self._python_function)
            except (TypeError, ValueError):
                self._py_signature = False
        if self._py_signature is False:
            return args, kwargs
        try:
            bound = self._py_signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{self._name}: {e}") from None
        return tuple(bound.args), dict(bound.kwargs)

    def _lookup_or_trace(self, args: tuple, kwargs: dict) -> tuple[ConcreteFunction, list]:
        """The trace for this call (one flatten, one key), tracing it on a miss."""
        leaves, tree, key = flatten_call(self._name, (args, kwargs))
        cf = self._function_cache.lookup(key)
        if cf is None:
            cf = self._function_cache.trace(
                key, lambda: self._trace_or_relax(args, kwargs, leaves, tree, key))
        return cf, leaves

    def _trace_or_relax(self, args: tuple, kwargs: dict, leaves: list, tree: Any,
                        key: tuple) -> ConcreteFunction:
        types = [k if isinstance(k, TensorType) else None for k in key[1:]]
        if not self._reduce_retracing:
            return self._trace(args, kwargs, leaves, tree, types)
        # reduce_retracing: reuse a trace whose None dims fit, or widen the differing dims
        rk = relaxed_key(key)
        prev = self._function_cache.relaxed(rk)
        if prev is not None:
            fits, types = relax(prev.input_types, types)
            if fits:
                return prev
        cf = self._trace(args, kwargs, leaves, tree, types)
        self._function_cache.remember_relaxed(rk, cf)
        return cf

    def _signature_call(self, args: tuple, kwargs: dict) -> tuple[ConcreteFunction, list]:
        if kwargs:
            raise TypeError(f"{self._name}: keyword-only arguments are not allowed with an "
                            "input_signature")
        n = len(self._input_signature)
        if len(args) != n:
            raise TypeError(f"{self._name}: called with {len(args)} positional arguments, but "
                            f"input_signature has {n}")
        spec_leaves, spec_tree = tree_util.tree_flatten((self._input_signature, {}))
        try:  # flatten only down to the specs: a nested Python list matches one TensorSpec
            leaves = spec_tree.flatten_up_to((tuple(args), {}))
        except (ValueError, TypeError):
            raise TypeError(f"{self._name}: the arguments do not match the structure of "
                            f"input_signature {list(self._input_signature)}") from None
        out = []
        for i, (x, spec) in enumerate(zip(leaves, spec_leaves)):
            if isinstance(x, TensorSpec):
                raise TypeError(f"{self._name}: called with a TensorSpec; pass tensors (use "
                                "get_concrete_function(spec) to trace from specs)")
            if not is_tensor_leaf(x):
                try:
                    x = convert_to_tensor(x, dtype=spec.dtype)
                except TypeError:
                    raise TypeError(spec_error(self._name, f"argument leaf {i}", x, spec)) from None
            t = x._type if isinstance(x, Tensor) else leaf_key(x)
            if not spec.is_compatible_with(t):
                raise TypeError(spec_error(self._name, f"argument leaf {i}", x, spec))
            out.append(x)
        return self._signature_function(), out

    def _signature_function(self) -> ConcreteFunction:
        """The one trace of the input_signature (traced on first use)."""

        def trace() -> ConcreteFunction:
            spec_leaves, tree = tree_util.tree_flatten((tuple(self._input_signature), {}))
            return self._trace(tuple(self._input_signature), {}, spec_leaves, tree,
                               [s.type for s in spec_leaves])

        return self._function_cache.signature_function(trace)

    # ------------------------------------------------------------ tracing
    def _trace(self, args: tuple, kwargs: dict, leaves: list, tree: Any,
               types: list[TensorType | None]) -> ConcreteFunction:
        if self._tracing_count == 0:
            with self._first_trace:  # NOTE: see __init__
                if self._tracing_count == 0:
                    return self._trace_once(args, kwargs, leaves, tree, types, True)
        return self._trace_once(args, kwargs, leaves, tree, types, False)

    def _trace_once(self, args: tuple, kwargs: dict, leaves: list, tree: Any,
                    types: list[TensorType | None], first: bool) -> ConcreteFunction:
        self._note_retrace(args, kwargs)
        t0 = time.perf_counter()
        interp = TraceInterpreter(self._graph_name)
        interp.allow_variable_creation = first
        sym = [interp.new_input(t) if t is not None else x for x, t in zip(leaves, types)]
        s_args, s_kwargs = tree_util.tree_unflatten(tree, sym)
        out_values, out_tree = trace_callable(interp, self._traced_callable(), s_args, s_kwargs,
                                              lambda x: _as_output(x, self._name))
        # Assigned Variables: their final values are extra outputs, written back per call.
        updates = interp.variable_updates()
        out_values += [interp.to_value(t) for _, t in updates]
        graph = interp.trace.builder.build(out_values)
        with self._lock:
            self._tracing_count += 1
        tensor_idx = tuple(i for i, t in enumerate(types) if t is not None)
        in_leaves = [TensorSpec(t.shape, t.dtype) if t is not None else x
                     for x, t in zip(leaves, types)]
        captures = [payload for payload, _ in interp.trace.captures]
        try:
            py_signature = inspect.signature(self._python_function)
        except (TypeError, ValueError):
            py_signature = None
        return ConcreteFunction(self._name, graph, tree, in_leaves, tensor_idx, captures,
                                out_tree, time.perf_counter() - t0,
                                self._passes if self._passes is not None else config.pipeline(),
                                [var for var, _ in updates], py_signature=py_signature,
                                cache=self._function_cache,
                                opaque_gradients=interp.opaque_gradients, baked=interp.baked)

    def _traced_callable(self) -> Callable:
        """The Python function to trace: AutoGraph's conversion when it has control flow."""
        fn = self._python_function
        if not self._autograph:
            return fn
        # a method bound by our __get__ (_ag_fn) or a plain bound method: convert the function
        base = getattr(fn, "_ag_fn", None) or getattr(fn, "__func__", fn)
        conv = autograph.convert(base)
        if conv is None:
            return fn
        converted = conv()
        if base is fn:
            return converted
        if base is getattr(fn, "__func__", None):  # tx.function(obj.method)
            obj = fn.__self__
            return lambda *a, **k: converted(obj, *a, **k)
        ref = fn._ag_ref
        return lambda *a, **k: converted(ref(), *a, **k)

    def _note_retrace(self, args: tuple, kwargs: dict) -> None:
        desc = named_leaves(self._python_function, args, kwargs)
        with self._lock:
            now = time.monotonic()
            log = [e for e in self._trace_log if now - e[0] < RETRACE_WINDOW]
            prev = log[-1][1] if log else None
            log.append((now, desc))
            self._trace_log = log
        if len(log) >= RETRACE_WARN_COUNT and prev is not None:
            warnings.warn(
                f"tx.function {self._name!r} was traced {len(log)} times in the "
                f"last {RETRACE_WINDOW:.0f}s (tracing is expensive). This time because "
                f"{describe_change(prev, desc)}. Use input_signature with None dims, "
                "reduce_retracing=True, or pass changing Python values as tensors.",
                RetracingWarning,
                stacklevel=user_stacklevel(),
            )

    # ------------------------------------------------------------ introspection
    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        """Trace (if needed) for these arguments or TensorSpecs and return the ConcreteFunction."""
        if self._input_signature is not None:
            if args or kwargs:
                leaves = tree_util.tree_leaves((args, kwargs))
                specs = tree_util.tree_leaves(self._input_signature)
                ok = len(leaves) == len(specs) and all(
                    s.is_compatible_with(x.type if isinstance(x, (Tensor, TensorSpec))
                                         else leaf_key(x))
                    for x, s in zip(leaves, specs) if is_tensor_leaf(x))
                if not ok:
                    raise TypeError(f"{self._name}: {list(leaves)} is incompatible with "
                                    f"input_signature {list(self._input_signature)}")
            return self._signature_function()
        return self._lookup_or_trace(args, kwargs)[0]

    def experimental_get_compiler_ir(self, *args: Any, **kwargs: Any) -> Callable[..., str]:
        """A function of `stage` returning the program at that stage for these arguments.

        Stages: "ir" (traced, specialized), "ir_optimized" (after passes), "stablehlo",
        "hlo" (before XLA's optimisations) and "optimized_hlo".
        """
        if self._input_signature is not None:
            cf, leaves = self._signature_call(args, kwargs)
        else:
            cf, leaves = self._lookup_or_trace(args, kwargs)
        c = cf.compiled_for_leaves(leaves)

        def get(stage: str = "hlo", device_name: str | None = None,
                platform_name: str | None = None) -> str:
            from compiler.ir.printer import print_graph
            from runtime import client

            if stage == "ir":
                return print_graph(c.graph)
            if stage == "ir_optimized":
                return print_graph(c.optimized)
            if stage == "stablehlo":
                return c.lowered.text
            if stage == "hlo":
                return client.stablehlo_to_hlo_text(c.lowered.bytecode)
            if stage == "optimized_hlo":
                return c.exe.optimized_hlo()
            raise ValueError(f"unknown stage {stage!r}; use one of 'ir', 'ir_optimized', "
                             "'stablehlo', 'hlo', 'optimized_hlo'")

        return get


def _bind_weakly(fn: Callable, ref: Callable[[], Any]) -> Callable:
    """`fn` with its first (self) argument read from a weak reference at call time."""

    def method(*args: Any, **kwargs: Any) -> Any:
        return fn(ref(), *args, **kwargs)

    functools.update_wrapper(method, fn)
    method._ag_fn, method._ag_ref = fn, ref  # type: ignore[attr-defined]  (for AutoGraph)
    try:
        params = list(inspect.signature(fn).parameters.values())[1:]
        method.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        pass
    return method


def _as_output(x: Any, fname: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float, np.ndarray, np.generic)):
        return convert_to_tensor(x)
    conv = getattr(x, "_as_tensor", None)
    if conv is not None:
        return conv()
    raise TypeError(f"{fname} returned a {type(x).__name__}; a tx.function may return tensors, "
                    "numbers, numpy arrays, None and nested lists/tuples/dicts of them")


def function(func: Callable | None = None, *, input_signature: Sequence | None = None,
             reduce_retracing: bool = False, jit_compile: bool | None = True,
             experimental_passes: Sequence[str] | None = None, name: str | None = None,
             autograph: bool = True) -> Any:
    """Compile a Python function with XLA (tf.function); usable as `@function` or `@function(...)`.

    Args:
        func: the function (or method) to compile.
        input_signature: TensorSpecs fixing argument dtypes/shapes; None dims accept any size
            (traced once, compiled per concrete shape).
        reduce_retracing: after a shape-only retrace, trace with the differing dims as None.
        jit_compile: accepted for TF compatibility; tfx always compiles with XLA.
        experimental_passes: the passes to run, in order (default: the standard pipeline,
            minus passes turned off with tx.config.optimizer.set_experimental_options).
        autograph: convert Python if/while/for on tensors into tx.cond / tx.while_loop.
    """

    def wrap(f: Callable) -> Function:
        return Function(f, input_signature, reduce_retracing, jit_compile, experimental_passes,
                        name, autograph)

    return wrap(func) if func is not None else wrap

"""The tracer: records bound ops into a Graph, with captures and the user's source lines.

`Trace` is the graph under construction; `GraphTracer` is the interpreter that fills it.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from .interpreters import Interpreter, current_name_scope, outside_traces, trace_scope
from .ir.graph import Graph, GraphBuilder, Value, freeze_attrs, scoped_loc
from .ir.types import TensorType
from .registry import OpDef, OpTypeError

_PKG_DIRS: list[str] = [os.path.dirname(os.path.abspath(__file__)) + os.sep]
_SKIP_FILES = ("contextlib.py", "functools.py", "<frozen", "tree_util.py")


def add_internal_dir(path: str) -> None:
    """Frames from files under `path` are not user code (tfx_core registers itself)."""
    _PKG_DIRS.append(os.path.abspath(path) + os.sep)


def user_location() -> str | None:
    """The innermost stack frame outside our packages, as "file.py:line"."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if not fn.startswith(tuple(_PKG_DIRS)) and not any(s in fn for s in _SKIP_FILES):
            return f"{os.path.basename(fn)}:{f.f_lineno}"
        f = f.f_back
    return None


def op_location() -> str | None:
    """The user's "file.py:line", prefixed by the tx.name_scope path inside one
    ("outer/inner @ file.py:12"): the location an op bound now carries."""
    loc = user_location()
    scope = current_name_scope()
    return scoped_loc(scope.rstrip("/"), loc) if scope else loc


def op_error(opdef: OpDef, msg: str, loc: str | None) -> str:
    where = f" ({loc})" if loc else ""
    return f"{opdef.name}: {msg}{where}"


# How a misuse an `infer` rule finds is raised: (builtin class, message) -> exception. The
# front end installs its error classes (TF's InvalidArgumentError that is also the builtin).
_MISUSE: list = [lambda cls, msg: cls(msg)]


def set_misuse_error(make: Any) -> None:
    """Install `make(builtin_class, message) -> exception` for misuse found by infer rules."""
    _MISUSE[0] = make


def infer_or_raise(
    opdef: OpDef, in_types: tuple[TensorType, ...], attrs: dict, loc: str | None = None
) -> tuple[TensorType, ...]:
    """Run `opdef.infer`; on misuse raise a TypeError/ValueError naming op, types and line."""
    try:
        return opdef.infer_types(in_types, attrs)
    except (OpTypeError, TypeError, ValueError) as e:
        if loc is None:
            loc = user_location()
        cls = TypeError if isinstance(e, TypeError) else ValueError
        raise _MISUSE[0](cls, op_error(opdef, str(e), loc)) from None


class Trace:
    """The graph being built by one trace, plus its captured outside values.

    Captures are implicit graph inputs: values from outside the function (closed-over
    tensors, Variables) that are passed at call time rather than baked in as constants.
    """

    def __init__(self, name: str = "main"):
        self.builder = GraphBuilder(name)
        self.num_explicit_inputs = 0
        self.captures: list[tuple[Any, Value]] = []  # (payload, input value)
        self._capture_index: dict[int, Value] = {}

    def add_input(self, type: TensorType) -> Value:
        assert not self.captures, "explicit inputs must come before captures"
        self.num_explicit_inputs += 1
        return self.builder.add_input(type)

    def capture(self, key: int, payload: Any, type: TensorType) -> Value:
        """The input standing for an outside value (one per key)."""
        v = self._capture_index.get(key)
        if v is None:
            v = self.builder.add_input(type)
            self.captures.append((payload, v))
            self._capture_index[key] = v
        return v

    def emit(self, opdef: OpDef, inputs: Sequence[Value], attrs: dict) -> tuple[Value, ...]:
        loc = op_location()
        out_types = infer_or_raise(opdef, tuple(v.type for v in inputs), attrs, loc)
        return self.builder.add_op(opdef, inputs, freeze_attrs(attrs), loc, out_types)


class GraphTracer(Interpreter):
    """The one tracer: while it is the current interpreter, bound ops are recorded into a
    `Trace` instead of running.

    On its own it builds closed graphs from IR values (the gradient regions of control-flow
    vjp rules); tfx_core's TraceInterpreter subclasses it for tensors, captures and Variables
    (`@tx.function` bodies, control-flow regions, AutoGraph probes). Subclasses say what an
    operand is (`to_value`), what a result is (`wrap`) and may watch each op (`emitted`).
    """

    def __init__(self, name: str = "main"):
        self.trace = Trace(name)

    def to_value(self, a: Any, opdef: OpDef | None = None) -> Value:
        if isinstance(a, Value):
            return a
        op = opdef.name if opdef else "op"
        raise TypeError(f"{op}: a region being built can only use its own values, got "
                        f"{type(a).__name__}")

    def wrap(self, v: Value) -> Any:
        return v

    def emitted(self, opdef: OpDef, inputs: list[Value], attrs: dict,
                outs: tuple[Value, ...]) -> None:
        """Called after each recorded op (TraceInterpreter tracks values known statically)."""

    def process(self, opdef: OpDef, args: Sequence[Any], attrs: dict) -> Any:
        values = [self.to_value(a, opdef) for a in args]
        outs = self.trace.emit(opdef, values, attrs)
        self.emitted(opdef, values, attrs, outs)
        res = [self.wrap(v) for v in outs]
        return res if opdef.multiple_results else res[0]


def trace_graph(name: str, in_types: Sequence[TensorType], fn: Any) -> Graph:
    """The closed graph of `fn(*inputs)` over IR values, built by binding ops. The tapes around
    are paused: building a region is not a computation they should see."""
    tracer = GraphTracer(name)
    inputs = [tracer.trace.add_input(t) for t in in_types]
    with outside_traces(traces=False), trace_scope(tracer):
        outs = fn(*inputs)
    return tracer.trace.builder.build(list(outs) if isinstance(outs, (list, tuple)) else [outs])

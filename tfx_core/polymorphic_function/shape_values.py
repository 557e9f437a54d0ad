"""Shape arguments given as tensors: ints when known at trace time, else computed from shapes."""
from __future__ import annotations

import weakref
from typing import Any, NamedTuple

import numpy as np

from compiler import dynamic_shape as D
from compiler.interpreters import bind
from compiler.ir.graph import Op, Value
from compiler.ir.types import I32, DType
from compiler.ops import cast as CA
from compiler.ops import constant as C
from compiler.ops import elementwise as E
from compiler.ops import shape as S
from tfx_core.framework.convert import constant_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.ops.arguments import op_error, static_int, static_ints
from tfx_core.polymorphic_function.tracer import TraceInterpreter, get_static_value


class DynamicShape(NamedTuple):
    """A 1-D i32 shape tensor of a trace, the entries known at trace time (None elsewhere) and
    its partial value (`compiler.dynamic_shape.partial_value`)."""

    tensor: Tensor
    known: tuple
    entries: np.ndarray

    def reshape_dims(self, x: Tensor) -> tuple:
        """The result dims known at trace time when `x` is reshaped to this shape."""
        return D.reshape_known(x._value, self.entries) if x._buf is None else self.known


def shape_argument(v: Any, name: str, what: str) -> tuple[int, ...] | DynamicShape:
    """A shape/multiples argument: Python ints whenever its value is known at trace time (the
    path eager code and static traces always take), else a `DynamicShape` when the value follows
    from the input shapes alone (it is evaluated once the graph is specialized to concrete
    shapes). A value that depends on tensor values is an error naming the input it reads."""
    if not _symbolic(v) or (isinstance(v, Tensor) and get_static_value(v) is not None):
        return static_ints(v, name, what)
    if isinstance(v, (list, tuple)):
        if all(not _symbolic(d) or get_static_value(d) is not None for d in v):
            return static_ints(v, name, what)
        v = _pack(v, name, what)
    if v.ndim == 0 and v.dtype.is_integer:  # one dim given as a scalar (tx.zeros(n), as TF)
        v = bind(S.expand_dims_op, v, axes=(0,))
    if not v.dtype.is_integer or v.ndim != 1 or v.shape[0] is None:
        raise op_error(name, f"{what} must be a 1-D integer tensor of known length, got "
                       f"{v.type}", TypeError)
    if v.dtype is not I32:
        v = bind(CA.convert_op, v, dtype=I32)
    why = _dependence(v._trace, v._value)
    if why is not None:
        raise op_error(
            name, f"{what} must be known at trace time or computed from tx.shape(...) and "
            f"constants, but it depends on {why}; XLA needs shapes at compile time", TypeError)
    entries = _partial(v._trace, v._value)
    known = tuple(int(d) if D.is_int(d) else None for d in entries)
    if None not in known:  # e.g. read through a region's capture: the static path after all
        return known
    return DynamicShape(v, known, entries)


def run_time(*vs: Any) -> bool:
    """Whether any of `vs` is a traced tensor whose value is unknown at trace time."""
    return any(isinstance(v, Tensor) and v._buf is None and get_static_value(v) is None
               for v in vs)


def range_from_shapes(start: Any, limit: Any, delta: Any, dtype: DType | None) -> Tensor:
    """tx.range whose start/limit follow from shapes (`tx.range(tx.shape(x)[1])` under None
    dims): an iota of the element count, which specialization makes static. The count is
    ceil((limit - start) / delta) in i32; delta must be known at trace time."""
    d = static_int(delta, "range", "delta")
    if d == 0:
        raise op_error("range", "delta must not be 0")
    ends = []
    for v in (start, limit):
        if isinstance(v, Tensor) and v._buf is None:
            if not v.dtype.is_integer or v.ndim != 0:
                raise op_error("range", f"start/limit computed at run time must be integer "
                               f"scalars, got {v.type}", TypeError)
            ends.append(v if v.dtype is I32 else bind(CA.convert_op, v, dtype=I32))
        else:
            ends.append(constant_tensor(np.array(static_int(v, "range", "start/limit"),
                                                 np.int32)))
    s, lim = ends
    span = bind(E.sub_op, lim, s) if d > 0 else bind(E.sub_op, s, lim)
    if abs(d) != 1:  # ceil division; a valid range has span >= 0, so truncation is floor
        span = bind(E.div_op, bind(E.add_op, span, constant_tensor(np.array(abs(d) - 1,
                                                                            np.int32))),
                    constant_tensor(np.array(abs(d), np.int32)))
    count = shape_argument([span], "range", "limit")
    if isinstance(count, DynamicShape):
        out = bind(D.iota_dynamic_op, count.tensor, known=count.known, dimension=0, dtype=I32)
    else:
        out = bind(C.iota_op, shape=count, dimension=0, dtype=I32)
    if d != 1:
        out = bind(E.mul_op, out, constant_tensor(np.array(d, np.int32)))
    out = bind(E.add_op, out, s)
    dt = dtype or max((v.dtype for v in (start, limit) if isinstance(v, Tensor)),
                      key=lambda t: t.np_dtype.itemsize)
    return out if dt is I32 else bind(CA.convert_op, out, dtype=dt)


def _symbolic(v: Any) -> bool:
    if isinstance(v, Tensor):
        return v._buf is None
    return isinstance(v, (list, tuple)) and any(_symbolic(d) for d in v)


def _pack(dims: Any, name: str, what: str) -> Tensor:
    """A list of ints and int scalar tensors as one i32[n] tensor (tf.stack's auto-packing)."""
    parts = []
    for d in dims:
        if isinstance(d, Tensor) and d._buf is None and get_static_value(d) is None:
            if not d.dtype.is_integer or d.ndim != 0:
                raise op_error(name, f"{what} entries must be integer scalars, got {d.type}",
                               TypeError)
            t = d if d.dtype is I32 else bind(CA.convert_op, d, dtype=I32)
        else:
            t = constant_tensor(np.array(static_int(d, name, what), np.int32))
        parts.append(bind(S.expand_dims_op, t, axes=(0,)))
    return parts[0] if len(parts) == 1 else bind(S.concatenate_op, *parts, axis=0)


# ---------------------------------------------------------------- the trace's shape graph
# Per trace: how many of its ops are indexed, and value -> defining op (grown as the trace
# grows, so a function with many shape arguments indexes each op once).
_PRODUCERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _producers(trace: TraceInterpreter) -> dict[Value, Op]:
    ops = trace.trace.builder.ops
    n, table = _PRODUCERS.get(trace, (0, {}))
    for op in ops[n:]:
        table.update((o, op) for o in op.outputs)
    _PRODUCERS[trace] = (len(ops), table)
    return table


def _outer(trace: TraceInterpreter, v: Value) -> Tensor | None:
    """The enclosing trace's tensor a region's captured input stands for."""
    for payload, cv in trace.trace.captures:
        if cv is v:
            return payload if isinstance(payload, Tensor) and payload._buf is None else None
    return None


def _partial(trace: Any, v: Value) -> np.ndarray:
    def leaf(w: Value) -> np.ndarray | None:
        t = _outer(trace, w)
        return None if t is None else _partial(t._trace, t._value)

    got = D.partial_value(v, _producers(trace).get, trace.known.get, leaf)
    return np.full(v.type.shape, None, object) if got is None else got


def _dependence(trace: Any, v: Value) -> str | None:
    """What makes `v` depend on tensor values (an argument, a capture, an impure op), or None
    when it is computed from shapes and constants only."""
    def leaf(w: Value, reader: Op | None) -> str | None:
        if w in trace.known:
            return None
        t = _outer(trace, w)
        if t is not None:
            return _dependence(t._trace, t._value)
        inputs = trace.trace.builder.inputs
        k = inputs.index(w)
        if k < trace.trace.num_explicit_inputs:
            where = "argument" if getattr(trace, "parent", None) is None else \
                "region operand (a loop variable or branch input)"
            return f"the value of {where} {k} ({w.type}){D.reader_phrase(reader)}"
        return f"the value of a captured tensor or variable ({w.type}){D.reader_phrase(reader)}"

    return D.value_dependence(v, _producers(trace).get, leaf)

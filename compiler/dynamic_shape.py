"""Shape-operand ops (reshape/broadcast/tile/iota to a shape held in a tensor) for None dims.

A trace with unknown (None) dims may compute a shape from `shape_of` (`tx.stack([tx.shape(x)[0],
-1, 2])`): its value is unknown at trace time but fixed once the graph is specialized to concrete
input shapes. `reshape_dynamic(x, shape)`, `broadcast_dynamic(x, shape)`, `tile_dynamic(x,
multiples)`, `iota_dynamic(shape)` (tx.range) and `dynamic_slice_dynamic(x, *starts, sizes)`
(`x[:, i]` with other axes unknown) carry that shape as an i32[n] operand, always
their last; the attribute `known` holds the entries known while tracing (None elsewhere;
reshape's -1 resolved where the tracer could, see `reshape_known`), which is all the result type
can say. `compiler.specialize` evaluates the operand from the now-static shapes (`evaluate`) and
rewrites each op into its static form (`static_form`), so lowering never meets one. The tracer
uses `partial_value` and `value_dependence` to decide between the static path, these ops, and a
clear error.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import autodiff as A
from .ir.graph import ConstArray, Graph, Op, Value
from .ir.types import I32, TensorType
from .ops.constant import constant_op, iota_op, shape_of_op
from .ops.dynamic_slice import dynamic_slice_op
from .ops.shape import broadcast_to_op, reshape_op, tile_op
from .registry import (
    ELEMENTWISE,
    NOT_DIFFERENTIABLE,
    PURE,
    SHAPE_OP,
    OpDef,
    OpTypeError,
    register,
)

# Shape values are short vectors: partial evaluation gives up on anything larger.
MAX_SHAPE_ELEMENTS = 64


def is_shape_sized(t: TensorType) -> bool:
    """Small and static enough to be a shape value (or a piece of one)."""
    return t.num_elements is not None and t.num_elements <= MAX_SHAPE_ELEMENTS


class DynamicShapeError(TypeError):
    """A shape operand depends on tensor values, not only on shapes: XLA needs it at compile
    time (TF's XLA bridge says "must be a compile-time constant")."""


def _known(s: TensorType, known: object, x: TensorType, what: str) -> tuple:
    if s.dtype is not I32 or s.rank != 1:
        raise OpTypeError(f"the {what} operand must be i32[n], got {s} (input {x})")
    if not isinstance(known, tuple) or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in known):
        raise OpTypeError(f"known={known!r} must be a tuple of ints or None (input {x})")
    if s.shape[0] != len(known):
        raise OpTypeError(f"known={known!r} has {len(known)} entries for the {what} {s}")
    return known


def _lower_never(ctx, *_, **__):
    raise AssertionError("a *_dynamic op reached lowering: compiler.specialize rewrites each "
                         "one into its static form once the input shapes are known")


# ---------------------------------------------------------------- reshape_dynamic
def _reshape_infer(x: TensorType, s: TensorType, *, known: tuple) -> TensorType:
    known = _known(s, known, x, "shape")
    if any(d is not None and d < -1 for d in known) or known.count(-1) > 1:
        raise OpTypeError(f"invalid target shape {list(known)} for {x}: dims must be >= 0, "
                          "with at most one -1")
    dims = [None if d in (None, -1) else d for d in known]
    rest = [d for d in known if d != -1]
    if -1 in known and x.num_elements is not None and None not in rest:
        m = int(np.prod(rest, dtype=np.int64))
        if m and x.num_elements % m == 0:
            dims[known.index(-1)] = x.num_elements // m
    return x.with_shape(dims)


def _reshape_vjp(ctx, g, *, known):
    x, t = ctx.inputs[0], ctx.types_in[0]
    if t.is_static:
        return A.reshape_to(g, t), None
    return A.op("reshape_dynamic", g, A.op("shape_of", x), known=tuple(t.shape)), None


reshape_dynamic_op = register(OpDef(
    "reshape_dynamic", _reshape_infer, _lower_never,
    lambda x, s, *, known: np.reshape(x, tuple(int(d) for d in s)), _reshape_vjp,
    frozenset({SHAPE_OP, PURE})))


# ---------------------------------------------------------------- broadcast_dynamic
def _broadcast_infer(x: TensorType, s: TensorType, *, known: tuple) -> TensorType:
    known = _known(s, known, x, "shape")
    if any(d is not None and d < 0 for d in known):
        raise OpTypeError(f"broadcast shape {list(known)} has a negative dim (input {x})")
    ok = x.rank <= len(known) and all(
        d in (1, None) or t is None or d == t for d, t in zip(reversed(x.shape), reversed(known)))
    if not ok:
        raise OpTypeError(f"cannot broadcast {x} to shape {list(known)} (numpy broadcasting "
                          "rules)")
    return x.with_shape(known)


def _broadcast_vjp(ctx, g, *, known):
    """Sum g over the axes x was broadcast along (the leading ones, and x's size-1 dims)."""
    x, t = ctx.inputs[0], ctx.types_in[0]
    lead = len(known) - t.rank
    if not t.is_static:
        if lead:
            g = A.op("reduce_sum", g, axes=tuple(range(lead)), keepdims=False)
        return _sum_to_unknown(g, x, t, known[lead:]), None
    axes = (*range(lead), *(lead + i for i, d in enumerate(t.shape) if d == 1))
    if axes:
        g = A.op("reduce_sum", g, axes=axes, keepdims=False)
    return A.reshape_to(g, t), None


def _sum_to_unknown(g, x, t: TensorType, out: tuple):
    """Sum g (x's rank) down to x's dims, some unknown until specialization: view each axis as
    [x_i, g_i / x_i] and sum the second (size 1 where x_i was not broadcast, g_i where x_i is
    1); max(x_i, 1) keeps an empty axis from dividing by zero."""
    xs, gs = A.op("shape_of", x), A.op("shape_of", g)
    one = A.op("constant", value=ConstArray(np.ones(t.rank, np.int32)))
    q = A.op("divide", gs, A.op("maximum", xs, one))
    pair = [A.op("expand_dims", v, axes=(1,)) for v in (xs, q)]
    inter = A.op("reshape", A.op("concatenate", *pair, axis=1), shape=(2 * t.rank,))
    ratio = [None if d is None or o is None else o // max(d, 1) for d, o in zip(t.shape, out)]
    r = A.op("reshape_dynamic", g, inter,
             known=tuple(v for d, k in zip(t.shape, ratio) for v in (d, k)))
    return A.op("reduce_sum", r, axes=tuple(range(1, 2 * t.rank, 2)), keepdims=False)


broadcast_dynamic_op = register(OpDef(
    "broadcast_dynamic", _broadcast_infer, _lower_never,
    lambda x, s, *, known: np.array(np.broadcast_to(x, tuple(int(d) for d in s))),
    _broadcast_vjp, frozenset({SHAPE_OP, PURE})))


# ---------------------------------------------------------------- tile_dynamic
def _tile_infer(x: TensorType, m: TensorType, *, known: tuple) -> TensorType:
    known = _known(m, known, x, "multiples")
    if len(known) != x.rank or any(k is not None and k < 0 for k in known):
        raise OpTypeError(f"multiples {list(known)} must be {x.rank} non-negative ints for {x}")
    return x.with_shape(0 if k == 0 else None if d is None or k is None else d * k
                        for d, k in zip(x.shape, known))


def _tile_vjp(ctx, g, *, known):
    """View g as [m0, d0, m1, d1, ...] (a shape computed at run time) and sum the copies."""
    x, t = ctx.inputs[0], ctx.types_in[0]
    if t.rank == 0:
        return g, None
    pair = [A.op("expand_dims", v, axes=(1,)) for v in (ctx.inputs[1], A.op("shape_of", x))]
    inter = A.op("reshape", A.op("concatenate", *pair, axis=1), shape=(2 * t.rank,))
    inter_known = tuple(v for k, d in zip(known, t.shape) for v in (k, d))
    r = A.op("reshape_dynamic", g, inter, known=inter_known)
    return A.op("reduce_sum", r, axes=tuple(range(0, 2 * t.rank, 2)), keepdims=False), None


tile_dynamic_op = register(OpDef(
    "tile_dynamic", _tile_infer, _lower_never,
    lambda x, m, *, known: np.tile(x, tuple(int(k) for k in m)) if len(m) else x.copy(),
    _tile_vjp, frozenset({SHAPE_OP, PURE})))

# ---------------------------------------------------------------- iota_dynamic
def _iota_infer(s: TensorType, *, known: tuple, dimension: int, dtype) -> TensorType:
    known = _known(s, known, s, "shape")
    if any(d is not None and d < 0 for d in known):
        raise OpTypeError(f"shape {list(known)} has a negative dim")
    if not 0 <= dimension < len(known):
        raise OpTypeError(f"dimension {dimension} out of range for shape {list(known)}")
    return TensorType(dtype, known)


iota_dynamic_op = register(OpDef(
    "iota_dynamic", _iota_infer, _lower_never,
    lambda s, *, known, dimension, dtype: iota_op.reference(
        shape=tuple(int(d) for d in s), dimension=dimension, dtype=dtype),
    NOT_DIFFERENTIABLE, frozenset({PURE})))

# ---------------------------------------------------------------- dynamic_slice_dynamic
def _ds_infer(x: TensorType, *rest: TensorType, known: tuple) -> TensorType:
    starts, s = rest[:-1], rest[-1]
    known = _known(s, known, x, "sizes")
    if len(starts) != x.rank or len(known) != x.rank:
        raise OpTypeError(f"needs {x.rank} start indices and sizes for {x}, got "
                          f"{len(starts)} and {len(known)}")
    if any(t.dtype is not I32 or t.rank != 0 for t in starts):
        raise OpTypeError(f"start indices must be i32[], got {[str(t) for t in starts]}")
    if any(k is not None and (k < 0 or (d is not None and k > d))
           for k, d in zip(known, x.shape)):
        raise OpTypeError(f"slice sizes {list(known)} do not fit in {x}")
    return x.with_shape(known)


def _ds_vjp(ctx, g, *, known):
    """As dynamic_slice's: g written into zeros shaped like x (which works with None dims)."""
    starts = ctx.inputs[1:-1]
    zeros = A.zeros_like(ctx.types_in[0], ctx.inputs[0])
    return (A.op("dynamic_update_slice", zeros, g, *starts), *[None] * (len(starts) + 1))


dynamic_slice_dynamic_op = register(OpDef(
    "dynamic_slice_dynamic", _ds_infer, _lower_never,
    lambda x, *rest, known: dynamic_slice_op.reference(
        x, *rest[:-1], sizes=tuple(int(d) for d in rest[-1])),
    _ds_vjp, frozenset({PURE})))

# Each dynamic op, its static form and the name of the static form's attribute that receives
# the shape operand's value (the other operands and attributes carry over).
STATIC_FORM: dict[OpDef, tuple[OpDef, str]] = {
    reshape_dynamic_op: (reshape_op, "shape"),
    broadcast_dynamic_op: (broadcast_to_op, "shape"),
    tile_dynamic_op: (tile_op, "multiples"),
    iota_dynamic_op: (iota_op, "shape"),
    dynamic_slice_dynamic_op: (dynamic_slice_op, "sizes"),
}


def has_dynamic_ops(g: Graph) -> bool:
    """Whether `g` or a region nested in it holds a *_dynamic op."""
    return any(op.opdef in STATIC_FORM or any(has_dynamic_ops(r) for r in regions(op))
               for op in g.ops)


def regions(op: Op) -> list[Graph]:
    """The nested graphs an op holds in its attributes (case branches, while cond/body)."""
    out = []
    for _, a in op.attrs:
        for r in (a if isinstance(a, tuple) else (a,)):
            if isinstance(r, Graph):
                out.append(r)
    return out


# ---------------------------------------------------------------- evaluating shape values
def evaluate(op: Op, ins: list) -> list | None:
    """The values of `op`'s outputs from its inputs' known values (None entries: unknown), for
    shape computations: shape_of on static shapes, constants, and small pure ops on known
    values. None when nothing is known."""
    if op.opdef is shape_of_op:
        t = op.inputs[0].type
        return [np.array(t.shape, np.int32)] if t.is_static else None
    if op.opdef is constant_op:
        return [dict(op.attrs)["value"].array]
    if PURE not in op.opdef.traits or regions(op) or any(a is None for a in ins) or \
            not all(is_shape_sized(v.type) for v in op.outputs):
        return None
    try:
        res = op.opdef.reference(*ins, **dict(op.attrs))
    except Exception:  # an input the reference can't take (it would fail at run time too)
        return None
    return [np.asarray(r) for r in (res if op.opdef.multiple_results else (res,))]


class UnknownDim:
    """An entry of a partial shape value that is dim `axis` of `value`, unknown at trace time
    (so reshape can still cancel it against that value's own dims)."""

    __slots__ = ("value", "axis")

    def __init__(self, value: Value, axis: int):
        self.value, self.axis = value, axis

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnknownDim) and (other.value, other.axis) == (self.value,
                                                                             self.axis)

    def __hash__(self) -> int:
        return hash((id(self.value), self.axis))

    def __repr__(self) -> str:
        return f"UnknownDim({self.value.type}, {self.axis})"


def is_int(d: object) -> bool:
    return isinstance(d, (int, np.integer)) and not isinstance(d, bool)


def partial_value(v: Value, producer: Callable[[Value], Op | None],
                  known: Callable[[Value], np.ndarray | None],
                  leaf: Callable[[Value], np.ndarray | None] = lambda v: None,
                  memo: dict | None = None) -> np.ndarray | None:
    """The entries of an integer value known now, as an object array with None where unknown
    (TF's constant_value_as_shape): `shape_of` gives its input's dims (an `UnknownDim` for
    unknown ones),
    ops that move entries (slice, concatenate, expand_dims, reshape...) move them, and
    elementwise arithmetic computes the entries whose operands are all known. `leaf` answers
    for values no op here defines (a region's captured operand)."""
    memo = {} if memo is None else memo
    if v in memo:
        return memo[v]
    t = v.type
    if not t.is_static or t.num_elements > MAX_SHAPE_ELEMENTS or not t.dtype.is_integer:
        return None
    memo[v] = out = _partial(v, producer, known, leaf, memo)
    return out


def _partial(v, producer, known, leaf, memo) -> np.ndarray:
    unknown = np.full(v.type.shape, None, object)
    full = known(v)
    if full is not None:
        return np.array(np.asarray(full).tolist(), object).reshape(v.type.shape)
    op = producer(v)
    if op is None:
        got = leaf(v)
        return unknown if got is None else got
    if op.opdef is shape_of_op:
        x = op.inputs[0]
        out = np.empty(x.type.rank, object)
        out[:] = [UnknownDim(x, i) if d is None else d for i, d in enumerate(x.type.shape)]
        return out
    if op.opdef.multiple_results or PURE not in op.opdef.traits:
        return unknown
    ins = [partial_value(i, producer, known, leaf, memo) for i in op.inputs]
    if any(a is None for a in ins):
        return unknown
    attrs = dict(op.attrs)
    try:
        if op.name == "convert" and ins[0] is not None:
            return ins[0]
        if SHAPE_OP in op.opdef.traits:
            got = np.asarray(op.opdef.reference(*ins, **attrs), object)
            return got if got.shape == v.type.shape else unknown
        if ELEMENTWISE in op.opdef.traits:
            return _elementwise(op, ins, attrs)
    except Exception:  # a form the references can't take on object arrays: just don't know
        return unknown
    return unknown


def _elementwise(op: Op, ins: list, attrs: dict) -> np.ndarray:
    parts = np.broadcast_arrays(*ins)
    out = np.full(parts[0].shape if parts else (), None, object)
    dts = [i.type.dtype.np_dtype for i in op.inputs]
    for idx in np.ndindex(out.shape):
        es = [p[idx] for p in parts]
        if all(is_int(e) for e in es):
            r = op.opdef.reference(*[np.asarray(e, d) for e, d in zip(es, dts)], **attrs)
            out[idx] = np.asarray(r).item()
    return out


def reshape_known(x: Value, target: np.ndarray) -> tuple:
    """The result dims a reshape of `x` to the partial shape `target` has at trace time: known
    entries, None for unknown ones, and the -1 entry resolved when every unknown dim of `x`
    appears in `target` as itself (`tx.reshape(x, [tx.shape(x)[0], -1, 2])` on f32[?,6]
    gives f32[?,3,2], as TF's shape function does); otherwise -1 stays (inferred later)."""
    entries = list(target.reshape(-1))
    known = [int(d) if is_int(d) else None for d in entries]
    if known.count(-1) != 1:
        return tuple(known)
    rest = [d for d in entries if not (is_int(d) and d == -1)]
    mine = {UnknownDim(x, i) for i, d in enumerate(x.type.shape) if d is None}
    unknown = [d for d in rest if not is_int(d)]  # UnknownDims and None
    if len(unknown) != len(mine) or set(unknown) != mine:
        return tuple(known)
    have = int(np.prod([d for d in x.type.shape if d is not None], dtype=np.int64))
    want = int(np.prod([d for d in rest if is_int(d)], dtype=np.int64))
    if want and have % want == 0:
        known[known.index(-1)] = have // want
    return tuple(known)


def value_dependence(v: Value, producer: Callable[[Value], Op | None],
                     leaf: Callable[[Value, Op | None], str | None]) -> str | None:
    """Why `v` depends on tensor values rather than only on shapes and constants: a phrase
    naming the input (by `leaf(input, the op reading it)`) or the impure op; None if it
    doesn't."""
    seen, stack = set(), [(v, None)]
    while stack:
        w, reader = stack.pop()
        if w in seen:
            continue
        seen.add(w)
        op = producer(w)
        if op is None:
            why = leaf(w, reader)
            if why is not None:
                return why
            continue
        if op.opdef is shape_of_op:  # reads only the shape: stop here
            continue
        if PURE not in op.opdef.traits:
            return f"the result of {op.name}{_at(op)}, which is not a function of shapes"
        stack.extend((i, op) for i in op.inputs)
    return None


def _at(op: Op | None) -> str:
    return f" ({op.loc})" if op is not None and op.loc else ""


def reader_phrase(reader: Op | None) -> str:
    """", read by <op> (file:line)" for error messages."""
    return f", read by {reader.name}{_at(reader)}" if reader is not None else ""


def static_form(op: Op, shape: np.ndarray) -> tuple[OpDef, dict]:
    """The static op and attributes a dynamic op becomes once its shape operand is known."""
    static, attr = STATIC_FORM[op.opdef]
    attrs = {k: v for k, v in op.attrs if k != "known"}
    attrs[attr] = tuple(int(d) for d in np.asarray(shape).reshape(-1))
    if op.opdef is iota_dynamic_op and min(attrs[attr]) < 0:
        raise ValueError(f"range: start cannot reach limit: the element count is "
                         f"{attrs[attr][0]} for these input shapes{_at(op)}")
    return static, attrs


def not_static_error(op: Op, why: str | None) -> DynamicShapeError:
    static = "range" if op.opdef is iota_dynamic_op else STATIC_FORM[op.opdef][0].name
    cause = why or "a value the compiler could not evaluate from the input shapes"
    return DynamicShapeError(
        f"{static}: the shape operand must be known at compile time (from shapes and "
        f"constants), but it depends on {cause}{_at(op)}; compute it from tx.shape(...) and "
        "constants only")


__all__ = ["DynamicShapeError", "STATIC_FORM", "UnknownDim", "broadcast_dynamic_op",
           "dynamic_slice_dynamic_op", "evaluate", "has_dynamic_ops", "iota_dynamic_op", "is_int",
           "is_shape_sized", "not_static_error", "partial_value", "reader_phrase", "regions",
           "reshape_dynamic_op", "reshape_known", "static_form", "tile_dynamic_op",
           "value_dependence"]

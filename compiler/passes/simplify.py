"""Algebraic simplification (Grappler's arithmetic optimizer as the anchor): exact rewrites only.

A rule table maps op names to rules, run to a fixed point by the shared driver in `rewrite.py`.
Rules never change results: no `x + 0.0` for floats (-0.0 + 0.0 is +0.0), no
`x * 0` for floats (NaN, inf, -0.0), division only by exact powers of two, and no
`exp(log(x))` / `log(exp(x))` (log rounds, exp overflows: neither round trip is exact).
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

from ..ir.graph import ConstArray, Graph, Op
from ..ir.types import DType
from ..ops.constant import MAX_CONSTANT_ELEMENTS, constant_op
from .manager import graph_pass
from .rewrite import (
    MAX_ROUNDS,
    RewriteCtx,
    Rule,
    new_op,
    rewrite_to_fixpoint,
    same_type,
)


def _add(op: Op, c: RewriteCtx):
    x, y = op.inputs
    is_float = op.outputs[0].type.dtype.is_floating
    for a, b in ((x, y), (y, x)):  # x + 0 (ints), x + (-0.0) (floats: exact, even for -0.0)
        if c.splat(b, 0, negative_zero=True if is_float else None):
            return same_type(op, a)
    return None


def _subtract(op: Op, c: RewriteCtx):
    x, y = op.inputs  # x - (+0.0) == x for every x, including -0.0 and NaN
    is_float = op.outputs[0].type.dtype.is_floating
    if c.splat(y, 0, negative_zero=False if is_float else None):
        return same_type(op, x)
    return None


def _multiply(op: Op, c: RewriteCtx):
    x, y = op.inputs
    out = op.outputs[0].type
    for a, b in ((x, y), (y, x)):
        if c.splat(b, 1):
            return same_type(op, a)
        if not out.dtype.is_floating and c.splat(b, 0) and out.is_static \
                and out.num_elements <= MAX_CONSTANT_ELEMENTS:
            zeros = np.zeros(out.shape, out.dtype.np_dtype)
            return [Op(constant_op, (), (("value", ConstArray(zeros)),), op.outputs, op.loc)]
    return None


def _divide(op: Op, c: RewriteCtx):
    x, y = op.inputs
    if c.splat(y, 1):
        return same_type(op, x)
    a = c.const(y)
    dt = op.outputs[0].type.dtype
    if a is None or a.size == 0 or not dt.is_floating or not np.all(a == a.flat[0]):
        return None
    d = float(a.flat[0])
    mant, _ = np.frexp(d)
    if d == 0 or not np.isfinite(d) or abs(mant) != 0.5:
        return None
    r = np.asarray(1 / d, dt.np_dtype)  # a power of two: x / d == x * (1 / d) exactly,
    tiny = float(ml_dtypes.finfo(dt.np_dtype).tiny)
    if not np.isfinite(r) or float(r) * d != 1.0 or abs(float(r)) < tiny:
        return None  # ... when 1 / d is a normal number of the dtype
    k = new_op("constant", (), {"value": ConstArray(np.full(a.shape, r))}, op)
    return [k, new_op("multiply", (x, k.outputs[0]), {}, op, op.outputs)]


def _negate(op: Op, c: RewriteCtx):
    inner = c.op(op.inputs[0], "negate")
    return inner.inputs[0] if inner is not None else None


def compose_transposes(op: Op, c: RewriteCtx):
    perm = op.attr_dict["perm"]
    if list(perm) == sorted(perm):
        return same_type(op, op.inputs[0])
    inner = c.op(op.inputs[0], "transpose")
    if inner is None:
        return None
    p1 = inner.attr_dict["perm"]
    composed = tuple(p1[p] for p in perm)
    if list(composed) == sorted(composed):
        return same_type(op, inner.inputs[0])
    return [new_op("transpose", (inner.inputs[0],), {"perm": composed}, op, op.outputs)]


def _reshape(op: Op, c: RewriteCtx):
    x = op.inputs[0]
    if x.type == op.outputs[0].type:
        return x
    inner = c.op(x, "reshape")
    if inner is None:
        return None
    return [new_op("reshape", (inner.inputs[0],), op.attr_dict, op, op.outputs)]


def _reduce_of_broadcast(op: Op, c: RewriteCtx):
    """Reducing only the copies a broadcast_to made: max/min/and/or of copies of x are x; an
    integer sum of n copies is x * n (exact, wrapping alike). Float sums are left alone
    (adding n copies rounds differently from one multiply)."""
    out = op.outputs[0].type
    kind = op.opdef.name.removeprefix("reduce_")
    if op.attr_dict["axes"] == ():  # reducing no axis: XLA returns the operand itself
        return same_type(op, op.inputs[0])
    if kind == "prod" or (kind == "sum" and not out.dtype.is_integer):
        return None
    b = c.op(op.inputs[0], "broadcast_to")
    if b is None or not out.is_static:
        return None
    x, target = b.inputs[0].type, b.attr_dict["shape"]
    axes, keepdims = op.attr_dict["axes"], op.attr_dict["keepdims"]
    lead = len(target) - x.rank
    dims = [(x.shape[i - lead] if i >= lead else 1) for i in range(len(target))]
    if not x.is_static or any(dims[a] != 1 for a in axes):
        return None  # a reduced axis holds x's own values, not copies
    n = int(np.prod([target[a] for a in axes], dtype=np.int64))
    if n == 0:
        return None  # reducing zero copies gives the identity, not x
    shape = tuple(d for i, d in enumerate(dims) if keepdims or i not in axes)
    ops = []
    y = b.inputs[0]
    leading_ones = len(shape) >= x.rank and shape[len(shape) - x.rank:] == x.shape and \
        all(d == 1 for d in shape[:len(shape) - x.rank])
    if shape != x.shape and not (leading_ones and shape != out.shape):
        ops.append(new_op("reshape", (y,), {"shape": shape}, op))  # (broadcast_to adds 1s)
        y = ops[-1].outputs[0]
    if shape != out.shape:
        ops.append(new_op("broadcast_to", (y,), {"shape": out.shape}, op))
        y = ops[-1].outputs[0]
    if kind == "sum" and n != 1:
        k = new_op("constant", (), {"value": ConstArray(
            np.array(n, np.int64).astype(out.dtype.np_dtype))}, op)  # wraps like the sum
        ops += [k, new_op("multiply", (y, k.outputs[0]), {}, op)]
    if not ops:
        return same_type(op, y)
    ops[-1] = ops[-1].replace(outputs=op.outputs)
    return ops


# f(g(x)) == g(x) exactly: g's results are fixed points of f (integers for floor/ceil/round,
# +-1/+-0/NaN for sign, non-negative values for abs).
_IDEMPOTENT_AFTER = {
    "abs": ("abs",),
    "sign": ("sign",),
    "floor": ("floor", "ceil", "round_nearest_even"),
    "ceil": ("floor", "ceil", "round_nearest_even"),
    "round_nearest_even": ("floor", "ceil", "round_nearest_even"),
}


def _unary_of_fixed_point(op: Op, c: RewriteCtx):
    inner = c.producer.get(op.inputs[0])
    if inner is not None and inner.opdef.name in _IDEMPOTENT_AFTER[op.opdef.name]:
        return same_type(op, inner.outputs[0])
    if op.opdef.name == "abs" and inner is not None and inner.opdef.name == "negate":
        return [op.replace(inputs=inner.inputs)]  # |-x| == |x|, NaN sign included
    return None


def _not(op: Op, c: RewriteCtx):
    inner = c.op(op.inputs[0], "not")
    return inner.inputs[0] if inner is not None else None


_MANTISSA = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}


def _holds(a: DType, b: DType) -> bool:
    """Every value of dtype `a` is exactly a value of dtype `b`."""
    if a.is_bool:
        return True
    if b.is_bool:
        return False
    if a.is_floating:
        return b.is_floating and b.bits >= a.bits and (a.name, b.name) != ("float16", "bfloat16")
    if b.is_floating:  # integers: all of them fit in the mantissa
        return a.bits - (0 if a.is_unsigned else 1) <= _MANTISSA.get(b.name, 0)
    if a.is_unsigned:
        return b.bits > a.bits or (b.is_unsigned and b.bits == a.bits)
    return not b.is_unsigned and b.bits >= a.bits


def _convert(op: Op, c: RewriteCtx):
    """convert(convert(x, wider), T) == convert(x, T) when `wider` holds x exactly (the same
    real value is converted either way); convert to the same dtype is x."""
    x = op.inputs[0]
    if x.type == op.outputs[0].type:
        return x
    inner = c.op(x, "convert")
    if inner is None or not _holds(inner.inputs[0].type.dtype, x.type.dtype):
        return None
    src = inner.inputs[0]
    if src.type == op.outputs[0].type:
        return src
    return [op.replace(inputs=(src,))]


def _identity_if_same_type(op: Op, c: RewriteCtx):
    return same_type(op, op.inputs[0])


RULES: dict[str, Rule] = {
    "add": _add,
    "subtract": _subtract,
    "multiply": _multiply,
    "divide": _divide,
    "negate": _negate,
    "transpose": compose_transposes,
    "reshape": _reshape,
    "broadcast_to": _identity_if_same_type,
    **{f"reduce_{k}": _reduce_of_broadcast
       for k in ("sum", "prod", "max", "min", "and", "or")},
    "convert": _convert,
    "not": _not,
    **{name: _unary_of_fixed_point for name in _IDEMPOTENT_AFTER},
    "expand_dims": _identity_if_same_type,
    "squeeze": _identity_if_same_type,
    "stop_gradient": _identity_if_same_type,  # gradients are computed before passes run
}


@graph_pass("simplify")
def simplify(g: Graph) -> Graph:
    """Apply the rule table until nothing changes (at most MAX_ROUNDS sweeps)."""
    return rewrite_to_fixpoint(g, RULES, "simplify", MAX_ROUNDS)

"""Algebraic simplification (Grappler's arithmetic optimizer as the anchor): exact rewrites only.

A rule table maps op names to rules; a rule sees one op (its inputs already rewritten) and
returns None (no change), an existing Value that replaces the op's output (same type), or new
ops whose last one defines the op's outputs. The driver sweeps the graph until nothing changes,
with a cap. Rules never change results: no `x + 0.0` for floats (-0.0 + 0.0 is +0.0), no
`x * 0` for floats (NaN, inf, -0.0), division only by exact powers of two.
"""
from __future__ import annotations

from collections.abc import Callable

import ml_dtypes
import numpy as np

from ..ir.graph import ConstArray, Graph, Op, Value
from ..ops.constant import constant_op
from ..registry import REGISTRY
from .manager import graph_pass

MAX_ROUNDS = 8
MAX_ZERO_ELEMENTS = 1024  # int x * 0 becomes a constant only up to this size


class SimplifyDidNotSettle(RuntimeError):
    """The rules kept rewriting: a rule pair undoes each other."""


class _Ctx:
    """What rules can ask about the graph being rewritten."""

    def __init__(self) -> None:
        self.producer: dict[Value, Op] = {}

    def const(self, v: Value) -> np.ndarray | None:
        op = self.producer.get(v)
        return op.attr_dict["value"].array if op is not None and op.opdef is constant_op else None

    def splat(self, v: Value, value: float, negative_zero: bool | None = None) -> bool:
        """`v` is a constant with every element == value (and, for 0, the given sign)."""
        a = self.const(v)
        if a is None or a.size == 0 or not np.all(a == value):
            return False
        return negative_zero is None or bool(np.all(np.signbit(a) == negative_zero))

    def op(self, v: Value, name: str) -> Op | None:
        op = self.producer.get(v)
        return op if op is not None and op.opdef.name == name else None


Rule = Callable[[Op, _Ctx], "Value | list[Op] | None"]


def _same(op: Op, v: Value) -> Value | None:
    """`v` replaces op's result only if the types are identical (no broadcast is lost)."""
    return v if v.type == op.outputs[0].type else None


def _new(name: str, inputs: tuple, attrs: dict, like: Op, outputs=None) -> Op:
    opdef = REGISTRY[name]
    outs = outputs if outputs is not None else tuple(
        Value(t) for t in opdef.infer_types(tuple(v.type for v in inputs), attrs))
    return Op(opdef, tuple(inputs), tuple(sorted(attrs.items())), outs, like.loc)


def _add(op: Op, c: _Ctx):
    x, y = op.inputs
    is_float = op.outputs[0].type.dtype.is_floating
    for a, b in ((x, y), (y, x)):  # x + 0 (ints), x + (-0.0) (floats: exact, even for -0.0)
        if c.splat(b, 0, negative_zero=True if is_float else None):
            return _same(op, a)
    return None


def _subtract(op: Op, c: _Ctx):
    x, y = op.inputs  # x - (+0.0) == x for every x, including -0.0 and NaN
    is_float = op.outputs[0].type.dtype.is_floating
    if c.splat(y, 0, negative_zero=False if is_float else None):
        return _same(op, x)
    return None


def _multiply(op: Op, c: _Ctx):
    x, y = op.inputs
    out = op.outputs[0].type
    for a, b in ((x, y), (y, x)):
        if c.splat(b, 1):
            return _same(op, a)
        if not out.dtype.is_floating and c.splat(b, 0) and out.is_static \
                and out.num_elements <= MAX_ZERO_ELEMENTS:
            zeros = np.zeros(out.shape, out.dtype.np_dtype)
            return [Op(constant_op, (), (("value", ConstArray(zeros)),), op.outputs, op.loc)]
    return None


def _divide(op: Op, c: _Ctx):
    x, y = op.inputs
    if c.splat(y, 1):
        return _same(op, x)
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
    k = _new("constant", (), {"value": ConstArray(np.full(a.shape, r))}, op)
    return [k, _new("multiply", (x, k.outputs[0]), {}, op, op.outputs)]


def _negate(op: Op, c: _Ctx):
    inner = c.op(op.inputs[0], "negate")
    return inner.inputs[0] if inner is not None else None


def _transpose(op: Op, c: _Ctx):
    perm = op.attr_dict["perm"]
    if list(perm) == sorted(perm):
        return _same(op, op.inputs[0])
    inner = c.op(op.inputs[0], "transpose")
    if inner is None:
        return None
    p1 = inner.attr_dict["perm"]
    composed = tuple(p1[p] for p in perm)
    if list(composed) == sorted(composed):
        return _same(op, inner.inputs[0])
    return [_new("transpose", (inner.inputs[0],), {"perm": composed}, op, op.outputs)]


def _reshape(op: Op, c: _Ctx):
    x = op.inputs[0]
    if x.type == op.outputs[0].type:
        return x
    inner = c.op(x, "reshape")
    if inner is None:
        return None
    return [_new("reshape", (inner.inputs[0],), op.attr_dict, op, op.outputs)]


def _identity_if_same_type(op: Op, c: _Ctx):
    return _same(op, op.inputs[0])


RULES: dict[str, Rule] = {
    "add": _add,
    "subtract": _subtract,
    "multiply": _multiply,
    "divide": _divide,
    "negate": _negate,
    "transpose": _transpose,
    "reshape": _reshape,
    "broadcast_to": _identity_if_same_type,
    "convert": _identity_if_same_type,
    "expand_dims": _identity_if_same_type,
    "squeeze": _identity_if_same_type,
    "stop_gradient": _identity_if_same_type,  # gradients are computed before passes run
}


def _sweep(g: Graph) -> tuple[Graph, bool]:
    ctx = _Ctx()
    env: dict[Value, Value] = {}
    ops: list[Op] = []
    changed = False
    for op in g.ops:
        inputs = tuple(env.get(v, v) for v in op.inputs)
        if inputs != op.inputs:
            op = op.replace(inputs=inputs)
        rule = RULES.get(op.opdef.name)
        res = rule(op, ctx) if rule is not None else None
        if isinstance(res, Value):
            env[op.outputs[0]] = res
            changed = True
            continue
        new_ops = res if res else [op]
        changed |= bool(res)
        for o in new_ops:
            ops.append(o)
            for v in o.outputs:
                ctx.producer[v] = o
    out = Graph(g.inputs, tuple(ops), tuple(env.get(v, v) for v in g.outputs), g.name)
    return out, changed


@graph_pass("simplify")
def simplify(g: Graph) -> Graph:
    """Apply the rule table until nothing changes (at most MAX_ROUNDS sweeps)."""
    current = g
    for _ in range(MAX_ROUNDS):
        current, changed = _sweep(current)
        if not changed:
            return g if current.ops == g.ops and current.outputs == g.outputs else current
    raise SimplifyDidNotSettle(f"simplify did not settle after {MAX_ROUNDS} rounds")

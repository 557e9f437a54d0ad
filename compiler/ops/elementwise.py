"""Elementwise ops: unary math, binary arithmetic, comparisons, logic and select."""
from __future__ import annotations

import math

import numpy as np
from jaxlib.mlir.dialects import chlo
from jaxlib.mlir.dialects import stablehlo as hlo

from ..ir.types import BOOL, TensorType
from ..lowering import helpers as H
from ..registry import ELEMENTWISE, NOT_DIFFERENTIABLE, PURE, OpDef, OpTypeError, register
from .common import broadcast_types, check_kind, elementwise_binary, elementwise_unary, same_dtype


def _in_f32(fn):
    """Run a numpy reference for f16/bf16 in float32 (numpy lacks native kernels for bf16)."""

    def ref(x):
        if x.dtype.kind != "f" or x.dtype.itemsize >= 4:
            return fn(x)
        return fn(x.astype(np.float32)).astype(x.dtype)

    return ref


_erf = np.vectorize(math.erf, otypes=[np.float64])

# ---------------------------------------------------------------- unary, float only
exp_op = elementwise_unary("exp", _in_f32(np.exp), hlo.exponential)
expm1_op = elementwise_unary("expm1", _in_f32(np.expm1), hlo.exponential_minus_one)
log_op = elementwise_unary("log", _in_f32(np.log), hlo.log)
log1p_op = elementwise_unary("log1p", _in_f32(np.log1p), hlo.log_plus_one)
sqrt_op = elementwise_unary("sqrt", _in_f32(np.sqrt), hlo.sqrt)
rsqrt_op = elementwise_unary("rsqrt", _in_f32(lambda x: 1 / np.sqrt(x)), hlo.rsqrt)
sin_op = elementwise_unary("sin", _in_f32(np.sin), hlo.sine)
cos_op = elementwise_unary("cos", _in_f32(np.cos), hlo.cosine)
tan_op = elementwise_unary("tan", _in_f32(np.tan), hlo.tan)
tanh_op = elementwise_unary("tanh", _in_f32(np.tanh), hlo.tanh)
logistic_op = elementwise_unary("logistic", _in_f32(lambda x: 1 / (1 + np.exp(-x))), hlo.logistic)
erf_op = elementwise_unary("erf", lambda x: _erf(x).astype(x.dtype), chlo.erf)
floor_op = elementwise_unary("floor", _in_f32(np.floor), hlo.floor)
ceil_op = elementwise_unary("ceil", _in_f32(np.ceil), hlo.ceil)
round_op = elementwise_unary("round_nearest_even", _in_f32(np.round), hlo.round_nearest_even)
is_finite_op = elementwise_unary(
    "is_finite", np.isfinite, hlo.is_finite, out_dtype=BOOL, vjp=NOT_DIFFERENTIABLE
)

# ---------------------------------------------------------------- unary, numeric / logical
neg_op = elementwise_unary("negate", np.negative, hlo.negate, kinds="fi")
abs_op = elementwise_unary("abs", np.abs, hlo.abs, kinds="fi")
sign_op = elementwise_unary("sign", np.sign, hlo.sign, kinds="fi")
not_op = elementwise_unary("not", np.invert, hlo.not_, kinds="biu", vjp=NOT_DIFFERENTIABLE)


# ---------------------------------------------------------------- binary arithmetic
def _int_div(x, y):
    """XLA integer division: truncate toward zero; x / 0 = -1."""
    with np.errstate(all="ignore"):
        if x.dtype.kind == "f":
            return x / y
        safe = np.where(y == 0, 1, y)
        q = np.abs(x) // np.abs(safe)
        q = np.where((x < 0) != (safe < 0), -q, q) if x.dtype.kind == "i" else q
        return np.where(y == 0, np.array(-1).astype(x.dtype), q).astype(x.dtype)


def _int_rem(x, y):
    """XLA remainder: the sign of the dividend (C fmod); x % 0 = x for integers."""
    with np.errstate(all="ignore"):
        if x.dtype.kind == "f":
            return np.fmod(x, y)
        safe = np.where(y == 0, 1, y)
        return np.where(y == 0, x, np.fmod(x, safe)).astype(x.dtype)


def _int_pow(x, y):
    """XLA integer power; a negative exponent gives 0, except for bases 1 and -1."""
    with np.errstate(all="ignore"):
        if x.dtype.kind == "f":
            return np.power(x, y)
        pos = np.power(x, np.maximum(y, 0)).astype(x.dtype)
        if x.dtype.kind == "u":
            return pos
        neg = np.where(x == 1, 1, np.where(x == -1, np.where(y % 2 == 0, 1, -1), 0))
        return np.where(y < 0, neg.astype(x.dtype), pos).astype(x.dtype)


add_op = elementwise_binary("add", np.add, hlo.add, kinds="fiu", commutative=True)
sub_op = elementwise_binary("subtract", np.subtract, hlo.subtract, kinds="fiu")
mul_op = elementwise_binary("multiply", np.multiply, hlo.multiply, kinds="fiu", commutative=True)
def _guarded_int(hlo_fn, on_zero: str):
    """Integer divide/remainder with the divisor made safe before XLA sees it.

    NOTE: XLA's constant folder aborts the whole process (SIGFPE) on an integer x / 0 or
    INT_MIN / -1 between constants, so those divisors are replaced by 1 and the XLA-defined
    results selected afterwards: x / 0 = -1, x % 0 = x, INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0.
    """

    def lower(x, y, t):
        zero = H.splat(0, t)
        one = H.splat(1, t)
        y_is_zero = H.compare(y, zero, "EQ", t)
        unsafe = y_is_zero
        if t.dtype.kind == "i":
            int_min = H.splat(np.iinfo(t.dtype.np_dtype).min, t)
            overflow = hlo.and_(H.compare(x, int_min, "EQ", t),
                                H.compare(y, H.splat(-1, t), "EQ", t))
            unsafe = hlo.or_(unsafe, overflow)
        out = hlo_fn(x, hlo.select(unsafe, one, y))
        fallback = H.splat(-1, t) if on_zero == "minus_one" else x
        return hlo.select(y_is_zero, fallback, out)

    def binary(ctx, x, y):
        t = ctx.type_out
        return hlo_fn(x, y) if t.dtype.is_floating else lower(x, y, t)

    binary.takes_ctx = True  # type: ignore[attr-defined]
    return binary


div_op = elementwise_binary("divide", _int_div, _guarded_int(hlo.divide, "minus_one"),
                            kinds="fiu")
rem_op = elementwise_binary("remainder", _int_rem, _guarded_int(hlo.remainder, "dividend"),
                            kinds="fiu")
pow_op = elementwise_binary("power", _int_pow, hlo.power, kinds="fiu")
max_op = elementwise_binary("maximum", np.maximum, hlo.maximum, kinds="fiu", commutative=True)
min_op = elementwise_binary("minimum", np.minimum, hlo.minimum, kinds="fiu", commutative=True)
atan2_op = elementwise_binary("atan2", np.arctan2, hlo.atan2, kinds="f")
and_op = elementwise_binary(
    "and", np.bitwise_and, hlo.and_, kinds="biu", commutative=True, vjp=NOT_DIFFERENTIABLE
)
or_op = elementwise_binary(
    "or", np.bitwise_or, hlo.or_, kinds="biu", commutative=True, vjp=NOT_DIFFERENTIABLE
)
xor_op = elementwise_binary(
    "xor", np.bitwise_xor, hlo.xor, kinds="biu", commutative=True, vjp=NOT_DIFFERENTIABLE
)

# ---------------------------------------------------------------- comparisons
_DIRECTIONS = {
    "EQ": np.equal,
    "NE": np.not_equal,
    "LT": np.less,
    "LE": np.less_equal,
    "GT": np.greater,
    "GE": np.greater_equal,
}


def _compare_infer(x: TensorType, y: TensorType, *, direction: str) -> TensorType:
    if direction not in _DIRECTIONS:
        raise OpTypeError(f"unknown comparison direction {direction!r}")
    same_dtype(x, y)
    return TensorType(BOOL, broadcast_types(x, y))


def _compare_lower(ctx, x, y, *, direction: str):
    tx, ty = ctx.types_in
    out = ctx.type_out
    return H.compare(H.broadcast(x, tx, out), H.broadcast(y, ty, out), direction, tx)


compare_op = register(
    OpDef(
        "compare",
        infer=_compare_infer,
        lower=_compare_lower,
        reference=lambda x, y, *, direction: np.asarray(_DIRECTIONS[direction](x, y)),
        vjp=NOT_DIFFERENTIABLE,
        traits=frozenset({ELEMENTWISE, PURE}),
    )
)


# ---------------------------------------------------------------- select
def _select_infer(pred: TensorType, x: TensorType, y: TensorType) -> TensorType:
    check_kind(pred, "b", "condition: ")
    same_dtype(x, y)
    shape = broadcast_types(x, y)
    shape = broadcast_types(pred, TensorType(x.dtype, shape))
    return TensorType(x.dtype, shape)


def _select_lower(ctx, pred, x, y):
    tp, tx, ty = ctx.types_in
    out = ctx.type_out
    return hlo.select(
        H.broadcast(pred, tp, out), H.broadcast(x, tx, out), H.broadcast(y, ty, out)
    )


select_op = register(
    OpDef(
        "select",
        infer=_select_infer,
        lower=_select_lower,
        reference=lambda p, x, y: np.where(p, x, y),
        vjp=None,
        traits=frozenset({ELEMENTWISE, PURE}),
    )
)

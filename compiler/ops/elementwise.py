"""Elementwise ops: unary math, binary arithmetic, comparisons, logic and select."""
from __future__ import annotations

import math

import numpy as np
from jaxlib.mlir.dialects import chlo
from jaxlib.mlir.dialects import stablehlo as hlo

from .. import autodiff as A
from ..ir.types import BOOL, COMPLEX_OF, F32, DType, TensorType
from ..lowering import helpers as H
from ..registry import (
    ELEMENTWISE,
    FINITE_PRESERVING,
    NOT_DIFFERENTIABLE,
    PROPAGATES_NONFINITE,
    PURE,
    OpDef,
    OpTypeError,
    register,
)
from .common import (
    broadcast_types,
    check_kind,
    elementwise_binary,
    elementwise_unary,
    is_float_array,
    same_dtype,
)

_FINITE = frozenset({FINITE_PRESERVING})  # enable_check_numerics skips these ops
_PROPAGATES = frozenset({PROPAGATES_NONFINITE})


def _in_f32(fn):
    """Run a numpy reference for f16/bf16 in float32 (numpy lacks native kernels for bf16)."""

    def ref(x):
        if x.dtype.kind != "f" or x.dtype.itemsize >= 4:
            return fn(x)
        return fn(x.astype(np.float32)).astype(x.dtype)

    return ref


_erf = np.vectorize(math.erf, otypes=[np.float64])

# ---------------------------------------------------------------- unary, float only
# vjp rules: (ctx, g) -> (dx,); x = ctx.inputs[0], y = ctx.outputs[0].
def _x(ctx):
    return ctx.inputs[0]


def _y(ctx):
    return ctx.outputs[0]


def _c(ctx, v):
    return A.const(v, ctx.types_in[0].dtype)


def _no_grad(ctx, g):
    return (None,)  # piecewise constant: TF returns no gradient (None)


def _erf_vjp(ctx, g):
    x = _x(ctx)
    return (A.mul(g, A.mul(_c(ctx, 2 / math.sqrt(math.pi)), A.op("exp", A.neg(A.mul(x, x))))),)


def _tan_vjp(ctx, g):
    y = _y(ctx)
    return (A.mul(g, A.add(_c(ctx, 1), A.mul(y, y))),)


exp_op = elementwise_unary("exp", _in_f32(np.exp), hlo.exponential, kinds="fc",
                           vjp=lambda ctx, g: (A.mul(g, _y(ctx)),))
expm1_op = elementwise_unary("expm1", _in_f32(np.expm1), hlo.exponential_minus_one, kinds="fc",
                             vjp=lambda ctx, g: (A.mul(g, A.add(_y(ctx), _c(ctx, 1))),))
log_op = elementwise_unary("log", _in_f32(np.log), hlo.log, kinds="fc",
                           vjp=lambda ctx, g: (A.div(g, _x(ctx)),))
log1p_op = elementwise_unary("log1p", _in_f32(np.log1p), hlo.log_plus_one, kinds="fc",
                             vjp=lambda ctx, g: (A.div(g, A.add(_x(ctx), _c(ctx, 1))),))
sqrt_op = elementwise_unary("sqrt", _in_f32(np.sqrt), hlo.sqrt, kinds="fc",
                            vjp=lambda ctx, g: (A.div(A.mul(g, _c(ctx, 0.5)), _y(ctx)),))
rsqrt_op = elementwise_unary(
    "rsqrt", _in_f32(lambda x: 1 / np.sqrt(x)), hlo.rsqrt, kinds="fc",
    vjp=lambda ctx, g: (A.mul(A.mul(g, _c(ctx, -0.5)), A.div(_y(ctx), _x(ctx))),))
sin_op = elementwise_unary("sin", _in_f32(np.sin), hlo.sine, kinds="fc",
                           vjp=lambda ctx, g: (A.mul(g, A.op("cos", _x(ctx))),))
cos_op = elementwise_unary("cos", _in_f32(np.cos), hlo.cosine, kinds="fc",
                           vjp=lambda ctx, g: (A.neg(A.mul(g, A.op("sin", _x(ctx)))),))
tan_op = elementwise_unary("tan", _in_f32(np.tan), hlo.tan, kinds="fc", vjp=_tan_vjp)
tanh_op = elementwise_unary(
    "tanh", _in_f32(np.tanh), hlo.tanh, kinds="fc",
    vjp=lambda ctx, g: (A.mul(g, A.sub(_c(ctx, 1), A.mul(_y(ctx), _y(ctx)))),))
logistic_op = elementwise_unary(
    "logistic", _in_f32(lambda x: 1 / (1 + np.exp(-x))), hlo.logistic, kinds="fc",
    vjp=lambda ctx, g: (A.mul(g, A.mul(_y(ctx), A.sub(_c(ctx, 1), _y(ctx)))),))
erf_op = elementwise_unary("erf", lambda x: _erf(x).astype(x.dtype), chlo.erf, vjp=_erf_vjp)
floor_op = elementwise_unary("floor", _in_f32(np.floor), hlo.floor, vjp=_no_grad)
ceil_op = elementwise_unary("ceil", _in_f32(np.ceil), hlo.ceil, vjp=_no_grad)
round_op = elementwise_unary("round_nearest_even", _in_f32(np.round), hlo.round_nearest_even,
                             vjp=_no_grad)
is_finite_op = elementwise_unary(
    "is_finite", np.isfinite, hlo.is_finite, out_dtype=BOOL, vjp=NOT_DIFFERENTIABLE
)

# ---------------------------------------------------------------- unary, numeric / logical
neg_op = elementwise_unary("negate", np.negative, hlo.negate, kinds="fic",
                           vjp=lambda ctx, g: (A.neg(g),), traits=_FINITE | _PROPAGATES)
abs_op = elementwise_unary("abs", np.abs, hlo.abs, kinds="fi",
                           vjp=lambda ctx, g: (A.mul(g, A.op("sign", _x(ctx))),), traits=_FINITE)
sign_op = elementwise_unary("sign", lambda x: np.where(x == 0, x, np.sign(x)), hlo.sign, kinds="fi",
                            vjp=lambda ctx, g: (A.zeros_like(ctx.types_in[0], _x(ctx)),))
not_op = elementwise_unary("not", np.invert, hlo.not_, kinds="biu", vjp=NOT_DIFFERENTIABLE)


# ---------------------------------------------------------------- binary arithmetic
def _int_div(x, y):
    """XLA integer division: truncate toward zero; x / 0 = -1."""
    with np.errstate(all="ignore"):
        if x.dtype.kind not in "iub":  # floats, including ml_dtypes' bfloat16 (kind "V")
            return x / y
        safe = np.where(y == 0, 1, y).astype(x.dtype)
        # floor division, moved toward zero when inexact with operands of opposite signs
        # (not via abs(): abs(INT_MIN) overflows); INT_MIN / -1 wraps to INT_MIN, as XLA.
        q = np.floor_divide(x, safe)
        if x.dtype.kind == "i":
            inexact = (x - q * safe) != 0
            q = q + (inexact & ((x < 0) != (safe < 0))).astype(x.dtype)
        return np.where(y == 0, np.array(-1).astype(x.dtype), q).astype(x.dtype)


def _int_rem(x, y):
    """XLA remainder: the sign of the dividend (C fmod); x % 0 = x for integers."""
    with np.errstate(all="ignore"):
        if is_float_array(x):
            return np.fmod(x, y)
        safe = np.where(y == 0, 1, y)
        return np.where(y == 0, x, np.fmod(x, safe)).astype(x.dtype)


def _float_pow(x, y):
    """C's pow (as XLA): numpy may take a sqrt shortcut for exponent +-0.5 on some loops,
    giving NaN for pow(-inf, 0.5) (C: inf) and -0.0 for pow(-0.0, 0.5) (C: +0.0)."""
    r = np.power(x, y)
    half = np.abs(y) == 0.5
    if not np.any(half & ((x == -np.inf) | (x == 0))):
        return r
    inf_like = np.where(y > 0, np.inf, 0.0).astype(r.dtype)
    zero_like = np.where(y > 0, 0.0, np.inf).astype(r.dtype)
    return np.where(half & (x == -np.inf), inf_like, np.where(half & (x == 0), zero_like, r))


def _int_pow(x, y):
    """XLA integer power; a negative exponent gives 0, except for bases 1 and -1."""
    with np.errstate(all="ignore"):
        if x.dtype.kind == "c":
            return np.power(x, y)
        if is_float_array(x):
            return _float_pow(x, y)
        pos = np.power(x, np.maximum(y, 0)).astype(x.dtype)
        if x.dtype.kind == "u":
            return pos
        neg = np.where(x == 1, 1, np.where(x == -1, np.where(y % 2 == 0, 1, -1), 0))
        return np.where(y < 0, neg.astype(x.dtype), pos).astype(x.dtype)


# Binary vjp rules return cotangents at the output shape; `elementwise_binary` sums them back
# to each input's shape. a, b = ctx.inputs.
def _add_vjp(ctx, g):
    return g, g


def _sub_vjp(ctx, g):
    return g, (A.neg(g) if ctx.needs[1] else None)


def _mul_vjp(ctx, g):
    a, b = ctx.inputs
    return (A.mul(g, b) if ctx.needs[0] else None), (A.mul(g, a) if ctx.needs[1] else None)


def _div_vjp(ctx, g):
    a, b = ctx.inputs
    gb = A.div(g, b)
    return gb, (A.neg(A.mul(gb, A.div(a, b))) if ctx.needs[1] else None)


def _rem_vjp(ctx, g):
    # a = trunc(a / b) * b + r, so dr/da = 1 and dr/db = -trunc(a / b) = -(a - r) / b.
    a, b = ctx.inputs
    return g, A.neg(A.mul(g, A.div(A.sub(a, ctx.outputs[0]), b)))


def _pow_vjp(ctx, g):
    a, b = ctx.inputs
    dt = ctx.types_out[0].dtype
    zero = A.const(0, dt)
    da = db = None
    if ctx.needs[0]:  # b * a**(b-1), and 0 where b == 0 (avoids 0 * inf at a == 0)
        d = A.mul(b, A.op("power", a, A.sub(b, A.const(1, dt))))
        da = A.mul(g, A.select(A.compare(b, zero, "EQ"), zero, d))
    if ctx.needs[1]:  # log(a) * a**b where a > 0 (complex: a != 0), else 0 (as TF)
        pos = A.compare(a, zero, "NE" if dt.is_complex else "GT")
        safe = A.select(pos, a, A.const(1, dt))
        db = A.mul(g, A.select(pos, A.mul(A.op("log", safe), ctx.outputs[0]), zero))
    return da, db


def _minmax_vjp(direction: str):
    """maximum ("GE") / minimum ("LE"): the gradient goes to x on ties, as TF."""

    def vjp(ctx, g):
        a, b = ctx.inputs
        zero = A.const(0, ctx.types_out[0].dtype)
        pick_a = A.compare(a, b, direction)
        return A.select(pick_a, g, zero), A.select(pick_a, zero, g)

    return vjp


def _atan2_vjp(ctx, g):
    a, b = ctx.inputs
    gd = A.div(g, A.add(A.mul(a, a), A.mul(b, b)))
    return A.mul(gd, b), A.neg(A.mul(gd, a))


add_op = elementwise_binary("add", np.add, hlo.add, kinds="fiuc", commutative=True,
                            vjp=_add_vjp, traits=_PROPAGATES)
sub_op = elementwise_binary("subtract", np.subtract, hlo.subtract, kinds="fiuc", vjp=_sub_vjp,
                            traits=_PROPAGATES)
mul_op = elementwise_binary("multiply", np.multiply, hlo.multiply, kinds="fiuc", commutative=True,
                            vjp=_mul_vjp, traits=_PROPAGATES)


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
        if t.dtype.bits == 16 and t.dtype.is_floating:
            # NOTE: XLA rewrites x / broadcast(y) as x * broadcast(1 / y) before it widens
            # half floats; 1 / 1e-5 overflows float16 (so 1e-4 / 1e-5 gave inf). Divide in f32.
            wide = t.with_dtype(F32)
            out = hlo_fn(H.convert(x, t, wide), H.convert(y, t, wide))
            return H.convert(out, wide, t)
        return hlo_fn(x, y) if t.dtype.is_inexact else lower(x, y, t)

    binary.takes_ctx = True  # type: ignore[attr-defined]
    return binary


div_op = elementwise_binary("divide", _int_div, _guarded_int(hlo.divide, "minus_one"),
                            kinds="fiuc", vjp=_div_vjp)
rem_op = elementwise_binary("remainder", _int_rem, _guarded_int(hlo.remainder, "dividend"),
                            kinds="fiu", vjp=_rem_vjp)
def _power_lower(ctx, x, y):
    """Floats: stablehlo.power. Integers: square-and-multiply over every exponent bit.

    NOTE: XLA:CPU's integer power reads only the exponent's low 6 bits (int32 3 ** 100 gives
    3 ** 36) and takes unsigned exponents >= 2**(bits-1) as negative; TF and numpy wrap
    modulo 2**bits, which repeated squaring reproduces exactly.
    """
    t = ctx.type_out
    if t.dtype.is_inexact:
        return hlo.power(x, y)
    one, zero = H.splat(1, t), H.splat(0, t)
    result, base = one, x
    for i in range(t.dtype.bits - (0 if t.dtype.is_unsigned else 1)):
        bit = hlo.and_(hlo.shift_right_logical(y, H.splat(i, t)), one)
        result = hlo.select(H.compare(bit, zero, "NE", t), hlo.multiply(result, base), result)
        base = hlo.multiply(base, base)
    if t.dtype.is_unsigned:
        return result
    # a negative exponent: 0, except 1 ** n = 1 and (-1) ** n = +-1 (as XLA and _int_pow)
    minus_one = H.splat(-1, t)
    odd = H.compare(hlo.and_(y, one), zero, "NE", t)
    neg = hlo.select(H.compare(x, one, "EQ", t), one,
                     hlo.select(H.compare(x, minus_one, "EQ", t),
                                hlo.select(odd, minus_one, one), zero))
    return hlo.select(H.compare(y, zero, "LT", t), neg, result)


_power_lower.takes_ctx = True  # type: ignore[attr-defined]
pow_op = elementwise_binary("power", _int_pow, _power_lower, kinds="fiuc", vjp=_pow_vjp)
def _zero_sign(a, b, r, negative):
    """Where a and b are both zeros, XLA's max gives -0.0 only if both are -0.0 (min: if
    either is); numpy picks an operand by position instead."""
    if not is_float_array(r):
        return r
    both = (a == 0) & (b == 0)
    if not np.any(both):
        return r
    neg = negative(np.signbit(a), np.signbit(b))
    return np.where(both, np.where(neg, -0.0, 0.0).astype(r.dtype), r)


def _max_ref(a, b):
    return _zero_sign(a, b, np.maximum(a, b), np.logical_and)


def _min_ref(a, b):
    return _zero_sign(a, b, np.minimum(a, b), np.logical_or)


max_op = elementwise_binary("maximum", _max_ref, hlo.maximum, kinds="fiu", commutative=True,
                            vjp=_minmax_vjp("GE"), traits=_FINITE)
min_op = elementwise_binary("minimum", _min_ref, hlo.minimum, kinds="fiu", commutative=True,
                            vjp=_minmax_vjp("LE"), traits=_FINITE)
atan2_op = elementwise_binary("atan2", np.arctan2, hlo.atan2, kinds="f", vjp=_atan2_vjp)
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
    if x.dtype.is_complex and direction not in ("EQ", "NE"):
        raise OpTypeError(f"complex numbers are not ordered: cannot compare {x} {direction} {y}")
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


def _select_vjp(ctx, g):
    p = ctx.inputs[0]
    zero = A.const(0, ctx.types_out[0].dtype)
    return (None,
            A.select(p, g, zero) if ctx.needs[1] else None,
            A.select(p, zero, g) if ctx.needs[2] else None)


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
        vjp=A.unbroadcast(_select_vjp),
        traits=frozenset({ELEMENTWISE, PURE, FINITE_PRESERVING}),
    )
)


# ---------------------------------------------------------------- complex parts
# Not holomorphic: their vjps follow TF's convention themselves (trait COMPLEX_VJP), as TF's
# math_grad: real -> complex(g, 0), imag -> complex(0, g), conj -> conj(g),
# complex(re, im) -> (real(g), imag(g)), abs -> g * z / |z| (0 at z = 0).
_CVJP = frozenset({ELEMENTWISE, PURE, A.COMPLEX_VJP})


def _complex_unary(name: str, np_fn, lower, vjp, to_real: bool) -> OpDef:
    def infer(x: TensorType) -> TensorType:
        check_kind(x, "c")
        return x.with_dtype(x.dtype.real_dtype) if to_real else x

    def reference(x):
        out = x.dtype if not to_real else DType.from_numpy(x.dtype).real_dtype.np_dtype
        return np.asarray(np_fn(x)).astype(out)

    return register(OpDef(name, infer, lambda ctx, x: lower(ctx, x), reference, vjp, _CVJP))


def _as_complex(ctx, v):
    return A.op("convert", v, dtype=ctx.types_in[0].dtype)


def _complex_abs_vjp(ctx, g):
    z, y = _x(ctx), _y(ctx)
    dt = ctx.types_in[0].dtype
    d = A.div(A.mul(_as_complex(ctx, g), z), _as_complex(ctx, y))
    return (A.select(A.compare(y, A.const(0, dt.real_dtype), "EQ"), A.const(0, dt), d),)


conj_op = _complex_unary(
    "conj", np.conj,
    lambda ctx, x: hlo.complex(hlo.real(x), hlo.negate(hlo.imag(x))),
    lambda ctx, g: (A.op("conj", g),), to_real=False)
real_op = _complex_unary("real", np.real, lambda ctx, x: hlo.real(x),
                         lambda ctx, g: (_as_complex(ctx, g),), to_real=True)
imag_op = _complex_unary(
    "imag", np.imag, lambda ctx, x: hlo.imag(x),
    lambda ctx, g: (A.mul(_as_complex(ctx, g), A.const(1j, ctx.types_in[0].dtype)),),
    to_real=True)
complex_abs_op = _complex_unary("complex_abs", np.abs, lambda ctx, x: hlo.abs(x),
                                _complex_abs_vjp, to_real=True)


def _complex_infer(re: TensorType, im: TensorType) -> TensorType:
    dt = same_dtype(re, im)
    if dt not in COMPLEX_OF:
        raise OpTypeError(f"real and imag must be float32 or float64, got {re} and {im}")
    return TensorType(COMPLEX_OF[dt], broadcast_types(re, im))


def _complex_lower(ctx, re, im):
    (tr, ti), out = ctx.types_in, ctx.type_out
    return hlo.complex(H.broadcast(re, tr, out), H.broadcast(im, ti, out))


def _complex_vjp(ctx, g):
    return A.op("real", g), A.op("imag", g)


complex_op = register(
    OpDef(
        "complex",
        infer=_complex_infer,
        lower=_complex_lower,
        reference=lambda re, im: (re + 1j * im.astype(re.dtype)).astype(
            COMPLEX_OF[DType.from_numpy(re.dtype)].np_dtype),
        vjp=A.unbroadcast(_complex_vjp),
        traits=_CVJP,
    )
)

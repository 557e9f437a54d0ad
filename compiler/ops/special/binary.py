"""polygamma, zeta, nextafter (CHLO) and TF's nan-safe products and quotients (xlogy, xlog1py,
xdivy, div_no_nan, mul_no_nan), whose zero cases win over NaN and inf operands."""
from __future__ import annotations

import math

import numpy as np
from jaxlib.mlir.dialects import chlo
from jaxlib.mlir.dialects import stablehlo as hlo

from ... import autodiff as A
from ...lowering import helpers as H
from ..common import elementwise_binary
from . import refs
from .refs import in_f32


def _c(ctx, v):
    return A.const(v, ctx.types_in[0].dtype)


def _polygamma_vjp(ctx, g):
    n, x = ctx.inputs
    return None, A.mul(g, A.op("polygamma", A.add(n, _c(ctx, 1)), x))


def _zeta_vjp(ctx, g):
    s, q = ctx.inputs  # d/dq zeta(s, q) = -s * zeta(s + 1, q); TF gives no gradient for s
    return None, A.neg(A.mul(g, A.mul(s, A.op("zeta", A.add(s, _c(ctx, 1)), q))))


def _polygamma_lower(ctx, n, x):
    """chlo.polygamma, with TF's limit 0 at x = inf for whole n >= 1 (CHLO gives NaN there)."""
    t = ctx.type_out
    whole = H.compare(hlo.floor(n), n, "EQ", t)
    at_inf = hlo.and_(hlo.and_(H.compare(x, H.splat(math.inf, t), "EQ", t), whole),
                      H.compare(n, H.splat(1, t), "GE", t))
    return hlo.select(at_inf, H.splat(0, t), chlo.polygamma(n, x))


def _zeta_lower(ctx, s, q):
    """chlo.zeta, with TF's limits where CHLO gives NaN: zeta(s, inf) = 0 for s > 1, and
    zeta(inf, q) = inf, 1 or 0 as q < 1, q == 1 or q > 1."""
    t = ctx.type_out
    inf, one, zero = H.splat(math.inf, t), H.splat(1, t), H.splat(0, t)
    out = chlo.zeta(s, q)
    q_inf = hlo.and_(H.compare(q, inf, "EQ", t), H.compare(s, one, "GT", t))
    out = hlo.select(q_inf, zero, out)
    s_inf_value = hlo.select(H.compare(q, one, "LT", t), inf,
                             hlo.select(H.compare(q, one, "EQ", t), one, zero))
    return hlo.select(H.compare(s, inf, "EQ", t), s_inf_value, out)


_polygamma_lower.takes_ctx = _zeta_lower.takes_ctx = True  # type: ignore[attr-defined]
polygamma_op = elementwise_binary("polygamma", in_f32(refs.polygamma), _polygamma_lower, kinds="f",
                                  vjp=_polygamma_vjp)
zeta_op = elementwise_binary("zeta", in_f32(refs.zeta), _zeta_lower, kinds="f", vjp=_zeta_vjp)
next_after_op = elementwise_binary("next_after", np.nextafter, chlo.next_after, kinds="f",
                                   vjp=lambda ctx, g: (None, None))


# ---------------------------------------------------------------- nan-safe arithmetic
def _zero_where(which: int, fn):
    """Lower to select(operand `which` == 0, 0, fn(x, y))."""

    def lower(ctx, x, y):
        t = ctx.type_out
        zero = H.splat(0, t)
        return hlo.select(H.compare((x, y)[which], zero, "EQ", t), zero, fn(x, y))

    lower.takes_ctx = True  # type: ignore[attr-defined]
    return lower


def _ref_zero_where(which: int, fn):
    def ref(x, y):
        with np.errstate(all="ignore"):
            return np.where((x, y)[which] == 0, np.zeros((), x.dtype), fn(x, y)).astype(x.dtype)

    return in_f32(ref)


def _nonzero(x, ctx):
    t = ctx.types_in[0]
    return A.op("convert", A.compare(x, A.const(0, t.dtype), "NE"), dtype=t.dtype)


# Gradient rules as TF's math_grad.py writes them (they differ from the derivative of the
# selected expression where an operand is 0: mul_no_nan's dy at y = 0 is x * g).
# NOTE: on complex operands autodiff applies them in TF's convention, g * conj(f'(z)) (dL/dx +
# i dL/dy); TF 2.21's own rules for xlogy, xlog1py, xdivy and mul_no_nan omit the conjugate
# (only div_no_nan's matches finite differences), so those complex gradients differ from TF's.
def _xlogy_vjp(ctx, g):
    x, y = ctx.inputs
    return (A.mul(g, A.op("xlogy", _nonzero(x, ctx), y)) if ctx.needs[0] else None,
            A.mul(g, A.op("xdivy", x, y)) if ctx.needs[1] else None)


def _xlog1py_vjp(ctx, g):
    x, y = ctx.inputs
    return (A.mul(g, A.op("xlog1py", _nonzero(x, ctx), y)) if ctx.needs[0] else None,
            A.mul(g, A.op("xdivy", x, A.add(y, _c(ctx, 1)))) if ctx.needs[1] else None)


def _xdivy_vjp(ctx, g):
    x, y = ctx.inputs
    return (A.mul(g, A.op("xdivy", _nonzero(x, ctx), y)) if ctx.needs[0] else None,
            A.mul(g, A.op("xdivy", A.neg(x), A.mul(y, y))) if ctx.needs[1] else None)


def _div_no_nan_vjp(ctx, g):
    x, y = ctx.inputs
    return (A.op("div_no_nan", g, y) if ctx.needs[0] else None,
            A.mul(g, A.op("div_no_nan", A.op("div_no_nan", A.neg(x), y), y))
            if ctx.needs[1] else None)


def _mul_no_nan_vjp(ctx, g):
    x, y = ctx.inputs
    return (A.op("mul_no_nan", g, y) if ctx.needs[0] else None,
            A.op("mul_no_nan", x, g) if ctx.needs[1] else None)


xlogy_op = elementwise_binary(
    "xlogy", _ref_zero_where(0, lambda x, y: x * np.log(y)),
    _zero_where(0, lambda x, y: hlo.multiply(x, hlo.log(y))), kinds="fc", vjp=_xlogy_vjp)
xlog1py_op = elementwise_binary(
    "xlog1py", _ref_zero_where(0, lambda x, y: x * np.log1p(y)),
    _zero_where(0, lambda x, y: hlo.multiply(x, hlo.log_plus_one(y))), kinds="fc",
    vjp=_xlog1py_vjp)
xdivy_op = elementwise_binary(
    "xdivy", _ref_zero_where(0, np.divide), _zero_where(0, hlo.divide), kinds="fc",
    vjp=_xdivy_vjp)
div_no_nan_op = elementwise_binary(
    "div_no_nan", _ref_zero_where(1, np.divide), _zero_where(1, hlo.divide), kinds="fc",
    vjp=_div_no_nan_vjp)
mul_no_nan_op = elementwise_binary(
    "mul_no_nan", _ref_zero_where(1, np.multiply), _zero_where(1, hlo.multiply), kinds="fc",
    vjp=_mul_no_nan_vjp)

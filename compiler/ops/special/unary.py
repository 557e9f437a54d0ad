"""Inverse and hyperbolic trig, lgamma, digamma, erfc, erfinv and bessel_i1e: CHLO ops, which
XLA expands into StableHLO when it compiles (as it does for chlo.erf)."""
from __future__ import annotations

import math

import numpy as np
from jaxlib.mlir.dialects import chlo

from ... import autodiff as A
from ..common import elementwise_unary
from . import refs
from .refs import in_f32, special


def _x(ctx):
    return ctx.inputs[0]


def _y(ctx):
    return ctx.outputs[0]


def _c(ctx, v):
    return A.const(v, ctx.types_in[0].dtype)


def _one_minus_sq(ctx):
    x = _x(ctx)
    return A.sub(_c(ctx, 1), A.mul(x, x))


# Gradient rules as TF writes them (math_grad.py), so values at the domain's edges agree.
def _acos_vjp(ctx, g):
    return (A.neg(A.mul(g, A.op("rsqrt", _one_minus_sq(ctx)))),)


def _asin_vjp(ctx, g):
    return (A.mul(g, A.op("rsqrt", _one_minus_sq(ctx))),)


def _atan_vjp(ctx, g):
    x = _x(ctx)
    return (A.div(g, A.add(_c(ctx, 1), A.mul(x, x))),)


def _atanh_vjp(ctx, g):
    return (A.div(g, _one_minus_sq(ctx)),)


def _erfc_vjp(ctx, g):
    x = _x(ctx)
    d = A.mul(_c(ctx, -2 / math.sqrt(math.pi)), A.op("exp", A.neg(A.mul(x, x))))
    return (A.mul(g, d),)


def _erf_inv_vjp(ctx, g):
    y = _y(ctx)
    return (A.mul(g, A.mul(_c(ctx, math.sqrt(math.pi) / 2), A.op("exp", A.mul(y, y)))),)


def _i1e_vjp(ctx, g):
    # d/dx i1e = i0e - i1e * (sign(x) + 1/x), which is 0.5 at x = 0 (TF's _BesselI1eGrad)
    x, y = _x(ctx), _y(ctx)
    zero = A.compare(x, _c(ctx, 0), "EQ")
    safe = A.select(zero, _c(ctx, 1), x)
    d = A.sub(A.op("bessel_i0e", x), A.mul(y, A.add(A.op("sign", x), A.div(_c(ctx, 1), safe))))
    return (A.mul(g, A.select(zero, A.op("broadcast_like", _c(ctx, 0.5), x), d)),)


acos_op = elementwise_unary("acos", in_f32(np.arccos), chlo.acos, kinds="fc", vjp=_acos_vjp)
asin_op = elementwise_unary("asin", in_f32(np.arcsin), chlo.asin, kinds="fc", vjp=_asin_vjp)
atan_op = elementwise_unary("atan", in_f32(np.arctan), chlo.atan, kinds="fc", vjp=_atan_vjp)
acosh_op = elementwise_unary("acosh", in_f32(np.arccosh), chlo.acosh, kinds="fc",
                             vjp=lambda ctx, g: (A.div(g, A.op("sinh", _y(ctx))),))
asinh_op = elementwise_unary("asinh", in_f32(np.arcsinh), chlo.asinh, kinds="fc",
                             vjp=lambda ctx, g: (A.div(g, A.op("cosh", _y(ctx))),))
atanh_op = elementwise_unary("atanh", in_f32(np.arctanh), chlo.atanh, kinds="fc", vjp=_atanh_vjp)
sinh_op = elementwise_unary("sinh", in_f32(np.sinh), chlo.sinh, kinds="fc",
                            vjp=lambda ctx, g: (A.mul(g, A.op("cosh", _x(ctx))),))
cosh_op = elementwise_unary("cosh", in_f32(np.cosh), chlo.cosh, kinds="fc",
                            vjp=lambda ctx, g: (A.mul(g, A.op("sinh", _x(ctx))),))
lgamma_op = elementwise_unary("lgamma", in_f32(refs.lgamma), chlo.lgamma,
                              vjp=lambda ctx, g: (A.mul(g, A.op("digamma", _x(ctx))),))
digamma_op = elementwise_unary(
    "digamma", in_f32(refs.digamma), chlo.digamma,
    vjp=lambda ctx, g: (A.mul(g, A.op("polygamma", _c(ctx, 1), _x(ctx))),))
erfc_op = elementwise_unary("erfc", special("erfc"), chlo.erfc, vjp=_erfc_vjp)
erf_inv_op = elementwise_unary("erf_inv", special("erfinv"), chlo.erf_inv, vjp=_erf_inv_vjp)
bessel_i1e_op = elementwise_unary("bessel_i1e", special("i1e"), chlo.bessel_i1e, vjp=_i1e_vjp)

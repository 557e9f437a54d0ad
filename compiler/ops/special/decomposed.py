"""bessel_i0e and ndtri, written out in StableHLO (StableHLO and CHLO have neither): i0e by its
power series, or its asymptotic series for |x| > 20; ndtri by sqrt(2) erfinv(2p - 1) in the
centre and, in the tails, a rational first guess refined with Halley steps on erfc."""
from __future__ import annotations

import math

from jaxlib.mlir.dialects import chlo
from jaxlib.mlir.dialects import stablehlo as hlo

from ... import autodiff as A
from ...ir.types import TensorType
from ...registry import ELEMENTWISE, PURE, OpDef, register
from ..common import check_kind
from .emit import Emit, widened
from .refs import special

_SWITCH = 20.0  # |x| where the asymptotic series reaches float64 precision
_POWER_TERMS = 40  # the power series' terms: (x/2)**2k / k!**2 < 1e-23 * i0(x) at k = 40, x = 20
_ASYMPTOTIC_TERMS = 30


def _nested(e: Emit, ratios: list) -> object:
    """1 + r1 (1 + r2 (1 + r3 (...))) = sum_k r1 r2 ... rk, innermost first.

    NOTE: not as a running product term *= r_k: XLA regroups such a chain of constant
    multiplications for float32 scalars (x**40 times 1 / 40!**2), which overflows to NaN.
    """
    acc = e.c(1.0)
    for r in reversed(ratios):
        acc = hlo.add(e.c(1.0), hlo.multiply(r, acc))
    return acc


def _i0e(e: Emit, x):
    a = hlo.abs(x)
    # |x| <= 20: exp(-|x|) * sum_k (x**2 / 4)**k / k!**2 (positive terms: no cancellation)
    small = hlo.minimum(a, e.c(_SWITCH))
    quarter_sq = hlo.multiply(hlo.multiply(small, small), e.c(0.25))
    total = _nested(e, [hlo.divide(quarter_sq, e.c(k * k)) for k in range(1, _POWER_TERMS + 1)])
    series = hlo.multiply(total, hlo.exponential(hlo.negate(small)))
    # |x| > 20: (2 pi x)**-1/2 * sum_k prod_{j<=k} (2j - 1)**2 / (8 j x)
    big = hlo.maximum(a, e.c(_SWITCH))
    total = _nested(e, [hlo.divide(e.c((2 * k - 1) ** 2 / (8 * k)), big)
                        for k in range(1, _ASYMPTOTIC_TERMS + 1)])
    asymptotic = hlo.multiply(total, hlo.rsqrt(hlo.multiply(big, e.c(2 * math.pi))))
    return e.where(e.cmp(a, e.c(_SWITCH), "LE"), series, asymptotic)


# Abramowitz & Stegun 26.2.23: the upper-tail quantile to within 4.5e-4 for 0 < q <= 0.5.
_AS_NUM = [2.515517, 0.802853, 0.010328]
_AS_DEN = [1.0, 1.432788, 0.189269, 0.001308]
_HALLEY_STEPS = 3  # each roughly cubes the error: 4.5e-4 -> 1e-10 -> below float64's epsilon


def _ndtri(e: Emit, p):
    half = e.c(0.5)
    upper = e.cmp(p, half, "GT")
    q = e.where(upper, hlo.subtract(e.c(1.0), p), p)  # exact for p in [0.5, 1] (Sterbenz)
    inside = hlo.and_(e.cmp(q, e.c(0.0), "GT"), e.cmp(q, half, "LE"))
    q = e.where(inside, q, half)  # keep log() finite where the result is chosen below
    t = hlo.sqrt(hlo.multiply(e.c(-2.0), hlo.log(q)))
    z = hlo.subtract(hlo.divide(e.poly(t, _AS_NUM), e.poly(t, _AS_DEN)), t)  # <= 0
    for _ in range(_HALLEY_STEPS):
        # f(z) = ndtr(z) - q with ndtr(z) = erfc(-z / sqrt 2) / 2 (accurate in the lower tail)
        cdf = hlo.multiply(half, chlo.erfc(hlo.multiply(z, e.c(-1 / math.sqrt(2)))))
        pdf = hlo.multiply(e.c(1 / math.sqrt(2 * math.pi)),
                           hlo.exponential(hlo.multiply(hlo.multiply(z, z), e.c(-0.5))))
        u = hlo.divide(hlo.subtract(cdf, q), pdf)
        step = hlo.divide(u, hlo.add(e.c(1.0), hlo.multiply(hlo.multiply(z, u), half)))
        z = e.where(e.cmp(pdf, e.c(0.0), "GT"), hlo.subtract(z, step), z)
    z = e.where(upper, hlo.negate(z), z)
    # the centre: sqrt(2) erfinv(2p - 1) keeps relative accuracy near p = 0.5 (2p - 1 is exact)
    centre = hlo.multiply(e.c(math.sqrt(2)), chlo.erf_inv(hlo.subtract(hlo.add(p, p), e.c(1.0))))
    middle = hlo.and_(e.cmp(p, e.c(0.25), "GE"), e.cmp(p, e.c(0.75), "LE"))
    z = e.where(middle, centre, z)
    nan, inf = e.c(math.nan), e.c(math.inf)
    z = e.where(inside, z, nan)
    z = e.where(e.cmp(p, e.c(0.0), "EQ"), hlo.negate(inf), z)
    return e.where(e.cmp(p, e.c(1.0), "EQ"), inf, z)


def _float_unary(name: str, reference, body, vjp) -> OpDef:
    def infer(x: TensorType) -> TensorType:
        check_kind(x, "f")
        return x

    return register(OpDef(name, infer, widened(body), reference, vjp,
                          frozenset({ELEMENTWISE, PURE})))


def _i0e_vjp(ctx, g):
    x, y = ctx.inputs[0], ctx.outputs[0]
    return (A.mul(g, A.sub(A.op("bessel_i1e", x), A.mul(A.op("sign", x), y))),)


def _ndtri_vjp(ctx, g):
    y = ctx.outputs[0]
    dt = ctx.types_in[0].dtype
    d = A.mul(A.const(math.sqrt(2 * math.pi), dt),
              A.op("exp", A.mul(A.mul(y, y), A.const(0.5, dt))))
    return (A.mul(g, d),)


bessel_i0e_op = _float_unary("bessel_i0e", special("i0e"), _i0e, _i0e_vjp)
ndtri_op = _float_unary("ndtri", special("ndtri"), _ndtri, _ndtri_vjp)

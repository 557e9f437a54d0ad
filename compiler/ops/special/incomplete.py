"""igamma / igammac (regularized incomplete gamma P and Q, and dP/da for their gradient) and
betainc (regularized incomplete beta), as while loops in StableHLO: the power series of P where
x < max(a, 1), else the continued fraction of Q (both carrying d/da forward, as XLA's own
Igamma does); betainc by the continued fraction of Numerical Recipes' betacf, with the
symmetry I_x(a, b) = 1 - I_(1-x)(b, a) past the mean."""
from __future__ import annotations

import math

import numpy as np
from jaxlib.mlir.dialects import chlo
from jaxlib.mlir.dialects import stablehlo as hlo

from ... import autodiff as A
from ...ir.types import TensorType
from ...lowering import helpers as H
from ...registry import ELEMENTWISE, NOT_DIFFERENTIABLE, PURE, OpDef, register
from ..common import broadcast_types, check_kind, same_dtype
from . import refs
from .emit import Emit, iterate, widened
from .refs import in_f32, scipy_special

_MAX_ITER = 2000  # as XLA's Igamma; each loop stops as soon as every element has converged


def _eps(e: Emit) -> float:
    return float(np.finfo(np.float64 if e.t.dtype.bits == 64 else np.float32).eps)


def _series(e: Emit, a, x, grad: bool):
    """sum_n x**n / ((a+1)...(a+n)) and (if `grad`) its derivative in a."""
    eps = e.c(_eps(e))

    def step(n, term, dterm, total, dtotal):
        n = hlo.add(n, e.c(1.0))
        ap = hlo.add(a, n)
        r = hlo.divide(x, ap)
        if grad:
            dterm = hlo.subtract(hlo.multiply(dterm, r), hlo.divide(hlo.multiply(term, r), ap))
        term = hlo.multiply(term, r)
        busy = e.cmp(hlo.abs(term), hlo.multiply(hlo.abs(total), eps), "GT")
        dtotal = hlo.add(dtotal, dterm) if grad else dtotal
        return [n, term, dterm, hlo.add(total, term), dtotal], busy

    one, zero = e.c(1.0), e.c(0.0)
    _, _, _, total, dtotal = iterate(e, [zero, one, zero, one, zero], step, _MAX_ITER)
    return total, dtotal


def _continued_fraction(e: Emit, a, x, grad: bool):
    """The continued fraction of Q(a, x) * Gamma(a) / (x**a e**-x) (Cephes' igamc recurrence,
    rescaled against overflow) and (if `grad`) its derivative in a."""
    eps, big = e.c(_eps(e)), e.c(2.0**50)
    y = hlo.subtract(e.c(1.0), a)
    z = hlo.add(hlo.add(x, y), e.c(1.0))
    zero, one = e.c(0.0), e.c(1.0)
    qkm1 = hlo.multiply(z, x)
    ans = hlo.divide(hlo.add(x, one), qkm1)
    dans = hlo.divide(hlo.multiply(hlo.add(x, one), x), hlo.multiply(qkm1, qkm1))

    def step(c, y, z, pkm2, qkm2, pkm1, qkm1, dpkm2, dqkm2, dpkm1, dqkm1, ans, dans):
        c, y, z = hlo.add(c, one), hlo.add(y, one), hlo.add(z, e.c(2.0))
        yc = hlo.multiply(y, c)
        pk = hlo.subtract(hlo.multiply(pkm1, z), hlo.multiply(pkm2, yc))
        qk = hlo.subtract(hlo.multiply(qkm1, z), hlo.multiply(qkm2, yc))
        dpk, dqk = dpkm1, dqkm1
        if grad:  # d/da: dz = -1, d(yc) = -c
            dpk = hlo.add(hlo.subtract(hlo.subtract(hlo.multiply(dpkm1, z), pkm1),
                                       hlo.multiply(dpkm2, yc)), hlo.multiply(pkm2, c))
            dqk = hlo.add(hlo.subtract(hlo.subtract(hlo.multiply(dqkm1, z), qkm1),
                                       hlo.multiply(dqkm2, yc)), hlo.multiply(qkm2, c))
        nonzero = e.cmp(qk, zero, "NE")
        safe_qk = e.where(nonzero, qk, one)
        r = hlo.divide(pk, safe_qk)
        dr = hlo.divide(hlo.subtract(dpk, hlo.multiply(r, dqk)), safe_qk) if grad else dans
        busy = hlo.and_(nonzero, e.cmp(hlo.abs(hlo.subtract(ans, r)),
                                       hlo.multiply(eps, hlo.abs(r)), "GT"))
        ans, dans = e.where(nonzero, r, ans), e.where(nonzero, dr, dans)
        scale = e.where(e.cmp(hlo.abs(pk), big, "GT"), e.c(2.0**-50), one)
        vals = [hlo.multiply(v, scale) for v in (pkm1, qkm1, pk, qk, dpkm1, dqkm1, dpk, dqk)]
        return [c, y, z, *vals, ans, dans], busy

    init = [zero, y, z, one, x, hlo.add(x, one), qkm1, zero, zero, zero, hlo.negate(x),
            ans, dans]
    out = iterate(e, init, step, _MAX_ITER)
    return out[-2], out[-1]


def _igamma_parts(e: Emit, a, x, grad: bool = False):
    """(P, Q, dP/da if `grad`) for a > 0, x > 0 finite (other elements: placeholder values)."""
    one, two = e.c(1.0), e.c(2.0)
    use_series = hlo.or_(e.cmp(x, one, "LT"), e.cmp(x, a, "LT"))  # TF's (Eigen's) regimes
    sa, sx = e.where(use_series, a, one), e.where(use_series, x, e.c(0.5))
    ca, cx = e.where(use_series, one, a), e.where(use_series, two, x)
    total, dtotal = _series(e, sa, sx, grad)
    log_sx = hlo.log(sx)
    # P = x**a e**-x / Gamma(a + 1) * total
    front = hlo.exponential(hlo.subtract(hlo.subtract(hlo.multiply(sa, log_sx), sx),
                                         chlo.lgamma(hlo.add(sa, one))))
    p_series = hlo.multiply(front, total)
    dlog = hlo.subtract(log_sx, chlo.digamma(hlo.add(sa, one)))
    dp_series = hlo.multiply(front, hlo.add(hlo.multiply(dlog, total), dtotal))
    frac, dfrac = _continued_fraction(e, ca, cx, grad)
    log_cx = hlo.log(cx)
    front = hlo.exponential(hlo.subtract(hlo.subtract(hlo.multiply(ca, log_cx), cx),
                                         chlo.lgamma(ca)))
    q_frac = hlo.multiply(front, frac)
    dq = hlo.multiply(front, hlo.add(hlo.multiply(hlo.subtract(log_cx, chlo.digamma(ca)), frac),
                                     dfrac))
    p = e.where(use_series, p_series, hlo.subtract(one, q_frac))
    q = e.where(use_series, hlo.subtract(one, p_series), q_frac)
    return p, q, e.where(use_series, dp_series, hlo.negate(dq))


def _edges(e: Emit, a, x, value, *, upper: bool):
    """TF's values off the interior: x == 0, x = inf, a = inf, and NaN out of the domain."""
    zero, one, inf = e.c(0.0), e.c(1.0), e.c(math.inf)
    bad = hlo.or_(hlo.or_(e.cmp(x, zero, "LT"), e.cmp(a, zero, "LE")),
                  hlo.or_(e.cmp(x, x, "NE"), e.cmp(a, a, "NE")))
    x_inf, a_inf, x_zero = e.cmp(x, inf, "EQ"), e.cmp(a, inf, "EQ"), e.cmp(x, zero, "EQ")
    if upper:
        out = e.where(a_inf, one, value)
        out = e.where(x_inf, zero, out)
        out = e.where(x_zero, one, out)
        return e.where(bad, e.c(math.nan), out)
    out = e.where(x_inf, one, value)
    out = e.where(a_inf, zero, out)
    out = e.where(bad, e.c(math.nan), out)
    return e.where(x_zero, zero, out)  # TF: igamma(a, 0) is 0 before any domain check


def _interior(e: Emit, a, x):
    """a and x with everything outside 0 < a < inf, 0 < x < inf replaced by 1."""
    zero, inf, one = e.c(0.0), e.c(math.inf), e.c(1.0)
    ok = hlo.and_(hlo.and_(e.cmp(a, zero, "GT"), e.cmp(a, inf, "LT")),
                  hlo.and_(e.cmp(x, zero, "GT"), e.cmp(x, inf, "LT")))
    return e.where(ok, a, one), e.where(ok, x, one)


def _igamma(e, a, x):
    return _edges(e, a, x, _igamma_parts(e, *_interior(e, a, x))[0], upper=False)


def _igammac(e, a, x):
    return _edges(e, a, x, _igamma_parts(e, *_interior(e, a, x))[1], upper=True)


def _igamma_grad_a(e, a, x):
    da = _igamma_parts(e, *_interior(e, a, x), grad=True)[2]
    zero = e.c(0.0)
    interior = hlo.and_(hlo.and_(e.cmp(a, zero, "GT"), e.cmp(x, zero, "GT")),
                        hlo.and_(e.cmp(a, e.c(math.inf), "LT"), e.cmp(x, e.c(math.inf), "LT")))
    return e.where(interior, da, e.where(e.cmp(x, zero, "EQ"), zero, e.c(math.nan)))


def _igamma_density(x, a, dt):
    """d/dx P(a, x) = x**(a-1) e**-x / Gamma(a)."""
    log_d = A.sub(A.sub(A.op("xlogy", A.sub(a, A.const(1, dt)), x), x), A.op("lgamma", a))
    return A.op("exp", log_d)


def _igamma_vjp(sign: int):
    def vjp(ctx, g):
        a, x = ctx.inputs
        dt = ctx.types_in[0].dtype
        da = dx = None
        if ctx.needs[0]:
            da = A.mul(g, A.op("igamma_grad_a", a, x))
            da = A.neg(da) if sign < 0 else da
        if ctx.needs[1]:
            dx = A.mul(g, _igamma_density(x, a, dt))
            dx = A.neg(dx) if sign < 0 else dx
        return da, dx

    return vjp


def _binary_float(name, reference, body, vjp) -> OpDef:
    def infer(a: TensorType, x: TensorType) -> TensorType:
        same_dtype(a, x)
        check_kind(a, "f")
        return TensorType(a.dtype, broadcast_types(a, x))

    inner = widened(body)

    def lower(ctx, a, x):
        out = ctx.type_out
        ta, tx = ctx.types_in
        return inner(_Ctx(ctx, (out, out)), H.broadcast(a, ta, out), H.broadcast(x, tx, out))

    lower.takes_ctx = True  # type: ignore[attr-defined]
    if callable(vjp):
        vjp = A.unbroadcast(vjp)
    return register(OpDef(name, infer, lower, reference, vjp, frozenset({ELEMENTWISE, PURE})))


class _Ctx:
    """The op's lowering context with the operand types replaced (operands broadcast first)."""

    def __init__(self, ctx, types_in):
        self.types_in, self.types_out, self.type_out = types_in, ctx.types_out, ctx.type_out


def _grad_a_reference(a, x):
    """dP/da by central differences of scipy's gammainc (a test and folding reference only)."""
    sp = scipy_special()
    a64, x64 = a.astype(np.float64), x.astype(np.float64)
    h = 1e-6 * np.maximum(1.0, np.abs(a64))
    return ((sp.gammainc(a64 + h, x64) - sp.gammainc(a64 - h, x64)) / (2 * h)).astype(a.dtype)


igamma_op = _binary_float("igamma", in_f32(refs.igamma), _igamma, _igamma_vjp(1))
igammac_op = _binary_float("igammac", in_f32(lambda a, x: refs.igamma(a, x, upper=True)),
                           _igammac, _igamma_vjp(-1))
igamma_grad_a_op = _binary_float("igamma_grad_a", _grad_a_reference, _igamma_grad_a,
                                 NOT_DIFFERENTIABLE)


# ---------------------------------------------------------------- betainc
_TINY = 1e-30  # Lentz's guard against a zero denominator


def _betacf(e: Emit, a, b, x):
    """The continued fraction of I_x(a, b) * a * B(a, b) / (x**a (1-x)**b), by Lentz's method
    (two partial numerators per step: the even d_2m and the odd d_2m+1)."""
    one, tiny, eps = e.c(1.0), e.c(_TINY), e.c(_eps(e))
    qab, qap, qam = hlo.add(a, b), hlo.add(a, one), hlo.subtract(a, one)

    def guard(v):
        return e.where(e.cmp(hlo.abs(v), tiny, "LT"), tiny, v)

    def lentz(c, d, h, aa):
        d = hlo.divide(one, guard(hlo.add(one, hlo.multiply(aa, d))))
        c = guard(hlo.add(one, hlo.divide(aa, c)))
        return c, d, hlo.multiply(h, hlo.multiply(d, c)), hlo.multiply(d, c)

    def step(m, c, d, h):
        m = hlo.add(m, one)
        m2 = hlo.add(m, m)
        even = hlo.divide(hlo.multiply(hlo.multiply(m, hlo.subtract(b, m)), x),
                          hlo.multiply(hlo.add(qam, m2), hlo.add(a, m2)))
        c, d, h, _ = lentz(c, d, h, even)
        odd = hlo.negate(hlo.divide(hlo.multiply(hlo.multiply(hlo.add(a, m), hlo.add(qab, m)), x),
                                    hlo.multiply(hlo.add(a, m2), hlo.add(qap, m2))))
        c, d, h, delta = lentz(c, d, h, odd)
        busy = e.cmp(hlo.abs(hlo.subtract(delta, one)), eps, "GT")
        return [m, c, d, h], busy

    d0 = hlo.divide(one, guard(hlo.subtract(one, hlo.divide(hlo.multiply(qab, x), qap))))
    return iterate(e, [e.c(0.0), one, d0, d0], step, _MAX_ITER)[3]


def _betainc(e: Emit, a, b, x):
    zero, one, nan = e.c(0.0), e.c(1.0), e.c(math.nan)
    bad = hlo.or_(hlo.or_(e.cmp(a, zero, "LE"), e.cmp(b, zero, "LE")),
                  hlo.or_(e.cmp(x, zero, "LT"), e.cmp(x, one, "GT")))
    bad = hlo.or_(bad, hlo.or_(hlo.or_(e.cmp(a, a, "NE"), e.cmp(b, b, "NE")), e.cmp(x, x, "NE")))
    inside = hlo.and_(hlo.not_(bad), hlo.and_(e.cmp(x, zero, "GT"), e.cmp(x, one, "LT")))
    given_x = x
    a = e.where(inside, a, one)
    b = e.where(inside, b, one)
    x = e.where(inside, x, e.c(0.5))
    # past the mean (a + 1) / (a + b + 2) the fraction converges faster for 1 - x, with a, b
    # swapped: I_x(a, b) = 1 - I_(1-x)(b, a)
    swap = e.cmp(x, hlo.divide(hlo.add(a, one), hlo.add(hlo.add(a, b), e.c(2.0))), "GT")
    sa, sb = e.where(swap, b, a), e.where(swap, a, b)
    sx = e.where(swap, hlo.subtract(one, x), x)
    lbeta = hlo.subtract(hlo.add(chlo.lgamma(sa), chlo.lgamma(sb)), chlo.lgamma(hlo.add(sa, sb)))
    log_front = hlo.subtract(hlo.add(hlo.multiply(sa, hlo.log(sx)),
                                     hlo.multiply(sb, hlo.log_plus_one(hlo.negate(sx)))), lbeta)
    value = hlo.divide(hlo.multiply(hlo.exponential(log_front), _betacf(e, sa, sb, sx)), sa)
    value = e.where(swap, hlo.subtract(one, value), value)
    out = e.where(inside, value, e.where(e.cmp(given_x, zero, "EQ"), zero, one))
    return e.where(bad, nan, out)


def _betainc_infer(a: TensorType, b: TensorType, x: TensorType) -> TensorType:
    same_dtype(a, b, x)
    check_kind(a, "f")
    shape = broadcast_types(a, b)
    return TensorType(a.dtype, broadcast_types(TensorType(a.dtype, shape), x))


def _betainc_lower(ctx, a, b, x):
    out = ctx.type_out
    xs = [H.broadcast(v, t, out) for v, t in zip((a, b, x), ctx.types_in)]
    return widened(_betainc)(_Ctx(ctx, (out, out, out)), *xs)


_betainc_lower.takes_ctx = True  # type: ignore[attr-defined]


def _betainc_vjp(ctx, g):
    # d/dx I_x(a, b) = x**(a-1) (1-x)**(b-1) / B(a, b); TF gives no gradient for a and b
    a, b, x = ctx.inputs
    dt = ctx.types_in[0].dtype
    one = A.const(1, dt)
    log_d = A.add(A.op("xlogy", A.sub(a, one), x), A.op("xlog1py", A.sub(b, one), A.neg(x)))
    lbeta = A.sub(A.add(A.op("lgamma", a), A.op("lgamma", b)), A.op("lgamma", A.add(a, b)))
    return None, None, A.mul(g, A.op("exp", A.sub(log_d, lbeta)))


betainc_op = register(OpDef("betainc", _betainc_infer, _betainc_lower, in_f32(refs.betainc),
                            A.unbroadcast(_betainc_vjp), frozenset({ELEMENTWISE, PURE})))

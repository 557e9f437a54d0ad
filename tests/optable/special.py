"""Op-table entries for tf.math's special functions and inverse/hyperbolic trig (scipy.special
and numpy references); their edge values against TF itself: tests/ops/test_special_oracle.py."""
from __future__ import annotations

import numpy as np
import scipy.special as sp

import tfx_core as tx

from . import OpInfo, Sample

F32_64 = (tx.float32, tx.float64)
F32 = (tx.float32,)  # CHLO ops XLA expands the same way per width (float64 edges: the oracle)
HALF = (tx.float16, tx.float32)
# float16 references run in float32 and round back; XLA widens f16 to f32 the same way
TOL = {"float16": (4e-3, 4e-3), "float32": (2e-5, 2e-6), "float64": (1e-11, 1e-13)}
SHAPES = {tx.float32: [(), (0,), (2, 3)], tx.float64: [(4,)], tx.float16: [(5,)]}


def _f(rng, shape, dtype, lo, hi):
    return np.asarray(rng.uniform(lo, hi, size=shape)).astype(dtype.np_dtype)


def _ref(fn):
    """A float64 reference rounded to the input's dtype."""

    def ref(*xs, **kw):
        out = fn(*[x.astype(np.float64) if isinstance(x, np.ndarray) else x for x in xs], **kw)
        return np.asarray(out).astype(xs[0].dtype)

    return ref


def unary(name, fn, ref, lo, hi, ops, dtypes=F32, **kw) -> OpInfo:
    def samples(rng, dtype):
        return [Sample((_f(rng, s, dtype, lo, hi),)) for s in SHAPES[dtype]]

    return OpInfo(name, fn, _ref(ref), samples, dtypes, tuple(ops), tol=TOL, **kw)


def _i0e_samples(rng, dtype):
    """Both sides of the series/asymptotic switch at |x| = 20, and 0."""
    out = [Sample((_f(rng, s, dtype, -6, 6),)) for s in SHAPES[dtype]]
    edge = [0.0, -19.9, 20.1, 35.0, -80.0] if dtype is not tx.float16 else [0.0, 3.0, -9.0]
    return [*out, Sample((np.array(edge, dtype.np_dtype),))]


def _ndtri_samples(rng, dtype):
    """The centre (erfinv) and both tails (Halley steps) of ndtri; the tails only in float64,
    as finite differences cannot resolve them (the gradient test uses the float32 samples)."""
    out = [Sample((_f(rng, s, dtype, 0.02, 0.98),)) for s in SHAPES[dtype]]
    if dtype is tx.float64:
        out.append(Sample((np.array([1e-12, 1e-5, 0.2, 0.26, 0.74, 0.8, 1 - 1e-6],
                                    dtype.np_dtype),)))
    return out


def _pair(lo_a, hi_a, lo_b, hi_b, shapes=((2, 3), (2, 3)), broadcast_only=False):
    """Same-shape operands (not for float32 when `broadcast_only`: the costly while-loop ops
    keep their test time down) and, for float32, a broadcasting pair."""

    def samples(rng, dtype):
        sa, sb = shapes if dtype is tx.float32 else ((4,), (4,))
        out = [Sample((_f(rng, sa, dtype, lo_a, hi_a), _f(rng, sb, dtype, lo_b, hi_b)))]
        if broadcast_only and dtype is tx.float32:
            out = []
        if dtype is tx.float32:  # broadcasting
            out.append(Sample((_f(rng, (3,), dtype, lo_a, hi_a),
                               _f(rng, (2, 1), dtype, lo_b, hi_b))))
        return out

    return samples


def _static_first(lo, hi, values):
    """One float array argument x plus a static first operand (n, s, ...) per sample."""

    def samples(rng, dtype):
        shape = (2, 3) if dtype is tx.float32 else (4,)
        return [Sample((_f(rng, shape, dtype, lo, hi), v)) for v in values]

    return samples


def _grad_a(a, x):
    """d/da igamma(a, x) through the tape (the igamma_grad_a op)."""
    with tx.GradientTape() as tape:
        tape.watch(a)
        y = tx.math.igamma(a, x)
    return tape.gradient(y, a)


def _grad_a_ref(a, x):
    h = 1e-6 * np.maximum(1.0, np.abs(a))
    return (sp.gammainc(a + h, x) - sp.gammainc(a - h, x)) / (2 * h)


_INCOMPLETE = _pair(0.3, 6, 0.05, 9, broadcast_only=True)
_LOOSE = {**TOL, "float32": (1e-4, 2e-6), "float64": (1e-10, 1e-13)}  # series, fractions

ENTRIES = [
    unary("acos", tx.math.acos, np.arccos, -0.95, 0.95, ["acos"], HALF),
    unary("asin", tx.math.asin, np.arcsin, -0.95, 0.95, ["asin"]),
    unary("atan", tx.math.atan, np.arctan, -4, 4, ["atan"]),
    unary("acosh", tx.math.acosh, np.arccosh, 1.1, 5, ["acosh"]),
    unary("asinh", tx.math.asinh, np.arcsinh, -4, 4, ["asinh"], HALF),
    unary("atanh", tx.math.atanh, np.arctanh, -0.9, 0.9, ["atanh"]),
    unary("sinh", tx.math.sinh, np.sinh, -4, 4, ["sinh"]),
    unary("cosh", tx.math.cosh, np.cosh, -4, 4, ["cosh"], HALF),
    unary("lgamma", tx.math.lgamma, sp.gammaln, -3.9, 6, ["lgamma"], (*HALF, tx.float64),
          grad="kinks: the poles at 0, -1, -2, -3"),
    unary("digamma", tx.math.digamma, sp.digamma, 0.2, 6, ["digamma"], F32_64),
    unary("erfc", tx.math.erfc, sp.erfc, -3, 3, ["erfc"], HALF),
    unary("erfinv", tx.math.erfinv, sp.erfinv, -0.95, 0.95, ["erf_inv"]),
    unary("erfcinv", tx.math.erfcinv, sp.erfcinv, 0.05, 1.95, ["ndtri"]),
    OpInfo("ndtri", tx.math.ndtri, _ref(sp.ndtri), _ndtri_samples, (*HALF, tx.float64),
           ("ndtri",), tol=TOL),
    OpInfo("bessel_i0e", tx.math.bessel_i0e, _ref(sp.i0e), _i0e_samples, (*HALF, tx.float64),
           ("bessel_i0e",),
           tol=TOL, grad="kinks: |x| at 0"),
    unary("bessel_i1e", tx.math.bessel_i1e, sp.i1e, -6, 6, ["bessel_i1e"], HALF,
          grad="kinks: |x| at 0"),
    unary("bessel_i0", tx.math.bessel_i0, sp.i0, -6, 6, ["bessel_i0e", "exp"]),
    unary("bessel_i1", tx.math.bessel_i1, sp.i1, -6, 6, ["bessel_i1e", "exp"]),
    OpInfo("lbeta", tx.math.lbeta,
           _ref(lambda x: np.sum(sp.gammaln(x), -1) - sp.gammaln(np.sum(x, -1))),
           lambda rng, dt: [Sample((_f(rng, s, dt, 0.2, 5),)) for s in [(2, 3), (3,)][
               : 2 if dt is tx.float32 else 1]], F32_64, ("lgamma", "reduce_sum"), tol=TOL),
    OpInfo("polygamma", lambda x, n: tx.math.polygamma(n, x),
           _ref(lambda x, n: sp.polygamma(n, x)), _static_first(0.3, 5, [0.0, 1.0, 3.0]),
           F32_64, ("polygamma",), tol={**TOL, "float32": (1e-4, 1e-5)}),
    OpInfo("zeta", lambda q, s: tx.math.zeta(s, q), _ref(lambda q, s: sp.zeta(s, q)),
           _static_first(0.3, 4, [1.5, 4.0]), F32_64, ("zeta",),
           tol={**TOL, "float32": (1e-4, 1e-5)}),
    OpInfo("nextafter", tx.math.nextafter, lambda a, b: np.nextafter(a, b), _pair(-2, 2, -2, 2),
           F32_64, ("next_after",), grad="no gradient (TF registers none for NextAfter)"),
    OpInfo("igamma", tx.math.igamma, _ref(sp.gammainc), _INCOMPLETE, F32_64, ("igamma",),
           tol=_LOOSE),
    OpInfo("igammac", tx.math.igammac, _ref(sp.gammaincc), _INCOMPLETE, F32_64, ("igammac",),
           tol=_LOOSE),
    OpInfo("igamma_grad_a", _grad_a, _ref(_grad_a_ref), _pair(0.3, 6, 0.05, 9),
           (tx.float64,), ("igamma_grad_a",), tol={"float64": (1e-6, 1e-8)},
           grad="second order: TF has no gradient for IgammaGradA"),
    OpInfo("betainc", lambda x, a, b: tx.math.betainc(a, b, x),
           _ref(lambda x, a, b: sp.betainc(a, b, x)),
           lambda rng, dt: [Sample((_f(rng, (2, 3) if dt is tx.float32 else (4,), dt, 0.02,
                                       0.98), *ab))
                            for ab in ([(0.5, 3.0)] if dt is tx.float32 else [(4.0, 1.5)])],
           F32_64, ("betainc",), tol={**TOL, "float32": (1e-4, 2e-6), "float64": (1e-10, 1e-13)}),
]

"""Poisson and binomial samples (tf.random.poisson, stateless_poisson, stateless_binomial,
Generator.binomial): inversion for small means, Hormann's transformed rejection (PTRS / BTRS,
as TF) for means >= 10, each as a fixed number of masked rounds; the work is in float64."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import F16, F32, F64, I32, I64, DType
from tfx_core.framework.operands import Tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_ints
from tfx_core.ops.math.arithmetic import xlogy
from tfx_core.ops.math.special import lgamma
from tfx_core.ops.reduction_ops import reduce_sum
from tfx_core.ops.sampling.seeds import (
    first_accepted,
    fits,
    open_uniform,
    param,
    run_compiled,
    stateful_seed,
    streams,
)
from tfx_core.ops.sort_ops import cumsum

TensorLike = Any
OUT_DTYPES = (F16, F32, F64, I32, I64)
# Inversion sums the CDF over k < TERMS: with a mean below 10 the mass beyond 60 is < 1e-25.
TERMS = 60
# A transformed-rejection round accepts with probability > 0.85 at means >= 10: 12 rounds all
# reject with probability < 1e-10 (such an element keeps the rounded mean).
ROUNDS = 12
SMALL_MEAN = 10.0


def _c(v: float) -> np.ndarray:
    return np.asarray(v, np.float64)


def _dtype(name: str, dtype: Any, what: str = "dtype") -> DType:
    dt = DType.from_any(dtype)
    if dt not in OUT_DTYPES:
        raise op_error(name, f"{what} must be float16, float32, float64, int32 or int64, got "
                       f"{dt.name}", TypeError)
    return dt


def _f64(value: Any, name: str, what: str) -> Tensor:
    t = param(value, F64, name, what) if not isinstance(value, Tensor) else value
    if not (t.dtype.is_floating or t.dtype in (I32, I64)):
        raise op_error(name, f"{what} must be a float or int32/int64 tensor, got {t.type}",
                       TypeError)
    return param(t, F64, name, what)


def _inversion(shape: tuple, u: Tensor, log_pmf) -> Tensor:
    """The count k with CDF(k-1) < u <= CDF(k), the CDF summed over k < TERMS from
    log_pmf(j), j an float64 [TERMS, 1, ...] tensor of 0..TERMS-1."""
    j = A.reshape(np.arange(TERMS, dtype=np.float64), (TERMS, *([1] * len(shape))))
    cdf = cumsum(M.exp(log_pmf(j)), axis=0)
    return reduce_sum(M.cast(M.less(cdf, u), F64), axis=0)


def _rounds(shape: tuple, seeds: tuple, start: Tensor, step) -> Tensor:
    """The first accepted candidate of ROUNDS rounds: step(u - 1/2, v) -> (k, accepted)
    on [ROUNDS, *shape] uniforms."""
    u = open_uniform((ROUNDS, *shape), seeds[0], F64)
    v = open_uniform((ROUNDS, *shape), seeds[1], F64)
    cand, ok = step(M.subtract(u, _c(0.5)), v)
    return first_accepted(ok, cand, start)


def _poisson64(lam: Tensor, seed: Tensor, shape: tuple) -> Tensor:
    s = streams(seed, 3, "poisson")
    lam = A.broadcast_to(lam, shape)
    small = M.less(lam, _c(SMALL_MEAN))
    ls = M.where(small, lam, _c(0.0))  # each branch sees safe parameters
    low = _inversion(shape, open_uniform(shape, s[0], F64),
                     lambda j: M.subtract(M.subtract(xlogy(j, ls), ls),
                                          lgamma(M.add(j, _c(1.0)))))
    lb = M.where(small, _c(SMALL_MEAN), lam)
    slam, loglam = M.sqrt(lb), M.log(lb)
    b = M.add(M.multiply(slam, _c(2.53)), _c(0.931))
    a = M.add(M.multiply(b, _c(0.02483)), _c(-0.059))
    inv_alpha = M.add(M.divide(_c(1.1328), M.subtract(b, _c(3.4))), _c(1.1239))
    vr = M.subtract(_c(0.9277), M.divide(_c(3.6224), M.subtract(b, _c(2.0))))

    def step(u, v):  # PTRS (Hormann 1993)
        us = M.subtract(_c(0.5), M.abs(u))
        k = M.floor(M.add(M.multiply(M.add(M.divide(M.multiply(a, _c(2.0)), us), b), u),
                          M.add(lb, _c(0.43))))
        quick = M.logical_and(M.greater_equal(us, _c(0.07)), M.less_equal(v, vr))
        bad = M.logical_or(M.less(k, _c(0.0)),
                           M.logical_and(M.less(us, _c(0.013)), M.greater(v, us)))
        lhs = M.add(M.log(M.multiply(v, inv_alpha)),
                    M.negative(M.log(M.add(M.divide(a, M.square(us)), b))))
        rhs = M.subtract(M.subtract(M.multiply(M.maximum(k, _c(0.0)), loglam), lb),
                         lgamma(M.add(M.maximum(k, _c(0.0)), _c(1.0))))
        ok = M.logical_or(quick, M.logical_and(M.logical_not(bad), M.less_equal(lhs, rhs)))
        return k, ok

    high = _rounds(shape, (s[1], s[2]), M.floor(lb), step)
    out = M.where(small, low, high)
    # a negative or NaN lam: NaN (TF 2.21 did not return for them: tests/oracles/random_more.json)
    return M.where(M.greater_equal(lam, _c(0.0)), out, _c(np.nan))


def _binomial64(n: Tensor, p: Tensor, seed: Tensor, shape: tuple) -> Tensor:
    s = streams(seed, 3, "binomial")
    n, p = A.broadcast_to(n, shape), A.broadcast_to(p, shape)
    flip = M.greater(p, _c(0.5))  # sample the rarer outcome: q = min(p, 1 - p)
    q = M.where(flip, M.subtract(_c(1.0), p), p)
    q = M.minimum(M.maximum(q, _c(0.0)), _c(0.5))
    small = M.less(M.multiply(n, q), _c(SMALL_MEAN))
    qs = M.where(small, q, _c(0.0))
    lgn = lgamma(M.add(n, _c(1.0)))
    l1q = M.log1p(M.negative(qs))

    def log_pmf(j):  # log C(n, j) + j log q + (n - j) log(1 - q); -inf beyond n
        rest = M.subtract(n, j)
        lp = M.add(M.subtract(M.subtract(lgn, lgamma(M.add(j, _c(1.0)))),
                              lgamma(M.add(M.maximum(rest, _c(0.0)), _c(1.0)))),
                   M.add(xlogy(j, qs), M.multiply(rest, l1q)))
        return M.where(M.less(rest, _c(0.0)), _c(-np.inf), lp)

    low = _inversion(shape, open_uniform(shape, s[0], F64), log_pmf)
    # BTRS (Hormann 1993) on the elements with n q >= 10 (others get safe stand-ins)
    qb = M.where(small, _c(0.5), q)
    nb = M.where(small, _c(4 * SMALL_MEAN), n)
    spq = M.sqrt(M.multiply(M.multiply(nb, qb), M.subtract(_c(1.0), qb)))
    b = M.add(M.multiply(spq, _c(2.53)), _c(1.15))
    a = M.add(M.add(M.multiply(b, _c(0.0248)), M.multiply(qb, _c(0.01))), _c(-0.0873))
    c = M.add(M.multiply(nb, qb), _c(0.5))
    vr = M.subtract(_c(0.92), M.divide(_c(4.2), b))
    alpha = M.multiply(M.add(M.divide(_c(5.1), b), _c(2.83)), spq)
    lpq = M.log(M.divide(qb, M.subtract(_c(1.0), qb)))
    m = M.floor(M.multiply(M.add(nb, _c(1.0)), qb))
    h = M.add(lgamma(M.add(m, _c(1.0))), lgamma(M.add(M.subtract(nb, m), _c(1.0))))

    def step(u, v):
        us = M.subtract(_c(0.5), M.abs(u))
        k = M.floor(M.add(M.multiply(M.add(M.divide(M.multiply(a, _c(2.0)), us), b), u), c))
        inside = M.logical_and(M.greater_equal(k, _c(0.0)), M.less_equal(k, nb))
        quick = M.logical_and(M.greater_equal(us, _c(0.07)), M.less_equal(v, vr))
        kc = M.minimum(M.maximum(k, _c(0.0)), nb)
        lhs = M.log(M.divide(M.multiply(v, alpha), M.add(M.divide(a, M.square(us)), b)))
        rhs = M.add(M.subtract(M.subtract(h, lgamma(M.add(kc, _c(1.0)))),
                               lgamma(M.add(M.subtract(nb, kc), _c(1.0)))),
                    M.multiply(M.subtract(kc, m), lpq))
        return k, M.logical_and(inside, M.logical_or(quick, M.less_equal(lhs, rhs)))

    high = _rounds(shape, (s[1], s[2]), M.floor(M.multiply(nb, qb)), step)
    x = M.where(small, low, high)
    x = M.where(flip, M.subtract(n, x), x)
    # TF's answers for the edges: probs outside [0, 1] act as 0 or 1 (the clip above),
    # counts <= 0 give 0, a NaN parameter gives NaN
    x = M.where(M.greater(n, _c(0.0)), x, _c(0.0))
    return M.where(M.logical_or(M.is_nan(n), M.is_nan(p)), _c(np.nan), x)


def _out(x: Tensor, dt: DType) -> Tensor:
    return M.cast(x, dt)


def stateless_poisson(shape: Any, seed: TensorLike, lam: TensorLike, dtype: Any = I32,
                      name: str | None = None) -> Tensor:
    """Poisson(lam) samples of `shape` (lam broadcast to it), a function of `seed`
    (tf.random.stateless_poisson)."""
    n = "stateless_poisson"
    dt, dims = _dtype(n, dtype), static_ints(shape, n, "shape")
    lam64 = _f64(lam, n, "lam")
    fits(n, dims, tuple(lam64.shape), "lam")
    return _out(run_compiled(_poisson64, (lam64, streams(seed, 1, n)[0]), (dims,)), dt)


def poisson(shape: Any, lam: TensorLike, dtype: Any = F32, seed: Any = None,
            name: str | None = None) -> Tensor:
    """Poisson(lam) samples of shape `shape + lam.shape` from the global (or op-seed) stream
    (tf.random.poisson)."""
    n = "poisson"
    dt, dims = _dtype(n, dtype), static_ints(shape, n, "shape")
    lam64 = _f64(lam, n, "lam")
    return _out(run_compiled(_poisson64, (lam64, stateful_seed(seed, n)),
                             ((*dims, *lam64.shape),)), dt)


def stateless_binomial(shape: Any, seed: TensorLike, counts: TensorLike, probs: TensorLike,
                       output_dtype: Any = I32, name: str | None = None) -> Tensor:
    """Binomial(counts, probs) samples of `shape` (counts, probs broadcast to it), a function
    of `seed` (tf.random.stateless_binomial)."""
    n = "stateless_binomial"
    dt, dims = _dtype(n, output_dtype, "output_dtype"), static_ints(shape, n, "shape")
    c64, p64 = _f64(counts, n, "counts"), _f64(probs, n, "probs")
    fits(n, dims, tuple(c64.shape), "counts")
    fits(n, dims, tuple(p64.shape), "probs")
    return _out(run_compiled(_binomial64, (c64, p64, streams(seed, 1, n)[0]), (dims,)), dt)

"""Op table: tf.random's samplers (gamma, Poisson, binomial, categorical, shuffle,
parameterized truncated normal, split/fold_in), against numpy mirrors on the same bits.

The bits come from `compiler.ops.random.rng_bits` (threefry, checked bit for bit against XLA
in tests/ops/test_random.py); each mirror redoes the sampler's arithmetic in float64 on them
(the rejection rounds included), so eager and compiled runs must both give these values.
The statistics (KS / chi-square against scipy) are in tests/ops/test_random_distributions.py.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special

import tfx_core as tx
from compiler.ir.types import I64, U32
from compiler.ops.random import rng_bits
from tests.optable import OpInfo, Sample

ROUNDS_GAMMA, ROUNDS_DISCRETE, TERMS = 8, 12, 60
_NOT_DIFF = "random numbers: not differentiable (only int seeds and shapes)"


# ---------------------------------------------------------------- the bits, as the ops draw them
def _state(seed):
    return rng_bits(np.asarray(seed).astype(np.int64), (2,), I64)[1]


def _full(seed, shape, dtype=np.int64):
    """stateless_uniform(shape, seed, minval=None, maxval=None, dtype) for int32/int64."""
    return rng_bits(_state(seed), tuple(shape), I64)[1].astype(dtype)


def _stream(seed, i=0, n=1):
    return _full(seed, (n, 2))[i]


def _mantissa(w):
    return 52 if w == "float64" else 23


def _words(state, shape, w):
    m = _mantissa(w)
    state, bits = rng_bits(state, tuple(shape), I64 if m > 32 else U32)
    return state, (bits & np.array(2**m - 1, bits.dtype)).astype(np.float64) * 2.0**-m


def _open(seed, shape, w):
    return _words(_state(seed), shape, w)[1] + 2.0 ** -(_mantissa(w) + 1)


def _normal(seed, shape, w):
    st, u1 = _words(_state(seed), shape, w)
    _, u2 = _words(st, shape, w)
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)


def _work(dtype):
    return "float64" if tx.as_dtype(dtype).name == "float64" else "float32"


def _np(dtype):
    return tx.as_dtype(dtype).np_dtype


# ---------------------------------------------------------------- mirrors
def _gamma_ref(shape, seed, alpha, beta=None, dtype=tx.float32):
    w = _work(dtype)
    s = _stream(seed)
    a = np.broadcast_to(np.asarray(alpha, _np(dtype)).astype(np.float64), shape)
    small = a < 1
    d = np.where(small, a + 1, a) - 1 / 3
    c = 1 / np.sqrt(9 * d)
    z = _normal(_stream(s, 0, 3), (ROUNDS_GAMMA, *shape), w)
    logu = np.log(_open(_stream(s, 1, 3), (ROUNDS_GAMMA, *shape), w))
    x = d.copy()
    for r in reversed(range(ROUNDS_GAMMA)):
        t = 1 + c * z[r]
        v = t**3
        logv = np.log(np.where(t > 0, v, 1.0))
        ok = (t > 0) & (logu[r] < 0.5 * z[r] ** 2 + d * (1 - v + logv))
        x = np.where(ok, d * v, x)
    boost = np.exp(np.log(_open(_stream(s, 2, 3), shape, w)) / np.where(small, a, 1.0))
    x = np.maximum(np.where(small, x * boost, x), np.finfo(np.dtype(w)).tiny)
    x = np.where(a >= 0, x, np.nan)
    if beta is not None:
        x = x / np.asarray(beta, _np(dtype)).astype(np.float64)
    return x.astype(_np(dtype))


def _inversion(u, first, ratio):
    pmf = cdf = first
    k = (cdf < u).astype(np.float64)
    for j in range(TERMS - 1):
        pmf = np.maximum(pmf * ratio(j), 0.0)
        cdf = cdf + pmf
        k += cdf < u
    return k


def _rounds(seeds, shape, start, step):
    u = _open(seeds[0], (ROUNDS_DISCRETE, *shape), "float64")
    v = _open(seeds[1], (ROUNDS_DISCRETE, *shape), "float64")
    k = start
    for r in reversed(range(ROUNDS_DISCRETE)):
        cand, ok = step(u[r] - 0.5, v[r])
        k = np.where(ok, cand, k)
    return k


def _poisson_ref(shape, seed, lam, dtype=tx.int32):
    s = _stream(seed)
    lam = np.broadcast_to(np.asarray(lam, np.float64), shape)
    small = lam < 10
    ls = np.where(small, lam, 0.0)
    low = _inversion(_open(_stream(s, 0, 3), shape, "float64"), np.exp(-ls),
                     lambda j: ls / (j + 1.0))
    lb = np.where(small, 10.0, lam)
    b = 0.931 + 2.53 * np.sqrt(lb)
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)

    def step(u, v):
        us = 0.5 - np.abs(u)
        k = np.floor((2 * a / us + b) * u + lb + 0.43)
        quick = (us >= 0.07) & (v <= vr)
        bad = (k < 0) | ((us < 0.013) & (v > us))
        kk = np.maximum(k, 0.0)
        lhs = np.log(v * inv_alpha) - np.log(a / us**2 + b)
        return k, quick | (~bad & (lhs <= kk * np.log(lb) - lb - special.gammaln(kk + 1)))

    high = _rounds((_stream(s, 1, 3), _stream(s, 2, 3)), shape, np.floor(lb), step)
    return np.where(small, low, high).astype(_np(dtype))


def _binomial_ref(shape, seed, counts, probs, output_dtype=tx.int32):
    s = _stream(seed)
    n = np.broadcast_to(np.asarray(counts, np.float64), shape)
    p = np.broadcast_to(np.asarray(probs, np.float64), shape)
    flip = p > 0.5
    q = np.clip(np.where(flip, 1 - p, p), 0.0, 0.5)
    small = n * q < 10
    qs = np.where(small, q, 0.0)
    low = _inversion(_open(_stream(s, 0, 3), shape, "float64"), np.exp(n * np.log1p(-qs)),
                     lambda j: qs / (1 - qs) * ((n - j) / (j + 1.0)))
    qb, nb = np.where(small, 0.5, q), np.where(small, 40.0, n)
    spq = np.sqrt(nb * qb * (1 - qb))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * qb
    c, vr, alpha = nb * qb + 0.5, 0.92 - 4.2 / b, (2.83 + 5.1 / b) * spq
    m = np.floor((nb + 1) * qb)
    h = special.gammaln(m + 1) + special.gammaln(nb - m + 1)

    def step(u, v):
        us = 0.5 - np.abs(u)
        k = np.floor((2 * a / us + b) * u + c)
        kc = np.clip(k, 0.0, nb)
        lhs = np.log(v * alpha / (a / us**2 + b))
        rhs = (h - special.gammaln(kc + 1) - special.gammaln(nb - kc + 1)
               + (kc - m) * np.log(qb / (1 - qb)))
        return k, (k >= 0) & (k <= nb) & (((us >= 0.07) & (v <= vr)) | (lhs <= rhs))

    x = np.where(small, low, _rounds((_stream(s, 1, 3), _stream(s, 2, 3)), shape,
                                     np.floor(nb * qb), step))
    x = np.where(n > 0, np.where(flip, n - x, x), 0.0)
    return np.where(np.isnan(n) | np.isnan(p), np.nan, x).astype(_np(output_dtype))


def _categorical_ref(logits, num_samples, seed, dtype=tx.int64):
    x = np.asarray(logits)
    w = _work(x.dtype)
    u = _open(_stream(seed), (x.shape[0], num_samples, x.shape[1]), w)
    g = -np.log(-np.log(u))
    return np.argmax(x.astype(np.float64)[:, None, :] + g, axis=2).astype(_np(dtype))


def _shuffle_ref(value, seed):
    v = np.asarray(value)
    if v.ndim == 0 or v.shape[0] <= 1:
        return v
    keys = rng_bits(_state(_stream(seed)), (v.shape[0],), I64)[1]
    return v[np.argsort(keys, kind="stable")]


def _ptn_ref(shape, seed, means, stddevs, minvals, maxvals):
    dt = np.asarray(means).dtype
    mu, sd, lo, hi = (np.broadcast_to(np.asarray(v, dt).astype(np.float64), shape)
                      for v in (means, stddevs, minvals, maxvals))
    a, b = (lo - mu) / sd, (hi - mu) / sd
    flip = a > 0
    a2, b2 = np.where(flip, -b, a), np.where(flip, -a, b)
    pa, pb = (0.5 * special.erfc(-t / math.sqrt(2)) for t in (a2, b2))
    z = special.ndtri(pa + _open(_stream(seed), shape, "float64") * (pb - pa))
    z = np.clip(z, a2, b2)
    x = mu + sd * np.where(flip, -z, z)
    return np.where((sd > 0) & (lo < hi), x, np.nan).astype(dt)


def _split_ref(seed, num=2):
    return _full(seed, (num, 2), np.asarray(seed).dtype)


def _fold_in_ref(seed, data):
    d = np.asarray(data)
    return np.stack([_full(seed, (), d.dtype), d])


# ---------------------------------------------------------------- samples
S32 = np.array([1, 2], np.int32)
S64 = np.array([-7, 2**40], np.int64)


def _gamma_samples(rng, dtype):
    np_dt = _np(dtype)
    return [
        Sample(((4, 2), S32, np.array([[1.0], [3.0], [0.05], [50.0]], np_dt),
                np.array([2.0, 0.5], np_dt)), {"dtype": dtype}),
        Sample(((0, 2), S64, np.array(1.5, np_dt)), {"dtype": dtype}),
    ]


def _poisson_samples(rng, dtype):
    return [
        Sample(((2, 4), S64, np.array([0.0, 3.0, 10.0, 1e4])), {"dtype": dtype}),
        Sample(((5,), S32, np.array(2, np.int32)), {"dtype": dtype}),
    ]


def _binomial_samples(rng, dtype):
    return [
        Sample(((2, 4), S64, np.array([[5.0], [1000.0]]), np.array([0.3, 0.5, 0.97, 1.0])),
               {"output_dtype": dtype}),
    ]


def _categorical_samples(rng, dtype):
    logits = np.log(np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]])).astype(_np(dtype))
    return [Sample((logits, 7, S32)),
            Sample((np.array([[0.0, -np.inf, 1.0, 2.0]], _np(dtype)), 5, S64),
                   {"dtype": tx.int32})]


def _shuffle_samples(rng, dtype):
    return [Sample((np.arange(12, dtype=_np(dtype)).reshape(4, 3), S64)),
            Sample((np.array([5], _np(dtype)), S32))]


def _ptn_samples(rng, dtype):
    d = _np(dtype)
    return [
        Sample(((2, 3), S64, np.array(0.0, d), np.array([1.0, 0.5, 1.0], d),
                np.array([3.0, -np.inf, 1.0], d), np.array([8.0, -5.0, 1.5], d))),
    ]


def _seed_samples(rng, dtype):
    return [Sample((S32,), {"num": 3}), Sample((S64,), {"num": 1}), Sample((S64,), {"num": 0})]


def _fold_samples(rng, dtype):
    return [Sample((S32, np.array(7, np.int32))), Sample((S64, np.array(-3, np.int64)))]


_TOL = {"float32": (2e-5, 1e-6), "float64": (1e-10, 1e-12)}
ENTRIES = [
    OpInfo("stateless_gamma", tx.random.stateless_gamma, _gamma_ref, _gamma_samples,
           (tx.float32,), ops=("rng_bit_generator", "igamma_grad_a", "lgamma"),
           tol={"float32": (1e-4, 1e-6), "float64": (1e-9, 1e-12)},
           grad="implicit reparameterization, not the derivative of the rejection rounds: "
                "checked against scipy in tests/ops/test_random_distributions.py"),
    OpInfo("stateless_poisson", tx.random.stateless_poisson, _poisson_ref, _poisson_samples,
           (tx.int32,), ops=("rng_bit_generator", "lgamma", "floor"),
           grad=_NOT_DIFF),
    OpInfo("stateless_binomial", tx.random.stateless_binomial, _binomial_ref,
           _binomial_samples, (tx.int32,), ops=("rng_bit_generator", "log1p"),
           grad=_NOT_DIFF),
    OpInfo("stateless_categorical", tx.random.stateless_categorical, _categorical_ref,
           _categorical_samples, (tx.float32,), ops=("rng_bit_generator", "argmax"),
           grad=_NOT_DIFF),
    OpInfo("stateless_shuffle", tx.random.experimental.stateless_shuffle, _shuffle_ref,
           _shuffle_samples, (tx.int32,), ops=("rng_bit_generator", "gather"),
           grad=_NOT_DIFF),
    OpInfo("stateless_parameterized_truncated_normal",
           tx.random.stateless_parameterized_truncated_normal, _ptn_ref, _ptn_samples,
           (tx.float32, tx.float64), ops=("rng_bit_generator", "erfc"), tol=_TOL,
           grad=_NOT_DIFF),
    OpInfo("random_split", tx.random.split, _split_ref, _seed_samples, (tx.int32,),
           ops=("rng_bit_generator",), grad=_NOT_DIFF),
    OpInfo("random_fold_in", tx.random.fold_in, _fold_in_ref, _fold_samples, (tx.int32,),
           ops=("rng_bit_generator",), grad=_NOT_DIFF),
]

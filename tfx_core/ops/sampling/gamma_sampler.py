"""Gamma samples (tf.random.gamma, tf.random.stateless_gamma): Marsaglia-Tsang with TF's
alpha < 1 boost, as a fixed number of masked rounds, and implicit reparameterization
gradients with respect to alpha (and beta)."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.interpreters import is_tracing, recorders
from compiler.ir.types import F16, F32, F64, DType
from compiler.ops.special.incomplete import igamma_grad_a_op
from tfx_core.framework.gradient_tape import stop_gradient
from tfx_core.framework.operands import Tensor, bind
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_ints
from tfx_core.ops.math.special import lgamma
from tfx_core.ops.random_ops import stateless_normal
from tfx_core.ops.sampling.seeds import (
    broadcast_shape,
    first_accepted,
    fits,
    open_uniform,
    param,
    run_compiled,
    stateful_seed,
    streams,
    work_dtype,
)

TensorLike = Any
# A round accepts with probability >= 0.95 (alpha' >= 1), so 8 rounds all reject with
# probability < 1e-10; such an element keeps the mode of the boosted gamma (d).
ROUNDS = 8
DTYPES = (F16, F32, F64)


def _dtype(name: str, dtype: Any) -> DType:
    dt = DType.from_any(dtype)
    if dt not in DTYPES:
        raise op_error(name, f"dtype must be float16, float32 or float64, got {dt.name}",
                       TypeError)
    return dt


def _c(v: float, w: DType) -> np.ndarray:
    return np.asarray(v, w.np_dtype)


def standard_gamma(alpha: Tensor, seed: Tensor, shape: tuple, w: DType) -> Tensor:
    """Gamma(alpha, 1) samples of `shape` (alpha broadcast to it), in dtype `w`."""
    seeds = streams(seed, 3, "gamma")
    a = A.broadcast_to(alpha, shape)
    small = M.less(a, _c(1.0, w))
    boosted = M.where(small, M.add(a, _c(1.0, w)), a)
    d = M.subtract(boosted, _c(1.0 / 3.0, w))
    c = M.rsqrt(M.multiply(d, _c(9.0, w)))
    z = stateless_normal((ROUNDS, *shape), seeds[0], dtype=w)
    logu = M.log(open_uniform((ROUNDS, *shape), seeds[1], w))
    t = M.add(M.multiply(c, z), _c(1.0, w))
    v = M.multiply(M.square(t), t)
    pos = M.greater(t, _c(0.0, w))
    logv = M.log(M.where(pos, v, _c(1.0, w)))
    bound = M.add(M.multiply(M.square(z), _c(0.5, w)),
                  M.multiply(d, M.add(M.subtract(_c(1.0, w), v), logv)))
    x = first_accepted(M.logical_and(pos, M.less(logu, bound)), M.multiply(d, v), d)
    # alpha < 1: Gamma(alpha) = Gamma(alpha + 1) * U**(1/alpha), in logs (U**(1/alpha) underflows
    # for tiny alpha; TF then returns the smallest normal number, as below).
    logb = M.divide(M.log(open_uniform(shape, seeds[2], w)), M.where(small, a, _c(1.0, w)))
    x = M.where(small, M.multiply(x, M.exp(logb)), x)
    x = M.maximum(x, _c(np.finfo(w.np_dtype).tiny, w))
    return M.where(M.greater_equal(a, _c(0.0, w)), x, _c(np.nan, w))  # TF: NaN for alpha < 0


def _reparameterized(x: Tensor, a: Tensor, w: DType) -> Tensor:
    """x with d x / d alpha = -(dP(alpha, x)/d alpha) / density(x; alpha) (implicit
    reparameterization, as TF's RandomGammaGrad): the value is x, the gradient flows to
    alpha through a term that is zero in value."""
    x = stop_gradient(x)
    ab = stop_gradient(A.broadcast_to(a, x.shape))
    dcdf = bind(igamma_grad_a_op, ab, x)
    logpdf = M.subtract(M.subtract(M.multiply(M.subtract(ab, _c(1.0, w)), M.log(x)), x),
                        lgamma(ab))
    g = M.negative(M.divide(dcdf, M.exp(logpdf)))
    g = M.where(M.is_finite(g), g, A.zeros_like(g))
    return M.add(x, M.multiply(M.subtract(A.broadcast_to(a, x.shape), ab), g))


def _sample(name: str, shape: tuple, seed: Tensor, alpha: Any, beta: Any,
            dt: DType) -> Tensor:
    w = work_dtype(dt)
    a = param(alpha, dt, name, "alpha")
    aw = a if dt is w else M.cast(a, w)
    if not is_tracing() and not recorders():  # nothing to differentiate: one compiled call
        x = run_compiled(standard_gamma, (aw, seed), (tuple(shape), w))
    else:
        x = _reparameterized(standard_gamma(stop_gradient(aw), seed, tuple(shape), w), aw, w)
    if beta is not None:
        b = param(beta, dt, name, "beta")
        x = M.divide(x, A.broadcast_to(b if dt is w else M.cast(b, w), shape))
    return x if dt is w else M.cast(x, dt)


def stateless_gamma(shape: Any, seed: TensorLike, alpha: TensorLike, beta: TensorLike = None,
                    dtype: Any = F32, name: str | None = None) -> Tensor:
    """Gamma(alpha, beta) samples of `shape` (alpha, beta broadcast to it), a function of
    `seed` (tf.random.stateless_gamma). Differentiable w.r.t. alpha and beta."""
    n = "stateless_gamma"
    dt, dims = _dtype(n, dtype), static_ints(shape, n, "shape")
    a = param(alpha, dt, n, "alpha")
    fits(n, dims, tuple(a.shape), "alpha")
    if beta is not None:
        fits(n, dims, tuple(param(beta, dt, n, "beta").shape), "beta")
    return _sample(n, dims, streams(seed, 1, n)[0], a, beta, dt)


def gamma(shape: Any, alpha: TensorLike, beta: TensorLike = None, dtype: Any = F32,
          seed: Any = None, name: str | None = None) -> Tensor:
    """Gamma(alpha, beta) samples of shape `shape + broadcast(alpha, beta).shape` from the
    global (or op-seed) stream (tf.random.gamma). Differentiable w.r.t. alpha and beta."""
    n = "gamma"
    dt, dims = _dtype(n, dtype), static_ints(shape, n, "shape")
    a = param(alpha, dt, n, "alpha")
    pshape = tuple(a.shape)
    if beta is not None:
        pshape = broadcast_shape(n, pshape, tuple(param(beta, dt, n, "beta").shape))
    return _sample(n, (*dims, *pshape), stateful_seed(seed, n), a, beta, dt)


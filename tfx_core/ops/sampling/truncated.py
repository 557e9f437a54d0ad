"""Truncated normal samples with per-element bounds (tf.random.stateless_parameterized_
truncated_normal): the inverse CDF restricted to [minval, maxval], worked in float64 on the
lower tail so that bounds far from the mean keep their precision."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from compiler.interpreters import is_tracing
from compiler.ir.types import BF16, F16, F32, F64
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_ints
from tfx_core.ops.math.special import erfc, ndtri
from tfx_core.ops.sampling.seeds import fits, open_uniform, param, run_compiled, streams

TensorLike = Any
_NAME = "stateless_parameterized_truncated_normal"


def _c(v: float) -> np.ndarray:
    return np.asarray(v, np.float64)


def _phi(x: Tensor) -> Tensor:
    """The standard normal CDF, erfc-based: accurate in the lower tail."""
    return M.multiply(erfc(M.multiply(x, _c(-1.0 / math.sqrt(2.0)))), _c(0.5))


def _sample64(mu: Tensor, sd: Tensor, lo: Tensor, hi: Tensor, seed: Tensor,
              dims: tuple) -> Tensor:
    mu, sd, lo, hi = (A.broadcast_to(p, dims) for p in (mu, sd, lo, hi))
    a, b = M.divide(M.subtract(lo, mu), sd), M.divide(M.subtract(hi, mu), sd)
    # sample the mirror image when the interval lies above the mean: its CDF values are small
    # numbers (exact in floating point) rather than ones close to 1
    flip = M.greater(a, _c(0.0))
    a2 = M.where(flip, M.negative(b), a)
    b2 = M.where(flip, M.negative(a), b)
    pa, pb = _phi(a2), _phi(b2)
    u = open_uniform(dims, seed, F64)
    z = ndtri(M.add(pa, M.multiply(u, M.subtract(pb, pa))))
    z = M.minimum(M.maximum(z, a2), b2)  # rounding stays inside
    z = M.where(flip, M.negative(z), z)
    x = M.add(mu, M.multiply(sd, z))
    valid = M.logical_and(M.greater(sd, _c(0.0)), M.less(lo, hi))
    return M.where(valid, x, _c(np.nan))


def stateless_parameterized_truncated_normal(shape: Any, seed: TensorLike, means: Any = 0.0,
                                             stddevs: Any = 1.0, minvals: Any = -2.0,
                                             maxvals: Any = 2.0,
                                             name: str | None = None) -> Tensor:
    """Normal(means, stddevs) samples conditioned on [minvals, maxvals], of `shape` (the
    parameters broadcast to it), a function of `seed`. The dtype is the means' (a Python
    float: float32). stddevs <= 0 or minvals >= maxvals: eagerly InvalidArgumentError, as
    TF; compiled NaN there (XLA cannot raise).

    Bounds beyond ~37 standard deviations on the same side of the mean (where the normal
    CDF underflows float64) are not supported: TF switches to exponential rejection there.
    """
    dims = static_ints(shape, _NAME, "shape")
    m = means if isinstance(means, Tensor) else to_tensor(means, _NAME)
    dt = m.dtype
    if dt not in (F16, BF16, F32, F64):
        raise op_error(_NAME, f"means must be a floating tensor, got {m.type}", TypeError)
    ps = [param(v, dt, _NAME, w) for v, w in ((m, "means"), (stddevs, "stddevs"),
                                                (minvals, "minvals"), (maxvals, "maxvals"))]
    for p, w in zip(ps, ("means", "stddevs", "minvals", "maxvals")):
        fits(_NAME, dims, tuple(p.shape), w)
    if not is_tracing():  # TF refuses invalid parameters; compiled, XLA cannot: NaN there
        sd, lo, hi = (np.broadcast_to(p.numpy(), dims) for p in ps[1:])
        bad = ~((sd > 0) & (lo < hi))
        if bad.any():
            raise op_error(_NAME, f"Invalid parameters: stddevs must be > 0 and minvals < "
                           f"maxvals, got stddev {sd[bad][0]}, minval {lo[bad][0]}, maxval "
                           f"{hi[bad][0]} at {np.argwhere(bad)[0].tolist()}")
    seed64 = streams(seed, 1, _NAME)[0]
    x = run_compiled(_sample64, (*(M.cast(p, F64) for p in ps), seed64), (tuple(dims),))
    return M.cast(x, dt)

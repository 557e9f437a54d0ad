"""Moments from sufficient statistics, weighted moments, global batch norm and local response
normalization (tf.nn.normalize_moments, weighted_moments, sufficient_statistics,
batch_norm_with_global_normalization, local_response_normalization)."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import F16, F32
from compiler.ops import conv as CV
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.indexing_ops import gather
from tfx_core.ops.nn.checks import float_tensor
from tfx_core.ops.norm_ops import batch_normalization
from tfx_core.ops.reduction_ops import normalize_axes

TensorLike = Any


def sufficient_statistics(x: TensorLike, axes: Any, shift: TensorLike = None,
                          keepdims: bool = False, name: str | None = None) -> tuple:
    """(count, sum(x - shift), sum((x - shift)**2), shift) over `axes`; count is the number of
    elements reduced, in x's dtype (tf.nn.sufficient_statistics)."""
    name_ = "sufficient_statistics"
    x = float_tensor(name_, x, "x")
    ax = normalize_axes(name_, x, axes)
    dims = [x.shape[a] for a in ax]
    if None in dims:
        count = R.reduce_prod(M.cast(gather(A.shape(x), list(ax)), x.dtype))
    else:
        count = to_tensor(np.asarray(np.prod(dims, dtype=np.float64), x.dtype.np_dtype), name_)
    if shift is not None:
        s = to_tensor(shift, name_, x.dtype)
        m_ss = R.reduce_sum(M.subtract(x, s), ax, keepdims=keepdims)
        v_ss = R.reduce_sum(M.squared_difference(x, s), ax, keepdims=keepdims)
    else:
        m_ss = R.reduce_sum(x, ax, keepdims=keepdims)
        v_ss = R.reduce_sum(M.square(x), ax, keepdims=keepdims)
    return count, m_ss, v_ss, shift


def normalize_moments(counts: TensorLike, mean_ss: TensorLike, variance_ss: TensorLike,
                      shift: TensorLike, name: str | None = None) -> tuple[Tensor, Tensor]:
    """(mean, variance) from sufficient statistics: mean_ss / counts (+ shift) and
    variance_ss / counts - (mean_ss / counts)**2 (tf.nn.normalize_moments)."""
    name_ = "normalize_moments"
    m = float_tensor(name_, mean_ss, "mean_ss")
    inv = M.reciprocal(float_tensor(name_, counts, "counts", m.dtype))
    shifted = M.multiply(m, inv)
    mean = shifted if shift is None else M.add(shifted, to_tensor(shift, name_, m.dtype))
    v = float_tensor(name_, variance_ss, "variance_ss", m.dtype)
    return mean, M.subtract(M.multiply(v, inv), M.square(shifted))


def _div_no_nan(a: Tensor, b: Tensor) -> Tensor:
    zero = M.equal(b, 0)
    return M.where(zero, 0.0, M.divide(a, M.where(zero, 1.0, b)))


def weighted_moments(x: TensorLike, axes: Any, frequency_weights: TensorLike,
                     keepdims: bool = False, name: str | None = None) -> tuple[Tensor, Tensor]:
    """Frequency-weighted mean and variance over `axes` (two passes; 0 where the weights sum to
    0); float16 is computed in float32 (tf.nn.weighted_moments)."""
    name_ = "weighted_moments"
    x = float_tensor(name_, x, "x")
    dt = x.dtype
    if dt is F16:
        x = M.cast(x, F32)
    w = to_tensor(frequency_weights, name_, x.dtype)
    if w.dtype is not x.dtype:
        w = M.cast(w, x.dtype)
    ax = normalize_axes(name_, x, axes)
    total = R.reduce_sum(M.multiply(w, x), ax, keepdims=True)
    weights = R.reduce_sum(M.add(w, A.zeros_like(x)), ax, keepdims=True)
    mean = _div_no_nan(total, weights)
    dist = R.reduce_sum(M.multiply(w, M.squared_difference(x, mean)), ax, keepdims=True)
    variance = _div_no_nan(dist, weights)
    if not keepdims:
        mean, variance = A.squeeze(mean, list(ax)), A.squeeze(variance, list(ax))
    if dt is F16:
        mean, variance = M.cast(mean, dt), M.cast(variance, dt)
    return mean, variance


def batch_norm_with_global_normalization(input: TensorLike, mean: TensorLike,  # noqa: A002
                                         variance: TensorLike, beta: TensorLike,
                                         gamma: TensorLike, variance_epsilon: float,
                                         scale_after_normalization: bool,
                                         name: str | None = None) -> Tensor:
    """batch_normalization with offset beta and (scale_after_normalization) scale gamma
    (tf.nn.batch_norm_with_global_normalization)."""
    x = float_tensor("batch_norm_with_global_normalization", input)
    return batch_normalization(x, mean, variance, beta,
                               gamma if scale_after_normalization else None, variance_epsilon)


def local_response_normalization(input: TensorLike, depth_radius: int = 5,  # noqa: A002
                                 bias: float = 1.0, alpha: float = 1.0, beta: float = 0.5,
                                 name: str | None = None) -> Tensor:
    """input / (bias + alpha * sum of squares over the 2 depth_radius + 1 nearest channels) **
    beta, on the last axis of a 4-D input (tf.nn.local_response_normalization)."""
    name_ = "local_response_normalization"
    x = float_tensor(name_, input)
    if x.ndim != 4:
        raise op_error(name_, f"input must be 4-D, got {x.type}")
    r = static_int(depth_radius, name_, "depth_radius")
    if r < 0:
        raise op_error(name_, f"depth_radius must be >= 0, got {r}")
    sq = M.square(x)
    sums = bind(CV.reduce_window_op, sq, computation="sum", window_dimensions=(1, 1, 1, 2 * r + 1),
                window_strides=(1, 1, 1, 1), padding=((0, 0), (0, 0), (0, 0), (r, r)),
                window_dilations=(1, 1, 1, 1))
    return M.divide(x, M.pow(M.add(M.multiply(sums, alpha), bias), beta))


lrn = local_response_normalization

__all__ = [
    "batch_norm_with_global_normalization", "local_response_normalization", "lrn",
    "normalize_moments", "sufficient_statistics", "weighted_moments",
]

"""Normalization composites: tf.nn.moments, batch_normalization, l2_normalize."""
from __future__ import annotations

from typing import Any

from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error

__all__ = ["batch_normalization", "l2_normalize", "moments"]

TensorLike = Any


def moments(x: TensorLike, axes: Any, shift: Any = None, keepdims: bool = False,
            name: str | None = None) -> tuple[Tensor, Tensor]:
    """Mean and variance of x over `axes` (tf.nn.moments): the variance is the mean squared
    deviation from the mean (two passes, never negative)."""
    from tfx_core.framework.gradient_tape import stop_gradient
    from tfx_core.ops.array_ops import squeeze

    x = to_tensor(x, "moments")
    if not x.dtype.is_floating:
        raise op_error("moments", f"expected a floating tensor, got {x.type}", TypeError)
    mean = R.reduce_mean(x, axes, keepdims=True)
    # NOTE: as TF, the mean is a constant for the variance's gradient: its term sums to zero.
    variance = R.reduce_mean(M.square(x - stop_gradient(mean)), axes, keepdims=True)
    if not keepdims:
        axes = [axes] if isinstance(axes, int) else list(axes)
        mean, variance = squeeze(mean, axes), squeeze(variance, axes)
    return mean, variance


def batch_normalization(x: TensorLike, mean: TensorLike, variance: TensorLike,
                        offset: TensorLike, scale: TensorLike, variance_epsilon: float,
                        name: str | None = None) -> Tensor:
    """(x - mean) * scale / sqrt(variance + epsilon) + offset (tf.nn.batch_normalization);
    offset and scale may be None."""
    x = to_tensor(x, "batch_normalization")
    inv = M.rsqrt(to_tensor(variance, "batch_normalization") + variance_epsilon)
    if scale is not None:
        inv = inv * scale
    y = x * inv
    shift = -to_tensor(mean, "batch_normalization") * inv
    if offset is not None:
        shift = shift + offset
    return y + shift


def l2_normalize(x: TensorLike, axis: Any = None, epsilon: float = 1e-12,
                 name: str | None = None, dim: Any = None) -> Tensor:
    """x / sqrt(max(sum(|x|**2, axis), epsilon)) (tf.math.l2_normalize); complex x scales by
    the real norm of its entries' magnitudes, as TF."""
    x = to_tensor(x, "l2_normalize")
    axis = dim if axis is None else axis
    sq = M.real(M.multiply(x, M.conj(x))) if x.dtype.is_complex else M.square(x)
    square_sum = R.reduce_sum(sq, axis, keepdims=True)
    inv = M.rsqrt(M.maximum(square_sum, epsilon))
    return x * (M.cast(inv, x.dtype) if x.dtype.is_complex else inv)

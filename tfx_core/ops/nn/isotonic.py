"""tf.nn.isotonic_regression without a host loop: the pool-adjacent-violators blocks from a
closed form over all (start, end) window means, then each block's mean."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import F16, F32, F64, I32
from tfx_core.framework.convert import constant_tensor
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.nn.checks import float_tensor, static_dims
from tfx_core.ops.sort_ops import cumsum

TensorLike = Any


def _segments(x: Tensor, n: int) -> Tensor:
    """The block ids of the non-decreasing fit along the last axis, int32.

    PAV merges two adjacent blocks only on a strict violation, so a block starts at i exactly
    when the fit of x[:i] ends no higher than the fit of x[i:] begins: the largest mean of a
    window ending at i - 1 is <= the smallest mean of a window starting at i. With W[j, k] the
    mean of x[j..k], that is max_j W[j, i-1] <= min_k W[i, k]: O(n^2) work, no loop.
    """
    w = M.cast(x, F64) if x.dtype is F32 else M.cast(x, F32) if x.dtype is F16 else x
    zero = A.zeros_like(w[..., :1])
    c = A.concat([zero, cumsum(w, axis=-1)], -1)  # prefix sums, c[k] = sum(x[:k])
    j = np.arange(n)[:, None]
    k = np.arange(n)[None, :]
    valid = constant_tensor(j <= k)
    length = constant_tensor(np.maximum(k - j + 1, 1).astype(w.dtype.np_dtype))
    means = M.divide(M.subtract(A.expand_dims(c[..., 1:], -2), A.expand_dims(c[..., :-1], -1)),
                     length)  # [..., j, k]
    ends = R.reduce_max(M.where(valid, means, -np.inf), -2)  # largest mean ending at k
    starts = R.reduce_min(M.where(valid, means, np.inf), -1)  # smallest mean starting at j
    cut = M.cast(M.less_equal(ends[..., :-1], starts[..., 1:]), I32)
    return A.concat([A.zeros_like(cut[..., :1]), cumsum(cut, axis=-1)], -1)


def isotonic_regression(inputs: TensorLike, decreasing: bool = True, axis: int = -1,
                        ) -> tuple[Tensor, Tensor]:
    """The least-squares monotone fit along `axis` (non-increasing by default) and the int32
    block id of each element; blocks with equal means stay apart, as TF's pool adjacent
    violators (tf.nn.isotonic_regression). The gradient averages within blocks, as TF's.
    Integer inputs give float32 (8 and 16 bits) or float64 fits, as TF."""
    name_ = "isotonic_regression"
    x = to_tensor(inputs, name_)
    if x.dtype.is_integer:  # as TF: 8/16-bit integers fit float32 exactly, wider ones float64
        x = M.cast(x, F32 if x.dtype.bits <= 16 else F64)
    x = float_tensor(name_, x, "inputs")
    if x.ndim == 0:
        raise op_error(name_, f"inputs must have rank >= 1, got {x.type}")
    ax = static_int(axis, name_, "axis")
    if not -x.ndim <= ax < x.ndim:
        raise op_error(name_, f"axis {ax} is out of range for {x.type}")
    ax %= x.ndim
    perm = [*[i for i in range(x.ndim) if i != ax], ax]
    moved = A.transpose(x, perm) if ax != x.ndim - 1 else x
    n = static_dims(name_, moved)[-1]
    if n == 0:
        return x, A.zeros(x.shape, I32)
    seg = _segments(M.negative(moved) if decreasing else moved, n)
    # Each element's block mean: one-hot block membership [..., i, s], sums over i, back to i.
    member = M.cast(M.equal(A.expand_dims(seg, -1), A.range(n, dtype=I32)), moved.dtype)
    sums = R.reduce_sum(M.multiply(A.expand_dims(moved, -1), member), -2)
    counts = M.maximum(R.reduce_sum(member, -2), 1)
    fit = R.reduce_sum(M.multiply(member, A.expand_dims(M.divide(sums, counts), -2)), -1)
    if ax != x.ndim - 1:
        back = [perm.index(i) for i in range(x.ndim)]
        fit, seg = A.transpose(fit, back), A.transpose(seg, back)
    return fit, seg


__all__ = ["isotonic_regression"]

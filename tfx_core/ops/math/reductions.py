"""Composite reductions and checks of tf.math: count_nonzero, reduce_euclidean_norm,
cumulative_logsumexp, is_non_decreasing, is_strictly_increasing, polyval."""
from __future__ import annotations

from typing import Any

from compiler.ir.types import F64, I64, DType
from compiler.ops import sorting as SO
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.array_ops import reshape, zeros_like
from tfx_core.ops.math_ops import (
    add,
    cast,
    conj,
    greater,
    greater_equal,
    multiply,
    not_equal,
    real,
    sqrt,
    where,
)
from tfx_core.ops.reduction_ops import (
    normalize_axes,
    reduce_all,
    reduce_sum,
)

TensorLike = Any


def count_nonzero(input: TensorLike, axis: Any = None, keepdims: bool | None = None,  # noqa: A002
                  dtype: Any = I64, name: str | None = None) -> Tensor:
    """The number of non-zero entries along `axis` (NaN counts), as `dtype` (tf.math.count_nonzero,
    default int64)."""
    x = to_tensor(input, "count_nonzero")
    nonzero = x if x.dtype.is_bool else not_equal(x, to_tensor(0, "count_nonzero", x.dtype))
    axes = normalize_axes("count_nonzero", x, axis)
    counts = reduce_sum(cast(nonzero, I64), axis=list(axes), keepdims=bool(keepdims))
    return cast(counts, DType.from_any(dtype))


def reduce_euclidean_norm(input_tensor: TensorLike, axis: Any = None, keepdims: bool = False,
                          name: str | None = None) -> Tensor:
    """sqrt(sum(|x|**2)) along `axis` (tf.math.reduce_euclidean_norm); NaN propagates; complex
    tensors give a real norm in their own dtype. Integers are computed in float64 and truncated
    back, as TF; the gradient at a zero norm is 0 (TF 2.21's rule, x / norm, gives NaN)."""
    x = to_tensor(input_tensor, "reduce_euclidean_norm")
    if x.dtype.is_bool:
        raise op_error("reduce_euclidean_norm", f"expected a numeric tensor, got {x.type}",
                       TypeError)
    axes = list(normalize_axes("reduce_euclidean_norm", x, axis))
    v = x if x.dtype.is_inexact else cast(x, F64)
    sq = real(multiply(v, conj(v))) if v.dtype.is_complex else multiply(v, v)
    s = reduce_sum(sq, axis=axes, keepdims=keepdims)
    zero = to_tensor(0, "reduce_euclidean_norm", s.dtype)
    positive = greater(s, zero)
    # sqrt at a masked-out 1, so sqrt's infinite slope at 0 never meets the zero cotangent;
    # elsewhere s itself: 0, or NaN (which `greater` is false for, and must stay NaN)
    one = to_tensor(1, "reduce_euclidean_norm", s.dtype)
    norm = where(positive, sqrt(where(positive, s, one)), s)
    return norm if x.dtype.is_floating else cast(norm, x.dtype)


def cumulative_logsumexp(x: TensorLike, axis: Any = 0, exclusive: bool = False,
                         reverse: bool = False, name: str | None = None) -> Tensor:
    """log(cumsum(exp(x))) along `axis` (tf.math.cumulative_logsumexp): a scan of
    log-add-exp, so no term underflows or overflows whatever the spread of `x`; -inf entries
    add nothing, an exclusive scan starts at -inf."""
    t = to_tensor(x, "cumulative_logsumexp")
    if not t.dtype.is_floating:
        raise op_error("cumulative_logsumexp", f"expected a floating tensor, got {t.type}",
                       TypeError)
    ax = static_int(axis, "cumulative_logsumexp", "axis")
    if not -t.ndim <= ax < t.ndim:
        raise op_error("cumulative_logsumexp", f"axis {ax} is out of range for {t.type}")
    return bind(SO.cumlogsumexp_op, t, axis=ax % t.ndim, exclusive=bool(exclusive),
                reverse=bool(reverse))


def _monotone(name: str, x: TensorLike, compare) -> Tensor:
    t = to_tensor(x, name)
    if t.dtype.is_bool:
        raise op_error(name, f"expected a numeric tensor, got {t.type}", TypeError)
    flat = reshape(t, [-1])
    n = flat.shape[0]
    if n is not None and n < 2:
        return to_tensor(True, name)
    return reduce_all(compare(flat[1:], flat[:-1]))


def is_non_decreasing(x: TensorLike, name: str | None = None) -> Tensor:
    """True when the flattened `x` never decreases (tf.math.is_non_decreasing)."""
    return _monotone("is_non_decreasing", x, greater_equal)


def is_strictly_increasing(x: TensorLike, name: str | None = None) -> Tensor:
    """True when the flattened `x` always increases (tf.math.is_strictly_increasing)."""
    return _monotone("is_strictly_increasing", x, greater)


def polyval(coeffs: Any, x: TensorLike, name: str | None = None) -> Tensor:
    """coeffs[0] * x**(n-1) + ... + coeffs[n-1] by Horner's rule; [] gives zeros
    (tf.math.polyval)."""
    if not isinstance(coeffs, list):
        raise op_error("polyval", f"coeffs must be a list, got {type(coeffs).__name__}",
                       ValueError)
    x = to_tensor(x, "polyval")
    if not coeffs:
        return zeros_like(x)
    acc = to_tensor(coeffs[0], "polyval", x.dtype)
    for c in coeffs[1:]:
        acc = add(multiply(acc, x), to_tensor(c, "polyval", x.dtype))
    return acc


__all__ = [
    "count_nonzero", "cumulative_logsumexp", "is_non_decreasing", "is_strictly_increasing",
    "polyval", "reduce_euclidean_norm",
]

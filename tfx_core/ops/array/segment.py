"""tf.math's segment prod/min/max/mean/sqrt_n reductions, with TF's empty-segment values."""
from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np

from compiler.ir.types import I32, I64, DType
from compiler.ops import indexing as X
from compiler.ops.segment import prod as SP
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.array_ops import fill, reshape
from tfx_core.ops.sort_ops import unsorted_segment_sum

TensorLike = Any


def _static_value(t: Tensor) -> np.ndarray | None:
    from tfx_core.polymorphic_function.tracer import get_static_value  # (tracer imports ops)

    return get_static_value(t)


_KINDS = {"f": "a floating-point", "fiu": "a real numeric", "fiuc": "a numeric"}


def _operands(name: str, data: TensorLike, segment_ids: TensorLike, kinds: str) -> tuple:
    """data of the kinds TF's kernel registers (complex: prod, sum and the sorted mean only)."""
    d, ids = to_tensor(data, name), to_tensor(segment_ids, name)
    if d.dtype.kind not in kinds:
        raise op_error(name, f"data must be {_KINDS[kinds]} tensor, got {d.type}", TypeError)
    if ids.dtype not in (I32, I64):
        raise op_error(name, f"segment_ids must be int32 or int64, got {ids.type}", TypeError)
    if ids.ndim > d.ndim or any(a is not None and b is not None and a != b
                                for a, b in zip(ids.shape, d.shape)):
        raise op_error(name, f"segment_ids' shape {list(ids.shape)} must be a prefix of data's "
                       f"shape {list(d.shape)}")
    if None in d.shape[ids.ndim:]:
        raise op_error(name, f"data's trailing dims must be known at trace time, got {d.type}")
    return d, ids


def _num_segments(name: str, ids: Tensor, num_segments: Any) -> int:
    """num_segments as a static int; ids known now (eager) are range-checked as TF does (ids
    >= num_segments fail; negative ids are dropped). Under a trace such ids are dropped."""
    n = static_int(num_segments, name, "num_segments")
    if n < 0:
        raise op_error(name, f"num_segments must be >= 0, got {n}")
    known = _static_value(ids)
    if known is not None and known.size and known.max() >= n:
        pos = np.unravel_index(int(np.argmax(known >= n)), known.shape)
        where = ", ".join(str(int(i)) for i in pos)
        raise op_error(name, f"segment_ids[{where}] = {known[pos]} is out of range [0, {n})")
    return n


def _sorted_count(name: str, ids: Tensor, num_segments: Any) -> int:
    """The output rows of a sorted segment op: max(segment_ids) + 1 (ids known at trace time,
    checked non-negative and non-decreasing as TF), or `num_segments` (an extension: a static
    row count for ids that are only known at run time)."""
    if ids.ndim != 1:
        raise op_error(name, f"segment_ids must be 1-D, got {ids.type}")
    known = _static_value(ids)
    if known is not None:
        if known.size and (known.min() < 0 or np.any(np.diff(known) < 0)):
            raise op_error(name, "segment ids are not increasing (or are negative): "
                           f"{known.tolist()}")
        if num_segments is None:
            return int(known.max()) + 1 if known.size else 0
    if num_segments is None:
        raise op_error(name, "the output size max(segment_ids) + 1 depends on segment_ids, "
                       "which are not known at trace time; pass num_segments= (a static int)",
                       TypeError)
    return _num_segments(name, ids, num_segments)


def _extreme(dtype: DType, lowest: bool) -> np.ndarray:
    npdt = dtype.np_dtype
    info = np.iinfo(npdt) if dtype.is_integer else ml_dtypes.finfo(npdt)
    return np.asarray(info.min if lowest else info.max, npdt)


def _scatter_extreme(name: str, d: Tensor, ids: Tensor, n: int, mode: str) -> Tensor:
    """Scatter-max/min of the rows into a tensor of the dtype's lowest/highest finite value (TF's
    value for empty segments); out-of-range rows are skipped by the scatter."""
    inner = tuple(d.shape[ids.ndim:])
    init = fill((n, *inner), to_tensor(_extreme(d.dtype, mode == "max"), name))
    return bind(X.scatter_op, init, ids, d, update_window_dims=tuple(
        range(ids.ndim, d.ndim)), inserted_window_dims=(0,), input_batching_dims=(),
        scatter_indices_batching_dims=(), scatter_dims_to_operand_dims=(0,),
        index_vector_dim=ids.ndim, mode=mode)


def _counts(d: Tensor, ids: Tensor, n: int, dtype: DType) -> Tensor:
    """Rows per segment, shaped (n, 1, ..., 1) to broadcast against the output."""
    ones = fill(tuple(ids.shape), to_tensor(np.asarray(1, dtype.np_dtype), "segment"))
    c = unsorted_segment_sum(ones, ids, n)
    return reshape(c, (n,) + (1,) * (d.ndim - ids.ndim))


def _trunc_div(a: Tensor, b: Tensor) -> Tensor:
    """Integer division rounding toward zero (C++'s, which TF's integer segment_mean uses)."""
    if a.dtype.is_unsigned:  # (no sign: floor is toward zero, and there is no abs/negative)
        return M.floordiv(a, b)
    q = M.floordiv(M.abs(a), b)
    return M.where(M.less(a, M.cast(0, a.dtype)), M.negative(q), q)


# ---------------------------------------------------------------- unsorted
def unsorted_segment_prod(data: TensorLike, segment_ids: TensorLike, num_segments: Any,
                          name: str | None = None) -> Tensor:
    """Product of the rows with equal ids into `num_segments` rows; empty segments are 1
    (tf.math.unsorted_segment_prod)."""
    d, ids = _operands("unsorted_segment_prod", data, segment_ids, "fiuc")
    n = _num_segments("unsorted_segment_prod", ids, num_segments)
    return bind(SP.segment_prod_op, d, ids, num_segments=n)


def unsorted_segment_max(data: TensorLike, segment_ids: TensorLike, num_segments: Any,
                         name: str | None = None) -> Tensor:
    """Max of the rows with equal ids; empty segments hold the dtype's lowest finite value
    (tf.math.unsorted_segment_max). Ties share the gradient equally."""
    d, ids = _operands("unsorted_segment_max", data, segment_ids, "fiu")
    n = _num_segments("unsorted_segment_max", ids, num_segments)
    return _scatter_extreme("unsorted_segment_max", d, ids, n, "max")


def unsorted_segment_min(data: TensorLike, segment_ids: TensorLike, num_segments: Any,
                         name: str | None = None) -> Tensor:
    """Min of the rows with equal ids; empty segments hold the dtype's largest finite value
    (tf.math.unsorted_segment_min). Ties share the gradient equally."""
    d, ids = _operands("unsorted_segment_min", data, segment_ids, "fiu")
    n = _num_segments("unsorted_segment_min", ids, num_segments)
    return _scatter_extreme("unsorted_segment_min", d, ids, n, "min")


def unsorted_segment_mean(data: TensorLike, segment_ids: TensorLike, num_segments: Any,
                          name: str | None = None) -> Tensor:
    """Mean of the rows with equal ids; empty segments are 0 (tf.math.unsorted_segment_mean).
    Integer data sums in its dtype, then divides as tf.math.truediv (a float32/float64 result)."""
    d, ids = _operands("unsorted_segment_mean", data, segment_ids, "fiu")
    n = _num_segments("unsorted_segment_mean", ids, num_segments)
    count = M.maximum(_counts(d, ids, n, d.dtype), M.cast(1, d.dtype))
    return M.truediv(unsorted_segment_sum(d, ids, n), count)


def unsorted_segment_sqrt_n(data: TensorLike, segment_ids: TensorLike, num_segments: Any,
                            name: str | None = None) -> Tensor:
    """Sum of the rows with equal ids over sqrt(their count); empty segments are 0
    (tf.math.unsorted_segment_sqrt_n)."""
    d, ids = _operands("unsorted_segment_sqrt_n", data, segment_ids, "f")
    n = _num_segments("unsorted_segment_sqrt_n", ids, num_segments)
    count = M.maximum(_counts(d, ids, n, d.dtype), M.cast(1, d.dtype))
    return M.truediv(unsorted_segment_sum(d, ids, n), M.sqrt(count))


# ---------------------------------------------------------------- sorted
def segment_prod(data: TensorLike, segment_ids: TensorLike, num_segments: Any = None,
                 name: str | None = None) -> Tensor:
    """Product per segment of sorted ids; max(ids) + 1 rows, empty segments 1
    (tf.math.segment_prod). `num_segments` (extension) sizes the output for run-time ids."""
    d, ids = _operands("segment_prod", data, segment_ids, "fiuc")
    n = _sorted_count("segment_prod", ids, num_segments)
    return bind(SP.segment_prod_op, d, ids, num_segments=n)


def _sorted_extreme(name: str, data: TensorLike, segment_ids: TensorLike, num_segments: Any,
                    mode: str) -> Tensor:
    d, ids = _operands(name, data, segment_ids, "fiu")
    n = _sorted_count(name, ids, num_segments)
    out = _scatter_extreme(name, d, ids, n, mode)
    # sorted segment ops give 0, not the dtype's extreme, for an empty segment (TF)
    nonempty = M.greater(_counts(d, ids, n, I32), M.cast(0, I32))
    return M.where(nonempty, out, M.cast(0, d.dtype))


def segment_max(data: TensorLike, segment_ids: TensorLike, num_segments: Any = None,
                name: str | None = None) -> Tensor:
    """Max per segment of sorted ids; empty segments 0 (tf.math.segment_max)."""
    return _sorted_extreme("segment_max", data, segment_ids, num_segments, "max")


def segment_min(data: TensorLike, segment_ids: TensorLike, num_segments: Any = None,
                name: str | None = None) -> Tensor:
    """Min per segment of sorted ids; empty segments 0 (tf.math.segment_min)."""
    return _sorted_extreme("segment_min", data, segment_ids, num_segments, "min")


def segment_mean(data: TensorLike, segment_ids: TensorLike, num_segments: Any = None,
                 name: str | None = None) -> Tensor:
    """Mean per segment of sorted ids; empty segments 0; integer means round toward zero
    (tf.math.segment_mean)."""
    d, ids = _operands("segment_mean", data, segment_ids, "fiuc")
    n = _sorted_count("segment_mean", ids, num_segments)
    cdt = d.dtype.real_dtype if d.dtype.is_complex else d.dtype  # (no complex maximum)
    count = M.cast(M.maximum(_counts(d, ids, n, cdt), M.cast(1, cdt)), d.dtype)
    total = unsorted_segment_sum(d, ids, n)
    return M.truediv(total, count) if d.dtype.is_inexact else _trunc_div(total, count)


__all__ = [
    "segment_max", "segment_mean", "segment_min", "segment_prod", "unsorted_segment_max",
    "unsorted_segment_mean", "unsorted_segment_min", "unsorted_segment_prod",
    "unsorted_segment_sqrt_n",
]

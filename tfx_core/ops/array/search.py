"""Binning and searching: tf.searchsorted and tf.histogram_fixed_width(_bins)."""
from __future__ import annotations

from typing import Any

from compiler.ir.types import F64, I32, I64, DType
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as AO
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.indexing_ops import gather
from tfx_core.ops.sort_ops import unsorted_segment_sum

TensorLike = Any


def searchsorted(sorted_sequence: TensorLike, values: TensorLike, side: str = "left",
                 out_type: Any = I32, name: str | None = None) -> Tensor:
    """For each value, the index in the (innermost, ascending) sorted sequence where it would be
    inserted keeping the order (tf.searchsorted): 'left' counts the entries < value, 'right'
    the entries <= value. Leading dims of both must match; a binary search, as TF."""
    s, v = to_tensor(sorted_sequence, "searchsorted"), to_tensor(values, "searchsorted")
    if side not in ("left", "right"):
        raise op_error("searchsorted", f"side must be 'left' or 'right', got {side!r}")
    if s.dtype != v.dtype:
        raise op_error("searchsorted", f"sorted_sequence and values must have one dtype, got "
                       f"{s.type} and {v.type}", TypeError)
    if s.ndim == 0 or s.ndim != v.ndim or s.shape[:-1] != v.shape[:-1]:
        raise op_error("searchsorted", f"sorted_sequence {s.type} and values {v.type} must have "
                       "equal ranks >= 1 and equal leading dims")
    ot = DType.from_any(out_type)
    if ot not in (I32, I64):
        raise op_error("searchsorted", f"out_type must be int32 or int64, got {ot.name}",
                       TypeError)
    n = s.shape[-1]
    if n is None or None in v.shape:
        raise op_error("searchsorted", f"needs shapes known at trace time, got {s.type} and "
                       f"{v.type}")
    # binary search, unrolled: ceil(log2(n + 1)) halvings settle every lane, O(M log N) work
    lo = AO.zeros_like(v, dtype=ot)
    if n == 0:
        return lo
    hi = M.add(lo, M.cast(n, ot))
    below = M.less if side == "left" else M.less_equal
    for _ in range(n.bit_length()):
        active = M.less(lo, hi)
        mid = M.floordiv(M.add(lo, hi), M.cast(2, ot))
        probe = gather(s, M.minimum(mid, M.cast(n - 1, ot)), axis=-1,
                       batch_dims=s.ndim - 1)
        go_right = below(probe, v)
        lo = M.where(M.logical_and(active, go_right), M.add(mid, M.cast(1, ot)), lo)
        hi = M.where(M.logical_and(active, M.logical_not(go_right)), mid, hi)
    return lo


def _range_pair(name: str, values: Tensor, value_range: TensorLike) -> tuple[Tensor, Tensor]:
    r = to_tensor(value_range, name, values.dtype)
    if r.shape != (2,):
        raise op_error(name, f"value_range must be a [2] vector, got {r.type}")
    return r[0], r[1]


def _check_range(name: str, value_range: TensorLike, v: Tensor) -> None:
    """TF's kernel check, where the range is known (eagerly, or a constant in a trace)."""
    from tfx_core.polymorphic_function.tracer import get_static_value  # (tracer imports ops)

    known = get_static_value(to_tensor(value_range, name, v.dtype))
    if known is not None and not known[0] < known[1]:
        raise op_error(name, "value_range should satisfy value_range[0] < value_range[1], but "
                       f"got {known.tolist()}")


def histogram_fixed_width_bins(values: TensorLike, value_range: TensorLike, nbins: Any = 100,
                               dtype: Any = I32, name: str | None = None) -> Tensor:
    """The bin of each value among `nbins` equal bins over value_range, values outside clamped
    to the first/last bin (tf.histogram_fixed_width_bins); same shape as `values`."""
    v = to_tensor(values, "histogram_fixed_width_bins")
    if not v.dtype.is_floating:
        raise op_error("histogram_fixed_width_bins", f"values must be floating point, got "
                       f"{v.type}", TypeError)
    n = static_int(nbins, "histogram_fixed_width_bins", "nbins")
    if n <= 0:
        raise op_error("histogram_fixed_width_bins", f"nbins must be > 0, got {n}")
    lo, hi = _range_pair("histogram_fixed_width_bins", v, value_range)
    scaled = M.truediv(M.subtract(v, lo), M.subtract(hi, lo))
    idx = M.floor(M.multiply(M.cast(n, v.dtype), scaled))
    idx = M.clip_by_value(idx, M.cast(0, v.dtype), M.cast(n - 1, v.dtype))
    return M.cast(idx, DType.from_any(dtype))


def histogram_fixed_width(values: TensorLike, value_range: TensorLike, nbins: Any = 100,
                          dtype: Any = I32, name: str | None = None) -> Tensor:
    """Counts of `values` in `nbins` equal bins over value_range; values below/above fall in
    the first/last bin (tf.histogram_fixed_width). Bins are found in float64, as TF's kernel."""
    v = to_tensor(values, "histogram_fixed_width")
    if v.dtype.kind not in "fi":
        raise op_error("histogram_fixed_width", f"values must be int or float, got {v.type}",
                       TypeError)
    n = static_int(nbins, "histogram_fixed_width", "nbins")
    if n <= 0:
        raise op_error("histogram_fixed_width", f"nbins must be > 0, got {n}")
    lo, hi = _range_pair("histogram_fixed_width", v, value_range)
    _check_range("histogram_fixed_width", value_range, v)
    step = M.truediv(M.cast(M.subtract(hi, lo), F64), M.cast(n, F64))
    flat = AO.reshape(v, [-1])
    shifted = M.cast(M.subtract(M.maximum(flat, lo), lo), F64)
    idx = M.cast(M.minimum(M.truediv(shifted, step), M.cast(n - 1, F64)), I32)
    ones = AO.ones_like(idx, dtype=DType.from_any(dtype))
    return unsorted_segment_sum(ones, idx, n)


__all__ = ["histogram_fixed_width", "histogram_fixed_width_bins", "searchsorted"]

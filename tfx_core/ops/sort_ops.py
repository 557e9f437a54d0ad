"""Scans, sorting and segment sums (tf.math.cumsum, tf.sort, top_k, segment_sum, bincount)."""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from compiler.ir.types import I32, I64, DType
from compiler.ops import cast as CA
from compiler.ops import constant as C
from compiler.ops import elementwise as E
from compiler.ops import shape as S
from compiler.ops import sorting as SO
from tfx_core.framework.convert import constant_tensor
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.indexing_ops import gather

TensorLike = Any
TopKV2 = namedtuple("TopKV2", ["values", "indices"])


# ---------------------------------------------------------------- argument helpers
def _check(name: str, x: Tensor, kinds: str, what: str) -> None:
    if x.dtype.kind not in kinds:
        raise op_error(name, f"expected {what} tensor, got {x.type}", TypeError)


def _one_axis(name: str, x: Tensor, axis: Any) -> int:
    """A single axis in [-rank, rank), normalized; rank 0 has none."""
    a = static_int(axis, name, "axis")
    if not -x.ndim <= a < x.ndim:
        raise op_error(name, f"axis {a} is out of range for {x.type} (rank {x.ndim})")
    return a % x.ndim


def _static_dims(name: str, x: Tensor) -> tuple[int, ...]:
    if None in x.shape:
        raise op_error(name, f"needs a static shape, got {x.type} (trace with fully "
                     "defined shapes)")
    return tuple(x.shape)


def _iota(x: Tensor, axis: int, dtype: DType, name: str) -> Tensor:
    return bind(C.iota_op, shape=_static_dims(name, x), dimension=axis, dtype=dtype)


# ---------------------------------------------------------------- cumsum / cumprod
def _scan(opdef, opname: str, doc: str):
    def fn(x: TensorLike, axis: Any = 0, exclusive: bool = False, reverse: bool = False,
           name: str | None = None) -> Tensor:
        t = to_tensor(x, opname)
        _check(opname, t, "fiuc", "a numeric")
        ax = _one_axis(opname, t, axis)
        return bind(opdef, t, axis=ax, exclusive=bool(exclusive), reverse=bool(reverse))

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


cumsum = _scan(SO.cumsum_op, "cumsum",
               "Cumulative sum along `axis`; `exclusive` starts at 0, `reverse` from the end "
               "(tf.math.cumsum).")
cumprod = _scan(SO.cumprod_op, "cumprod",
                "Cumulative product along `axis`; `exclusive` starts at 1, `reverse` from the end "
                "(tf.math.cumprod).")


# ---------------------------------------------------------------- sort / argsort / top_k
def _descending(name: str, direction: Any) -> bool:
    if direction not in ("ASCENDING", "DESCENDING"):
        raise op_error(name, f"direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}")
    return direction == "DESCENDING"


def _sortable(name: str, values: TensorLike) -> Tensor:
    x = to_tensor(values, name)
    _check(name, x, "fiu", "a numeric")
    if x.ndim == 0:
        raise op_error(name, f"expected a tensor of rank >= 1, got {x.type}")
    return x


def sort(values: TensorLike, axis: Any = -1, direction: str = "ASCENDING",
         name: str | None = None) -> Tensor:
    """Sorted copy along `axis` (tf.sort); NaN counts as larger than +inf, -0.0 ties 0.0."""
    x = _sortable("sort", values)
    ax = _one_axis("sort", x, axis)
    (out,) = bind(SO.sort_op, x, axis=ax, descending=_descending("sort", direction), stable=False)
    return out


def argsort(values: TensorLike, axis: Any = -1, direction: str = "ASCENDING",
            stable: bool = False, name: str | None = None) -> Tensor:
    """int32 indices that sort `values` along `axis` (tf.argsort); NaN orders as in tx.sort."""
    x = _sortable("argsort", values)
    ax = _one_axis("argsort", x, axis)
    idx = _iota(x, ax, I32, "argsort")
    _, out = bind(SO.sort_op, x, idx, axis=ax, descending=_descending("argsort", direction),
                  stable=bool(stable))
    return out


def top_k(input: TensorLike, k: Any = 1, sorted: bool = True,  # noqa: A002
          index_type: Any = I32, name: str | None = None) -> TopKV2:
    """The k largest entries of the last axis and their indices (tf.math.top_k).

    Ties go to the lower index; NaN counts as the largest value. The result is always sorted.
    """
    x = _sortable("top_k", input)
    kk = static_int(k, "top_k", "k")
    n = _static_dims("top_k", x)[-1]
    if not 0 <= kk <= n:
        raise op_error("top_k", f"k must be in [0, {n}] for {x.type}, got {kk}")
    it = DType.from_any(index_type)
    if it not in (I32, I64):
        raise op_error("top_k", f"index_type must be int32 or int64, got {it.name}", TypeError)
    axis = x.ndim - 1
    if kk == 0 or x.type.num_elements == 0:  # nothing to choose: empty results of the shape
        empty = (*x.shape[:-1], kk)
        return TopKV2(constant_tensor(np.zeros(empty, x.dtype.np_dtype)),
                      constant_tensor(np.zeros(empty, it.np_dtype)))
    keys = x
    if x.dtype.is_floating:  # the TopK primitive orders by IEEE total order: make NaN +NaN
        # (largest) and -0.0 equal to 0.0 (a tie, lower index first) as TF does
        zero, nan = (constant_tensor(np.array(v, x.dtype.np_dtype)) for v in (0, np.nan))
        keys = bind(E.select_op, bind(E.compare_op, x, x, direction="NE"), nan,
                    bind(E.select_op, bind(E.compare_op, x, zero, direction="EQ"), zero, x))
    idx = bind(SO.top_k_indices_op, keys, k=kk)
    vals = gather(x, idx, batch_dims=axis, axis=axis)  # the values themselves (and gradient)
    if it != I32:
        idx = bind(CA.convert_op, idx, dtype=it)
    return TopKV2(vals, idx)


# ---------------------------------------------------------------- segments and bincount
def _segment_args(name: str, data: TensorLike, segment_ids: TensorLike) -> tuple:
    d = to_tensor(data, name)
    ids = to_tensor(segment_ids, name)
    _check(name, d, "fiuc", "a numeric data")
    if ids.dtype not in (I32, I64):
        raise op_error(name, f"segment_ids must be int32 or int64, got {ids.type}", TypeError)
    if ids.ndim > d.ndim or any(a is not None and b is not None and a != b
                                for a, b in zip(ids.shape, d.shape)):
        raise op_error(
            name, f"segment_ids' shape {list(ids.shape)} must be a prefix of data's shape "
                     f"{list(d.shape)}")
    return d, ids


def unsorted_segment_sum(data: TensorLike, segment_ids: TensorLike, num_segments: Any,
                         name: str | None = None) -> Tensor:
    """Sum the rows of `data` with equal ids into `num_segments` rows; ids out of
    [0, num_segments) are dropped (tf.math.unsorted_segment_sum). `num_segments` is static."""
    d, ids = _segment_args("unsorted_segment_sum", data, segment_ids)
    n = static_int(num_segments, "unsorted_segment_sum", "num_segments")
    if n < 0:
        raise op_error("unsorted_segment_sum", f"num_segments must be >= 0, got {n}")
    return bind(SO.segment_sum_op, d, ids, num_segments=n)


def segment_sum(data: TensorLike, segment_ids: TensorLike, num_segments: Any = None,
                name: str | None = None) -> Tensor:
    """Sum of the rows of `data` per segment id (tf.math.segment_sum).

    The output has max(segment_ids) + 1 rows, so segment_ids must be known at trace time unless
    `num_segments` (an extension: a static row count) is given; ids need not be sorted here.
    """
    d, ids = _segment_args("segment_sum", data, segment_ids)
    from tfx_core.polymorphic_function.tracer import get_static_value

    known = get_static_value(ids)
    # ids known now are checked as TF's kernel does (the other sorted segment ops do too)
    if known is not None and known.size and (known.min() < 0 or np.any(np.diff(known) < 0)):
        raise op_error("segment_sum", "segment ids are not increasing (or are negative): "
                       f"{known.tolist()}")
    if num_segments is None:
        if known is None:
            raise op_error(
                "segment_sum",
                "the output size max(segment_ids) + 1 depends on segment_ids, which are "
                         "not known at trace time; pass num_segments= (a static int)")
        num_segments = int(known.max()) + 1 if known.size else 0
    return unsorted_segment_sum(d, ids, num_segments)


def _bincount_length(arr: Tensor, minlength: Any, maxlength: Any) -> int:
    lo = None if minlength is None else static_int(minlength, "bincount", "minlength")
    hi = None if maxlength is None else static_int(maxlength, "bincount", "maxlength")
    if lo is not None and hi is not None and lo == hi:
        return lo
    from tfx_core.polymorphic_function.tracer import get_static_value

    known = get_static_value(arr)
    if known is None:
        raise op_error(
            "bincount", "the output length max(max(arr) + 1, minlength) depends on arr's values, "
                     "which are not known at trace time; pass minlength equal to maxlength for "
                     "a static length")
    n = int(known.max()) + 1 if known.size else 0
    n = max(n, lo or 0)
    return n if hi is None else min(n, hi)


def bincount(arr: TensorLike, weights: TensorLike = None, minlength: Any = None,
             maxlength: Any = None, dtype: Any = I32, name: str | None = None,
             axis: Any = None, binary_output: bool = False) -> Tensor:
    """Count (or sum `weights` of) each value of the int array `arr` (tf.math.bincount).

    The length is static: minlength == maxlength, or computed from an `arr` known at trace time.
    Values outside [0, length) are dropped (TF raises on negative values). `axis` is None (count
    over everything) or -1 (one row of counts per row of a 2-D `arr`).
    """
    a = to_tensor(arr, "bincount")
    if a.dtype not in (I32, I64):
        raise op_error("bincount", f"arr must be int32 or int64, got {a.type}", TypeError)
    if axis not in (None, 0, -1):
        raise op_error("bincount", f"axis must be None, 0 or -1, got {axis!r}")
    length = _bincount_length(a, minlength, maxlength)
    if weights is None:
        w = bind(S.broadcast_to_op, to_tensor(1, "bincount", DType.from_any(dtype)),
                 shape=_static_dims("bincount", a))
    else:
        w = to_tensor(weights, "bincount")
        if tuple(w.shape) != tuple(a.shape):
            raise op_error("bincount", f"weights {w.type} must have the shape of arr {a.type}")
        if binary_output:
            raise op_error("bincount", "binary_output=True does not take weights")
    if axis == -1 and a.ndim == 2:  # row r, value v -> segment r * length + v (v in range)
        rows = _static_dims("bincount", a)[0]
        ok = bind(E.and_op, bind(E.compare_op, a, to_tensor(0, "bincount", a.dtype),
                                 direction="GE"),
                  bind(E.compare_op, a, to_tensor(length, "bincount", a.dtype), direction="LT"))
        base = bind(E.mul_op, _iota(a, 0, a.dtype, "bincount"),
                    to_tensor(length, "bincount", a.dtype))
        ids = bind(E.select_op, ok, bind(E.add_op, a, base), to_tensor(-1, "bincount", a.dtype))
        out = bind(SO.segment_sum_op, w, ids, num_segments=rows * length)
        out = bind(S.reshape_op, out, shape=(rows, length))
    else:
        if axis == -1 and a.ndim != 2 and a.ndim > 1:
            raise op_error("bincount", f"axis=-1 needs a 2-D arr, got {a.type}")
        n = int(np.prod(_static_dims("bincount", a), dtype=np.int64))
        flat = bind(S.reshape_op, a, shape=(n,))
        out = bind(SO.segment_sum_op, bind(S.reshape_op, w, shape=(n,)), flat,
                   num_segments=length)
    if binary_output:
        out = bind(E.min_op, out, to_tensor(1, "bincount", out.dtype))
    return out


__all__ = [
    "argsort", "bincount", "cumprod", "cumsum", "segment_sum",
    "sort", "top_k", "unsorted_segment_sum",
]

"""Top-k membership and the "approximate" top-k, computed exactly here (tf.nn.in_top_k,
tf.math.approx_max_k / approx_min_k)."""
from __future__ import annotations

from typing import Any

from compiler.ir.types import BOOL, I32, I64
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.sort_ops import top_k

TensorLike = Any


def in_top_k(targets: TensorLike, predictions: TensorLike, k: Any,
             name: str | None = None) -> Tensor:
    """Whether each row's target class is among its k largest predictions; ties at the k-th
    value count as in. A target out of range, or a row holding a non-finite prediction, gives
    False (tf.math.in_top_k)."""
    name_ = "in_top_k"
    p = to_tensor(predictions, name_)
    t = to_tensor(targets, name_)
    if not p.dtype.is_floating or p.ndim != 2:
        raise op_error(name_, f"predictions must be a 2-D floating tensor, got {p.type}", TypeError
                       if not p.dtype.is_floating else ValueError)
    if t.dtype not in (I32, I64) or t.ndim != 1:
        raise op_error(name_, f"targets must be a 1-D int32 or int64 tensor, got {t.type}",
                       TypeError if t.dtype not in (I32, I64) else ValueError)
    n = p.shape[1]
    if n is None:
        raise op_error(name_, f"the number of classes must be known at trace time, got {p.type}")
    kk = k if isinstance(k, Tensor) else to_tensor(k, name_, t.dtype)
    hit = M.equal(A.expand_dims(t, 1), A.range(n, dtype=t.dtype))
    picked = R.reduce_sum(M.where(hit, p, 0.0), 1)  # the target's prediction (0 if out of range)
    more = R.reduce_sum(M.cast(M.greater(p, A.expand_dims(picked, 1)), kk.dtype), 1)
    valid = M.logical_and(M.greater_equal(t, 0), M.less(t, n))
    finite = R.reduce_all(M.is_finite(p), 1)
    return M.logical_and(M.logical_and(valid, finite), M.less(more, kk))


def _approx(name: str, operand: TensorLike, k: Any, reduction_dimension: int,
            largest: bool) -> tuple[Tensor, Tensor]:
    x = to_tensor(operand, name)
    if x.dtype is BOOL or not (x.dtype.is_floating or x.dtype.is_integer):
        raise op_error(name, f"operand must be numeric, got {x.type}", TypeError)
    if x.ndim == 0:
        raise op_error(name, f"operand must have rank >= 1, got {x.type}")
    d = static_int(reduction_dimension, name, "reduction_dimension")
    if not -x.ndim <= d < x.ndim:
        raise op_error(name, f"reduction_dimension {d} is out of range for {x.type}")
    d %= x.ndim
    perm = [*[i for i in range(x.ndim) if i != d], d]  # top_k works on the last axis
    moved = A.transpose(x, perm) if d != x.ndim - 1 else x
    key = moved if largest else M.negative(moved)
    vals, idx = top_k(key, static_int(k, name, "k"))
    if not largest:
        vals = M.negative(vals)
    if d != x.ndim - 1:
        back = [perm.index(i) for i in range(x.ndim)]
        vals, idx = A.transpose(vals, back), A.transpose(idx, back)
    return vals, idx


def approx_max_k(operand: TensorLike, k: Any, reduction_dimension: int = -1,
                 recall_target: float = 0.95, reduction_input_size_override: int = -1,
                 aggregate_to_topk: bool = True, name: str | None = None,
                 ) -> tuple[Tensor, Tensor]:
    """The k largest values along `reduction_dimension` and their int32 indices; exact here
    (recall 1, which meets any recall_target) (tf.math.approx_max_k)."""
    return _approx("approx_max_k", operand, k, reduction_dimension, True)


def approx_min_k(operand: TensorLike, k: Any, reduction_dimension: int = -1,
                 recall_target: float = 0.95, reduction_input_size_override: int = -1,
                 aggregate_to_topk: bool = True, name: str | None = None,
                 ) -> tuple[Tensor, Tensor]:
    """The k smallest values along `reduction_dimension` and their int32 indices; exact here
    (tf.math.approx_min_k). Floating operands only are negated, so integers keep their range."""
    x = to_tensor(operand, "approx_min_k")
    if x.dtype.is_integer:
        # NOTE: integers flip with bitwise not (-x - 1), which has no overflow at the minimum.
        vals, idx = _approx("approx_min_k", M.invert(x), k, reduction_dimension, True)
        return M.invert(vals), idx
    return _approx("approx_min_k", x, k, reduction_dimension, False)


__all__ = ["approx_max_k", "approx_min_k", "in_top_k", "top_k"]

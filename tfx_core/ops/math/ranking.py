"""in_top_k, confusion_matrix, invert_permutation and approx_max_k / approx_min_k (exact top-k,
which meets any recall target)."""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from compiler.interpreters import is_tracing
from compiler.ir.types import I32, I64, DType
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops.arguments import concrete_value, op_error, static_int
from tfx_core.ops.array_ops import expand_dims, ones_like, range, reshape, transpose
from tfx_core.ops.math_ops import (
    cast,
    equal,
    greater,
    greater_equal,
    is_finite,
    less,
    logical_and,
    where,
)
from tfx_core.ops.reduction_ops import reduce_all, reduce_sum
from tfx_core.ops.sort_ops import argsort, sort, top_k, unsorted_segment_sum

TensorLike = Any


def _index_tensor(name: str, x: TensorLike, what: str) -> Tensor:
    t = to_tensor(x, name)
    if t.dtype not in (I32, I64):
        raise op_error(name, f"{what} must be int32 or int64, got {t.type}", TypeError)
    return t


def in_top_k(targets: TensorLike, predictions: TensorLike, k: Any,
             name: str | None = None) -> Tensor:
    """Whether each row's target class is among its k largest predictions (ties count as in;
    a row holding NaN or inf, or an out-of-range target, gives False, as TF 2.21)."""
    ids = _index_tensor("in_top_k", targets, "targets")
    p = to_tensor(predictions, "in_top_k")
    if not p.dtype.is_floating or p.shape.rank != 2 or ids.shape.rank != 1:
        raise op_error("in_top_k", f"expected predictions [batch, classes] of a floating dtype "
                       f"and targets [batch], got {p.type} and {ids.type}")
    classes = p.shape[1]
    hit = equal(expand_dims(range(classes, dtype=ids.dtype), 0), expand_dims(ids, 1))
    zero = to_tensor(0, "in_top_k", p.dtype)
    target_value = reduce_sum(where(hit, p, zero), axis=1)
    above = reduce_sum(cast(greater(p, expand_dims(target_value, 1)), I32), axis=1)
    valid = logical_and(greater_equal(ids, to_tensor(0, "in_top_k", ids.dtype)),
                        less(ids, to_tensor(classes, "in_top_k", ids.dtype)))
    valid = logical_and(valid, reduce_all(is_finite(p), axis=1))
    kk = k if isinstance(k, Tensor) else to_tensor(k, "in_top_k", I32)
    return logical_and(valid, less(above, cast(kk, I32)))


def _known(t: Tensor) -> np.ndarray | None:
    """The value of an eager tensor (None inside a trace)."""
    return None if is_tracing() or t._buf is None else t.numpy()


def confusion_matrix(labels: TensorLike, predictions: TensorLike, num_classes: Any = None,
                     weights: TensorLike = None, dtype: Any = I32,
                     name: str | None = None) -> Tensor:
    """The [num_classes, num_classes] matrix counting (or summing `weights`, cast to `dtype`
    first, as TF) each (label, prediction) pair (tf.math.confusion_matrix).

    num_classes=None takes max(labels, predictions) + 1, which needs their values at trace time.
    Raises tx.errors.InvalidArgumentError eagerly for negative or out-of-range classes.
    """
    lab = cast(_index_tensor("confusion_matrix", labels, "labels"), I64)
    pred = cast(_index_tensor("confusion_matrix", predictions, "predictions"), I64)
    dt = DType.from_any(dtype)
    if num_classes is None:
        both = [concrete_value(t, "confusion_matrix", "labels and predictions (without "
                               "num_classes)") for t in (lab, pred)]
        n = max((int(a.max()) for a in both if a.size), default=-1) + 1
    else:
        n = static_int(num_classes, "confusion_matrix", "num_classes")
    for what, t in (("labels", lab), ("predictions", pred)):
        v = _known(t)
        if v is not None and v.size and v.min() < 0:
            raise op_error("confusion_matrix", f"`{what}` contains negative values")
        if v is not None and v.size and v.max() >= n:
            raise op_error("confusion_matrix", f"`{what}` out of bound: {int(v.max())} >= "
                           f"num_classes {n}")
    w = ones_like(lab, dtype=dt) if weights is None else cast(to_tensor(weights,
                                                                        "confusion_matrix"), dt)
    cells = unsorted_segment_sum(reshape(w, [-1]), lab * n + pred, n * n)
    return reshape(cells, [n, n])


def invert_permutation(x: TensorLike, name: str | None = None) -> Tensor:
    """y with y[x[i]] = i for a permutation x of 0..n-1 (tf.math.invert_permutation).

    Raises tx.errors.InvalidArgumentError eagerly when x is not a permutation.
    """
    p = _index_tensor("invert_permutation", x, "x")
    if p.shape.rank != 1:
        raise op_error("invert_permutation", f"x must be 1-D, got {p.type}")
    n = p.shape[0]
    v = _known(p)
    if v is not None and not np.array_equal(np.sort(v), np.arange(v.size)):
        seen = np.unique(v, return_counts=True)
        dup = seen[0][seen[1] > 1]
        why = f"{int(dup[0])} is duplicated" if dup.size else "values are out of range"
        raise op_error("invert_permutation", f"{why} in the input {v.tolist()!r:.80}")
    return unsorted_segment_sum(range(n, dtype=p.dtype), p, n)


def _to_last(name: str, x: Tensor, axis: Any) -> tuple[Tensor, list[int] | None]:
    ax = static_int(axis, name, "reduction_dimension")
    if not -x.ndim <= ax < x.ndim:
        raise op_error(name, f"reduction_dimension {ax} is out of range for {x.type}")
    ax %= x.ndim
    if ax == x.ndim - 1:
        return x, None
    perm = [i for i in builtins.range(x.ndim) if i != ax] + [ax]
    return transpose(x, perm), perm


def _move_back(t: Tensor, perm: list[int] | None) -> Tensor:
    return t if perm is None else transpose(t, [int(i) for i in np.argsort(perm)])


def approx_max_k(operand: TensorLike, k: Any, reduction_dimension: Any = -1,
                 recall_target: float = 0.95, reduction_input_size_override: Any = -1,
                 aggregate_to_topk: bool = True, name: str | None = None) -> tuple:
    """The k largest values along `reduction_dimension` and their int32 indices
    (tf.math.approx_max_k), computed exactly."""
    x = to_tensor(operand, "approx_max_k")
    moved, perm = _to_last("approx_max_k", x, reduction_dimension)
    vals, idx = top_k(moved, k)
    return _move_back(vals, perm), _move_back(idx, perm)


def approx_min_k(operand: TensorLike, k: Any, reduction_dimension: Any = -1,
                 recall_target: float = 0.95, reduction_input_size_override: Any = -1,
                 aggregate_to_topk: bool = True, name: str | None = None) -> tuple:
    """The k smallest values along `reduction_dimension` and their int32 indices
    (tf.math.approx_min_k), computed exactly; ties go to the lower index."""
    x = to_tensor(operand, "approx_min_k")
    moved, perm = _to_last("approx_min_k", x, reduction_dimension)
    kk = static_int(k, "approx_min_k", "k")
    n = moved.shape[-1]
    if n is not None and not 0 <= kk <= n:
        raise op_error("approx_min_k", f"k must be in [0, {n}] for {x.type}, got {kk}")
    vals = sort(moved, axis=-1)[..., :kk]
    idx = argsort(moved, axis=-1, stable=True)[..., :kk]
    return _move_back(vals, perm), _move_back(idx, perm)


def approx_top_k(input: TensorLike, k: Any, reduction_dimension: Any = -1,  # noqa: A002
                 recall_target: float = 0.95, is_max_k: bool = True,
                 reduction_input_size_override: Any = -1, aggregate_to_topk: bool = True,
                 name: str | None = None) -> tuple:
    """tf.approx_top_k (the raw op under approx_max_k / approx_min_k): the k largest
    (`is_max_k`) or smallest values and their int32 indices, computed exactly."""
    pick = approx_max_k if is_max_k else approx_min_k
    return pick(input, k, reduction_dimension)


__all__ = ["approx_max_k", "approx_min_k", "confusion_matrix", "in_top_k", "invert_permutation"]

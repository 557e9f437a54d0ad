"""Ops whose output shape depends on tensor values: tf.boolean_mask, one-argument tf.where,
tf.unique, tf.unique_with_counts and tf.dynamic_partition.

XLA compiles static shapes only, so these run where the deciding values are known: eagerly, or
in a trace when those values are known at trace time (constants). Which elements go where is
computed on the host with numpy; the data then moves through our compiled gather ops, so a
GradientTape sees ordinary gathers and boolean_mask / dynamic_partition have TF's gradients.
Inside a trace with run-time values they raise `DataDependentShapeError`, naming a static-size
alternative.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from compiler.ir.types import I32, I64, DType
from runtime.errors import InvalidArgumentError, UnimplementedError
from tfx_core.framework.convert import constant
from tfx_core.framework.dtypes import as_dtype
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops.arguments import op_error, static_int

TensorLike = Any


class DataDependentShapeError(UnimplementedError, TypeError):
    """The op's output shape depends on tensor values that are only known at run time, which a
    compiled (XLA) program cannot have. Also a NotImplementedError and a TypeError."""


def _host_value(name: str, t: Tensor, what: str, instead: str) -> np.ndarray:
    """The value of `t` now (eager, or known at trace time), or the error saying why not."""
    from tfx_core.polymorphic_function.tracer import get_static_value  # (tracer imports ops)

    value = get_static_value(t)
    if value is None:
        raise op_error(
            name,
            f"the output shape depends on the values of `{what}` ({t.type}), which are only "
            "known when the compiled function runs; XLA needs every shape at trace time "
            f"(a data-dependent shape). Instead: {instead}; or call {name} eagerly, outside "
            "the tx.function",
            DataDependentShapeError,
        )
    return np.asarray(value)


def _shape_text(shape: tuple) -> str:
    return str(tuple(shape))  # TF's TensorShape text: (2,), (None, 3), ()


def _gather(x: Tensor, positions: np.ndarray, axis: int) -> Tensor:
    from tfx_core.ops.indexing_ops import gather  # (indexing_ops imports math_ops)

    return gather(x, constant(positions.astype(np.int32)), axis=axis)


def _reshape(x: Tensor, shape: list) -> Tensor:
    from tfx_core.ops.array_ops import reshape

    return reshape(x, shape)


# ---------------------------------------------------------------- boolean_mask
def boolean_mask(tensor: TensorLike, mask: TensorLike, axis: Any = None,
                 name: str | None = None) -> Tensor:
    """The entries of `tensor` where `mask` is true (tf.boolean_mask): `mask`'s K dims match
    `tensor`'s dims axis..axis+K-1, which become one dim holding the kept entries in row-major
    order. Differentiable in `tensor` (a gather)."""
    x = to_tensor(tensor, "boolean_mask")
    m = to_tensor(mask, "boolean_mask")
    if not m.dtype.is_bool:
        raise op_error("boolean_mask", f"mask must be a bool tensor, got {m.type}", TypeError)
    k = m.ndim
    if k == 0:
        raise op_error("boolean_mask", "mask cannot be scalar.")
    ax = 0 if axis is None else static_int(axis, "boolean_mask", "axis")
    dims = x.shape[ax:ax + k]  # TF slices the shape with the axis as given (negative too)
    if len(dims) != k or any(a is not None and a != b for a, b in zip(dims, m.shape)):
        raise op_error("boolean_mask", f"Shapes {_shape_text(dims)} and {_shape_text(m.shape)} "
                       f"are incompatible (tensor {x.type}, mask {m.type}, axis={ax})")
    keep = _host_value("boolean_mask", m, "mask",
                       "tx.where(mask, tensor, tx.zeros_like(tensor)) keeps the shape and "
                       "zeroes the dropped entries, and a masked reduction such as "
                       "tx.reduce_sum(tx.where(mask, tensor, 0)) combines only the kept ones")
    ax = ax + x.ndim if ax < 0 else ax
    if k > 1:
        x = _reshape(x, [*x.shape[:ax], math.prod(m.shape), *x.shape[ax + k:]])
    return _gather(x, np.flatnonzero(keep.reshape(-1)), ax)


# ---------------------------------------------------------------- where (one argument)
def where_indices(condition: TensorLike, name: str | None = None) -> Tensor:
    """tf.where(condition): the int64 coordinates [n, rank] of the true (non-zero) entries, in
    row-major order. A NaN counts as true, -0.0 as false (as TF)."""
    c = to_tensor(condition, "where")
    if c.ndim == 0:
        raise op_error("where", "WhereOp : Unhandled input dimensions: 0 (condition must have "
                       "rank >= 1)", InvalidArgumentError)
    value = _host_value("where", c, "condition",
                        "the 3-argument form tx.where(condition, x, y) picks elementwise "
                        "and keeps the shape")
    return constant(np.argwhere(value != 0).astype(np.int64), I64)


# ---------------------------------------------------------------- unique
def _index_dtype(name: str, out_idx: Any) -> DType:
    d = as_dtype(out_idx)
    if d not in (I32, I64):
        raise op_error(name, f"out_idx must be int32 or int64, got {d}", TypeError)
    return d


def _unique(name: str, x: TensorLike, out_idx: Any) -> tuple[Tensor, np.ndarray, np.ndarray,
                                                               DType]:
    """The unique values (first-occurrence order), each element's index into them, and the
    position of each unique value's first occurrence."""
    t = to_tensor(x, name)
    idx_dtype = _index_dtype(name, out_idx)
    if t.ndim != 1:
        raise op_error(name, f"unique expects a 1D vector. (x is {t.type})", InvalidArgumentError)
    a = _host_value(name, t, "x", "tx.sort(x) keeps the shape, and comparing neighbours of the "
                    "sorted values (x[1:] != x[:-1]) marks each value's first occurrence")
    seen: dict = {}
    firsts: list[int] = []
    idx = np.empty(a.shape[0], np.int64)
    for pos, v in enumerate(a.tolist()):
        key = v if v == v else object()  # NaN != NaN: TF keeps every NaN as its own value
        j = seen.get(key)
        if j is None:
            j = seen[key] = len(firsts)
            firsts.append(pos)
        idx[pos] = j
    first = np.asarray(firsts, np.int64)
    return constant(a[first], t.dtype), idx, first, idx_dtype


def unique(x: TensorLike, out_idx: Any = I32, name: str | None = None) -> tuple[Tensor, Tensor]:
    """(y, idx) of a 1-D tensor (tf.unique): y its distinct values in order of first
    occurrence, idx each element's position in y, so y[idx] == x. Like TF, not differentiable
    (TF registers no gradient; here y is a constant to the tape)."""
    y, idx, _, d = _unique("unique", x, out_idx)
    return y, constant(idx.astype(d.np_dtype), d)


def unique_with_counts(x: TensorLike, out_idx: Any = I32,
                       name: str | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """(y, idx, count) (tf.unique_with_counts): tf.unique plus how often each y occurs."""
    y, idx, first, d = _unique("unique_with_counts", x, out_idx)
    count = np.bincount(idx, minlength=first.shape[0])
    return y, constant(idx.astype(d.np_dtype), d), constant(count.astype(d.np_dtype), d)


# ---------------------------------------------------------------- dynamic_partition
def dynamic_partition(data: TensorLike, partitions: TensorLike, num_partitions: Any,
                      name: str | None = None) -> list[Tensor]:
    """Split `data` into `num_partitions` tensors (tf.dynamic_partition): output i holds the
    slices data[j] (j over partitions' shape, row-major) with partitions[j] == i.
    Differentiable in `data` (gathers), as TF."""
    x = to_tensor(data, "dynamic_partition")
    p = to_tensor(partitions, "dynamic_partition")
    if p.dtype != I32:
        raise op_error("dynamic_partition", f"partitions must be int32, got {p.type}", TypeError)
    n = static_int(num_partitions, "dynamic_partition", "num_partitions")
    if n < 1:
        raise op_error("dynamic_partition", f"num_partitions must be >= 1, got {n}")
    k = p.ndim
    if len(x.shape) < k or any(a is not None and b is not None and a != b
                               for a, b in zip(x.shape, p.shape)):
        raise op_error("dynamic_partition", f"data.shape must start with partitions.shape, got "
                       f"data.shape = {list(x.shape)}, partitions.shape = {list(p.shape)}",
                       InvalidArgumentError)
    parts = _host_value("dynamic_partition", p, "partitions",
                        "tx.where(tx.equal(partitions, i), data, 0) keeps the shape for "
                        "partition i, and tx.math.unsorted_segment_sum(data, partitions, "
                        "num_partitions) reduces each partition")
    bad = (parts < 0) | (parts >= n)
    if bad.any():
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        raise op_error("dynamic_partition", f"partitions[{','.join(map(str, pos))}] = "
                       f"{int(parts[pos])} is not in [0, {n})", InvalidArgumentError)
    if k != 1:
        x = _reshape(x, [math.prod(p.shape), *x.shape[k:]])
    flat = parts.reshape(-1)
    return [_gather(x, np.flatnonzero(flat == i), 0) for i in range(n)]


__all__ = ["boolean_mask", "dynamic_partition", "unique", "unique_with_counts"]

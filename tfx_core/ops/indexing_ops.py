"""Gathers and scatters (tf.gather, tf.gather_nd, tf.scatter_nd, tf.tensor_scatter_nd_*),
tf.strided_slice, tf.one_hot and tf.nn.embedding_lookup.

Out-of-range indices: eagerly, the indices are checked on the host and a bad one raises
`IndexError` naming the op, the index and the valid range (as TF does on CPU). Inside
`@tx.function` nothing is checked (XLA cannot raise): XLA's semantics apply, so a gather clamps
each index into range and a scatter skips an update whose slice is out of range.
"""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from compiler.interpreters import is_tracing
from compiler.ir.types import F32, I32, DType, dims_compatible
from compiler.ops import constant as C
from compiler.ops import elementwise as E
from compiler.ops import indexing as X
from runtime.errors import InvalidArgumentError
from tfx_core.framework.operands import Tensor, bind, nary_operands, to_tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_int, static_ints

TensorLike = Any


def _int(v: Any, name: str, what: str) -> int:
    return static_int(v, name, what)


def _indices(indices: TensorLike, name: str) -> Tensor:
    i = to_tensor(indices, name)
    if not i.dtype.is_integer:
        raise op_error(name, f"indices must be an integer tensor, got {i.type}", TypeError)
    return i


def _eager(t: Tensor) -> bool:
    """Not tracing, and `t` holds a device buffer: its values can be checked on the host."""
    return t._buf is not None and not is_tracing()


def _check_range(name: str, idx: Tensor, bounds: list, vector: bool, shape: tuple) -> None:
    """Eagerly: raise IndexError unless 0 <= idx[..., k] < bounds[k] everywhere."""
    if not _eager(idx) or idx.shape.num_elements() == 0:
        return
    a = idx.numpy().astype(np.int64)
    v = a if vector else a[..., None]
    bad = np.any((v < 0) | (v >= np.asarray(bounds, np.int64)), axis=-1)
    if not bad.any():
        return
    pos = tuple(int(p) for p in np.argwhere(bad)[0])
    where = f"indices[{', '.join(map(str, pos))}]"
    if vector:
        msg = f"{where} = {v[pos].tolist()} does not index into shape {list(shape)}"
    else:
        msg = f"{where} = {int(v[pos][0])} is not in [0, {bounds[0]})"
    raise op_error(name, msg + " (inside @tx.function XLA semantics apply instead: gathers clamp "
                "indices into range, scatters skip out-of-range updates)", IndexError)


# ---------------------------------------------------------------- gathers
def gather(params: TensorLike, indices: TensorLike, validate_indices: Any = None,
           axis: Any = None, batch_dims: Any = 0, name: str | None = None) -> Tensor:
    """Slices of `params` along `axis` at `indices`, per batch (tf.gather)."""
    p, i = to_tensor(params, "gather"), _indices(indices, "gather")
    bd = _int(batch_dims, "gather", "batch_dims")
    bd = bd + i.ndim if bd < 0 else bd
    if not 0 <= bd <= i.ndim:
        raise op_error("gather", f"batch_dims={batch_dims} is out of range for indices {i.type}")
    ax = bd if axis is None else _int(axis, "gather", "axis")
    ax = ax + p.ndim if ax < 0 else ax
    if not bd <= ax < p.ndim:
        raise op_error("gather", f"axis={axis} must be in [batch_dims={bd}, {p.ndim}) for params "
                    f"{p.type}")
    if not all(dims_compatible(a, b) for a, b in zip(p.shape[:bd], i.shape[:bd])):
        raise op_error("gather", f"the first batch_dims={bd} dims of params {p.type} and indices "
                    f"{i.type} must match")
    if p.shape[ax] is not None:
        _check_range("gather", i, [p.shape[ax]], False, p.shape)
    rank = p.ndim - 1 + i.ndim - bd
    return bind(X.gather_op, p, i,
                offset_dims=(*range(bd, ax), *range(ax + i.ndim - bd, rank)),
                collapsed_slice_dims=(ax,), operand_batching_dims=tuple(range(bd)),
                start_indices_batching_dims=tuple(range(bd)), start_index_map=(ax,),
                index_vector_dim=i.ndim,
                # an empty batch (or axis) takes a 0-wide slice: XLA needs sizes <= the dim
                slice_sizes=tuple((1 if p.shape[d] != 0 else 0) if d == ax or d < bd else None
                                  for d in range(p.ndim)))


def gather_nd(params: TensorLike, indices: TensorLike, batch_dims: Any = 0,
              name: str | None = None) -> Tensor:
    """Slices of `params` at the index vectors in the last dim of `indices` (tf.gather_nd)."""
    p, i = to_tensor(params, "gather_nd"), _indices(indices, "gather_nd")
    bd = _int(batch_dims, "gather_nd", "batch_dims")
    if i.ndim < 1 or i.shape[-1] is None:
        raise op_error("gather_nd", f"indices must have rank >= 1 and a known last dim, got "
                    f"{i.type}")
    k = i.shape[-1]
    if not 0 <= bd < i.ndim or bd + k > p.ndim:
        raise op_error("gather_nd", f"indices {i.type} with batch_dims={bd} index too many dims "
                    f"of params {p.type}")
    if not all(dims_compatible(a, b) for a, b in zip(p.shape[:bd], i.shape[:bd])):
        raise op_error("gather_nd", f"the first batch_dims={bd} dims of params {p.type} and "
                    f"indices {i.type} must match")
    if None not in p.shape[bd:bd + k]:
        _check_range("gather_nd", i, list(p.shape[bd:bd + k]), True, p.shape[bd:bd + k])
    indexed = tuple(range(bd, bd + k))
    return bind(X.gather_op, p, i,
                offset_dims=tuple(range(i.ndim - 1, i.ndim - 1 + p.ndim - bd - k)),
                collapsed_slice_dims=indexed, operand_batching_dims=tuple(range(bd)),
                start_indices_batching_dims=tuple(range(bd)), start_index_map=indexed,
                index_vector_dim=i.ndim - 1,
                slice_sizes=tuple(1 if d < bd + k else None for d in range(p.ndim)))


# ---------------------------------------------------------------- scatters
def _scatter_nd(name: str, tensor: Tensor, i: Tensor, u: Tensor, mode: str) -> Tensor:
    if tensor.dtype is not u.dtype:
        raise op_error(name, f"dtypes differ: tensor {tensor.type} and updates {u.type} (use "
                    "tx.cast)", TypeError)
    if i.ndim < 1 or i.shape[-1] is None or i.shape[-1] > tensor.ndim:
        raise op_error(name, f"indices {i.type} must have rank >= 1 and a known last dim of at "
                    f"most the rank of {tensor.type}")
    k = i.shape[-1]
    want = (*i.shape[:-1], *tensor.shape[k:])
    if u.ndim != len(want) or not all(dims_compatible(a, b) for a, b in zip(u.shape, want)):
        raise op_error(name, f"updates {u.type} must have shape indices.shape[:-1] + "
                    f"shape[{k}:] = {list(want)} (indices {i.type}, shape {list(tensor.shape)})")
    if None not in tensor.shape[:k]:  # (eager tensors always have known dims)
        _check_range(name, i, list(tensor.shape[:k]), True, tensor.shape[:k])
    return bind(X.scatter_op, tensor, i, u, update_window_dims=tuple(range(i.ndim - 1, u.ndim)),
                inserted_window_dims=tuple(range(k)), input_batching_dims=(),
                scatter_indices_batching_dims=(), scatter_dims_to_operand_dims=tuple(range(k)),
                index_vector_dim=i.ndim - 1, mode=mode)


def scatter_nd(indices: TensorLike, updates: TensorLike, shape: Any,
               name: str | None = None) -> Tensor:
    """Zeros of `shape` plus `updates` added at `indices`; repeats sum (tf.scatter_nd)."""
    from tfx_core.ops.array_ops import zeros

    i, u = _indices(indices, "scatter_nd"), to_tensor(updates, "scatter_nd")
    dims = static_ints(shape, "scatter_nd", "shape")
    if u.dtype.is_bool:
        raise op_error("scatter_nd", f"updates must be numeric, got {u.type}", TypeError)
    return _scatter_nd("scatter_nd", zeros(dims, u.dtype), i, u, "add")


def _tensor_scatter(mode: str, opname: str, doc: str):
    def fn(tensor: TensorLike, indices: TensorLike, updates: TensorLike,
           name: str | None = None) -> Tensor:
        t, u = nary_operands(opname, tensor, updates)
        i = _indices(indices, opname)
        # TF's add/sub kernels take complex tensors too; max/min need an order
        numeric = t.dtype.is_floating or t.dtype.is_integer or (
            t.dtype.is_complex and mode in ("add", "sub"))
        if mode != "update" and not numeric:
            raise op_error(opname, f"expected a numeric tensor, got {t.type}", TypeError)
        if mode == "sub":  # NOTE: 0 - u wraps like TF for unsigned; -u keeps -0.0 for floats
            u = M.subtract(0, u) if u.dtype.is_unsigned else M.negative(u)
        return _scatter_nd(opname, t, i, u, "add" if mode == "sub" else mode)

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


tensor_scatter_nd_update = _tensor_scatter(
    "update", "tensor_scatter_nd_update",
    "`tensor` with slices at `indices` replaced by `updates` (tf.tensor_scatter_nd_update).")
tensor_scatter_nd_add = _tensor_scatter(
    "add", "tensor_scatter_nd_add",
    "`tensor` with `updates` added at `indices`; repeats sum (tf.tensor_scatter_nd_add).")
tensor_scatter_nd_sub = _tensor_scatter(
    "sub", "tensor_scatter_nd_sub",
    "`tensor` with `updates` subtracted at `indices` (tf.tensor_scatter_nd_sub).")
tensor_scatter_nd_max = _tensor_scatter(
    "max", "tensor_scatter_nd_max",
    "`tensor` with the maximum taken with `updates` at `indices` (tf.tensor_scatter_nd_max).")
tensor_scatter_nd_min = _tensor_scatter(
    "min", "tensor_scatter_nd_min",
    "`tensor` with the minimum taken with `updates` at `indices` (tf.tensor_scatter_nd_min).")


# ---------------------------------------------------------------- one_hot, embedding_lookup
def _convert(v: Any, hint: DType | None) -> Tensor:
    from tfx_core.framework.convert import convert_to_tensor

    try:
        return convert_to_tensor(v, dtype_hint=hint)
    except TypeError as e:
        raise op_error("one_hot", str(e), TypeError) from None


def one_hot(indices: TensorLike, depth: Any, on_value: TensorLike = None,
            off_value: TensorLike = None, axis: Any = None, dtype: Any = None,
            name: str | None = None) -> Tensor:
    """One-hot encoding along a new `depth`-long axis; out-of-range indices are all off
    (tf.one_hot).

    The dtype is `dtype`, else that of on_value/off_value, else float32.
    """
    i = _indices(indices, "one_hot")
    n = _int(depth, "one_hot", "depth")
    if n < 0:
        raise op_error("one_hot", f"depth must be non-negative, got {n}")
    ax = -1 if axis is None else _int(axis, "one_hot", "axis")
    if not -1 <= ax <= i.ndim:
        raise op_error("one_hot", f"axis={ax} must be -1 or in [0, {i.ndim}] for indices {i.type}")
    ax = i.ndim if ax == -1 else ax
    hint = None if dtype is None else DType.from_any(dtype)
    on, off = (None if v is None else _convert(v, hint) for v in (on_value, off_value))
    given = [v.dtype for v in (on, off) if v is not None]
    if hint is not None and any(d is not hint for d in given):
        raise op_error("one_hot", f"on_value/off_value dtypes {[d.name for d in given]} do not "
                    f"match dtype={hint.name}", TypeError)
    if len(set(given)) > 1:
        raise op_error("one_hot", f"on_value dtype {on.dtype.name} does not match off_value dtype "
                    f"{off.dtype.name}", TypeError)
    dt = hint or (given[0] if given else F32)
    on = on if on is not None else to_tensor(np.ones((), dt.np_dtype), "one_hot")
    off = off if off is not None else to_tensor(np.zeros((), dt.np_dtype), "one_hot")
    if on.ndim or off.ndim:
        raise op_error("one_hot", f"on_value and off_value must be scalars, got {on.type} and "
                    f"{off.type}")
    if i.dtype.bits < 32:  # NOTE: an 8-bit iota would wrap for depth > 127
        i = M.cast(i, I32)
    shape = tuple(n if d == ax else 1 for d in range(i.ndim + 1))
    classes = bind(C.iota_op, shape=shape, dimension=ax, dtype=i.dtype)
    from tfx_core.ops.array_ops import expand_dims

    hit = bind(E.compare_op, expand_dims(i, ax), classes, direction="EQ")
    return bind(E.select_op, hit, on, off)


def _concat_div_shards(params: list, name: str) -> Tensor:
    """TF's "div" partitioning: shard p holds the next ceil/floor(N/P) ids in order."""
    ts = [to_tensor(p, name) for p in params]
    if len(ts) == 1:
        return ts[0]
    sizes = [t.shape[0] if t.ndim else None for t in ts]
    if None in sizes:
        raise op_error(name, f"sharded params need known first dims, got {[t.type for t in ts]}")
    total, n = sum(sizes), len(ts)
    want = [total // n + (1 if s < total % n else 0) for s in range(n)]
    if sizes != want:
        raise op_error(name, f"shard sizes {sizes} do not follow the 'div' partition of {total} "
                    f"ids over {n} shards ({want})")
    from tfx_core.ops.array_ops import concat

    return concat(ts, 0)


def embedding_lookup(params: Any, ids: TensorLike, max_norm: float | None = None,
                     name: str | None = None) -> Tensor:
    """Rows of `params` at `ids` (tf.nn.embedding_lookup).

    A list of params is taken as "div"-sharded; rows with an L2 norm above `max_norm` are
    scaled down to it.
    """
    if isinstance(params, (list, tuple)):
        if not params:
            raise op_error("embedding_lookup", "params is an empty list")
        p = _concat_div_shards(list(params), "embedding_lookup")
    else:
        p = to_tensor(params, "embedding_lookup")
    i = _indices(ids, "embedding_lookup")
    if p.ndim < 1:
        raise op_error("embedding_lookup", f"params must have rank >= 1, got {p.type}")
    out = gather(p, i)
    if max_norm is None:
        return out
    from tfx_core.ops.reduction_ops import reduce_sum

    axes = list(range(i.ndim, out.ndim))
    l2sum = reduce_sum(M.multiply(out, out), axes, keepdims=True)  # tf.clip_by_norm
    pos = M.greater(l2sum, 0)
    l2norm = M.where(pos, M.sqrt(M.where(pos, l2sum, 1)), l2sum)
    clip = to_tensor(max_norm, "embedding_lookup", out.dtype)
    return M.truediv(M.multiply(out, clip), M.maximum(l2norm, clip))


# ---------------------------------------------------------------- strided_slice
def _spec_values(v: Any, name: str, n: int | None) -> list:
    """begin/end/strides as a list of ints, with scalar tensors where only run time knows an
    entry (a Python list holding a loop counter, or a 1-D tensor not known at trace time)."""
    from tfx_core.polymorphic_function.tracer import get_static_value  # (tracer imports ops)

    if isinstance(v, Tensor):
        if v.ndim != 1 or not v.dtype.is_integer:
            raise op_error("strided_slice", f"{name} must be a 1-D integer tensor, got {v.type}",
                           TypeError)
        known = get_static_value(v)
        v = [v[k] for k in range(v.shape[0])] if known is None else known
    if isinstance(v, (list, tuple)):
        vals = []
        for item in v:
            if isinstance(item, Tensor) and item.ndim == 0 and item.dtype.is_integer:
                known = get_static_value(item)
                vals.append(item if known is None else int(known))
            else:
                vals.append(static_int(item, "strided_slice", name))
    else:
        vals = list(static_ints(v, "strided_slice", name))
    if n is not None and len(vals) != n:
        raise op_error("strided_slice", f"{name} has {len(vals)} entries, begin has {n}")
    return vals


def strided_slice(input_: TensorLike, begin: Any, end: Any, strides: Any = None,
                  begin_mask: int = 0, end_mask: int = 0, ellipsis_mask: int = 0,
                  new_axis_mask: int = 0, shrink_axis_mask: int = 0, var: Any = None,
                  name: str | None = None) -> Tensor:
    """tf.strided_slice: entry k of begin/end/strides slices one axis unless bit k of a mask
    says otherwise (begin_mask / end_mask: from the start / to the end; ellipsis_mask: `...`;
    new_axis_mask: a new size-1 axis; shrink_axis_mask: index begin[k], dropping the axis).
    Built as the equivalent `x[key]`, so a shrunk axis may use a run-time index."""
    x = to_tensor(input_, "strided_slice")
    b = _spec_values(begin, "begin", None)
    e = _spec_values(end, "end", len(b))
    s = _spec_values([1] * len(b) if strides is None else strides, "strides", len(b))
    masks = {"begin_mask": begin_mask, "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
             "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}
    for what, m in masks.items():
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 0:
            raise op_error("strided_slice", f"{what} must be a non-negative int, got {m!r}",
                           TypeError)
    if bin(int(ellipsis_mask)).count("1") > 1:
        raise op_error("strided_slice", f"only one ellipsis is allowed, got ellipsis_mask="
                       f"{ellipsis_mask:#b}")
    key: list = []
    for k in range(len(b)):
        bit = 1 << k
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            if isinstance(s[k], Tensor) or s[k] <= 0:  # as TF (a positive stride is ignored)
                raise op_error("strided_slice", f"only stride 1 allowed on an axis that "
                               f"shrink_axis_mask indexes (entry {k}), got stride {s[k]}",
                               InvalidArgumentError)
            key.append(b[k])
        else:
            if isinstance(s[k], Tensor):
                raise op_error("strided_slice", "strides must be known at trace time", TypeError)
            if s[k] == 0:
                raise op_error("strided_slice", "strides must be non-zero")
            key.append(builtins.slice(None if begin_mask & bit else b[k],
                                      None if end_mask & bit else e[k], s[k]))
    from tfx_core.ops.array_ops import getitem

    return getitem(x, tuple(key))


__all__ = [
    "gather", "gather_nd", "one_hot", "scatter_nd", "strided_slice",
    "tensor_scatter_nd_add",
    "tensor_scatter_nd_max", "tensor_scatter_nd_min", "tensor_scatter_nd_sub",
    "tensor_scatter_nd_update",
]

"""Shape, slicing, indexing and creation ops (tf.reshape, tf.concat, tf.zeros, tf.range, x[...])."""
from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from compiler import dynamic_shape as DSH
from compiler.interpreters import nothing_active
from compiler.ir.types import F32, I32, DType, broadcast_shapes, dims_compatible
from compiler.ops import cast as CA
from compiler.ops import constant as C
from compiler.ops import dynamic_slice as DS
from compiler.ops import elementwise as E
from compiler.ops import shape as S
from tfx_core.framework.convert import (
    cast_numpy_exact,
    constant_tensor,
    convert_to_tensor,
    infer_numpy,
)
from tfx_core.framework.operands import Tensor, bind, nary_operands, to_tensor
from tfx_core.ops.arguments import concrete_value, op_error, static_int, static_ints
from tfx_core.ops.math_ops import cast
from tfx_core.polymorphic_function.shape_values import (
    DynamicShape,
    range_from_shapes,
    run_time,
    shape_argument,
)

TensorLike = Any


# ---------------------------------------------------------------- argument helpers
def _axis(axis: Any, rank: int, name: str) -> int:
    """Normalize an axis for `rank`; out of range values pass through for the op to reject."""
    a = static_int(axis, name, "axis")
    return a % rank if -rank <= a < rank else a


def _slice_axis(x: Tensor, axis: int, begin: int | None, end: int | None) -> Tensor:
    b, e = [None] * x.ndim, [None] * x.ndim
    b[axis], e[axis] = begin, end
    return bind(S.slice_op, x, begin=tuple(b), end=tuple(e), strides=(1,) * x.ndim)


def _broadcast(x: Tensor, shape: tuple | DynamicShape) -> Tensor:
    if isinstance(shape, DynamicShape):  # a shape computed from None dims (see shape_values)
        return bind(DSH.broadcast_dynamic_op, x, shape.tensor, known=shape.known)
    return x if tuple(x.shape) == shape else bind(S.broadcast_to_op, x, shape=shape)


def _fill_scalar(value: np.ndarray, shape: tuple | DynamicShape) -> Tensor:
    if nothing_active():  # eager: fill on the host and copy once (no per-shape XLA compile)
        return Tensor.from_numpy(np.full(shape, value, value.dtype))
    return _broadcast(constant_tensor(value), shape)


# ---------------------------------------------------------------- reshaping
def reshape(tensor: TensorLike, shape: Any, name: str | None = None) -> Tensor:
    """Reshape to `shape`; one dim may be -1 and is inferred (tf.reshape)."""
    x = to_tensor(tensor, "reshape")
    dims = shape_argument(shape, "reshape", "shape")
    if isinstance(dims, DynamicShape):
        return bind(DSH.reshape_dynamic_op, x, dims.tensor, known=dims.reshape_dims(x))
    return bind(S.reshape_op, x, shape=dims)


def transpose(a: TensorLike, perm: Any = None, conjugate: bool = False,
              name: str | None = None) -> Tensor:
    """Permute the axes; the default reverses them (tf.transpose). `conjugate` also conjugates
    complex entries (a no-op for real ones), as TF."""
    x = to_tensor(a, "transpose")
    if perm is None:
        perm = tuple(builtins.range(x.ndim - 1, -1, -1))
    perm = tuple(_axis(p, x.ndim, "transpose") for p in static_ints(perm, "transpose", "perm"))
    out = bind(S.transpose_op, x, perm=perm)
    return bind(E.conj_op, out) if conjugate and x.dtype.is_complex else out


def expand_dims(input: TensorLike, axis: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Insert a size-1 axis at `axis`, in [-rank-1, rank] (tf.expand_dims)."""
    x = to_tensor(input, "expand_dims")
    return bind(S.expand_dims_op, x, axes=(_axis(axis, x.ndim + 1, "expand_dims"),))


def squeeze(input: TensorLike, axis: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    """Remove size-1 axes: the given ones, or every static size-1 axis (tf.squeeze)."""
    x = to_tensor(input, "squeeze")
    given = () if axis is None else static_ints(axis, "squeeze", "axis")
    if not given:  # None or [] (as TF): every size-1 axis
        if None in x.shape:  # NOTE: which unknown dims are 1 is known only per call shape
            raise op_error("squeeze", f"without axis, the size-1 axes of {x.type} are "
                         "unknown (its None dims come from input_signature); pass axis=")
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    else:  # repeated axes are allowed, as in TF
        axes = tuple(sorted({_axis(a, x.ndim, "squeeze") for a in given}))
    return bind(S.squeeze_op, x, axes=axes) if axes else x


def broadcast_to(input: TensorLike, shape: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Broadcast to `shape` with NumPy rules (tf.broadcast_to)."""
    x = to_tensor(input, "broadcast_to")
    dims = shape_argument(shape, "broadcast_to", "shape")
    if isinstance(dims, DynamicShape):
        return _broadcast(x, dims)
    return bind(S.broadcast_to_op, x, shape=dims)


def tile(input: TensorLike, multiples: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Repeat the tensor `multiples[i]` times along axis i (tf.tile)."""
    x = to_tensor(input, "tile")
    m = shape_argument(multiples, "tile", "multiples")
    if isinstance(m, DynamicShape):
        return bind(DSH.tile_dynamic_op, x, m.tensor, known=m.known)
    return bind(S.tile_op, x, multiples=m)


def reverse(tensor: TensorLike, axis: Any, name: str | None = None) -> Tensor:
    """Reverse the order of elements along the given axes (tf.reverse)."""
    x = to_tensor(tensor, "reverse")
    axes = tuple(_axis(a, x.ndim, "reverse") for a in static_ints(axis, "reverse", "axis"))
    return bind(S.reverse_op, x, axes=axes)


def identity(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """The input, as a tensor (tf.identity)."""
    return to_tensor(input, "identity")


# ---------------------------------------------------------------- joining and splitting
def concat(values: Any, axis: Any, name: str | None = None) -> Tensor:
    """Join tensors along an existing axis (tf.concat)."""
    if isinstance(values, Tensor) or not values:
        raise op_error("concat", "values must be a non-empty list of tensors", TypeError)
    xs = nary_operands("concat", *values)
    ax = _axis(axis, xs[0].ndim, "concat")
    return bind(S.concatenate_op, *xs, axis=ax)


def stack(values: Any, axis: Any = 0, name: str | None = None) -> Tensor:
    """Join same-shaped tensors along a new axis (tf.stack)."""
    if isinstance(values, Tensor) or not values:
        raise op_error("stack", "values must be a non-empty list of tensors", TypeError)
    xs = nary_operands("stack", *values)
    first = xs[0]
    for t in xs[1:]:
        if t.ndim != first.ndim or not builtins.all(
            dims_compatible(a, b) for a, b in zip(t.shape, first.shape)
        ):
            shown = ", ".join(str(v.type) for v in xs)
            raise op_error("stack", f"all shapes must be equal, got {shown}")
    ax = _axis(axis, first.ndim + 1, "stack")
    parts = [bind(S.expand_dims_op, t, axes=(ax,)) for t in xs]
    return bind(S.concatenate_op, *parts, axis=ax)


def _dim(x: Tensor, axis: int, name: str) -> int:
    d = x.shape[axis]
    if d is None:
        raise op_error(
            name, f"axis {axis} of {x.type} is unknown at trace time; the piece count must be "
            "static")
    return d


def unstack(value: TensorLike, num: int | None = None, axis: Any = 0,
            name: str | None = None) -> list[Tensor]:
    """Split along `axis` into rank-1 smaller tensors (tf.unstack)."""
    x = to_tensor(value, "unstack")
    if x.ndim == 0:
        raise op_error("unstack", f"cannot unstack a 0-d tensor ({x.type})")
    ax = _axis(axis, x.ndim, "unstack")
    if not 0 <= ax < x.ndim:
        raise op_error("unstack", f"axis {axis} is out of range for {x.type}")
    n = static_int(num, "unstack", "num") if num is not None else _dim(x, ax, "unstack")
    if x.shape[ax] is not None and n != x.shape[ax]:
        raise op_error("unstack", f"num={n} but axis {ax} of {x.type} has {x.shape[ax]}")
    return [bind(S.squeeze_op, _slice_axis(x, ax, i, i + 1), axes=(ax,))
            for i in builtins.range(n)]


def split(value: TensorLike, num_or_size_splits: Any, axis: Any = 0, num: int | None = None,
          name: str | None = None) -> list[Tensor]:
    """Split into equal pieces, or pieces of the given sizes (one may be -1) (tf.split)."""
    x = to_tensor(value, "split")
    ax = _axis(axis, x.ndim, "split")
    if not 0 <= ax < x.ndim:
        raise op_error("split", f"axis {axis} is out of range for {x.type}")
    d = x.shape[ax]
    if isinstance(num_or_size_splits, (int, np.integer)) or (
        isinstance(num_or_size_splits, Tensor) and num_or_size_splits.ndim == 0
    ):
        n = static_int(num_or_size_splits, "split", "num_or_size_splits")
        d = _dim(x, ax, "split")
        if n <= 0 or d % n:
            raise op_error("split", f"axis {ax} of {x.type} cannot split evenly into {n}")
        sizes = [d // n] * n
    else:
        sizes = list(static_ints(num_or_size_splits, "split", "size_splits"))
        if sizes.count(-1) > 1 or builtins.any(s < -1 for s in sizes):
            raise op_error("split", f"invalid sizes {sizes}: at most one -1 allowed")
        if -1 in sizes:
            rest = _dim(x, ax, "split") - builtins.sum(s for s in sizes if s != -1)
            if rest < 0:
                raise op_error("split", f"sizes {sizes} exceed axis {ax} of {x.type}")
            sizes[sizes.index(-1)] = rest
        if d is not None and builtins.sum(sizes) != d:
            raise op_error("split", f"sizes {sizes} do not add up to {d} (axis {ax} of {x.type})")
    out, start = [], 0
    for s in sizes:
        out.append(_slice_axis(x, ax, start, start + s))
        start += s
    return out


def pad(tensor: TensorLike, paddings: Any, mode: str = "CONSTANT", constant_values: Any = 0,
        name: str | None = None) -> Tensor:
    """Pad with `constant_values` (CONSTANT) or by mirroring (REFLECT, SYMMETRIC);
    paddings[i] = [before, after] for axis i (tf.pad)."""
    x = to_tensor(tensor, "pad")
    m = str(mode).upper()
    if m not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise op_error("pad", f"unknown mode {mode!r} (CONSTANT, REFLECT, SYMMETRIC)")
    p = concrete_value(paddings, "pad", "paddings") if isinstance(paddings, Tensor) else paddings
    flat = static_ints(np.asarray(p).reshape(-1) if np.size(p) else [], "pad", "paddings")
    if len(flat) != 2 * x.ndim or builtins.any(v < 0 for v in flat):
        raise op_error(
            "pad", f"paddings must be {x.ndim} non-negative [before, after] pairs for {x.type}, "
                     f"got {np.asarray(p).tolist()}")
    if m != "CONSTANT":  # constant_values is ignored, as TF
        from tfx_core.ops.array.pad import mirror_pad  # (the array package imports this one)

        return mirror_pad(x, flat[0::2], flat[1::2], m)
    value = to_tensor(constant_values, "pad", x.dtype)
    return bind(S.pad_op, x, value, low=flat[0::2], high=flat[1::2], interior=(0,) * x.ndim)


def slice(input_: TensorLike, begin: Any, size: Any, name: str | None = None) -> Tensor:  # noqa: A001
    """The block starting at `begin` with `size` (-1: to the end) per axis (tf.slice). `begin`
    may hold scalars known only at run time (a 1-D int tensor, or a list mixing ints and
    scalar tensors) when `size` is static: one `dynamic_slice`, whose start XLA clamps so the
    block fits (TF raises on CPU without XLA; eagerly we check as TF does)."""
    x = to_tensor(input_, "slice")
    s = static_ints(size, "slice", "size")
    b = _slice_begin(begin)
    if len(b) != x.ndim or len(s) != x.ndim:
        shown = [v if isinstance(v, int) else "?" for v in b]
        raise op_error(
            "slice", f"begin {shown} and size {list(s)} must have {x.ndim} entries for {x.type}")
    if builtins.any(isinstance(v, Tensor) for v in b):
        return _slice_at_run_time(x, b, s)
    for i, (bi, si, d) in enumerate(zip(b, s, x.shape)):
        _check_slice_axis(x, i, bi, si, d, b, s)
    end = tuple(None if si == -1 else bi + si for bi, si in zip(b, s))
    return bind(S.slice_op, x, begin=b, end=end, strides=(1,) * x.ndim)


def _check_slice_axis(x: Tensor, i: int, bi: int, si: int, d: int | None, b: Any,
                      s: tuple) -> None:
    """TF's bounds rule for one axis of tf.slice (its message first, then the whole call)."""
    if d is None:
        bad = bi < 0 or si < -1
        msg = f"Expected begin[{i}] >= 0 and size[{i}] >= -1"
    elif not 0 <= bi <= d:
        bad, msg = True, f"Expected begin[{i}] in [0, {d}], but got {bi}"
    else:
        bad = si < -1 or bi + si > d
        msg = f"Expected size[{i}] in [0, {d - bi}], but got {si}"
    if bad:
        shown = [v if isinstance(v, int) else "?" for v in b]
        raise op_error("slice", f"{msg}: begin {shown} / size {list(s)} out of bounds on axis "
                                f"{i} of {x.type}")


def _slice_begin(begin: Any) -> tuple:
    """tf.slice's begin as ints, with a Tensor for each entry known only at run time."""
    if isinstance(begin, Tensor) and _known(begin) is None:
        if begin.ndim != 1 or not begin.dtype.is_integer or begin.shape[0] is None:
            raise op_error("slice", f"begin must be a 1-D integer tensor of static length, got "
                                    f"{begin.type}", TypeError)
        return tuple(bind(S.reshape_op, _slice_axis(begin, 0, i, i + 1), shape=())
                     for i in builtins.range(begin.shape[0]))
    if isinstance(begin, (list, tuple)):
        return tuple(_begin_entry(v) for v in begin)
    return static_ints(begin, "slice", "begin")


def _begin_entry(v: Any) -> int | Tensor:
    if isinstance(v, Tensor) and _known(v) is None:
        if v.ndim != 0 or not v.dtype.is_integer:
            raise op_error("slice", f"begin entries must be integer scalars, got {v.type}",
                           TypeError)
        return v
    return static_int(v, "slice", "begin")


def _slice_at_run_time(x: Tensor, b: tuple, s: tuple) -> Tensor:
    sizes = []
    for i, (bi, si, d) in enumerate(zip(b, s, x.shape)):
        if isinstance(bi, Tensor):
            if si == -1:
                raise op_error(
                    "slice", f"size[{i}] is -1 (to the end) but begin[{i}] is known only at run "
                    "time, so the result's size would be too; pass a static size")
            if si < 0 or (d is not None and si > d):
                raise op_error("slice", f"Expected size[{i}] in [0, {d}], but got {si} "
                                        f"(axis {i} of {x.type})")
            sizes.append(si)
            continue
        _check_slice_axis(x, i, bi, si, d, b, s)
        if si == -1 and d is None:
            raise op_error("slice", f"size[{i}] is -1 on an axis unknown at trace time "
                                    f"({x.type}) next to a run-time begin; pass a static size")
        sizes.append(d - bi if si == -1 else si)
    starts = [_as_i32(v) if isinstance(v, Tensor) else constant_tensor(np.array(v, np.int32))
              for v in b]
    return bind(DS.dynamic_slice_op, x, *starts, sizes=tuple(sizes))


def _known(v: Tensor) -> np.ndarray | None:
    from tfx_core.polymorphic_function.tracer import get_static_value  # (tracer imports ops)

    return get_static_value(v)


def _as_i32(i: Tensor) -> Tensor:
    return i if i.dtype is I32 else bind(CA.convert_op, i, dtype=I32)


# ---------------------------------------------------------------- indexing: x[key]
def _index_int(k: Any, key: Any) -> int | Tensor | None:
    """An int index from an int, numpy integer or integer scalar tensor whose value is known;
    a symbolic integer scalar tensor as itself (a run-time index); None if not an index."""
    if isinstance(k, (bool, np.bool_)):
        raise op_error(
            "getitem",
            f"boolean indices (masks) are not supported, got {key!r}; use tx.where", TypeError)
    if isinstance(k, (int, np.integer)):
        return int(k)
    if isinstance(k, Tensor):
        if k.ndim == 0 and k.dtype.is_integer:
            known = _known(k)
            return k if known is None else int(known)
        raise op_error(
            "getitem",
            f"tensor-valued indices must be integer scalars, got {k.type}; gather with "
            "tx.gather for arrays of indices", TypeError)
    if isinstance(k, (list, np.ndarray)):
        raise op_error(
            "getitem",
            f"array-valued indices ({k!r}) are not supported: gather is out of scope", TypeError)
    return None


def _slice_part(v: Any, key: Any) -> int | Tensor | None:
    if v is None:
        return None
    i = _index_int(v, key)
    if i is None:
        raise op_error("getitem", f"slice bounds must be ints or None, got {v!r}", TypeError)
    return i


def _bound_text(v: Any) -> str:
    return "" if v is None else str(v.type) if isinstance(v, Tensor) else str(v)


def _key_text(key: Any) -> str:
    """x[key] as the user wrote it, run-time scalars shown by type: `x[i32[]:, 1]`."""
    def one(k: Any) -> str:
        if isinstance(k, builtins.slice):
            parts = [_bound_text(k.start), _bound_text(k.stop)]
            return ":".join(parts + ([_bound_text(k.step)] if k.step is not None else []))
        return "..." if k is Ellipsis else _bound_text(k) if k is not None else "None"
    return "x[" + ", ".join(one(k) for k in (key if isinstance(key, tuple) else (key,))) + "]"


def _run_time_window(k: builtins.slice, start: Any, stop: Any, step: int, d: int | None,
                     dim: int, key: Any) -> tuple[Tensor, int, int]:
    """A slice with a run-time bound as (anchor, width, back): the window of `width` elements
    starting `back` before the anchor (the start, wrapped from the end if negative, as x[i]),
    which a static stride then thins. Its width must be static: `j - i` known at trace time."""
    from tfx_core.polymorphic_function.tracer import static_difference  # (tracer imports ops)

    width = None
    if isinstance(start, Tensor) and stop is not None:
        width = static_difference(k.stop, k.start) if step > 0 else \
            static_difference(k.start, k.stop)
    if width is None:
        raise op_error(
            "getitem",
            f"slice bounds that are only known at run time give a result whose size is not "
            f"static: in {_key_text(key)} the width on axis {dim} is not known at trace time; "
            "slice a static width w from a run-time start: x[i:i + w] (or x[i - w:i]), "
            "tx.slice(x, [i], [w]), or tx.gather(x, tx.range(w) + i)", TypeError)
    width = builtins.max(width, 0)
    if d is not None and width > d:
        raise op_error(
            "getitem",
            f"{_key_text(key)} spans {width} elements but axis {dim} has {d}: a window at a "
            "run-time start must fit in the axis (its size is static)", IndexError)
    return start, width, (width - 1 if step < 0 and width else 0)


def _window_stride(step: int, width: int) -> builtins.slice:
    """Which elements of a run-time window a slice keeps: every step-th, from the far end for
    a negative step (x[i:i - w:-1] is the window [i - w + 1, i] reversed)."""
    return builtins.slice(None, None, step) if width else builtins.slice(None)


def getitem(x: TensorLike, key: Any) -> Tensor:
    """x[key] with ints, slices (any step), `...` and None/tx.newaxis (tf.Tensor.__getitem__)."""
    x = to_tensor(x, "getitem")
    items = key if isinstance(key, tuple) else (key,)
    if builtins.sum(k is Ellipsis for k in items) > 1:
        raise op_error("getitem", f"an index can only have a single ellipsis: {key!r}", IndexError)
    used = builtins.sum(k is not None and k is not Ellipsis for k in items)
    if used > x.ndim:
        raise op_error(
            "getitem",
            f"too many indices for {x.type}: {used} given for rank {x.ndim} ({key!r})", IndexError)
    if not builtins.any(k is Ellipsis for k in items):
        items = (*items, Ellipsis)
    begin: list = []
    end: list = []
    strides: list = []
    squeeze_axes: list[int] = []
    new_axes: list[int] = []
    # (axis, anchor, width, back) of each run-time index and window: one dynamic_slice
    run_time: list[tuple[int, Tensor, int, int]] = []
    thin: list[builtins.slice] = []  # per axis: the static stride applied to a run-time window
    out_pos = 0
    for k in items:
        dim = len(begin)
        if k is None:
            new_axes.append(out_pos)
            out_pos += 1
        elif k is Ellipsis:
            n = x.ndim - used
            begin += [None] * n
            end += [None] * n
            strides += [1] * n
            thin += [builtins.slice(None)] * n
            out_pos += n
        elif isinstance(k, builtins.slice):
            start, stop, step = (_slice_part(v, key) for v in (k.start, k.stop, k.step))
            if isinstance(step, Tensor):
                raise op_error("getitem", f"slice steps must be known at trace time, got "
                                          f"{step.type} in {key!r}", TypeError)
            step = 1 if step is None else step
            out_pos += 1
            if isinstance(start, Tensor) or isinstance(stop, Tensor):  # a run-time window
                anchor, width, back = _run_time_window(k, start, stop, step, x.shape[dim],
                                                       dim, key)
                run_time.append((dim, anchor, width, back))
                thin.append(_window_stride(step, width))
                begin.append(None)
                end.append(None)
                strides.append(1)
                continue
            begin.append(start)
            end.append(stop)
            strides.append(step)
            thin.append(builtins.slice(None))
        else:
            i = _index_int(k, key)
            if i is None:
                raise op_error("getitem", f"unsupported index {k!r} in {key!r}", TypeError)
            d = x.shape[dim]
            thin.append(builtins.slice(None))
            if isinstance(i, Tensor):  # known at run time only: the whole axis, then one row
                run_time.append((dim, i, 1, 0))
                begin.append(None)
                end.append(None)
                strides.append(1)
                squeeze_axes.append(dim)
                continue
            if d is not None and not -d <= i < d:
                raise op_error(
                    "getitem",
                    f"index {i} is out of range for axis {dim} of size {d} ({x.type})", IndexError)
            begin.append(i)
            end.append(None if i == -1 else i + 1)
            strides.append(1)
            squeeze_axes.append(dim)
    y = x
    if builtins.any(  # (a run-time index's axis is whole here: no identity slice to trace)
        b is not None or e is not None or s != 1 for b, e, s in zip(begin, end, strides)
    ):
        y = bind(S.slice_op, y, begin=tuple(begin), end=tuple(end), strides=tuple(strides))
    if run_time:
        y = _take_at_run_time(y, run_time, key)
        if builtins.any(t.step not in (None, 1) for t in thin):  # x[i:i + w:k]: thin the window
            y = bind(S.slice_op, y, begin=tuple(t.start for t in thin),
                     end=tuple(t.stop for t in thin), strides=tuple(t.step or 1 for t in thin))
    if squeeze_axes:
        y = bind(S.squeeze_op, y, axes=tuple(squeeze_axes))
    if new_axes:
        y = bind(S.expand_dims_op, y, axes=tuple(new_axes))
    return y


def _take_at_run_time(y: Tensor, run_time: list[tuple[int, Tensor, int, int]],
                      key: Any) -> Tensor:
    """One `dynamic_slice` of the run-time indices (width 1) and windows (a static width,
    starting `back` before the anchor). A negative anchor counts from the end (as TF's x[i]);
    a window still out of range has its start clamped so it fits in the axis (XLA's rule: TF
    raises on CPU without XLA, and with jit_compile clamps too)."""
    sizes = list(y.shape)
    zero = constant_tensor(np.array(0, np.int32))
    starts = [zero] * y.ndim
    for dim, i, width, back in run_time:
        i32 = _as_i32(i)
        # an axis unknown at trace time (None dims) is read with shape_of: static once the
        # graph is specialized (`for i in tx.range(tx.shape(x)[0]): x[i]`)
        size = constant_tensor(np.array(sizes[dim], np.int32)) if sizes[dim] is not None else \
            bind(S.reshape_op, _slice_axis(bind(C.shape_of_op, y), 0, dim, dim + 1), shape=())
        wrapped = bind(E.add_op, i32, size)
        starts[dim] = bind(E.select_op, bind(E.compare_op, i32, zero, direction="LT"), wrapped,
                           i32)
        if back:
            starts[dim] = bind(E.sub_op, starts[dim], constant_tensor(np.array(back, np.int32)))
        sizes[dim] = width
    if None in sizes:  # the other axes whole, their sizes known per call shape (None dims)
        dims = shape_argument([bind(S.reshape_op, _slice_axis(bind(C.shape_of_op, y), 0, d,
                                                              d + 1), shape=())
                               if n is None else n for d, n in enumerate(sizes)],
                              "getitem", "sizes")
        return bind(DSH.dynamic_slice_dynamic_op, y, *starts, dims.tensor, known=dims.known)
    return bind(DS.dynamic_slice_op, y, *starts, sizes=tuple(sizes))


# ---------------------------------------------------------------- shape queries
def shape(input: TensorLike, out_type: Any = I32, name: str | None = None) -> Tensor:  # noqa: A002
    """The shape as a 1-D int32 (or int64) tensor (tf.shape)."""
    x = to_tensor(input, "shape")
    s = bind(C.shape_of_op, x)
    return s if DType.from_any(out_type) is I32 else cast(s, out_type)


def rank(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """The number of axes, as a 0-d int32 tensor (tf.rank)."""
    return constant_tensor(np.array(to_tensor(input, "rank").ndim, np.int32))


def size(input: TensorLike, out_type: Any = I32, name: str | None = None) -> Tensor:  # noqa: A002
    """The number of elements, as a 0-d int32 (or int64) tensor (tf.size)."""
    x = to_tensor(input, "size")
    dt = DType.from_any(out_type)
    n = x.type.num_elements
    if n is not None:
        return constant_tensor(np.array(n, dt.np_dtype))
    s = shape(x, dt)
    out = constant_tensor(np.array(1, dt.np_dtype))
    for i in builtins.range(x.ndim):
        out = bind(E.mul_op, out, bind(S.reshape_op, _slice_axis(s, 0, i, i + 1), shape=()))
    return out


# ---------------------------------------------------------------- creation
def _dtype(dtype: Any) -> DType:
    return DType.from_any(dtype)


def zeros(shape: Any, dtype: Any = F32, name: str | None = None) -> Tensor:
    """A tensor of zeros (tf.zeros)."""
    dims = shape_argument(shape, "zeros", "shape")
    return _fill_scalar(np.zeros((), _dtype(dtype).np_dtype), dims)


def ones(shape: Any, dtype: Any = F32, name: str | None = None) -> Tensor:
    """A tensor of ones (tf.ones)."""
    dims = shape_argument(shape, "ones", "shape")
    return _fill_scalar(np.ones((), _dtype(dtype).np_dtype), dims)


def fill(dims: Any, value: TensorLike, name: str | None = None) -> Tensor:
    """A tensor of shape `dims` filled with the scalar `value` (tf.fill)."""
    shape_ = shape_argument(dims, "fill", "dims")
    v = to_tensor(value, "fill")
    if v.ndim != 0:
        raise op_error("fill", f"value must be a scalar, got {v.type}")
    return _broadcast(v, shape_)


def _like(input: TensorLike, dtype: Any, fill_value: int, name: str) -> Tensor:
    x = to_tensor(input, name)
    dt = x.dtype if dtype is None else _dtype(dtype)
    scalar = constant_tensor(np.array(fill_value, dt.np_dtype))
    return bind(S.broadcast_like_op, scalar, x)  # shape-independent: works with unknown dims


def zeros_like(input: TensorLike, dtype: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    """Zeros with the shape (and by default the dtype) of `input` (tf.zeros_like)."""
    return _like(input, dtype, 0, "zeros_like")


def ones_like(input: TensorLike, dtype: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    """Ones with the shape (and by default the dtype) of `input` (tf.ones_like)."""
    return _like(input, dtype, 1, "ones_like")


def eye(num_rows: int, num_columns: int | None = None, batch_shape: Any = None,
        dtype: Any = F32, name: str | None = None) -> Tensor:
    """An identity matrix, optionally batched (tf.eye)."""
    n = static_int(num_rows, "eye", "num_rows")
    m = n if num_columns is None else static_int(num_columns, "eye", "num_columns")
    if n < 0 or m < 0:
        raise op_error("eye", f"num_rows={n} and num_columns={m} must be >= 0")
    rows = bind(C.iota_op, shape=(n, m), dimension=0, dtype=I32)
    cols = bind(C.iota_op, shape=(n, m), dimension=1, dtype=I32)
    out = cast(bind(E.compare_op, rows, cols, direction="EQ"), dtype)
    if batch_shape is not None:
        batch = static_ints(batch_shape, "eye", "batch_shape")
        out = _broadcast(out, (*batch, n, m))
    return out


def _range_arg(v: Any) -> np.ndarray:
    if isinstance(v, Tensor):
        a = concrete_value(v, "range", "start/limit/delta")
        if a.ndim != 0:
            raise op_error("range", f"start/limit/delta must be scalars, got {v.type}")
        return a
    if isinstance(v, (bool, np.bool_)):
        raise op_error("range", f"start/limit/delta must be numbers, got {v!r}", TypeError)
    a = infer_numpy(v)
    if a.ndim != 0:
        raise op_error("range", f"start/limit/delta must be scalars, got {v!r}")
    return a


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,  # noqa: A001
          name: str = "range") -> Tensor:
    """start, start + delta, ... up to (excluding) limit (tf.range); sizes must be static."""
    if limit is None:
        start, limit = 0, start
    if run_time(start, limit):  # from shapes under None dims: a count known per call shape
        return range_from_shapes(start, limit, delta, None if dtype is None else _dtype(dtype))
    args = [_range_arg(v) for v in (start, limit, delta)]
    if dtype is None:
        floats = [a.dtype for a in args if a.dtype.kind == "f"]
        dt = DType.from_numpy(builtins.max(floats, key=lambda d: d.itemsize)) if floats else (
            DType.from_numpy(builtins.max((a.dtype for a in args), key=lambda d: d.itemsize)))
    else:
        dt = _dtype(dtype)
    if dt.is_bool:
        raise op_error("range", "dtype bool is not supported", TypeError)
    s, lim, d = (cast_numpy_exact(a, dt, "range: ") for a in args)
    if d == 0:
        raise op_error("range", "delta must not be 0")
    if (d > 0 and s > lim) or (d < 0 and s < lim):
        raise op_error(
            "range", f"start={s} cannot reach limit={lim} with delta={d} (tf.range requires it)")
    if dt.is_floating:
        n = int(math.ceil(abs((float(lim) - float(s)) / float(d))))
    else:
        n = (abs(int(lim) - int(s)) + abs(int(d)) - 1) // abs(int(d))
    out = bind(C.iota_op, shape=(n,), dimension=0, dtype=dt)
    if d != 1:
        out = bind(E.mul_op, out, constant_tensor(np.asarray(d)))
    if s != 0:
        out = bind(E.add_op, out, constant_tensor(np.asarray(s)))
    return out


def linspace(start: TensorLike, stop: TensorLike, num: Any, name: str | None = None,
             axis: Any = 0) -> Tensor:
    """`num` evenly spaced values from start to stop inclusive, along `axis` (tf.linspace)."""
    a = convert_to_tensor(start, dtype_hint=F32)
    b = convert_to_tensor(stop, dtype=a.dtype) if not isinstance(stop, Tensor) else stop
    if not a.dtype.is_floating or a.dtype is not b.dtype:
        raise op_error(
            "linspace",
            f"start and stop must be floating tensors of one dtype: {a.type}, {b.type}", TypeError)
    n = static_int(num, "linspace", "num")
    if n < 0:
        raise op_error("linspace", f"num must be >= 0, got {n}")
    if a.shape != b.shape:
        bshape = broadcast_shapes(tuple(a.shape), tuple(b.shape))
        if bshape is None or None in bshape:
            raise op_error("linspace", f"cannot broadcast {a.type} with {b.type}")
        a, b = _broadcast(a, bshape), _broadcast(b, bshape)
    r = a.ndim + 1
    ax = _axis(axis, r, "linspace")
    a = bind(S.expand_dims_op, a, axes=(ax,))
    b = bind(S.expand_dims_op, b, axes=(ax,))
    if n == 0:
        return _slice_axis(a, ax, 0, 0)
    if n == 1:
        return a
    delta = bind(E.div_op, bind(E.sub_op, b, a), constant_tensor(np.array(n - 1, a.dtype.np_dtype)))
    i = bind(C.iota_op, shape=(n - 1,), dimension=0, dtype=a.dtype)
    i = bind(S.expand_dims_op, i, axes=tuple(j for j in builtins.range(r) if j != ax))
    body = bind(E.add_op, a, bind(E.mul_op, i, delta))
    return bind(S.concatenate_op, body, b, axis=ax)


__all__ = [
    "broadcast_to", "concat", "expand_dims", "eye", "fill", "getitem", "identity", "linspace",
    "ones", "ones_like", "pad", "range", "rank", "reshape", "reverse", "shape", "size", "slice",
    "split", "squeeze", "stack", "tile", "transpose", "unstack", "zeros", "zeros_like",
]

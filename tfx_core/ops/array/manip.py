"""Rearrangements over the core ops: roll, repeat, meshgrid, masks, stitching, shape helpers."""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from compiler.ir.types import BOOL, I32, I64, DType
from tfx_core.framework.operands import Tensor, nary_operands, to_tensor
from tfx_core.framework.tensor import TensorShape
from tfx_core.ops import array_ops as AO
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import axis_values, op_error, static_int
from tfx_core.ops.indexing_ops import gather

TensorLike = Any


def _static_value(t: Any) -> np.ndarray | None:
    from tfx_core.polymorphic_function.tracer import get_static_value  # (tracer imports ops)

    return get_static_value(t) if isinstance(t, Tensor) else np.asarray(t)


def _axis(name: str, axis: Any, rank: int) -> int:
    a = static_int(axis, name, "axis")
    if not -rank <= a < rank:
        raise op_error(name, f"axis {a} is out of range for rank {rank}")
    return a % rank


def _dim(name: str, x: Tensor, axis: int) -> int:
    d = x.shape[axis]
    if d is None:
        raise op_error(name, f"needs dim {axis} of {x.type} known at trace time")
    return d


def _int_tensor(name: str, v: Any, what: str) -> Tensor:
    t = to_tensor(v, name) if isinstance(v, Tensor) else to_tensor(np.asarray(v), name)
    if t.dtype not in (I32, I64):
        raise op_error(name, f"{what} must be int32 or int64, got {t.type}", TypeError)
    return t


# ---------------------------------------------------------------- roll / repeat
def roll(input: TensorLike, shift: Any, axis: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Shift elements along each of `axis` by `shift`, wrapping around (tf.roll); shifts may be
    run-time tensors, and shifts on one axis add up."""
    x = to_tensor(input, "roll")
    axes = axis_values("roll", axis)
    shifts = shift if isinstance(shift, (list, tuple)) else [shift]
    if isinstance(shift, Tensor) and shift.ndim == 1:
        shifts = [shift[i] for i in builtins.range(_dim("roll", shift, 0))]
    if len(shifts) != len(axes):
        raise op_error("roll", f"shift and axis must have the same length, got {len(shifts)} "
                       f"and {len(axes)}")
    for s, a in zip(shifts, axes):
        ax = _axis("roll", a, x.ndim)
        n = _dim("roll", x, ax)
        if n == 0:
            continue
        s = _int_tensor("roll", s, "shift")
        # output[i] = input[(i - shift) mod n]: one gather, whatever the shift's sign or size
        src = M.floormod(M.subtract(AO.range(0, n, dtype=s.dtype), s), M.cast(n, s.dtype))
        x = gather(x, src, axis=ax)
    return x


def repeat(input: TensorLike, repeats: Any, axis: Any = None,  # noqa: A002
           name: str | None = None) -> Tensor:
    """Repeat each element `repeats` times along `axis` (flattened when None) (tf.repeat).
    `repeats` (a scalar, or one count per element) must be known at trace time: it sets the
    output's size."""
    x = to_tensor(input, "repeat")
    if axis is None:
        x = AO.reshape(x, [-1])
        axis = 0
    ax = _axis("repeat", axis, x.ndim)
    n = _dim("repeat", x, ax)
    r = _static_value(repeats)
    if r is None:
        raise op_error("repeat", "repeats must be known at trace time (it sets the output's "
                       "shape)", TypeError)
    r = np.asarray(r)
    if r.dtype.kind not in "iu" or r.ndim > 1 or (r.ndim == 1 and r.size not in (1, n)):
        raise op_error("repeat", f"repeats must be an int or {n} ints, got {r.tolist()}")
    if np.any(r < 0):
        raise op_error("repeat", f"repeats must be >= 0, got {r.tolist()}")
    src = np.repeat(np.arange(n, dtype=np.int32), np.broadcast_to(r.reshape(-1), (n,)))
    return gather(x, src, axis=ax)


# ---------------------------------------------------------------- grids and masks
def meshgrid(*args: TensorLike, **kwargs: Any) -> list[Tensor]:
    """N-D coordinate grids from 1-D tensors (tf.meshgrid); indexing='xy' (Cartesian: the first
    two output dims swapped) or 'ij' (matrix)."""
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise op_error("meshgrid", f"unexpected arguments {sorted(kwargs)}", TypeError)
    if indexing not in ("xy", "ij"):
        raise op_error("meshgrid", f"indexing must be 'xy' or 'ij', got {indexing!r}")
    xs = [AO.reshape(to_tensor(a, "meshgrid"), [-1]) for a in args]
    shape = [_dim("meshgrid", t, 0) for t in xs]
    if indexing == "xy" and len(xs) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(xs):
        at = i
        if indexing == "xy" and len(xs) > 1 and i < 2:
            at = 1 - i
        view = [1] * len(xs)
        view[at] = shape[at]
        out.append(AO.broadcast_to(AO.reshape(t, view), shape))
    return out


def sequence_mask(lengths: TensorLike, maxlen: Any = None, dtype: Any = BOOL,
                  name: str | None = None) -> Tensor:
    """mask[..., j] = j < lengths[...] (tf.sequence_mask); `maxlen` defaults to max(lengths),
    which then must be known at trace time."""
    n = to_tensor(lengths, "sequence_mask")
    if n.dtype.kind not in "iu":
        raise op_error("sequence_mask", f"lengths must be integers, got {n.type}", TypeError)
    if maxlen is None:
        known = _static_value(n)
        if known is None:
            raise op_error("sequence_mask", "maxlen=None needs lengths known at trace time (it "
                           "sets the output's shape); pass maxlen", TypeError)
        m = int(known.max()) if known.size else 0
    else:
        m = static_int(maxlen, "sequence_mask", "maxlen")
    mask = M.less(AO.range(0, m, dtype=n.dtype), AO.expand_dims(n, -1))
    dt = DType.from_any(dtype)
    return mask if dt == BOOL else M.cast(mask, dt)


def reverse_sequence(input: TensorLike, seq_lengths: TensorLike, seq_axis: Any = None,  # noqa: A002
                     batch_axis: Any = None, name: str | None = None) -> Tensor:
    """Reverse the first seq_lengths[b] entries along `seq_axis` of each batch entry b
    (tf.reverse_sequence); lengths may be run-time tensors."""
    x = to_tensor(input, "reverse_sequence")
    lens = _int_tensor("reverse_sequence", seq_lengths, "seq_lengths")
    if seq_axis is None:
        raise op_error("reverse_sequence", "seq_axis is required", TypeError)
    sa = _axis("reverse_sequence", seq_axis, x.ndim)
    ba = _axis("reverse_sequence", 0 if batch_axis is None else batch_axis, x.ndim)
    if sa == ba:
        raise op_error("reverse_sequence", f"seq_axis and batch_axis must differ, got {sa}")
    b, t = _dim("reverse_sequence", x, ba), _dim("reverse_sequence", x, sa)
    if lens.shape != (b,):
        raise op_error("reverse_sequence", f"seq_lengths must be a vector of {b} (dim "
                       f"{ba} of {x.type}), got {lens.type}")
    known = _static_value(lens)
    if known is not None and known.size and (known.min() < 0 or known.max() > t):
        raise op_error("reverse_sequence", f"seq_lengths must be in [0, {t}], got "
                       f"{known.tolist()}")
    perm = [ba, sa] + [d for d in builtins.range(x.ndim) if d not in (ba, sa)]
    xt = AO.transpose(x, perm)
    i = AO.range(0, t, dtype=lens.dtype)
    n = AO.expand_dims(lens, -1)
    src = M.where(M.less(i, n), M.subtract(M.subtract(n, M.cast(1, lens.dtype)), i),
                  AO.broadcast_to(i, (b, t)))
    out = gather(xt, src, axis=1, batch_dims=1)
    return AO.transpose(out, list(np.argsort(perm)))


# ---------------------------------------------------------------- index arithmetic
def unravel_index(indices: TensorLike, dims: TensorLike, name: str | None = None) -> Tensor:
    """The coordinates of flat `indices` in an array of shape `dims`, stacked first
    (tf.unravel_index): shape [len(dims)] + indices.shape."""
    i = _int_tensor("unravel_index", indices, "indices")
    d = M.cast(_int_tensor("unravel_index", dims, "dims"), i.dtype)
    if d.ndim != 1 or i.ndim > 1:
        raise op_error("unravel_index", f"dims must be 1-D and indices 0-D or 1-D, got "
                       f"{d.type} and {i.type}")
    k = _dim("unravel_index", d, 0)
    known_i, known_d = _static_value(i), _static_value(d)
    if known_i is not None and known_d is not None and known_i.size and (
            known_i.min() < 0 or known_i.max() >= np.prod(known_d)):
        raise op_error("unravel_index", f"indices {known_i.tolist()} must be in "
                       f"[0, {int(np.prod(known_d))}) for dims {known_d.tolist()}")
    out, rest = [], i
    for j in builtins.range(k - 1, -1, -1):  # the last coordinate varies fastest
        out.append(M.floormod(rest, d[j]))
        rest = M.floordiv(rest, d[j])
    return AO.stack(out[::-1], axis=0)


def dynamic_stitch(indices: Any, data: Any, name: str | None = None) -> Tensor:
    """merged[indices[m][i]] = data[m][i] (tf.dynamic_stitch): later entries win, and rows no
    index names are 0. `indices` must be known at trace time: they set the output's size."""
    if len(indices) != len(data) or not indices:
        raise op_error("dynamic_stitch", f"needs as many indices as data tensors (>= 1), got "
                       f"{len(indices)} and {len(data)}")
    ids = [_static_value(t) for t in indices]
    if any(v is None for v in ids):
        raise op_error("dynamic_stitch", "indices must be known at trace time (they set the "
                       "output's size)", TypeError)
    ds = nary_operands("dynamic_stitch", *data)
    rows = []
    for v, t in zip(ids, ds):
        v = np.asarray(v)
        if v.dtype.kind not in "iu" or tuple(t.shape[:v.ndim]) != v.shape:
            raise op_error("dynamic_stitch", f"each data tensor's shape must start with its "
                           f"indices' shape {list(v.shape)}, got {t.type}")
        if v.size and v.min() < 0:
            raise op_error("dynamic_stitch", f"indices must be >= 0, got {v.tolist()}")
        rows.append(AO.reshape(t, [v.size, *t.shape[v.ndim:]]))
    flat = np.concatenate([np.asarray(v).reshape(-1) for v in ids]).astype(np.int64)
    n = int(flat.max()) + 1 if flat.size else 0
    src = np.full(n, -1, np.int64)
    src[flat] = np.arange(flat.size)  # numpy keeps the last write: later entries win
    allrows = AO.concat(rows, 0)
    out = gather(allrows, np.maximum(src, 0).astype(np.int32), axis=0)
    if np.all(src >= 0):
        return out
    hit = np.reshape(src >= 0, (n,) + (1,) * (out.ndim - 1))
    return M.where(AO.broadcast_to(hit, out.shape), out, AO.zeros_like(out))


# ---------------------------------------------------------------- shapes
def shape_n(input: Any, out_type: Any = I32, name: str | None = None) -> list[Tensor]:  # noqa: A002
    """The shapes of a list of tensors (tf.shape_n)."""
    return [AO.shape(t, out_type=out_type) for t in input]


def _dims_of(v: Any) -> list:
    return list(v) if isinstance(v, (TensorShape, tuple, list)) else list(np.asarray(v))


def broadcast_static_shape(shape_x: Any, shape_y: Any) -> TensorShape:
    """The broadcast of two TensorShapes (tf.broadcast_static_shape); unknown dims stay None
    unless the other side fixes them."""
    a, b = _dims_of(shape_x), _dims_of(shape_y)
    a, b = [1] * (len(b) - len(a)) + a, [1] * (len(a) - len(b)) + b
    out = []
    for u, v in zip(a, b):
        if u is not None and v is not None and u != v and 1 not in (u, v):
            raise op_error("broadcast_static_shape", f"incompatible shapes: "
                           f"{list(shape_x)} and {list(shape_y)}")
        if u == 1:
            out.append(v)
        elif v == 1:
            out.append(u)
        else:
            out.append(u if u is not None else v)
    return TensorShape(int(d) if d is not None else None for d in out)


def broadcast_dynamic_shape(shape_x: TensorLike, shape_y: TensorLike) -> Tensor:
    """The broadcast of two 1-D shape tensors (tf.broadcast_dynamic_shape)."""
    x = _int_tensor("broadcast_dynamic_shape", shape_x, "shape_x")
    y = _int_tensor("broadcast_dynamic_shape", shape_y, "shape_y")
    if x.dtype != y.dtype:
        y = M.cast(y, x.dtype)
    kx, ky = _static_value(x), _static_value(y)
    if kx is not None and ky is not None:
        out = broadcast_static_shape(kx.tolist(), ky.tolist())
        return to_tensor(np.asarray(list(out), x.dtype.np_dtype), "broadcast_dynamic_shape")
    nx, ny = _dim("broadcast_dynamic_shape", x, 0), _dim("broadcast_dynamic_shape", y, 0)
    one = AO.ones([builtins.abs(nx - ny)], x.dtype)
    x = AO.concat([one, x], 0) if ny > nx else x
    y = AO.concat([one, y], 0) if nx > ny else y
    return M.where(M.equal(x, M.cast(1, x.dtype)), y, x)


def parallel_stack(values: Any, name: str | None = None) -> Tensor:
    """tf.stack along a new first axis (tf.parallel_stack; XLA fuses the copies anyway)."""
    return AO.stack(values, axis=0)


def scalar_mul(scalar: TensorLike, x: TensorLike, name: str | None = None) -> Tensor:
    """scalar * x, where `scalar` must be 0-D (tf.math.scalar_mul)."""
    s = to_tensor(scalar, "scalar_mul")
    if s.ndim != 0:
        raise op_error("scalar_mul", f"scalar must be 0-D, got {s.type}")
    t = to_tensor(x, "scalar_mul")
    return M.multiply(M.cast(s, t.dtype) if s.dtype != t.dtype and s.dtype.kind in "iu"
                      and t.dtype.kind == "f" else s, t)


def tuple_(tensors: Any, control_inputs: Any = None, name: str | None = None) -> list:
    """The tensors, each available only once all are computed (tf.tuple): in a traced graph
    every value is already ready when the function returns, so these are identities."""
    return [None if t is None else AO.identity(t) for t in tensors]


tuple_.__name__ = tuple_.__qualname__ = "tuple"  # exported as tx.tuple; `tuple` stays builtin here


__all__ = [
    "broadcast_dynamic_shape", "broadcast_static_shape", "dynamic_stitch", "meshgrid",
    "parallel_stack", "repeat", "reverse_sequence", "roll", "scalar_mul", "sequence_mask",
    "shape_n", "unravel_index",
]

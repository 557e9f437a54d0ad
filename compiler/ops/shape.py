"""Shape ops: reshape, squeeze, transpose, broadcasts, tile, concatenate, slice, reverse, pad."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from .. import autodiff as A
from ..ir.types import TensorType, dims_compatible
from ..lowering import helpers as H
from ..registry import (
    ELEMENTWISE_LIKE,
    PROPAGATES_NONFINITE,
    PURE,
    SHAPE_OP,
    OpDef,
    OpTypeError,
    register,
)
from .common import normalize_axis, same_dtype

SHAPE_TRAITS = frozenset({SHAPE_OP, PURE})


# the shape ops whose result holds every input element (so a NaN or Inf in it too)
_KEEP_EVERY_ELEMENT = frozenset({"reshape", "expand_dims", "squeeze", "transpose", "broadcast_to",
                                 "broadcast_like", "concatenate", "reverse"})


def _shape_op(name: str, infer, lower, reference, vjp, traits=frozenset()) -> OpDef:
    if name in _KEEP_EVERY_ELEMENT:
        traits = traits | {PROPAGATES_NONFINITE}
    return register(OpDef(name, infer, lower, reference, vjp, SHAPE_TRAITS | traits))


def _ints(v, what: str, t: TensorType | None = None) -> tuple:
    """Validate an int-tuple attribute."""
    shown = f" (input {t})" if t is not None else ""
    if not isinstance(v, tuple) or not all(
        isinstance(d, int) and not isinstance(d, bool) for d in v
    ):
        raise OpTypeError(f"{what} must be a tuple of ints, got {v!r}{shown}")
    return v


def _axes(axes, rank: int, t: TensorType, what: str = "axes") -> tuple[int, ...]:
    """Normalize axes (negative allowed) for `rank`; duplicates are an error."""
    out = tuple(normalize_axis(a, rank, t) for a in _ints(tuple(axes), what, t))
    if len(set(out)) != len(out):
        raise OpTypeError(f"repeated axis in {what}={axes!r} for {t}")
    return out


def _prod(dims: Sequence) -> int | None:
    n = 1
    for d in dims:
        if d is None:
            return None
        n *= d
    return n


# ---------------------------------------------------------------- reshape
def _reshape_infer(x: TensorType, *, shape: tuple) -> TensorType:
    shape = _ints(shape, "reshape shape", x)
    if any(d < -1 for d in shape) or shape.count(-1) > 1:
        raise OpTypeError(
            f"invalid target shape {list(shape)} for {x}: dims must be >= 0, with at most one -1"
        )
    known = _prod(d for d in shape if d != -1)
    n = x.num_elements
    if -1 not in shape:
        if n is not None and n != known:
            raise OpTypeError(
                f"cannot reshape {x} ({n} elements) to shape {list(shape)} ({known} elements)"
            )
        return x.with_shape(shape)
    if n is None:
        return x.with_shape(None if d == -1 else d for d in shape)
    if known == 0 or n % known:
        raise OpTypeError(
            f"cannot reshape {x} ({n} elements) to shape {list(shape)}: {n} is not a "
            f"multiple of {known}"
        )
    return x.with_shape(n // known if d == -1 else d for d in shape)


def _reshape_lower(ctx, x, **_):
    if ctx.types_in[0].shape == ctx.type_out.shape:
        return x
    return hlo.reshape(H.ir_type(ctx.type_out), x)


reshape_op = _shape_op(
    "reshape", _reshape_infer, _reshape_lower, lambda x, *, shape: np.reshape(x, shape),
    lambda ctx, g, *, shape: (A.reshape_to(g, ctx.types_in[0]),),
)


def _expand_shape(x: TensorType, axes: tuple) -> tuple:
    rank = x.rank + len(axes)
    axes = _axes(axes, rank, x)
    dims = iter(x.shape)
    return tuple(1 if i in axes else next(dims) for i in range(rank))


expand_dims_op = _shape_op(
    "expand_dims",
    lambda x, *, axes: x.with_shape(_expand_shape(x, axes)),
    _reshape_lower,
    lambda x, *, axes: np.expand_dims(x, tuple(axes)) if axes else x,
    lambda ctx, g, *, axes: (
        A.op("squeeze", g, axes=tuple(sorted(a % ctx.types_out[0].rank for a in axes))),),
)


def _squeeze_infer(x: TensorType, *, axes: tuple) -> TensorType:
    axes = _axes(axes, x.rank, x)
    for a in axes:
        if x.shape[a] not in (1, None):
            raise OpTypeError(f"cannot squeeze axis {a} of {x}: its size is {x.shape[a]}, not 1")
    return x.with_shape(d for i, d in enumerate(x.shape) if i not in axes)


squeeze_op = _shape_op(
    "squeeze",
    _squeeze_infer,
    _reshape_lower,
    lambda x, *, axes: np.squeeze(x, tuple(axes)) if axes else x,
    lambda ctx, g, *, axes: (
        A.op("expand_dims", g, axes=tuple(sorted(a % ctx.types_in[0].rank for a in axes))),),
)


# ---------------------------------------------------------------- transpose
def _transpose_infer(x: TensorType, *, perm: tuple) -> TensorType:
    perm = _ints(perm, "perm", x)
    if sorted(perm) != list(range(x.rank)):
        raise OpTypeError(f"perm {list(perm)} is not a permutation of the {x.rank} axes of {x}")
    return x.with_shape(x.shape[p] for p in perm)


def _transpose_lower(ctx, x, *, perm):
    if list(perm) == sorted(perm):
        return x
    return hlo.transpose(x, list(perm))


transpose_op = _shape_op(
    "transpose", _transpose_infer, _transpose_lower, lambda x, *, perm: np.transpose(x, perm),
    lambda ctx, g, *, perm: (A.op("transpose", g, perm=tuple(np.argsort(perm).tolist())),),
)


# ---------------------------------------------------------------- broadcasting
def _broadcast_check(x: TensorType, shape: tuple, target: object) -> None:
    ok = x.rank <= len(shape) and all(
        d in (1, None) or dims_compatible(d, t)
        for d, t in zip(reversed(x.shape), reversed(shape))
    )
    if not ok:
        raise OpTypeError(f"cannot broadcast {x} to {target} (numpy broadcasting rules)")


def _broadcast_to_infer(x: TensorType, *, shape: tuple) -> TensorType:
    shape = _ints(shape, "broadcast shape", x)
    if any(d < 0 for d in shape):
        raise OpTypeError(f"broadcast shape {list(shape)} has a negative dim (input {x})")
    _broadcast_check(x, shape, f"shape {list(shape)}")
    return x.with_shape(shape)


def _broadcast_lower(ctx, x, *_, **__):
    src, dst = ctx.types_in[0], ctx.type_out
    if src.shape == dst.shape:
        return x
    return hlo.broadcast_in_dim(H.ir_type(dst), x, list(range(dst.rank - src.rank, dst.rank)))


broadcast_to_op = _shape_op(
    "broadcast_to",
    _broadcast_to_infer,
    _broadcast_lower,
    lambda x, *, shape: np.array(np.broadcast_to(x, shape)),
    lambda ctx, g, *, shape: (A.sum_to(g, ctx.types_out[0], ctx.types_in[0]),),
    frozenset({ELEMENTWISE_LIKE}),  # fuses like elementwise ops: a loop reading its input
)


def _broadcast_like_infer(x: TensorType, like: TensorType) -> TensorType:
    _broadcast_check(x, like.shape, f"the shape of {like}")
    return like.with_dtype(x.dtype)


# Broadcast `x` to the shape of `like` (whose values are unused): shape-independent, so
# `zeros_like` works on tensors with dims unknown at trace time.
broadcast_like_op = _shape_op(
    "broadcast_like",
    _broadcast_like_infer,
    _broadcast_lower,
    lambda x, like: np.array(np.broadcast_to(x, like.shape)),
    lambda ctx, g: (A.sum_to(g, ctx.types_out[0], ctx.types_in[0]), None),
)


def _tile_infer(x: TensorType, *, multiples: tuple) -> TensorType:
    m = _ints(multiples, "multiples", x)
    if len(m) != x.rank or any(k < 0 for k in m):
        raise OpTypeError(f"multiples {list(m)} must be {x.rank} non-negative ints for {x}")
    return x.with_shape(0 if k == 0 else None if d is None else d * k for d, k in zip(x.shape, m))


def _tile_lower(ctx, x, *, multiples):
    src, dst = ctx.types_in[0], ctx.type_out
    if all(k == 1 for k in multiples):
        return x
    inter = [v for k, d in zip(multiples, src.shape) for v in (k, d)]
    dims = list(range(1, 2 * src.rank, 2))
    b = hlo.broadcast_in_dim(H.ir_type(src.with_shape(inter)), x, dims)
    return hlo.reshape(H.ir_type(dst), b)


def _tile_vjp(ctx, g, *, multiples):
    """View g as [m0, d0, m1, d1, ...] and sum over the copies."""
    if all(k == 1 for k in multiples):
        return (g,)
    dims = A.static_dims(ctx.types_in[0], "tile")
    inter = tuple(v for k, d in zip(multiples, dims) for v in (k, d))
    r = A.op("reshape", g, shape=inter)
    return (A.op("reduce_sum", r, axes=tuple(range(0, 2 * len(dims), 2)), keepdims=False),)


tile_op = _shape_op(
    "tile",
    _tile_infer,
    _tile_lower,
    lambda x, *, multiples: np.tile(x, multiples) if multiples else x.copy(),
    _tile_vjp,
)


# ---------------------------------------------------------------- concatenate
def _concat_infer(*xs: TensorType, axis: int) -> TensorType:
    if not xs:
        raise OpTypeError("needs at least one tensor")
    same_dtype(*xs)
    first = xs[0]
    shown = ", ".join(str(t) for t in xs)
    if any(t.rank != first.rank for t in xs):
        raise OpTypeError(f"ranks differ: {shown}")
    if first.rank == 0:
        raise OpTypeError(f"cannot concatenate 0-d tensors ({shown}); use stack")
    a = normalize_axis(axis, first.rank, first)
    dims = list(first.shape)
    for t in xs[1:]:
        for i, (d, e) in enumerate(zip(dims, t.shape)):
            if i == a:
                dims[i] = None if d is None or e is None else d + e
            elif not dims_compatible(d, e):
                raise OpTypeError(f"shapes differ outside axis {axis}: {shown}")
            elif d is None:
                dims[i] = e
    return first.with_shape(dims)


def _concat_lower(ctx, *xs, axis):
    if len(xs) == 1:
        return xs[0]
    return hlo.concatenate(list(xs), axis % ctx.type_out.rank)


def _concat_vjp(ctx, g, *, axis):
    """Each input's cotangent is its slice of g along the axis."""
    out = ctx.types_out[0]
    a = axis % out.rank
    cts, start = [], 0
    for t, need in zip(ctx.types_in, ctx.needs):
        n = A.static_dims(t, "concatenate")[a]
        if need:
            begin = tuple(start if i == a else None for i in range(out.rank))
            end = tuple(start + n if i == a else None for i in range(out.rank))
            cts.append(A.op("slice", g, begin=begin, end=end, strides=(1,) * out.rank))
        else:
            cts.append(None)
        start += n
    return tuple(cts)


concatenate_op = _shape_op(
    "concatenate", _concat_infer, _concat_lower, lambda *xs, axis: np.concatenate(xs, axis),
    _concat_vjp,
)


# ---------------------------------------------------------------- slice
def _slice_attrs(x: TensorType, begin, end, strides) -> None:
    for what, v in (("begin", begin), ("end", end), ("strides", strides)):
        if not isinstance(v, tuple) or len(v) != x.rank or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in v
        ):
            raise OpTypeError(
                f"{what}={v!r} must be a tuple of {x.rank} ints or None for {x}"
            )
    if 0 in strides:
        raise OpTypeError(f"slice step cannot be zero (strides={strides!r}, input {x})")


def _resolve(b, e, s, d: int) -> tuple[int, int, int, int]:
    """A Python slice on a dim of size d: (start, stop, step, count)."""
    start, stop, step = slice(b, e, s).indices(d)
    return start, stop, step, len(range(start, stop, step))


def _slice_infer(x: TensorType, *, begin: tuple, end: tuple, strides: tuple) -> TensorType:
    _slice_attrs(x, begin, end, strides)
    return x.with_shape(
        None if d is None else _resolve(b, e, s, d)[3]
        for b, e, s, d in zip(begin, end, strides, x.shape)
    )


def _slice_lower(ctx, x, *, begin, end, strides):
    src = ctx.types_in[0]
    starts, limits, steps, flip = [], [], [], []
    for i, (b, e, s, d) in enumerate(zip(begin, end, strides, src.shape)):
        start, _, step, n = _resolve(b, e, s, d)
        if step < 0:
            flip.append(i)
            start, step = d - 1 - start, -step
        if n == 0:
            start = 0
        starts.append(start)
        limits.append(start + (n - 1) * step + 1 if n else 0)
        steps.append(step)
    if flip:
        x = hlo.reverse(x, flip)
    if starts == [0] * src.rank and limits == list(src.shape) and steps == [1] * src.rank:
        return x
    return hlo.slice(x, starts, limits, steps)


def _slice_vjp(ctx, g, *, begin, end, strides):
    """Scatter g back with zero padding (interior padding for strides; reversed for step < 0)."""
    t = ctx.types_in[0]
    dims = A.static_dims(t, "a slice")
    low, high, interior, flip = [], [], [], []
    for i, (b, e, s, d) in enumerate(zip(begin, end, strides, dims)):
        start, _, step, n = _resolve(b, e, s, d)
        if step < 0:
            flip.append(i)
            start, step = d - 1 - start, -step
        if n == 0:
            low.append(d), high.append(0), interior.append(0)
            continue
        low.append(start)
        interior.append(step - 1)
        high.append(d - (start + (n - 1) * step + 1))
    zero = A.const(0, t.dtype)
    r = A.op("pad", g, zero, low=tuple(low), high=tuple(high), interior=tuple(interior))
    return (A.op("reverse", r, axes=tuple(flip)) if flip else r,)


slice_op = _shape_op(
    "slice",
    _slice_infer,
    _slice_lower,
    lambda x, *, begin, end, strides: np.asarray(
        x[tuple(slice(b, e, s) for b, e, s in zip(begin, end, strides))]
    ),
    _slice_vjp,
)


def _reverse_infer(x: TensorType, *, axes: tuple) -> TensorType:
    _axes(axes, x.rank, x)
    return x


def _reverse_lower(ctx, x, *, axes):
    rank = ctx.type_out.rank
    if not axes:
        return x
    return hlo.reverse(x, sorted(a % rank for a in axes))


reverse_op = _shape_op(
    "reverse",
    _reverse_infer,
    _reverse_lower,
    lambda x, *, axes: np.flip(x, tuple(axes)) if axes else x,
    lambda ctx, g, *, axes: (A.op("reverse", g, axes=axes),),
)


# ---------------------------------------------------------------- pad
def _pad_infer(x: TensorType, value: TensorType, *, low: tuple, high: tuple,
               interior: tuple) -> TensorType:
    same_dtype(x, value)
    if value.rank != 0:
        raise OpTypeError(f"the padding value must be a scalar, got {value} (operand {x})")
    for what, v in (("low", low), ("high", high), ("interior", interior)):
        if len(_ints(v, what, x)) != x.rank:
            raise OpTypeError(f"{what}={list(v)} must have {x.rank} entries for {x}")
    if any(i < 0 for i in interior):
        raise OpTypeError(f"interior padding {list(interior)} must be non-negative ({x})")
    dims = []
    for d, lo, hi, it in zip(x.shape, low, high, interior):
        n = None if d is None else lo + hi + d + max(d - 1, 0) * it
        if n is not None and n < 0:
            raise OpTypeError(f"padding low={list(low)} high={list(high)} makes {x} negative")
        dims.append(n)
    return x.with_shape(dims)


def _pad_reference(x, value, *, low, high, interior):
    shape = [d + max(d - 1, 0) * it for d, it in zip(x.shape, interior)]
    out = np.full(shape, value, dtype=x.dtype)
    out[tuple(slice(None, None, it + 1) for it in interior)] = x
    for axis, (lo, hi) in enumerate(zip(low, high)):
        widths = [(0, 0)] * x.ndim
        widths[axis] = (max(lo, 0), max(hi, 0))
        out = np.pad(out, widths, constant_values=value)
        stop = out.shape[axis] - max(-hi, 0)
        idx = [slice(None)] * x.ndim
        idx[axis] = slice(max(-lo, 0), stop)
        out = out[tuple(idx)]
    return out


def _pad_vjp(ctx, g, *, low, high, interior):
    """x's cotangent is the strided window of g where x landed (zeros where x was cropped);
    the padding value's is the rest of g."""
    t = ctx.types_in[0]
    dims = A.static_dims(t, "pad")
    zero = A.const(0, t.dtype)
    if any(v < 0 for v in low + high):  # undo cropping: restore the cut-off area as zeros
        g = A.op("pad", g, zero, low=tuple(max(-v, 0) for v in low),
                 high=tuple(max(-v, 0) for v in high), interior=(0,) * t.rank)
    begin = tuple(max(lo, 0) for lo in low)
    end = tuple(b + (d - 1) * (it + 1) + 1 if d else b for b, d, it in zip(begin, dims, interior))
    gx = A.op("slice", g, begin=begin, end=end, strides=tuple(it + 1 for it in interior))
    gv = None
    if ctx.needs[1]:
        axes = tuple(range(t.rank))
        gv = A.sub(A.op("reduce_sum", g, axes=axes, keepdims=False),
                   A.op("reduce_sum", gx, axes=axes, keepdims=False))
    return gx, gv


pad_op = _shape_op(
    "pad",
    _pad_infer,
    lambda ctx, x, v, *, low, high, interior: hlo.pad(x, v, list(low), list(high), list(interior)),
    _pad_reference,
    _pad_vjp,
)


# ---------------------------------------------------------------- ensure_shape
def _ensure_shape_infer(x: TensorType, *, shape: tuple) -> TensorType:
    """tf.ensure_shape: x's dims must equal `shape`'s (-1: any size). The result carries the
    dims known from either, and a dim unknown at trace time is checked again when the graph
    is specialized to the call's shapes (the check TF makes at run time)."""
    shape = _ints(shape, "ensure_shape shape", x)
    if len(shape) != x.rank or any(d != -1 and s is not None and s != d
                                   for s, d in zip(x.shape, shape)):
        have = ",".join("?" if s is None else str(s) for s in x.shape)
        want = ",".join("?" if d == -1 else str(d) for d in shape)
        raise ValueError(f"Shape of tensor input [{have}] is not compatible with expected "
                         f"shape [{want}].")
    return TensorType(x.dtype, tuple(s if d == -1 else d for s, d in zip(x.shape, shape)))


ensure_shape_op = register(OpDef(
    "ensure_shape", _ensure_shape_infer,
    lambda ctx, x, **_: x,  # specialized: the types are equal, nothing to compute
    lambda x, *, shape: x,
    lambda ctx, g, *, shape: (g,),
))

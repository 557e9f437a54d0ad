"""Reductions over axes (sum, prod, max, min, and, or) and argmax/argmin."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from .. import autodiff as A
from ..ir.types import F32, I32, I64, DType, TensorType
from ..lowering import helpers as H
from ..registry import (
    NOT_DIFFERENTIABLE,
    ORDER_INDEPENDENT,
    PROPAGATES_NONFINITE,
    PURE,
    REDUCTION,
    OpDef,
    OpTypeError,
    register,
)
from .common import check_kind, is_float_array

_TRAITS = frozenset({REDUCTION, PURE})
# max/min/and/or/argmax/argmin: any visiting order gives the same bits (float sums do not)
_ORDER_INDEPENDENT_TRAITS = _TRAITS | {ORDER_INDEPENDENT}


# ---------------------------------------------------------------- shared helpers
def check_axes(x: TensorType, axes: tuple) -> None:
    """`axes` must be a sorted tuple of distinct non-negative ints below the rank of `x`."""
    if not isinstance(axes, tuple) or not all(
        isinstance(a, int) and not isinstance(a, bool) for a in axes
    ):
        raise OpTypeError(f"axes must be a tuple of ints, got {axes!r} for {x}")
    for a in axes:
        if not 0 <= a < x.rank:
            raise OpTypeError(f"axis {a} is out of range for {x} (rank {x.rank})")
    if list(axes) != sorted(set(axes)):
        raise OpTypeError(f"axes must be sorted and distinct, got {axes} for {x}")


def reduced_shape(shape: tuple, axes: tuple, keepdims: bool) -> tuple:
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _identity(kind: str, dtype: DType):
    """The init value of a reduction: what reducing zero elements gives."""
    if kind == "sum":
        return 0
    if kind == "prod":
        return 1
    if kind == "and":
        return True
    if kind == "or":
        return False
    if dtype.is_floating:
        return -np.inf if kind == "max" else np.inf
    info = np.iinfo(dtype.np_dtype)
    return info.min if kind == "max" else info.max


def _accumulate_type(dtype: DType, kind: str) -> DType:
    """f16/bf16 sums and products accumulate in f32 (then round once), as TF and XLA GPU do."""
    if kind in ("sum", "prod") and dtype.is_floating and dtype.bits < 32:
        return F32
    return dtype


def _zero_sign(x: np.ndarray, r: np.ndarray, axes: tuple, keepdims: bool, kind: str):
    """A zero max is +0.0 if any +0.0 was reduced (a zero min: -0.0 if any -0.0), as XLA's
    max/min order signed zeros; numpy keeps whichever zero it met first."""
    if not np.any(r == 0):
        return r
    sign_wanted = kind == "min"  # min looks for -0.0 (signbit set), max for +0.0
    hit = np.any((x == 0) & (np.signbit(x) == sign_wanted), axis=axes, keepdims=keepdims)
    zero = np.where(hit == sign_wanted, -0.0, 0.0)
    return np.where(r == 0, zero, r)


# ---------------------------------------------------------------- the reduction factory
_NP_REDUCE = {
    "sum": np.add.reduce,
    "prod": np.multiply.reduce,
    "max": np.maximum.reduce,
    "min": np.minimum.reduce,
    "and": np.logical_and.reduce,
    "or": np.logical_or.reduce,
}


def _reduction(name: str, kind: str, hlo_fn: Callable, kinds: str, *, vjp) -> OpDef:
    """A reduction op `name` over attrs `axes` (normalized tuple) and `keepdims`."""

    def infer(x: TensorType, *, axes: tuple, keepdims: bool) -> TensorType:
        check_kind(x, kinds)
        check_axes(x, axes)
        return x.with_shape(reduced_shape(x.shape, axes, bool(keepdims)))

    def lower(ctx, x, *, axes, keepdims):
        (tin,), out = ctx.types_in, ctx.type_out
        acc = _accumulate_type(tin.dtype, kind)
        x = H.convert(x, tin, tin.with_dtype(acc))
        scalar = TensorType(acc, ())
        flat = TensorType(acc, reduced_shape(tin.shape, axes, False))
        init = H.splat(_identity(kind, acc), scalar)
        (r,) = H.reduce([x], [init], axes, [flat], [scalar], lambda a, b: [hlo_fn(a, b)])
        r = H.convert(r, flat, flat.with_dtype(out.dtype))
        return hlo.reshape(H.ir_type(out), r) if keepdims and axes else r

    def reference(x, *, axes, keepdims):
        dt = x.dtype
        if not axes:  # XLA returns the operand itself (numpy's sum would add +0.0 to -0.0)
            return np.array(x)
        floating = is_float_array(x)  # (bfloat16 too: numpy's kind for it is "V")
        work = x.astype(np.float64) if floating else x
        init = _identity(kind, DType.from_numpy(dt))
        with np.errstate(all="ignore"):
            if kind in ("and", "or"):
                r = _NP_REDUCE[kind](work, axis=axes, keepdims=keepdims)
            else:
                r = _NP_REDUCE[kind](
                    work, axis=axes, keepdims=keepdims, initial=init,
                    dtype=work.dtype,
                )
            if kind in ("max", "min") and floating:
                r = _zero_sign(work, np.asarray(r), axes, keepdims, kind)
            return np.asarray(r).astype(dt)

    # float sums and products keep a NaN/Inf (inf * 0 = nan, inf - inf = nan)
    traits = _TRAITS | {PROPAGATES_NONFINITE} if kind in ("sum", "prod") \
        else _ORDER_INDEPENDENT_TRAITS
    return register(OpDef(name, infer, lower, reference, vjp, traits))


# ---------------------------------------------------------------- gradients
def _keep(v, axes: tuple, keepdims: bool):
    """A reduced value with the reduced axes kept as size 1 (so it broadcasts against x)."""
    return v if keepdims or not axes else A.op("expand_dims", v, axes=axes)


def _sum_vjp(ctx, g, *, axes, keepdims):
    x = ctx.inputs[0]
    return (A.op("broadcast_like", _keep(g, axes, keepdims), x),)


def _prod_vjp(ctx, g, *, axes, keepdims):
    """d prod / d x_i = product of the others, exact with zeros (no division by x_i = 0)."""
    x = ctx.inputs[0]
    dt = ctx.types_in[0].dtype
    zero, one = A.const(0, dt), A.const(1, dt)
    is_zero = A.compare(x, zero, "EQ")
    nonzero = A.select(is_zero, one, x)
    prod_nz = _keep(A.op("reduce_prod", nonzero, axes=axes, keepdims=keepdims), axes, keepdims)
    n_zero = A.op("reduce_sum", A.op("convert", is_zero, dtype=dt), axes=axes, keepdims=True)
    y = _keep(ctx.outputs[0], axes, keepdims)
    at_zero = A.select(A.compare(n_zero, one, "EQ"), prod_nz, zero)
    d = A.select(is_zero, at_zero, A.div(y, nonzero))
    return (A.mul(_keep(g, axes, keepdims), d),)


def _extreme_vjp(ctx, g, *, axes, keepdims):
    """max/min: the gradient is shared equally by the elements equal to the result (as TF)."""
    x = ctx.inputs[0]
    dt = ctx.types_in[0].dtype
    hit = A.op("convert", A.compare(x, _keep(ctx.outputs[0], axes, keepdims), "EQ"), dtype=dt)
    count = A.op("reduce_sum", hit, axes=axes, keepdims=True)
    return (A.mul(hit, A.div(_keep(g, axes, keepdims), count)),)


reduce_sum_op = _reduction("reduce_sum", "sum", hlo.add, "fiuc", vjp=_sum_vjp)
reduce_prod_op = _reduction("reduce_prod", "prod", hlo.multiply, "fiuc", vjp=_prod_vjp)
reduce_max_op = _reduction("reduce_max", "max", hlo.maximum, "fiu", vjp=_extreme_vjp)
reduce_min_op = _reduction("reduce_min", "min", hlo.minimum, "fiu", vjp=_extreme_vjp)
reduce_and_op = _reduction("reduce_and", "and", hlo.and_, "b", vjp=NOT_DIFFERENTIABLE)
reduce_or_op = _reduction("reduce_or", "or", hlo.or_, "b", vjp=NOT_DIFFERENTIABLE)


# ---------------------------------------------------------------- argmax / argmin
def _arg_infer(x: TensorType, *, axis: int, output_type: DType = I64) -> TensorType:
    check_kind(x, "fiu")
    if not isinstance(output_type, DType) or output_type not in (I32, I64):
        raise OpTypeError(f"output_type must be int32 or int64, got {output_type!r} for {x}")
    if not isinstance(axis, int) or not 0 <= axis < x.rank:
        raise OpTypeError(f"axis {axis!r} is out of range for {x} (rank {x.rank})")
    if x.shape[axis] == 0:
        raise OpTypeError(f"reduction axis {axis} is empty in {x}")
    return TensorType(output_type, reduced_shape(x.shape, (axis,), False))


def _arg_reduction(name: str, direction: str, np_fn: Callable) -> OpDef:
    """argmax (direction "GT") or argmin ("LT"): first index of the extreme; NaN is extreme."""

    def lower(ctx, x, *, axis, output_type=I64):
        (tin,), out = ctx.types_in, ctx.type_out
        idx_t = tin.with_dtype(out.dtype)
        idx = hlo.iota(H.ir_type(idx_t), axis)
        sv, si = TensorType(tin.dtype, ()), TensorType(out.dtype, ())
        init_v = H.splat(_identity("max" if direction == "GT" else "min", tin.dtype), sv)

        def body(av, ai, v, i):
            better = H.compare(v, av, direction, sv)
            same = H.compare(v, av, "EQ", sv)
            if tin.dtype.is_floating:  # NaN beats every number; two NaNs tie
                v_nan, a_nan = H.compare(v, v, "NE", sv), H.compare(av, av, "NE", sv)
                better = hlo.or_(better, hlo.and_(v_nan, hlo.not_(a_nan)))
                same = hlo.or_(same, hlo.and_(v_nan, a_nan))
            take = hlo.or_(better, hlo.and_(same, H.compare(i, ai, "LT", si)))
            return [hlo.select(take, v, av), hlo.select(take, i, ai)]

        flat_v = TensorType(tin.dtype, out.shape)
        _, r = H.reduce([x, idx], [init_v, H.splat(0, si)], (axis,), [flat_v, out], [sv, si], body)
        return r

    def reference(x, *, axis, output_type=I64):
        if is_float_array(x):
            x = x.astype(np.float64)  # exact for every float dtype; numpy lacks bf16 kernels
        return np.asarray(np_fn(x, axis=axis)).astype(output_type.np_dtype)

    return register(OpDef(name, _arg_infer, lower, reference, NOT_DIFFERENTIABLE,
                          _ORDER_INDEPENDENT_TRAITS))


argmax_op = _arg_reduction("argmax", "GT", np.argmax)
argmin_op = _arg_reduction("argmin", "LT", np.argmin)

"""Slices at run-time offsets: `dynamic_slice` and `dynamic_update_slice` (XLA semantics: each
start index is clamped so the slice stays inside the operand)."""
from __future__ import annotations

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from .. import autodiff as A
from ..ir.types import I32, TensorType
from ..registry import PURE, OpDef, OpTypeError, register


def _check_starts(x: TensorType, starts: tuple[TensorType, ...]) -> None:
    if len(starts) != x.rank:
        raise OpTypeError(f"needs {x.rank} start indices for {x}, got {len(starts)}")
    for i, s in enumerate(starts):
        if s.dtype is not I32 or s.rank != 0:
            raise OpTypeError(f"start index {i} must be i32[], got {s}")


def _clamped(x: np.ndarray, starts, sizes) -> list[int]:
    return [int(min(max(int(s), 0), d - n)) for s, d, n in zip(starts, x.shape, sizes)]


def _ds_infer(x: TensorType, *starts: TensorType, sizes: tuple) -> TensorType:
    _check_starts(x, starts)
    if len(sizes) != x.rank or any(not isinstance(n, int) or n < 0 for n in sizes):
        raise OpTypeError(f"sizes={sizes!r} must be {x.rank} non-negative ints for {x}")
    for n, d in zip(sizes, x.shape):
        if d is not None and n > d:
            raise OpTypeError(f"slice sizes {sizes} exceed {x}")
    return x.with_shape(tuple(sizes))


def _ds_reference(x, *starts, sizes):
    idx = tuple(slice(b, b + n) for b, n in zip(_clamped(x, starts, sizes), sizes))
    return np.array(x[idx])


def _ds_vjp(ctx, g, *, sizes):
    x = ctx.inputs[0]
    zeros = A.zeros_like(ctx.types_in[0], x)
    return (A.op("dynamic_update_slice", zeros, g, *ctx.inputs[1:]),
            *([None] * len(sizes)))


dynamic_slice_op = register(OpDef(
    "dynamic_slice", _ds_infer,
    lambda ctx, x, *starts, sizes: hlo.dynamic_slice(x, list(starts), list(sizes)),
    _ds_reference, _ds_vjp, frozenset({PURE})))


def _dus_infer(x: TensorType, update: TensorType, *starts: TensorType) -> TensorType:
    _check_starts(x, starts)
    if update.dtype is not x.dtype or update.rank != x.rank:
        raise OpTypeError(f"update {update} must have the dtype and rank of {x}")
    for n, d in zip(update.shape, x.shape):
        if None not in (n, d) and n > d:
            raise OpTypeError(f"update {update} does not fit in {x}")
    return x


def _dus_reference(x, update, *starts):
    out = np.array(x)
    idx = tuple(slice(b, b + n)
                for b, n in zip(_clamped(x, starts, update.shape), update.shape))
    out[idx] = update
    return out


def _dus_vjp(ctx, g):
    starts = ctx.inputs[2:]
    upd_t = ctx.types_in[1]
    gx = A.op("dynamic_update_slice", g, A.zeros_like(upd_t, ctx.inputs[1]), *starts) \
        if ctx.needs[0] else None
    gu = None
    if ctx.needs[1] and upd_t.is_static:
        gu = A.op("dynamic_slice", g, *starts, sizes=tuple(upd_t.shape))
    elif ctx.needs[1]:  # None dims (input_signature): the update's size is read per call shape
        gu = A.op("dynamic_slice_dynamic", g, *starts, A.op("shape_of", ctx.inputs[1]),
                  known=tuple(upd_t.shape))
    return (gx, gu, *([None] * len(starts)))


dynamic_update_slice_op = register(OpDef(
    "dynamic_update_slice", _dus_infer,
    lambda ctx, x, update, *starts: hlo.dynamic_update_slice(x, update, list(starts)),
    _dus_reference, _dus_vjp, frozenset({PURE})))

__all__ = ["dynamic_slice_op", "dynamic_update_slice_op"]

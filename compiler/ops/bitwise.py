"""Bit-level ops: shifts with TF's clamped shift amounts, and `bitcast_convert`."""
from __future__ import annotations

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from ..ir.types import DType, TensorType
from ..lowering import helpers as H
from ..registry import ELEMENTWISE, NOT_DIFFERENTIABLE, PURE, OpDef, OpTypeError, register
from .common import broadcast_types, check_kind, same_dtype

_TRAITS = frozenset({ELEMENTWISE, PURE})


def _shift_infer(x: TensorType, y: TensorType) -> TensorType:
    same_dtype(x, y)
    check_kind(x, "iu")
    return x.with_shape(broadcast_types(x, y))


def _clamped(y, t: TensorType):
    """TF's kernels clamp the shift amount to [0, bits - 1] (XLA would give 0 past the width):
    int8 1 << 9 is -128, int8 -128 >> 9 is -1, and a negative amount shifts by 0."""
    return hlo.clamp(H.splat(0, t), y, H.splat(t.dtype.bits - 1, t))


def _shift_lower(left: bool):
    def lower(ctx, x, y):
        (tx, ty), out = ctx.types_in, ctx.type_out
        x, y = H.broadcast(x, tx, out), _clamped(H.broadcast(y, ty, out), out)
        if left:
            return hlo.shift_left(x, y)
        if out.dtype.is_unsigned:
            return hlo.shift_right_logical(x, y)
        return hlo.shift_right_arithmetic(x, y)

    return lower


def _shift_reference(left: bool):
    def ref(x, y):
        bits = x.dtype.itemsize * 8
        amount = np.clip(y.astype(np.int64), 0, bits - 1)
        if left:  # shift the bits as unsigned: no signed overflow, wraps as TF
            u = np.dtype(f"u{x.dtype.itemsize}")
            return np.left_shift(x.astype(u), amount.astype(u)).astype(x.dtype)
        return np.right_shift(x, amount.astype(x.dtype)).astype(x.dtype)  # numpy: as TF

    return ref


shift_left_op = register(OpDef("shift_left", _shift_infer, _shift_lower(True),
                               _shift_reference(True), NOT_DIFFERENTIABLE, _TRAITS))
# arithmetic (sign-extending) for signed integers, logical for unsigned ones, as TF
shift_right_op = register(OpDef("shift_right", _shift_infer, _shift_lower(False),
                                _shift_reference(False), NOT_DIFFERENTIABLE, _TRAITS))


# ---------------------------------------------------------------- bitcast
def bitcast_shape(x: TensorType, dtype: DType) -> tuple:
    """TF's rule: same size keeps the shape; a wider input gains a last dim of the size ratio;
    a narrower one must end in a dim equal to the ratio, which is dropped."""
    n_in, n_out = x.dtype.np_dtype.itemsize, dtype.np_dtype.itemsize
    if n_in == n_out:
        return x.shape
    if n_in > n_out:
        return (*x.shape, n_in // n_out)
    if not x.shape or x.shape[-1] not in (None, n_out // n_in):
        raise OpTypeError(f"cannot bitcast {x} to {dtype.name}: the last dimension must be "
                          f"{n_out // n_in} ({dtype.name} is {n_out} bytes, "
                          f"{x.dtype.name} {n_in})")
    return x.shape[:-1]


def _bitcast_infer(x: TensorType, *, dtype: DType) -> TensorType:
    for d in (x.dtype, dtype):
        if d.is_bool or d.is_complex:
            raise OpTypeError(f"cannot bitcast {x} to {dtype.name}: bitcast takes real "
                              f"numeric dtypes, not {d.name}")
    return TensorType(dtype, bitcast_shape(x, dtype))


def _bitcast_reference(x, *, dtype: DType):
    out_shape = bitcast_shape(TensorType(DType.from_numpy(x.dtype), x.shape), dtype)
    return np.ascontiguousarray(x).reshape(-1).view(dtype.np_dtype).reshape(out_shape)


bitcast_convert_op = register(
    OpDef(
        "bitcast_convert",
        infer=_bitcast_infer,
        lower=lambda ctx, x, *, dtype: hlo.bitcast_convert(H.ir_type(ctx.type_out), x),
        reference=_bitcast_reference,
        vjp=NOT_DIFFERENTIABLE,
        traits=frozenset({PURE}),
    )
)

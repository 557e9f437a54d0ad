"""Ops that make values: constant, iota, convert (cast), shape_of, stop_gradient."""
from __future__ import annotations

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from ..interpreters import bind
from ..ir.graph import ConstArray
from ..ir.types import I32, DType, TensorType
from ..lowering import helpers as H
from ..registry import NOT_DIFFERENTIABLE, PURE, OpDef, OpTypeError, register
from .common import is_float_array


def _constant_infer(*, value: ConstArray) -> TensorType:
    return TensorType(DType.from_numpy(value.array.dtype), value.array.shape)


constant_op = register(
    OpDef(
        "constant",
        infer=_constant_infer,
        lower=lambda ctx, *, value: H.constant(value.array, ctx.type_out),
        reference=lambda *, value: value.array,
        vjp=NOT_DIFFERENTIABLE,
    )
)


def _iota_infer(*, shape: tuple, dimension: int, dtype: DType) -> TensorType:
    if not 0 <= dimension < len(shape):
        raise OpTypeError(f"dimension {dimension} out of range for shape {shape}")
    return TensorType(dtype, tuple(shape))


def _iota_reference(*, shape, dimension, dtype):
    idx = np.arange(shape[dimension], dtype=np.float64 if dtype.is_floating else np.int64)
    view = [1] * len(shape)
    view[dimension] = shape[dimension]
    return np.broadcast_to(idx.reshape(view), shape).astype(dtype.np_dtype)


iota_op = register(
    OpDef(
        "iota",
        infer=_iota_infer,
        lower=lambda ctx, *, shape, dimension, dtype: hlo.iota(H.ir_type(ctx.type_out), dimension),
        reference=_iota_reference,
        vjp=NOT_DIFFERENTIABLE,
    )
)


def _convert_reference(x, *, dtype: DType):
    if dtype.is_bool:
        return x != 0
    if dtype.is_integer and is_float_array(x):
        # XLA CPU semantics: truncate toward zero, saturate at the bounds, NaN -> 0
        # NOTE: float(int64 max) rounds up to 2**63, itself out of range: compare, then pick
        info = np.iinfo(dtype.np_dtype)
        with np.errstate(all="ignore"):
            t = np.trunc(x.astype(np.float64))
            high, low = t >= float(info.max), t <= float(info.min)
            inside = np.where(np.isnan(t) | high | low, 0, t).astype(dtype.np_dtype)
            return np.where(high, info.max, np.where(low, info.min, inside)).astype(
                dtype.np_dtype)
    with np.errstate(all="ignore"):
        return x.astype(dtype.np_dtype)


def _convert_vjp(ctx, g, *, dtype: DType):
    """Float -> float casts pass the gradient back in the input dtype; others have none."""
    if not (dtype.is_floating and ctx.types_in[0].dtype.is_floating):
        return (None,)
    return (bind(convert_op, g, dtype=ctx.types_in[0].dtype),)


convert_op = register(
    OpDef(
        "convert",
        infer=lambda x, *, dtype: x.with_dtype(dtype),
        lower=lambda ctx, x, *, dtype: H.convert(x, ctx.types_in[0], ctx.type_out),
        reference=_convert_reference,
        vjp=_convert_vjp,
        traits=frozenset({PURE}),
    )
)


def _shape_of_lower(ctx, x):
    return H.constant(np.array(ctx.types_in[0].shape, np.int32), ctx.type_out)


shape_of_op = register(
    OpDef(
        "shape_of",
        infer=lambda x: TensorType(I32, (x.rank,)),
        lower=_shape_of_lower,
        reference=lambda x: np.array(x.shape, np.int32),
        vjp=NOT_DIFFERENTIABLE,
    )
)


# Identity whose gradient is zero (tf.stop_gradient): the tape never propagates through it.
stop_gradient_op = register(
    OpDef(
        "stop_gradient",
        infer=lambda x: x,
        lower=lambda ctx, x: x,
        reference=lambda x: x,
        vjp=NOT_DIFFERENTIABLE,
    )
)

"""Ops that make values: constant, iota, shape_of."""
from __future__ import annotations

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from ..ir.graph import ConstArray
from ..ir.types import I32, DType, TensorType
from ..lowering import helpers as H
from ..registry import NOT_DIFFERENTIABLE, OpDef, OpTypeError, register

# The most elements a constant computed at compile time may have: a big literal makes the module
# big and XLA's compile slow, so larger values are left for XLA to compute (constant folding,
# simplify) or passed in as arguments (the tracer).
MAX_CONSTANT_ELEMENTS = 1024


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

"""Ops that pass each element through: `convert` (a dtype cast) and `stop_gradient`."""
from __future__ import annotations

import numpy as np

from ..interpreters import bind
from ..ir.types import DType
from ..lowering import helpers as H
from ..registry import (
    ELEMENTWISE_LIKE,
    FINITE_PRESERVING,
    LAYOUT_PRESERVING,
    NOT_DIFFERENTIABLE,
    PURE,
    OpDef,
    register,
)
from .common import is_float_array


def _convert_reference(x, *, dtype: DType):
    if dtype.is_bool:
        return x != 0
    if x.dtype.kind == "c" and not dtype.is_complex:
        x = np.real(x)  # TF drops the imaginary part
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
    """Float/complex -> float/complex casts pass the gradient back in the input dtype (to real:
    its real part, as TF); others have none."""
    if not (dtype.is_inexact and ctx.types_in[0].dtype.is_inexact):
        return (None,)
    return (bind(convert_op, g, dtype=ctx.types_in[0].dtype),)


convert_op = register(
    OpDef(
        "convert",
        infer=lambda x, *, dtype: x.with_dtype(dtype),
        lower=lambda ctx, x, *, dtype: H.convert(x, ctx.types_in[0], ctx.type_out),
        reference=_convert_reference,
        vjp=_convert_vjp,
        traits=frozenset({PURE, LAYOUT_PRESERVING, ELEMENTWISE_LIKE}),
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
        traits=frozenset({PURE, LAYOUT_PRESERVING, FINITE_PRESERVING}),
    )
)

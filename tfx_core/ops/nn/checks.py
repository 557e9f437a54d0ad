"""Argument checks the tf.nn composites share: floating tensors, same-shaped operand pairs."""
from __future__ import annotations

from typing import Any

from compiler.ir.types import dims_compatible
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops.arguments import op_error

TensorLike = Any


def float_tensor(name: str, x: TensorLike, what: str = "input", dtype: Any = None) -> Tensor:
    """`x` as a floating tensor (of `dtype` when given), else TF's TypeError naming `name`."""
    t = x if isinstance(x, Tensor) else to_tensor(x, name, dtype)
    if not t.dtype.is_floating:
        raise op_error(name, f"{what} must be a floating tensor, got {t.type}", TypeError)
    if dtype is not None and t.dtype is not dtype:
        raise op_error(name, f"{what} must have the dtype of the other operand ({dtype.name}), "
                       f"got {t.type}", TypeError)
    return t


def same_shape_pair(name: str, a: TensorLike, b: TensorLike, what: tuple[str, str],
                    ) -> tuple[Tensor, Tensor]:
    """Two floating tensors of one dtype and one shape (TF's `labels`/`logits` rule)."""
    bt = float_tensor(name, b, what[1])
    at = float_tensor(name, a, what[0], bt.dtype)
    if at.ndim != bt.ndim or not all(dims_compatible(p, q) for p, q in zip(at.shape, bt.shape)):
        raise op_error(name, f"{what[0]} and {what[1]} must have the same shape, got "
                       f"{at.type} and {bt.type}")
    return at, bt


def static_dims(name: str, x: Tensor, what: str = "input") -> tuple[int, ...]:
    """The shape of `x`, which these ops need known at trace time."""
    if None in x.shape:
        raise op_error(name, f"{what} needs a shape known at trace time, got {x.type}")
    return tuple(x.shape)

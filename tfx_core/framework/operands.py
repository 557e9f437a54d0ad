"""Helpers every public op module uses: argument conversion with TF's dtype rules, and bind."""
from __future__ import annotations

from typing import Any

from compiler.interpreters import bind, is_tracing
from compiler.ir.types import DType
from compiler.registry import OpDef
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor

__all__ = ["Tensor", "bind", "OpDef", "DType", "to_tensor", "binary_operands", "nary_operands"]


_SCALARS: dict[tuple, Tensor] = {}  # eager Python scalars by (dtype, value): buffers are immutable


def to_tensor(x: Any, name: str, dtype: Any = None) -> Tensor:
    """convert_to_tensor, with errors naming the public op."""
    if isinstance(x, Tensor) and dtype is None:
        return x
    scalar = type(x) in _SCALAR_TYPES and isinstance(dtype, DType) and not is_tracing()
    if scalar:
        # NOTE: float keys use hex so 0.0 and -0.0 (equal, same hash) stay distinct.
        key = (dtype, x.hex()) if type(x) is float else (dtype, type(x), x)
        t = _SCALARS.get(key)
        if t is not None:
            # NOTE: a fresh wrapper each time: tapes and variables tell tensors apart by
            # identity, so two uses of 2.0 must not be one object (the buffer is shared).
            return Tensor(t._buf, t._type)
    try:
        t = convert_to_tensor(x, dtype=dtype)
    except TypeError as e:
        raise TypeError(f"{name}: {e}") from None
    if scalar:
        if len(_SCALARS) > 4096:
            _SCALARS.clear()
        _SCALARS[key] = t
        return Tensor(t._buf, t._type)
    return t


_SCALAR_TYPES = (int, float, bool)


def nary_operands(name: str, *xs: Any) -> list[Tensor]:
    """Convert operands the way TF does: non-tensors take the dtype of the first tensor operand.

    Two tensors of different dtypes are left alone: the op's type rule rejects them with a
    message naming both types (tfx never promotes silently).
    """
    dtype = None
    for x in xs:
        if isinstance(x, Tensor):
            dtype = x.dtype
            break
        conv = getattr(x, "_as_tensor", None)
        if conv is not None:
            dtype = conv().dtype
            break
    out = []
    for x in xs:
        if isinstance(x, Tensor):
            out.append(x)
            continue
        if dtype is None:  # no tensor at all: the first value decides, like TF
            t = to_tensor(x, name)
            dtype = t.dtype
        else:
            t = to_tensor(x, name, dtype)
        out.append(t)
    return out


def binary_operands(name: str, x: Any, y: Any) -> tuple[Tensor, Tensor]:
    a, b = nary_operands(name, x, y)
    return a, b

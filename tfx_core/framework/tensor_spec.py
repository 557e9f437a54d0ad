"""`tx.TensorSpec`: the shape (None = any size) and dtype a function argument must have."""
from __future__ import annotations

from typing import Any

from compiler.ir.types import F32, DType, TensorType


class TensorSpec:
    """Describes a tensor argument, as tf.TensorSpec. `None` dims match any size."""

    __slots__ = ("shape", "dtype", "name")

    def __init__(self, shape: Any, dtype: Any = F32, name: str | None = None):
        if shape is None:
            raise ValueError("TensorSpec: unknown rank (shape=None) is not supported; give a "
                             "list with None for unknown dimensions")
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = DType.from_any(dtype)
        self.name = name

    @property
    def type(self) -> TensorType:
        return TensorType(self.dtype, self.shape)

    @classmethod
    def from_tensor(cls, tensor: Any, name: str | None = None) -> TensorSpec:
        return cls(tensor.shape, tensor.dtype, name)

    def is_compatible_with(self, other: Any) -> bool:
        t = other.type if hasattr(other, "type") else other
        if t.dtype is not self.dtype or len(t.shape) != len(self.shape):
            return False
        return all(a is None or b is None or a == b for a, b in zip(self.shape, t.shape))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TensorSpec) and self.shape == other.shape
                and self.dtype is other.dtype)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))

    def __repr__(self) -> str:
        shape = list(self.shape)
        name = f", name={self.name!r}" if self.name else ""
        return f"TensorSpec(shape={shape}, dtype=tx.{self.dtype.name}{name})"

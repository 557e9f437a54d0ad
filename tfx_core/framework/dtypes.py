"""Public dtypes (`tx.float32`, ...), re-exported from the compiler's IR types."""
from __future__ import annotations

from compiler.ir.types import (
    BF16,
    BOOL,
    F16,
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    U8,
    U32,
    DType,
)

float16 = half = F16
bfloat16 = BF16
float32 = F32
float64 = double = F64
int8 = I8
int16 = I16
int32 = I32
int64 = I64
uint8 = U8
uint32 = U32
bool = BOOL  # noqa: A001  (TF's spelling: tx.bool)


def as_dtype(type_value) -> DType:
    """Convert a DType, numpy dtype or name ('float32') to a DType (tf.as_dtype)."""
    return DType.from_any(type_value)


__all__ = [
    "DType", "as_dtype", "bfloat16", "bool", "double", "float16", "float32", "float64", "half",
    "int16", "int32", "int64", "int8", "uint32", "uint8",
]

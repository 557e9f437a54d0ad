"""Public dtypes (`tx.float32`, ...), re-exported from the compiler's IR types."""
from __future__ import annotations

from compiler.ir.types import (
    BF16,
    BOOL,
    C64,
    C128,
    F16,
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
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
uint16 = U16
uint32 = U32
uint64 = U64
complex64 = C64
complex128 = C128
bool = BOOL  # noqa: A001  (TF's spelling: tx.bool)


def as_dtype(type_value) -> DType:
    """Convert a DType, numpy dtype or name ('float32') to a DType (tf.as_dtype)."""
    return DType.from_any(type_value)


__all__ = [
    "DType", "as_dtype", "bfloat16", "bool", "complex128", "complex64", "double", "float16",
    "float32", "float64", "half", "int16", "int32", "int64", "int8", "uint16", "uint32",
    "uint64", "uint8",
]

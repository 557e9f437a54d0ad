"""`tx.bitwise`: TF's bitwise namespace (and/or/xor/invert and shifts on integer tensors)."""
from tfx_core.ops.math_ops import (
    bitwise_and,
    bitwise_or,
    bitwise_xor,
    invert,
    left_shift,
    right_shift,
)

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift"]

"""Shared image helpers: argument checks and tf.image.convert_image_dtype's scaling rules."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import F32, I64, DType
from tfx_core.framework.convert import constant_tensor
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error

TensorLike = Any


def image_tensor(name: str, image: TensorLike, ranks: tuple[int, ...] = (3, 4),
                 what: str = "image") -> Tensor:
    """`image` as a tensor of one of `ranks` (TF's [height, width, channels] or batched form)."""
    x = image if isinstance(image, Tensor) else to_tensor(image, name)
    if x.ndim not in ranks:
        want = " or ".join(str(r) for r in ranks)
        raise op_error(name, f"{what} must be a tensor of rank {want}, got {x.type}")
    return x


def at_least_3d(name: str, image: TensorLike, what: str = "image") -> Tensor:
    """`image` of rank >= 3 with non-empty height, width and channels."""
    x = image if isinstance(image, Tensor) else to_tensor(image, name)
    if x.ndim < 3:
        raise op_error(name, f"{what} must be at least three-dimensional, got {x.type}")
    if 0 in x.shape[-3:]:
        raise op_error(name, f"inner 3 dims of {what} must be > 0, got {x.type}")
    return x


def check_channels(name: str, x: Tensor, n: int = 3) -> None:
    if x.shape[-1] is not None and x.shape[-1] != n:
        raise op_error(name, f"last dimension must be of size {n}, got {x.type}")


def convert_image_dtype(image: TensorLike, dtype: Any, saturate: bool = False,
                        name: str | None = None) -> Tensor:
    """Convert between image dtypes, rescaling: floats hold [0, 1], integers [0, MAX]
    (tf.image.convert_image_dtype). Integer<->integer shifts by the ratio of the ranges; float
    to integer multiplies by MAX + 0.5 and truncates (saturating first when asked)."""
    x = image if isinstance(image, Tensor) else to_tensor(image, "convert_image_dtype")
    dt = DType.from_any(dtype)
    for what, d in (("dtype", dt), ("image dtype", x.dtype)):
        if not (d.is_floating or d.is_integer) or d.is_bool:
            raise op_error("convert_image_dtype", f"{what} must be either floating point or "
                           f"integer, got {d.name}", TypeError)
    if dt is x.dtype:
        return A.identity(x)
    cast = M.saturate_cast if saturate else M.cast
    if x.dtype.is_integer and dt.is_integer:
        max_in, max_out = _max(x.dtype), _max(dt)
        if max_in > max_out:
            return cast(M.floordiv(x, _scalar((max_in + 1) // (max_out + 1), x.dtype)), dt)
        return M.multiply(cast(x, dt), _scalar((max_out + 1) // (max_in + 1), dt))
    if x.dtype.is_floating and dt.is_floating:
        return M.cast(x, dt)
    if x.dtype.is_integer:
        return M.multiply(M.cast(x, dt), _scalar(1.0 / _max(x.dtype), dt))
    scaled = M.multiply(x, _scalar(_max(dt) + 0.5, x.dtype))
    if saturate:
        return M.saturate_cast(scaled, dt)
    # out-of-range values wrap as in TF (truncate to a wide integer, then narrow)
    return M.cast(M.cast(scaled, I64), dt)


def _scalar(value: Any, dt: DType) -> Tensor:
    return constant_tensor(np.asarray(value, dt.np_dtype))


def _max(dt: DType) -> int:
    return int(np.iinfo(dt.np_dtype).max)


def to_float(name: str, image: TensorLike) -> tuple[Tensor, DType]:
    """(image as float16/float32 or converted to float32, its original dtype): TF's adjust_*
    functions work in float and convert back."""
    x = image if isinstance(image, Tensor) else to_tensor(image, name)
    if x.dtype.name in ("float16", "float32"):
        return x, x.dtype
    return convert_image_dtype(x, F32), x.dtype


def constant_like(value: Any, like: Tensor) -> Tensor:
    """A constant of `like`'s dtype (tensors are cast)."""
    if isinstance(value, Tensor):
        return M.cast(value, like.dtype)
    return M.cast(to_tensor(value, "image"), like.dtype)

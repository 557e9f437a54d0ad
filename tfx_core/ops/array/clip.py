"""Norm clipping: tf.clip_by_norm and tf.clip_by_global_norm, by TF's formulas."""
from __future__ import annotations

from typing import Any

from compiler.ir.types import F32
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error
from tfx_core.ops.reduction_ops import reduce_sum

TensorLike = Any


def clip_by_norm(t: TensorLike, clip_norm: TensorLike, axes: Any = None,
                 name: str | None = None) -> Tensor:
    """t * clip_norm / max(l2norm(t over axes), clip_norm) (tf.clip_by_norm); a zero norm
    leaves t unchanged and has a finite gradient."""
    x = to_tensor(t, "clip_by_norm")
    if not x.dtype.is_floating:
        raise op_error("clip_by_norm", f"t must be floating point, got {x.type}", TypeError)
    c = to_tensor(clip_norm, "clip_by_norm", x.dtype)
    if c.ndim != 0:
        raise op_error("clip_by_norm", f"clip_norm must be a scalar, got {c.type}")
    l2sum = reduce_sum(M.multiply(x, x), axis=axes, keepdims=True)
    positive = M.greater(l2sum, M.cast(0, x.dtype))
    # sqrt only where the sum is > 0: sqrt's gradient at 0 is inf (TF's safe form)
    safe = M.where(positive, l2sum, M.cast(1, x.dtype))
    norm = M.where(positive, M.sqrt(safe), l2sum)
    return M.truediv(M.multiply(x, c), M.maximum(norm, c))


def global_norm_of(t_list: list, name: str) -> Tensor:
    """sqrt of the sum of squares of every entry of every (non-None) tensor, in float32 unless
    all are float64, as tf.linalg.global_norm."""
    ts = [to_tensor(t, name) for t in t_list if t is not None]
    if not ts:
        return to_tensor(0.0, name, F32)
    sums = [reduce_sum(M.multiply(t, t)) for t in ts]
    dt = sums[0].dtype if all(s.dtype == sums[0].dtype for s in sums) else F32
    total = sums[0] if dt == sums[0].dtype else M.cast(sums[0], dt)
    for s in sums[1:]:
        total = M.add(total, M.cast(s, dt) if s.dtype != dt else s)
    return M.sqrt(total)


def clip_by_global_norm(t_list: Any, clip_norm: TensorLike, use_norm: TensorLike = None,
                        name: str | None = None) -> tuple[list, Tensor]:
    """(each t * clip_norm / max(global_norm, clip_norm), global_norm) (tf.clip_by_global_norm).
    None entries stay None; `use_norm` replaces the computed norm; an infinite or NaN norm
    makes every clipped entry NaN, as TF."""
    if isinstance(t_list, Tensor) or not isinstance(t_list, (list, tuple)):
        raise op_error("clip_by_global_norm", "t_list must be a list or tuple of tensors",
                       TypeError)
    norm = global_norm_of(t_list, "clip_by_global_norm") if use_norm is None else \
        to_tensor(use_norm, "clip_by_global_norm")
    c = M.cast(to_tensor(clip_norm, "clip_by_global_norm"), norm.dtype)
    one = M.cast(1, norm.dtype)
    scale = M.multiply(c, M.minimum(M.truediv(one, norm), M.truediv(one, c)))
    scale = M.add(scale, M.subtract(norm, norm))  # NaN when the norm is inf or NaN
    out = []
    for t in t_list:
        if t is None:
            out.append(None)
            continue
        x = to_tensor(t, "clip_by_global_norm")
        out.append(M.multiply(x, M.cast(scale, x.dtype)))
    return out, norm


__all__ = ["clip_by_global_norm", "clip_by_norm"]

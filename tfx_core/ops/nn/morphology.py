"""Windowed maxima with a structuring element or an argmax: tf.nn.dilation2d, erosion2d and
max_pool_with_argmax (NHWC), as unrolled strided slices over the window offsets."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import I32, I64, DType
from tfx_core.framework.convert import constant_tensor
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import conv_ops as CO
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_ints
from tfx_core.ops.nn.checks import float_tensor, static_dims

TensorLike = Any


def _hw(name: str, what: str, v: Any) -> tuple[int, int]:
    """An NHWC strides/rates/ksize argument: an int, 2 ints, or 4 with 1 at batch and depth."""
    vals = static_ints(v, name, what)
    if len(vals) == 1:
        vals = vals * 2
    elif len(vals) == 4:
        if vals[0] != 1 or vals[3] != 1:
            raise op_error(name, f"{what} {list(vals)}: the batch and depth entries must be 1")
        vals = vals[1:3]
    if len(vals) != 2 or min(vals) < 1:
        raise op_error(name, f"{what} must be 1, 2 or 4 positive ints, got {v!r}")
    return vals[0], vals[1]


def _window(name: str, n: int, k: int, s: int, r: int, padding: str) -> tuple[int, int]:
    """(output size, padding before) of one spatial dim, as TF's SAME/VALID rules."""
    eff = (k - 1) * r + 1
    if padding == "VALID":
        if n < eff:
            raise op_error(name, f"the window (span {eff}) is larger than the input dim {n}")
        return (n - eff) // s + 1, 0
    if padding != "SAME":
        raise op_error(name, f"padding must be 'SAME' or 'VALID', got {padding!r}")
    out = -(-n // s)
    return out, max((out - 1) * s + eff - n, 0) // 2


def _offsets(name: str, x: Tensor, ks: tuple, st: tuple, rt: tuple, padding: str,
             fill: Any) -> tuple[list, tuple]:
    """For each window offset (dy, dx): the strided slice of x (padded with `fill`) it sees."""
    _, h, w, _ = static_dims(name, x)
    (oh, ph), (ow, pw) = (_window(name, n, k, s, r, padding) for n, k, s, r in
                          zip((h, w), ks, st, rt))
    hi_h = max((oh - 1) * st[0] + (ks[0] - 1) * rt[0] + 1 - h - ph, 0)
    hi_w = max((ow - 1) * st[1] + (ks[1] - 1) * rt[1] + 1 - w - pw, 0)
    xp = A.pad(x, [(0, 0), (ph, hi_h), (pw, hi_w), (0, 0)], constant_values=fill)
    out = []
    for dy in range(ks[0]):
        for dx in range(ks[1]):
            y0, x0 = dy * rt[0], dx * rt[1]
            out.append(((dy, dx), xp[:, y0:y0 + (oh - 1) * st[0] + 1:st[0],
                                     x0:x0 + (ow - 1) * st[1] + 1:st[1], :]))
    return out, (oh, ow, ph, pw)


def dilation2d(input: TensorLike, filters: TensorLike, strides: Any,  # noqa: A002
               padding: str, data_format: str = "NHWC", dilations: Any = None,
               name: str | None = None) -> Tensor:
    """Grayscale morphological dilation: out[b, y, x, c] = max over (dy, dx) of
    input[b, y sy + dy ry - pad, x sx + dx rx - pad, c] + filters[dy, dx, c], out-of-range
    positions skipped (tf.nn.dilation2d)."""
    name_ = "dilation2d"
    if data_format != "NHWC":
        raise op_error(name_, f"data_format must be 'NHWC', got {data_format!r}")
    x = float_tensor(name_, input)
    f = float_tensor(name_, filters, "filters", x.dtype)
    if x.ndim != 4 or f.ndim != 3 or f.shape[2] != x.shape[3]:
        raise op_error(name_, f"expected input [batch, h, w, depth] and filters [fh, fw, depth],"
                       f" got {x.type} and {f.type}")
    fh, fw, _ = static_dims(name_, f, "filters")
    st = _hw(name_, "strides", strides)
    rt = _hw(name_, "dilations", 1 if dilations is None else dilations)
    parts, _ = _offsets(name_, x, (fh, fw), st, rt, padding, -np.inf)
    out = None
    for (dy, dx), xs in parts:
        v = M.add(xs, f[dy, dx])
        # NOTE: the running max keeps the earlier value on ties, so the gradient goes to the
        # first maximum in (dy, dx) order, as TF's Dilation2DBackprop.
        out = v if out is None else M.maximum(out, v)
    return out


def erosion2d(value: TensorLike, filters: TensorLike, strides: Any, padding: str,
              data_format: str = "NHWC", dilations: Any = None,
              name: str | None = None) -> Tensor:
    """Grayscale morphological erosion: min over the window of value - filters, with the
    filter mirrored: -dilation2d(-value, reverse(filters)) (tf.nn.erosion2d)."""
    f = float_tensor("erosion2d", filters, "filters")
    return M.negative(dilation2d(M.negative(float_tensor("erosion2d", value, "value")),
                                 A.reverse(f, [0, 1]), strides, padding, data_format, dilations))


def max_pool_with_argmax(input: TensorLike, ksize: Any, strides: Any,  # noqa: A002
                         padding: str, data_format: str = "NHWC", output_dtype: Any = I64,
                         include_batch_in_index: bool = False,
                         name: str | None = None) -> tuple[Tensor, Tensor]:
    """2-D max pooling and each window's argmax as a flat index ((b * height + y) * width + x)
    * channels + c, b only with include_batch_in_index; ties go to the first in row-major
    window order (tf.nn.max_pool_with_argmax)."""
    name_ = "max_pool_with_argmax"
    if data_format != "NHWC":
        raise op_error(name_, f"data_format must be 'NHWC', got {data_format!r}")
    x = to_tensor(input, name_)
    if x.ndim != 4 or not (x.dtype.is_floating or x.dtype.is_integer):
        raise op_error(name_, f"expected a 4-D numeric input, got {x.type}", TypeError)
    it = DType.from_any(output_dtype)
    if it not in (I32, I64):
        raise op_error(name_, f"output_dtype must be int32 or int64, got {it.name}", TypeError)
    ks, st = _hw(name_, "ksize", ksize), _hw(name_, "strides", strides)
    b, h, w, c = static_dims(name_, x)
    values = CO.max_pool2d(x, list(ks), list(st), padding)
    low = -np.inf if x.dtype.is_floating else np.iinfo(x.dtype.np_dtype).min
    parts, _ = _offsets(name_, x, ks, st, (1, 1), padding, low)
    flat = np.arange(b * h * w * c if include_batch_in_index else h * w * c, dtype=np.int64)
    index = constant_tensor(flat.reshape(-1 if include_batch_in_index else 1, h, w, c)
                            .astype(it.np_dtype))
    iparts, _ = _offsets(name_, index, ks, st, (1, 1), padding, -1)
    best = arg = None
    for (_, xs), (_, ids) in zip(parts, iparts):
        if best is None:
            best, arg = xs, ids
            continue
        better = M.greater(xs, best)  # strict: the first maximum keeps its index
        best, arg = M.where(better, xs, best), M.where(better, ids, arg)
    if not include_batch_in_index:
        arg = A.broadcast_to(arg, tuple(values.shape))
    return values, arg


__all__ = ["dilation2d", "erosion2d", "max_pool_with_argmax"]

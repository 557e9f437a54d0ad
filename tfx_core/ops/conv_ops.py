"""Convolutions and pooling (tf.nn.conv*, depthwise_conv2d, conv*_transpose, max/avg pools)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from compiler.ops import conv as CV
from compiler.ops import elementwise as E
from compiler.ops import shape as S
from tfx_core.framework.convert import constant_tensor
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.ops.arguments import op_error, static_ints

TensorLike = Any

__all__ = [
    "avg_pool", "avg_pool1d", "avg_pool2d", "avg_pool3d", "conv1d", "conv1d_transpose",
    "conv2d", "conv2d_transpose", "conv3d", "conv3d_transpose", "convolution",
    "depthwise_conv2d", "max_pool", "max_pool1d", "max_pool2d", "max_pool3d",
]

# The data formats of each number of spatial dims: (channels last, channels first).
_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


# ---------------------------------------------------------------- argument handling
def _rank_of(name: str, x: Tensor, what: str, n: int | None) -> int:
    """The number of spatial dims: `n`, or (n None) from the rank of `x` (1 to 3)."""
    want = (n + 2,) if n is not None else (3, 4, 5)
    if x.ndim not in want:
        shown = " or ".join(str(r) for r in want)
        raise op_error(name, f"{what} must have rank {shown}, got {x.type}")
    return x.ndim - 2


def _channels_first(name: str, data_format: Any, n: int) -> bool:
    last, first = _FORMATS[n]
    if data_format is None or data_format == last:
        return False
    if data_format == first:
        return True
    raise op_error(name, f"data_format must be {last!r} or {first!r} for {n} spatial dims, got "
                f"{data_format!r}")


def _layout(n: int, cf: bool) -> tuple[tuple, tuple]:
    """(input/output spec, filter spec) as convolution dimension numbers for a data format
    and filters laid out [*spatial, in_channels, out_channels]."""
    lhs = (0, 1, *range(2, n + 2)) if cf else (0, n + 1, *range(1, n + 1))
    return lhs, (n + 1, n, *range(n))


def _spatial_ints(name: str, what: str, v: Any, n: int, cf: bool) -> tuple[int, ...]:
    """strides/dilations/ksize: an int, or a list of 1, n or n + 2 ints (batch and channel
    entries 1), as TF takes them; returns the n spatial values."""
    if v is None:
        return (1,) * n
    if isinstance(v, Tensor):
        v = v.numpy() if v._buf is not None else v
    vals = list(np.asarray(v).reshape(-1)) if isinstance(v, (list, tuple, np.ndarray)) else [v]
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_))
               for d in vals):
        raise op_error(name, f"{what} must be an int or a list of ints, got {v!r}", TypeError)
    vals = [int(d) for d in vals]
    if len(vals) == 1:
        vals = vals * n
    elif len(vals) == n + 2:
        outer = (vals[0], vals[1]) if cf else (vals[0], vals[-1])
        if outer != (1, 1):
            raise op_error(name, f"{what}={v!r}: the batch and channel entries must be 1")
        vals = vals[2:] if cf else vals[1:-1]
    elif len(vals) != n:
        raise op_error(name, f"{what} must be an int or a list of 1, {n} or {n + 2} ints for {n} "
                    f"spatial dims, got {v!r} (length {len(vals)})")
    if any(d < 1 for d in vals):
        raise op_error(name, f"{what} must be positive, got {v!r}")
    return tuple(vals)


def _same_pads(n_in: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TF's SAME: ceil(in / stride) outputs; the total padding split, the extra one at the end."""
    total = max((math.ceil(n_in / s) - 1) * s + (k - 1) * d + 1 - n_in, 0)
    return total // 2, total - total // 2


def _padding(name: str, padding: Any, n: int, cf: bool, in_sp: tuple, ks: tuple,
             strides: tuple, dil: tuple, explicit: bool = True) -> tuple:
    """"SAME", "VALID" or explicit [[lo, hi]] * (n + 2) -> n spatial (lo, hi) pairs."""
    if isinstance(padding, str):
        if padding == "VALID":
            return ((0, 0),) * n
        if padding != "SAME":
            allowed = '"SAME", "VALID" or explicit [[low, high], ...]' if explicit else \
                '"SAME" or "VALID"'
            raise op_error(name, f"padding must be {allowed}, got {padding!r}")
        if any(d is None for d in in_sp):
            raise op_error(name, f"SAME padding needs the input's spatial dims at trace time, got "
                        f"{in_sp}")
        return tuple(_same_pads(i, k, s, d) for i, k, s, d in zip(in_sp, ks, strides, dil))
    if not explicit:
        raise op_error(name, f'padding must be "SAME" or "VALID", got {padding!r}')
    try:
        pairs = [tuple(int(v) for v in p) for p in padding]
    except (TypeError, ValueError):
        raise op_error(name, f"padding must be a string or a list of [low, high] pairs, got "
                    f"{padding!r}") from None
    if len(pairs) != n + 2 or any(len(p) != 2 for p in pairs):
        raise op_error(name, f"explicit padding must be {n + 2} [low, high] pairs (one per dim of "
                    f"the input), got {padding!r}")
    outer = (pairs[0], pairs[1]) if cf else (pairs[0], pairs[-1])
    if outer != ((0, 0), (0, 0)):
        raise op_error(name, f"explicit padding {padding!r}: the batch and channel pairs must be "
                    "[0, 0]")
    spatial = pairs[2:] if cf else pairs[1:-1]
    if any(v < 0 for p in spatial for v in p):
        raise op_error(name, f"explicit padding must be non-negative, got {padding!r}")
    return tuple(spatial)


def _out_sizes(name: str, x: Tensor, in_sp: tuple, ks: tuple, strides: tuple, dil: tuple,
               pads: tuple) -> tuple:
    """The output's spatial dims; an error (as TF) when a window does not fit."""
    out = []
    for i, k, s, d, (lo, hi) in zip(in_sp, ks, strides, dil, pads):
        span = (k - 1) * d + 1
        if i is not None and i + lo + hi + s - span < 0:
            raise op_error(name, f"the window (size {k}, dilation {d}: spans {span}) is larger "
                        f"than the padded input ({i} + {lo + hi}); computed output size would "
                        f"be negative for input {x.type}")
        out.append(CV.window_out_size(i, k, s, lo, hi, 1, d))
    return tuple(out)


def _float_operands(name: str, input: TensorLike, filters: TensorLike,  # noqa: A002
                    fname: str = "filters") -> tuple[Tensor, Tensor]:
    x = to_tensor(input, name)
    w = to_tensor(filters, name, None if isinstance(filters, Tensor) else x.dtype)
    if not x.dtype.is_floating:
        raise op_error(name, f"expected a floating input, got {x.type}", TypeError)
    if x.dtype is not w.dtype:
        raise op_error(name, f"dtypes differ: input {x.type} and {fname} {w.type} (tfx does not "
                    "promote silently; use tx.cast)", TypeError)
    return x, w


# ---------------------------------------------------------------- convolutions
def _conv(name: str, input: TensorLike, filters: TensorLike, strides: Any,  # noqa: A002
          padding: Any, data_format: Any, dilations: Any, n: int | None) -> Tensor:
    """An N-d convolution with filters [*spatial, in_channels / groups, out_channels]."""
    x, w = _float_operands(name, input, filters)
    n = _rank_of(name, x, "input", n)
    if w.ndim != x.ndim:
        raise op_error(name, f"filters must have the rank of the input ({x.ndim}: "
                    f"[*spatial, in_channels, out_channels]), got input {x.type} and filters "
                    f"{w.type}")
    cf = _channels_first(name, data_format, n)
    ls, rs = _layout(n, cf)
    fmt = data_format or _FORMATS[n][0]
    c_in, k_in, c_out = x.type.shape[ls[1]], w.type.shape[n], w.type.shape[n + 1]
    if c_in is None or k_in is None or c_out is None or any(
        d is None for d in w.type.shape[:n]
    ):
        raise op_error(name, f"the channel dims and the filter shape must be known, got input "
                    f"{x.type} and filters {w.type}")
    if k_in == 0 or c_in % k_in or c_out % (c_in // k_in or 1):
        raise op_error(name, f"input channels ({c_in}, dim {ls[1]} of {x.type}, data_format="
                    f"{fmt}) must equal the filters' in_channels ({k_in}, dim {n} of {w.type}) "
                    "or be a multiple of it (grouped convolution: out_channels divisible by "
                    "the group count)")
    strides_ = _spatial_ints(name, "strides", strides, n, cf)
    dil = _spatial_ints(name, "dilations", dilations, n, cf)
    in_sp = tuple(x.type.shape[d] for d in ls[2:])
    ks = w.type.shape[:n]
    pads = _padding(name, padding, n, cf, in_sp, ks, strides_, dil)
    _out_sizes(name, x, in_sp, ks, strides_, dil, pads)
    return bind(CV.convolution_op, x, w, window_strides=strides_, padding=pads,
                lhs_dilation=(1,) * n, rhs_dilation=dil, dimension_numbers=(ls, rs, ls),
                feature_group_count=c_in // k_in, batch_group_count=1)


def convolution(input: TensorLike, filters: TensorLike, strides: Any = None,  # noqa: A002
                padding: Any = "VALID", data_format: str | None = None, dilations: Any = None,
                name: str | None = None) -> Tensor:
    """An N-d convolution, N = 1, 2 or 3 from the input's rank (tf.nn.convolution)."""
    return _conv("convolution", input, filters, strides, padding, data_format, dilations, None)


def conv1d(input: TensorLike, filters: TensorLike, stride: Any, padding: Any,  # noqa: A002
           data_format: str = "NWC", dilations: Any = None, name: str | None = None) -> Tensor:
    """1-D convolution of [batch, width, channels] with filters [w, in, out] (tf.nn.conv1d)."""
    return _conv("conv1d", input, filters, stride, padding, data_format, dilations, 1)


def conv2d(input: TensorLike, filters: TensorLike, strides: Any, padding: Any,  # noqa: A002
           data_format: str = "NHWC", dilations: Any = None, name: str | None = None) -> Tensor:
    """2-D convolution with filters [h, w, in, out] (tf.nn.conv2d)."""
    return _conv("conv2d", input, filters, strides, padding, data_format, dilations, 2)


def conv3d(input: TensorLike, filters: TensorLike, strides: Any, padding: Any,  # noqa: A002
           data_format: str = "NDHWC", dilations: Any = None, name: str | None = None) -> Tensor:
    """3-D convolution with filters [d, h, w, in, out] (tf.nn.conv3d)."""
    return _conv("conv3d", input, filters, strides, padding, data_format, dilations, 3)


def depthwise_conv2d(input: TensorLike, filter: TensorLike, strides: Any,  # noqa: A002
                     padding: Any, data_format: str | None = None, dilations: Any = None,
                     name: str | None = None) -> Tensor:
    """Per-channel 2-D convolution; filter [h, w, in, multiplier], output channel c * multiplier
    + m (tf.nn.depthwise_conv2d)."""
    name_ = "depthwise_conv2d"
    x, w = _float_operands(name_, input, filter, "filter")
    _rank_of(name_, x, "input", 2)
    if w.ndim != 4:
        raise op_error(name_, f"filter must have rank 4 ([h, w, in_channels, multiplier]), got "
                    f"{w.type} (input {x.type})")
    cf = _channels_first(name_, data_format, 2)
    c_in = x.type.shape[1 if cf else 3]
    h, wd, k_in, mult = w.type.shape
    if None in (c_in, h, wd, k_in, mult) or c_in != k_in:
        raise op_error(name_, f"input channels ({c_in}, dim {1 if cf else 3} of {x.type}, "
                    f"data_format={data_format or 'NHWC'}) must equal the filter's in_channels "
                    f"({k_in}, dim 2 of {w.type})")
    w = bind(S.reshape_op, w, shape=(h, wd, 1, k_in * mult))
    return _conv(name_, x, w, strides, padding, data_format, dilations, 2)


def _conv_transpose(name: str, input: TensorLike, filters: TensorLike,  # noqa: A002
                    output_shape: Any, strides: Any, padding: Any, data_format: Any,
                    dilations: Any, n: int) -> Tensor:
    """The gradient of an N-d convolution w.r.t. its input: filters [*spatial, out, in]."""
    x, w = _float_operands(name, input, filters)
    _rank_of(name, x, "input", n)
    if w.ndim != n + 2:
        raise op_error(name, f"filters must have rank {n + 2} ([*spatial, out_channels, "
                    f"in_channels]), got {w.type} (input {x.type})")
    cf = _channels_first(name, data_format, n)
    ls, rs = _layout(n, cf)
    fmt = data_format or _FORMATS[n][0]
    shape = static_ints(output_shape, name, "output_shape")
    if len(shape) != n + 2:
        raise op_error(name, f"output_shape must have {n + 2} entries, got {list(shape)}")
    c_in, k_out, k_in = x.type.shape[ls[1]], w.type.shape[n], w.type.shape[n + 1]
    if c_in != k_in:
        raise op_error(name, f"input channels ({c_in}, dim {ls[1]} of {x.type}, data_format="
                    f"{fmt}) must equal the filters' in_channels ({k_in}, the last dim of "
                    f"{w.type})")
    if shape[ls[1]] != k_out:
        raise op_error(name, f"output_shape {list(shape)} has {shape[ls[1]]} channels, but the "
                    f"filters {w.type} have {k_out} out_channels (dim {n})")
    batch = x.type.shape[0]
    if batch is not None and shape[0] != batch:
        raise op_error(name, f"output_shape {list(shape)} has batch {shape[0]}, the input {x.type} "
                    f"has {batch}")
    strides_ = _spatial_ints(name, "strides", strides, n, cf)
    dil = _spatial_ints(name, "dilations", dilations, n, cf)
    out_sp = tuple(shape[d] for d in ls[2:])
    in_sp = tuple(x.type.shape[d] for d in ls[2:])
    ks = w.type.shape[:n]
    pads = _padding(name, padding, n, cf, out_sp, ks, strides_, dil)
    fwd = _out_sizes(name, x, out_sp, ks, strides_, dil, pads)
    if fwd != in_sp:
        raise op_error(name, f"output_shape {list(shape)} does not match the input {x.type}: a "
                    f"convolution of that shape (strides {list(strides_)}, padding {padding!r})"
                    f" has spatial dims {list(fwd)}, not {list(in_sp)}")
    if 0 in fwd + out_sp + ks or 0 in x.type.shape:
        z = constant_tensor(np.zeros((), x.dtype.np_dtype))
        return bind(S.broadcast_to_op, z, shape=tuple(shape))
    return CV.conv_transpose_lhs(
        x, w, w.type, lhs_spatial=out_sp, out_spatial=in_sp,
        window_strides=strides_, padding=pads, lhs_dilation=(1,) * n, rhs_dilation=dil,
        dimension_numbers=(ls, rs, ls))


def conv1d_transpose(input: TensorLike, filters: TensorLike, output_shape: Any,  # noqa: A002
                     strides: Any, padding: Any = "SAME", data_format: str = "NWC",
                     dilations: Any = None, name: str | None = None) -> Tensor:
    """Transposed 1-D convolution; filters [w, out, in] (tf.nn.conv1d_transpose)."""
    return _conv_transpose("conv1d_transpose", input, filters, output_shape, strides, padding,
                           data_format, dilations, 1)


def conv2d_transpose(input: TensorLike, filters: TensorLike, output_shape: Any,  # noqa: A002
                     strides: Any, padding: Any = "SAME", data_format: str = "NHWC",
                     dilations: Any = None, name: str | None = None) -> Tensor:
    """Transposed 2-D convolution; filters [h, w, out, in] (tf.nn.conv2d_transpose)."""
    return _conv_transpose("conv2d_transpose", input, filters, output_shape, strides, padding,
                           data_format, dilations, 2)


def conv3d_transpose(input: TensorLike, filters: TensorLike, output_shape: Any,  # noqa: A002
                     strides: Any, padding: Any = "SAME", data_format: str = "NDHWC",
                     dilations: Any = None, name: str | None = None) -> Tensor:
    """Transposed 3-D convolution; filters [d, h, w, out, in] (tf.nn.conv3d_transpose)."""
    return _conv_transpose("conv3d_transpose", input, filters, output_shape, strides, padding,
                           data_format, dilations, 3)


# ---------------------------------------------------------------- pooling
def _avg_counts(in_sp: tuple, ks: tuple, strides: tuple, pads: tuple, out_sp: tuple,
                ) -> np.ndarray:
    """How many non-padding elements each window holds (TF's SAME averages over those)."""
    counts = np.ones((), np.float64)
    for n, k, s, (lo, _), m in zip(in_sp, ks, strides, pads, out_sp):
        start = np.arange(m) * s - lo
        c = np.minimum(start + k, n) - np.maximum(start, 0)
        counts = np.multiply.outer(counts, c)
    return counts


def _pool(name: str, kind: str, input: TensorLike, ksize: Any, strides: Any,  # noqa: A002
          padding: Any, data_format: Any, n: int | None) -> Tensor:
    x = to_tensor(input, name)
    if not (x.dtype.is_floating or (kind == "max" and x.dtype.is_integer)):
        what = "floating or integer" if kind == "max" else "floating"
        raise op_error(name, f"expected a {what} input, got {x.type}", TypeError)
    n = _rank_of(name, x, "input", n)
    cf = _channels_first(name, data_format, n)
    ls, _ = _layout(n, cf)
    ks = _spatial_ints(name, "ksize", ksize, n, cf)
    strides_ = _spatial_ints(name, "strides", strides, n, cf)
    in_sp = tuple(x.type.shape[d] for d in ls[2:])
    pads = _padding(name, padding, n, cf, in_sp, ks, strides_, (1,) * n, kind == "max")
    if not isinstance(padding, str) and any(v >= k for k, p in zip(ks, pads) for v in p):
        raise op_error(name, f"explicit padding {padding!r} must be smaller than the window "
                    f"{list(ks)} (a window of padding alone has no maximum)")
    out_sp = _out_sizes(name, x, in_sp, ks, strides_, (1,) * n, pads)

    def full(vals, one):  # spatial values -> one per dim of the input, `one` at batch/channel
        out = [one] * x.ndim
        for d, v in zip(ls[2:], vals):
            out[d] = v
        return tuple(out)

    r = bind(CV.reduce_window_op, x, computation="max" if kind == "max" else "sum",
             window_dimensions=full(ks, 1), window_strides=full(strides_, 1),
             padding=full(pads, (0, 0)), window_dilations=(1,) * x.ndim)
    if kind == "max":
        return r
    if all(lo == hi == 0 for lo, hi in pads) or any(d is None for d in in_sp):
        counts = np.asarray(float(np.prod(ks)))
    else:
        counts = _avg_counts(in_sp, ks, strides_, pads, out_sp)
        counts = counts.reshape(full(out_sp, 1))
    return bind(E.div_op, r, constant_tensor(counts.astype(x.dtype.np_dtype)))


def max_pool(input: TensorLike, ksize: Any, strides: Any, padding: Any,  # noqa: A002
             data_format: str | None = None, name: str | None = None) -> Tensor:
    """Max pooling over 1-3 spatial dims, from the input's rank (tf.nn.max_pool)."""
    return _pool("max_pool", "max", input, ksize, strides, padding, data_format, None)


def avg_pool(input: TensorLike, ksize: Any, strides: Any, padding: Any,  # noqa: A002
             data_format: str | None = None, name: str | None = None) -> Tensor:
    """Average pooling over 1-3 spatial dims, from the input's rank (tf.nn.avg_pool)."""
    return _pool("avg_pool", "avg", input, ksize, strides, padding, data_format, None)


def max_pool1d(input: TensorLike, ksize: Any, strides: Any, padding: Any,  # noqa: A002
               data_format: str = "NWC", name: str | None = None) -> Tensor:
    """1-D max pooling (tf.nn.max_pool1d)."""
    return _pool("max_pool1d", "max", input, ksize, strides, padding, data_format, 1)


def max_pool2d(input: TensorLike, ksize: Any, strides: Any, padding: Any,  # noqa: A002
               data_format: str = "NHWC", name: str | None = None) -> Tensor:
    """2-D max pooling; the gradient goes to each window's first maximum (tf.nn.max_pool2d)."""
    return _pool("max_pool2d", "max", input, ksize, strides, padding, data_format, 2)


def max_pool3d(input: TensorLike, ksize: Any, strides: Any, padding: Any,  # noqa: A002
               data_format: str = "NDHWC", name: str | None = None) -> Tensor:
    """3-D max pooling (tf.nn.max_pool3d)."""
    return _pool("max_pool3d", "max", input, ksize, strides, padding, data_format, 3)


def avg_pool1d(input: TensorLike, ksize: Any, strides: Any, padding: Any,  # noqa: A002
               data_format: str = "NWC", name: str | None = None) -> Tensor:
    """1-D average pooling; SAME averages only non-padding elements (tf.nn.avg_pool1d)."""
    return _pool("avg_pool1d", "avg", input, ksize, strides, padding, data_format, 1)


def avg_pool2d(input: TensorLike, ksize: Any, strides: Any, padding: Any,  # noqa: A002
               data_format: str = "NHWC", name: str | None = None) -> Tensor:
    """2-D average pooling; SAME averages only non-padding elements (tf.nn.avg_pool2d)."""
    return _pool("avg_pool2d", "avg", input, ksize, strides, padding, data_format, 2)


def avg_pool3d(input: TensorLike, ksize: Any, strides: Any, padding: Any,  # noqa: A002
               data_format: str = "NDHWC", name: str | None = None) -> Tensor:
    """3-D average pooling; SAME averages only non-padding elements (tf.nn.avg_pool3d)."""
    return _pool("avg_pool3d", "avg", input, ksize, strides, padding, data_format, 3)

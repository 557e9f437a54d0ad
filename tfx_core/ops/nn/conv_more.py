"""Convolution variants built on tf.nn's convolutions: separable, atrous (dilated), rank-generic
transpose, depthwise backprops, and tf.nn.pool with dilations."""
from __future__ import annotations

from typing import Any

from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import conv_ops as CO
from tfx_core.ops.arguments import op_error, static_int, static_ints
from tfx_core.ops.nn.space_batch import with_space_to_batch

TensorLike = Any


def separable_conv2d(input: TensorLike, depthwise_filter: TensorLike,  # noqa: A002
                     pointwise_filter: TensorLike, strides: Any, padding: Any,
                     data_format: str | None = None, dilations: Any = None,
                     name: str | None = None) -> Tensor:
    """depthwise_conv2d, then a 1x1 conv2d mixing channels: pointwise_filter
    [1, 1, in * multiplier, out] (tf.nn.separable_conv2d)."""
    pw = to_tensor(pointwise_filter, "separable_conv2d")
    if pw.ndim != 4 or tuple(pw.shape[:2]) != (1, 1):
        raise op_error("separable_conv2d", f"pointwise_filter must be [1, 1, in, out], got "
                       f"{pw.type}")
    y = CO.depthwise_conv2d(input, depthwise_filter, strides, padding, data_format, dilations)
    return CO.conv2d(y, pw, 1, "VALID", data_format or "NHWC")


def _rate(name: str, rate: Any) -> int:
    r = static_int(rate, name, "rate")
    if r < 1:
        raise op_error(name, f"rate must be >= 1, got {r}")
    return r


def atrous_conv2d(value: TensorLike, filters: TensorLike, rate: Any, padding: str,
                  name: str | None = None) -> Tensor:
    """conv2d with stride 1 and the filter dilated by `rate` (tf.nn.atrous_conv2d)."""
    r = _rate("atrous_conv2d", rate)
    return CO.conv2d(value, filters, 1, padding, "NHWC", r)


def atrous_conv2d_transpose(value: TensorLike, filters: TensorLike, output_shape: Any,
                            rate: Any, padding: str, name: str | None = None) -> Tensor:
    """The transpose (input gradient) of atrous_conv2d: filters [h, w, out, in]
    (tf.nn.atrous_conv2d_transpose)."""
    r = _rate("atrous_conv2d_transpose", rate)
    return CO.conv2d_transpose(value, filters, output_shape, 1, padding, "NHWC", r)


def conv_transpose(input: TensorLike, filters: TensorLike, output_shape: Any,  # noqa: A002
                   strides: Any, padding: str = "SAME", data_format: str | None = None,
                   dilations: Any = None, name: str | None = None) -> Tensor:
    """conv1d/2d/3d_transpose chosen by the rank of output_shape (tf.nn.conv_transpose)."""
    shape = static_ints(output_shape, "conv_transpose", "output_shape")
    fns = {3: CO.conv1d_transpose, 4: CO.conv2d_transpose, 5: CO.conv3d_transpose}
    if len(shape) not in fns:
        raise op_error("conv_transpose", f"output_shape must have 3, 4 or 5 entries, got "
                       f"{list(shape)}")
    fmt = data_format or {3: "NWC", 4: "NHWC", 5: "NDHWC"}[len(shape)]
    return fns[len(shape)](input, filters, shape, strides, padding, fmt, dilations)


def _input_gradient(fn, x: Tensor, out_backprop: TensorLike) -> Tensor:
    """d(sum(fn(x) * out_backprop)) / dx: the transpose of the linear map fn at x."""
    from tfx_core.framework.gradient_tape import GradientTape  # (the tape imports ops)

    with GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    g = to_tensor(out_backprop, "depthwise_conv2d_backprop", y.dtype)
    if tuple(g.shape) != tuple(y.shape):
        raise op_error("depthwise_conv2d_backprop", f"out_backprop {g.type} must have the "
                       f"convolution's output shape {y.type}")
    return tape.gradient(y, x, output_gradients=g, unconnected_gradients="zero")


def depthwise_conv2d_backprop_input(input_sizes: Any, filter: TensorLike,  # noqa: A002
                                    out_backprop: TensorLike, strides: Any, padding: Any,
                                    data_format: str = "NHWC", dilations: Any = None,
                                    name: str | None = None) -> Tensor:
    """The gradient of depthwise_conv2d w.r.t. an input of shape input_sizes
    (tf.nn.depthwise_conv2d_backprop_input)."""
    w = to_tensor(filter, "depthwise_conv2d_backprop_input")
    sizes = static_ints(input_sizes, "depthwise_conv2d_backprop_input", "input_sizes")
    x = A.zeros(sizes, w.dtype)
    return _input_gradient(
        lambda v: CO.depthwise_conv2d(v, w, strides, padding, data_format, dilations), x,
        out_backprop)


def depthwise_conv2d_backprop_filter(input: TensorLike, filter_sizes: Any,  # noqa: A002
                                     out_backprop: TensorLike, strides: Any, padding: Any,
                                     data_format: str = "NHWC", dilations: Any = None,
                                     name: str | None = None) -> Tensor:
    """The gradient of depthwise_conv2d w.r.t. a filter of shape filter_sizes
    (tf.nn.depthwise_conv2d_backprop_filter)."""
    x = to_tensor(input, "depthwise_conv2d_backprop_filter")
    sizes = static_ints(filter_sizes, "depthwise_conv2d_backprop_filter", "filter_sizes")
    w = A.zeros(sizes, x.dtype)
    return _input_gradient(
        lambda v: CO.depthwise_conv2d(x, v, strides, padding, data_format, dilations), w,
        out_backprop)


def pool(input: TensorLike, window_shape: Any, pooling_type: str,  # noqa: A002
         strides: Any = None, padding: str = "VALID", data_format: str | None = None,
         dilations: Any = None, name: str | None = None) -> Tensor:
    """N-d max or average pooling, optionally dilated (tf.nn.pool); dilations run through
    with_space_to_batch and, as TF, need VALID padding."""
    name_ = "pool"
    x = to_tensor(input, name_)
    ks = static_ints(window_shape, name_, "window_shape")
    n = len(ks)
    if not 1 <= n <= 3 or x.ndim != n + 2:
        raise op_error(name_, f"window_shape {list(ks)} needs 1 to 3 spatial dims and an input "
                       f"of rank {n + 2}, got {x.type}")
    if pooling_type not in ("MAX", "AVG"):
        raise op_error(name_, f"pooling_type must be 'MAX' or 'AVG', got {pooling_type!r}")
    st = (1,) * n if strides is None else static_ints(strides, name_, "strides")
    dil = (1,) * n if dilations is None else static_ints(dilations, name_, "dilations")
    if len(st) != n or len(dil) != n:
        raise op_error(name_, f"strides {list(st)} and dilations {list(dil)} need {n} entries")
    if any(d > 1 for d in dil) and any(s > 1 for s in st):
        raise op_error(name_, f"strides > 1 are not supported with dilations > 1, got strides "
                       f"{list(st)} and dilations {list(dil)}")
    if padding == "SAME" and any(d > 1 for d in dil):
        raise op_error(name_, f"'SAME' padding is not implemented for dilations > 1 (as TF), "
                       f"got dilations {list(dil)}")
    fn = CO.max_pool if pooling_type == "MAX" else CO.avg_pool

    def op(v: Tensor, _: int, pad: str) -> Tensor:
        return fn(v, list(ks), list(st), pad, data_format)

    return with_space_to_batch(x, dil, padding, op, ks, None, data_format)


__all__ = [
    "atrous_conv2d", "atrous_conv2d_transpose", "conv_transpose",
    "depthwise_conv2d_backprop_filter", "depthwise_conv2d_backprop_input", "pool",
    "separable_conv2d",
]

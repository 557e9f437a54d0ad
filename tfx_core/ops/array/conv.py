"""tf.conv (the N-d raw convolution) and tf.conv2d_backprop_{filter,input}_v2."""
from __future__ import annotations

from typing import Any

import numpy as np

from tfx_core.framework.gradient_tape import GradientTape
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as AO
from tfx_core.ops.arguments import op_error, static_int, static_ints
from tfx_core.ops.conv_ops import conv2d, convolution

TensorLike = Any
_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


def _padding(name: str, padding: Any, explicit_paddings: Any, rank: int) -> Any:
    """'SAME'/'VALID', or TF's 'EXPLICIT' with a flat [lo, hi] * rank list -> pairs."""
    p = str(padding).upper()
    if p in ("SAME", "VALID"):
        return p
    if p != "EXPLICIT":
        raise op_error(name, f"padding must be 'SAME', 'VALID' or 'EXPLICIT', got {padding!r}")
    flat = static_ints(list(explicit_paddings or []), name, "explicit_paddings")
    if len(flat) != 2 * rank:
        raise op_error(name, f"padding='EXPLICIT' needs {2 * rank} explicit_paddings (a [low, "
                       f"high] pair per input dim), got {list(flat)}")
    return [list(flat[i:i + 2]) for i in range(0, 2 * rank, 2)]


def conv(input: TensorLike, filter: TensorLike, strides: Any, padding: str,  # noqa: A002
         explicit_paddings: Any = (), data_format: str = "CHANNELS_LAST", dilations: Any = (),
         batch_dims: int = 1, groups: int = 1, name: str | None = None) -> Tensor:
    """An N-d convolution of a (N + 1 + batch_dims)-d input with a (N + 2)-d filter
    [*spatial, in_channels / groups, out_channels] (tf.conv); strides/dilations have N + 2
    entries (batch and channel ones 1)."""
    x, w = to_tensor(input, "conv"), to_tensor(filter, "conv")
    n = w.ndim - 2
    bd = static_int(batch_dims, "conv", "batch_dims")
    if n not in _FORMATS or bd < 1 or x.ndim != n + 1 + bd:
        raise op_error("conv", f"needs a filter of rank 3..5 and an input of rank N + 1 + "
                       f"batch_dims, got input {x.type}, filter {w.type}, batch_dims={bd}")
    if data_format not in ("CHANNELS_LAST", "CHANNELS_FIRST"):
        raise op_error("conv", f"data_format must be CHANNELS_LAST or CHANNELS_FIRST, got "
                       f"{data_format!r}")
    cf = data_format == "CHANNELS_FIRST"
    c_in = x.shape[bd if cf else -1]
    g = static_int(groups, "conv", "groups")
    if g < 1 or (c_in is not None and w.shape[n] is not None and c_in != g * w.shape[n]):
        raise op_error("conv", f"input channels ({c_in}) must be groups ({g}) x the filter's "
                       f"in_channels ({w.shape[n]})")
    lead = x.shape[:bd]
    if bd > 1:
        if None in x.shape[bd:]:
            raise op_error("conv", f"batch_dims > 1 needs the other dims of {x.type} known")
        x = AO.reshape(x, [-1, *x.shape[bd:]])
    st = list(static_ints(strides, "conv", "strides"))
    dil = list(static_ints(dilations, "conv", "dilations")) if len(dilations) else [1] * (n + 2)
    for what, v in (("strides", st), ("dilations", dil)):
        if len(v) != n + 2:
            raise op_error("conv", f"{what} must have N + 2 = {n + 2} entries, got {v}")
    pad = _padding("conv", padding, explicit_paddings, n + 2)
    out = convolution(x, w, strides=st, padding=pad, data_format=_FORMATS[n][cf],
                      dilations=dil)
    if bd > 1:
        out = AO.reshape(out, [*(d if d is not None else -1 for d in lead), *out.shape[1:]])
    return out


def _conv2d_args(name: str, padding: Any, explicit_paddings: Any) -> Any:
    return _padding(name, padding, explicit_paddings, 4)


def conv2d_backprop_filter_v2(input: TensorLike, filter: TensorLike,  # noqa: A002
                              out_backprop: TensorLike, strides: Any, padding: str,
                              use_cudnn_on_gpu: bool = True, explicit_paddings: Any = (),
                              data_format: str = "NHWC", dilations: Any = (1, 1, 1, 1),
                              name: str | None = None) -> Tensor:
    """d(conv2d(input, filter))/d(filter) applied to out_backprop; `filter` gives the shape
    (tf.conv2d_backprop_filter_v2)."""
    x, w = to_tensor(input, "conv2d_backprop_filter_v2"), to_tensor(filter,
                                                                     "conv2d_backprop_filter_v2")
    pad = _conv2d_args("conv2d_backprop_filter_v2", padding, explicit_paddings)
    with GradientTape() as tape:
        tape.watch(w)
        y = conv2d(x, w, strides, pad, data_format=data_format, dilations=list(dilations))
    dy = to_tensor(out_backprop, "conv2d_backprop_filter_v2")
    _check_out("conv2d_backprop_filter_v2", y, dy)
    return tape.gradient(y, w, output_gradients=dy)


def conv2d_backprop_input_v2(input: TensorLike, filter: TensorLike,  # noqa: A002
                             out_backprop: TensorLike, strides: Any, padding: str,
                             use_cudnn_on_gpu: bool = True, explicit_paddings: Any = (),
                             data_format: str = "NHWC", dilations: Any = (1, 1, 1, 1),
                             name: str | None = None) -> Tensor:
    """d(conv2d(input, filter))/d(input) applied to out_backprop; `input` gives the shape
    (tf.conv2d_backprop_input_v2)."""
    x, w = to_tensor(input, "conv2d_backprop_input_v2"), to_tensor(filter,
                                                                    "conv2d_backprop_input_v2")
    pad = _conv2d_args("conv2d_backprop_input_v2", padding, explicit_paddings)
    with GradientTape() as tape:
        tape.watch(x)
        y = conv2d(x, w, strides, pad, data_format=data_format, dilations=list(dilations))
    dy = to_tensor(out_backprop, "conv2d_backprop_input_v2")
    _check_out("conv2d_backprop_input_v2", y, dy)
    return tape.gradient(y, x, output_gradients=dy)


def _check_out(name: str, y: Tensor, dy: Tensor) -> None:
    if dy.dtype != y.dtype or not np.array_equal(np.array(dy.shape, object),
                                                 np.array(y.shape, object)):
        raise op_error(name, f"out_backprop must be {y.type} (the convolution's output), got "
                       f"{dy.type}")


__all__ = ["conv", "conv2d_backprop_filter_v2", "conv2d_backprop_input_v2"]

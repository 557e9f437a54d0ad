"""Convolution layers: Conv1D/2D/3D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D."""
from __future__ import annotations

from typing import Any

from tfx_core.keras import activations, constraints, initializers, regularizers
from tfx_core.keras.engine.layer import Layer, serialize_object
from tfx_core.ops.array_ops import pad, reshape
from tfx_core.ops.conv_ops import conv2d_transpose, convolution, depthwise_conv2d
from tfx_core.ops.math_ops import cast

# tf.nn's data_format strings per number of spatial dims: (channels_last, channels_first)
_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


def normalize_tuple(layer: str, what: str, value: Any, n: int) -> tuple[int, ...]:
    """An int or n ints -> n positive ints (Keras's kernel_size/strides/pool_size rule)."""
    vals = (value,) * n if isinstance(value, int) else tuple(value)
    if len(vals) != n or any(isinstance(v, bool) or not isinstance(v, int) or v < 1
                             for v in vals):
        raise ValueError(f"{layer}: the `{what}` argument must be an int or a tuple of {n} "
                         f"positive ints, got {value!r}")
    return vals


def normalize_padding(layer: str, padding: str) -> str:
    """"valid"/"same" (any case) -> tf.nn's "VALID"/"SAME"."""
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{layer}: padding must be 'valid' or 'same', got {padding!r}")
    return padding.upper()


def tf_data_format(layer: str, data_format: str | None, n: int) -> str:
    """Keras's "channels_last"/"channels_first" -> tf.nn's "NHWC"/"NCHW" (for n spatial dims)."""
    if data_format in (None, "channels_last"):
        return _FORMATS[n][0]
    if data_format == "channels_first":
        return _FORMATS[n][1]
    raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first', got "
                     f"{data_format!r}")


class BaseConv(Layer):
    """What every convolution layer shares: argument checks, the bias and the activation."""

    rank = 2

    def __init__(self, filters: int | None, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cls, n = type(self).__name__, self.rank
        if filters is not None and (isinstance(filters, bool) or not isinstance(filters, int)
                                    or filters <= 0):
            raise ValueError(f"{cls}: filters must be a positive int, got {filters!r}")
        self.filters = filters
        self.kernel_size = normalize_tuple(cls, "kernel_size", kernel_size, n)
        self.strides = normalize_tuple(cls, "strides", strides, n)
        self.dilation_rate = normalize_tuple(cls, "dilation_rate", dilation_rate, n)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            # as Keras: TF's convolutions reject both at once
            raise ValueError(f"{cls}: strides > 1 not supported in conjunction with "
                             f"dilation_rate > 1, got strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.padding = padding
        causal = isinstance(padding, str) and padding.lower() == "causal"
        if causal and not isinstance(self, Conv1D):
            raise ValueError(f"{cls}: padding='causal' is only supported by Conv1D")
        self._tfx_padding = "CAUSAL" if causal else normalize_padding(cls, padding)
        self.data_format = data_format or "channels_last"
        self._tfx_format = tf_data_format(cls, data_format, n)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = _regularizer(kernel_regularizer)
        self.bias_regularizer = _regularizer(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _kernel(self, shape: tuple, name: str = "kernel", initializer: Any = None,
                regularizer: Any = None, constraint: Any = None) -> Any:
        return self.add_weight(shape, initializer or self.kernel_initializer, name=name,
                               regularizer=regularizer or self.kernel_regularizer,
                               constraint=constraint or self.kernel_constraint)

    def _channels(self, input_shape: Any) -> int:
        axis = 1 if self.data_format == "channels_first" else -1
        if len(input_shape) != self.rank + 2 or input_shape[axis] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected inputs of rank "
                             f"{self.rank + 2} with a known channel dimension, got input shape "
                             f"{tuple(input_shape)}")
        return int(input_shape[axis])

    def _build_bias(self, units: int) -> None:
        self.bias = self.add_weight((units,), self.bias_initializer, name="bias",
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None

    def _finish(self, y: Any) -> Any:
        if self.bias is not None:
            if self.data_format == "channels_first":  # bias along dim 1
                y = y + reshape(self.bias, [-1] + [1] * self.rank)
            else:
                y = y + self.bias
        return self.activation(y)

    def _float(self, inputs: Any) -> Any:
        return cast(inputs, self.dtype) if inputs.dtype != self.dtype else inputs

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": serialize_object(self.kernel_regularizer),
                "bias_regularizer": serialize_object(self.bias_regularizer),
                "activity_regularizer": serialize_object(self.activity_regularizer),
                "kernel_constraint": serialize_object(self.kernel_constraint),
                "bias_constraint": serialize_object(self.bias_constraint)}


def _regularizer(identifier: Any) -> Any:
    return None if identifier is None else regularizers.get(identifier)


class Conv(BaseConv):
    """An N-d convolution layer; kernel [*kernel_size, in_channels / groups, filters] (Keras's
    layout): with `groups` > 1 each group of input channels has its own filters / groups."""

    def __init__(self, filters: int, kernel_size: Any, *args: Any, groups: int = 1,
                 **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, *args, **kwargs)
        cls = type(self).__name__
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{cls}: the number of groups must be a positive integer, got "
                             f"groups={groups!r}")
        if filters % groups:
            raise ValueError(f"{cls}: the number of filters must be evenly divisible by the "
                             f"number of groups, got groups={groups}, filters={filters}")
        self.groups = groups

    def build(self, input_shape: Any) -> None:
        c = self._channels(input_shape)
        if c % self.groups:
            raise ValueError(f"{type(self).__name__} '{self.name}': the number of input "
                             f"channels must be evenly divisible by the number of groups, got "
                             f"groups={self.groups} and input shape {tuple(input_shape)}")
        # the convolution reads the group count from the kernel's in-channel size
        self.kernel = self._kernel((*self.kernel_size, c // self.groups, self.filters))
        self._build_bias(self.filters)
        self.built = True

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "groups": self.groups}

    def call(self, inputs: Any) -> Any:
        x, padding = self._float(inputs), self._tfx_padding
        if padding == "CAUSAL":  # Conv1D: output t sees inputs <= t only: pad the past
            left = (self.kernel_size[0] - 1) * self.dilation_rate[0]
            pads = [[0, 0], [0, 0], [left, 0]] if self.data_format == "channels_first" else [
                [0, 0], [left, 0], [0, 0]]
            x, padding = pad(x, pads), "VALID"
        y = convolution(x, self.kernel, strides=self.strides, padding=padding,
                        data_format=self._tfx_format, dilations=self.dilation_rate)
        return self._finish(y)


class Conv1D(Conv):
    """1-D convolution over (batch, steps, channels) (keras.layers.Conv1D)."""

    rank = 1


class Conv2D(Conv):
    """2-D convolution over (batch, height, width, channels) (keras.layers.Conv2D)."""

    rank = 2


class Conv3D(Conv):
    """3-D convolution over (batch, d1, d2, d3, channels) (keras.layers.Conv3D)."""

    rank = 3


def transpose_length(n: int | None, k: int, s: int, d: int, padding: str,
                     output_padding: int | None = None) -> int | None:
    """The output length of a transposed convolution (Keras's rule)."""
    if n is None:
        return None
    k = (k - 1) * d + 1
    if output_padding is None:
        return n * s if padding == "SAME" else n * s + max(k - s, 0)
    pad = k // 2 if padding == "SAME" else 0
    return (n - 1) * s + k - 2 * pad + output_padding


class Conv2DTranspose(BaseConv):
    """Transposed 2-D convolution; kernel [kh, kw, filters, in_channels] (Keras's layout).
    `output_padding` (per spatial dim, < strides) adds that many rows/columns to the output."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)
        if output_padding is not None:
            output_padding = _output_padding(output_padding, self.strides)
        self.output_padding = output_padding

    def build(self, input_shape: Any) -> None:
        c = self._channels(input_shape)
        self.kernel = self._kernel((*self.kernel_size, self.filters, c))
        self._build_bias(self.filters)
        self.built = True

    def call(self, inputs: Any) -> Any:
        x = self._float(inputs)
        shape = x.shape.as_list()
        cf = self.data_format == "channels_first"
        spatial = shape[2:] if cf else shape[1:-1]
        extra = self.output_padding or (None,) * 2
        out = [transpose_length(n, k, s, d, self._tfx_padding, p) for n, k, s, d, p in
               zip(spatial, self.kernel_size, self.strides, self.dilation_rate, extra)]
        if None in out:
            raise ValueError(f"Conv2DTranspose '{self.name}': the spatial dimensions must be "
                             f"known, got input shape {tuple(shape)}")
        # NOTE: an unknown batch (symbolic calls) is given as 1: the op keeps the input's batch
        # dimension when it is unknown, and it is known whenever the layer really runs.
        batch = shape[0] if shape[0] is not None else 1
        full = [batch, self.filters, *out] if cf else [batch, *out, self.filters]
        y = conv2d_transpose(x, self.kernel, full, strides=self.strides,
                             padding=self._tfx_padding, data_format=self._tfx_format,
                             dilations=self.dilation_rate)
        return self._finish(y)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_padding": self.output_padding}


def _output_padding(value: Any, strides: tuple[int, ...]) -> tuple[int, ...]:
    vals = (value,) * len(strides) if isinstance(value, int) else tuple(value)
    if len(vals) != len(strides) or any(
            isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < s
            for v, s in zip(vals, strides)):
        raise ValueError(f"Conv2DTranspose: output_padding must be {len(strides)} ints, each "
                         f">= 0 and smaller than its stride {strides}, got {value!r}")
    return vals


class DepthwiseConv2D(BaseConv):
    """Per-channel 2-D convolution; kernel [kh, kw, in_channels, depth_multiplier]."""

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 depthwise_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(None, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, depthwise_constraint,
                         bias_constraint, **kwargs)
        if isinstance(depth_multiplier, bool) or not isinstance(depth_multiplier, int) \
                or depth_multiplier < 1:
            raise ValueError(f"DepthwiseConv2D: depth_multiplier must be a positive int, got "
                             f"{depth_multiplier!r}")
        self.depth_multiplier = depth_multiplier

    def build(self, input_shape: Any) -> None:
        c = self._channels(input_shape)
        self.kernel = self._kernel((*self.kernel_size, c, self.depth_multiplier))
        self._build_bias(c * self.depth_multiplier)
        self.built = True

    def call(self, inputs: Any) -> Any:
        y = depthwise_conv2d(self._float(inputs), self.kernel, strides=self.strides,
                             padding=self._tfx_padding, data_format=self._tfx_format,
                             dilations=self.dilation_rate)
        return self._finish(y)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "depth_multiplier": self.depth_multiplier}
        config.pop("filters")
        for what in ("initializer", "regularizer", "constraint"):  # Keras's names
            config[f"depthwise_{what}"] = config.pop(f"kernel_{what}")
        return config


class SeparableConv2D(BaseConv):
    """A depthwise convolution then a 1x1 one: depthwise_kernel [kh, kw, in, multiplier],
    pointwise_kernel [1, 1, in * multiplier, filters] (Keras's layout)."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1,
                 depth_multiplier: int = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, depthwise_constraint: Any = None,
                 pointwise_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, depthwise_constraint,
                         bias_constraint, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = _regularizer(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape: Any) -> None:
        c = self._channels(input_shape)
        m = self.depth_multiplier
        self.depthwise_kernel = self._kernel((*self.kernel_size, c, m), "depthwise_kernel")
        self.pointwise_kernel = self.add_weight((1, 1, c * m, self.filters),
                                                self.pointwise_initializer,
                                                name="pointwise_kernel",
                                                regularizer=self.pointwise_regularizer,
                                                constraint=self.pointwise_constraint)
        self._build_bias(self.filters)
        self.built = True

    def call(self, inputs: Any) -> Any:
        y = depthwise_conv2d(self._float(inputs), self.depthwise_kernel, strides=self.strides,
                             padding=self._tfx_padding, data_format=self._tfx_format,
                             dilations=self.dilation_rate)
        y = convolution(y, self.pointwise_kernel, padding="VALID", data_format=self._tfx_format)
        return self._finish(y)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                  "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                  "pointwise_regularizer": serialize_object(self.pointwise_regularizer),
                  "pointwise_constraint": serialize_object(self.pointwise_constraint)}
        for what in ("initializer", "regularizer", "constraint"):  # Keras's names
            config[f"depthwise_{what}"] = config.pop(f"kernel_{what}")
        return config


__all__ = ["Conv1D", "Conv2D", "Conv2DTranspose", "Conv3D", "DepthwiseConv2D",
           "SeparableConv2D", "normalize_padding", "normalize_tuple", "tf_data_format",
           "transpose_length"]

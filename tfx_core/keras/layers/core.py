"""Core layers: Dense, Activation, ReLU, Softmax, Dropout, Lambda, Rescaling."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from compiler.ir.types import BOOL as bool_
from compiler.ir.types import F16 as float16
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.keras import activations, constraints, initializers, regularizers
from tfx_core.keras.engine.layer import Layer, serialize_object
from tfx_core.keras.utils import seeded_generator
from tfx_core.ops.array_ops import fill, shape, zeros_like
from tfx_core.ops.dropout_ops import dropout
from tfx_core.ops.linalg_ops import matmul, tensordot
from tfx_core.ops.math_ops import cast, where


def _serialize(obj: Any) -> Any:
    if obj is None or isinstance(obj, (str, int, float)):
        return obj
    config = getattr(obj, "get_config", None)
    return {"class_name": type(obj).__name__, "config": config()} if config else obj


class Dense(Layer):
    """`activation(inputs @ kernel + bias)` over the last axis (keras.layers.Dense)."""

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True  # a (batch, time) mask passes through, as Keras 3
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = None if kernel_regularizer is None else regularizers.get(
            kernel_regularizer)
        self.bias_regularizer = None if bias_regularizer is None else regularizers.get(
            bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape: Any) -> None:
        last = input_shape[-1]
        if last is None:
            raise ValueError(f"Dense '{self.name}': the last dimension of the inputs must be "
                             f"known, got input shape {input_shape}")
        self.kernel = self.add_weight((last, self.units), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias",
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def call(self, inputs: Any) -> Any:
        last = inputs.shape.as_list()[-1] if inputs.shape.rank else None
        if last != self.kernel.shape.as_list()[0]:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                             f"expected axis -1 of input shape to have value "
                             f"{self.kernel.shape.as_list()[0]}, but received input with shape "
                             f"{tuple(inputs.shape.as_list())}")
        if inputs.dtype != self.kernel.dtype:  # integer inputs, as Keras's type promotion
            inputs = cast(inputs, self.kernel.dtype)
        if inputs.shape.rank == 2:
            y = matmul(inputs, self.kernel)
        else:  # (..., in) x (in, units): contract the last axis only
            y = tensordot(inputs, self.kernel, [[inputs.shape.rank - 1], [0]])
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": _serialize(self.kernel_initializer),
                "bias_initializer": _serialize(self.bias_initializer),
                "kernel_regularizer": serialize_object(self.kernel_regularizer),
                "bias_regularizer": serialize_object(self.bias_regularizer),
                "activity_regularizer": serialize_object(self.activity_regularizer),
                "kernel_constraint": serialize_object(self.kernel_constraint),
                "bias_constraint": serialize_object(self.bias_constraint)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Dense:
        config = dict(config)
        for key in ("kernel_initializer", "bias_initializer"):
            value = config.get(key)
            if isinstance(value, dict):
                config[key] = initializers.get(value["class_name"]).from_config(value["config"])
        return cls(**config)


class Activation(Layer):
    """Applies an activation function (a name or a callable)."""

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs: Any) -> Any:
        return self.activation(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class ReLU(Layer):
    """`max(x, 0)` with Keras's `max_value`, `negative_slope` and `threshold`."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU: max_value must be >= 0, got {max_value}")
        if negative_slope < 0:
            raise ValueError(f"ReLU: negative_slope must be >= 0, got {negative_slope}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs: Any) -> Any:
        return activations.relu(inputs, self.negative_slope, self.max_value, self.threshold)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class Softmax(Layer):
    """Softmax along `axis`; with a `mask` (broadcastable to the inputs) the masked entries
    take no probability and are 0 in the output (Keras 3)."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.axis = axis

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return activations.softmax(inputs, axis=self.axis)
        mask = convert_to_tensor(mask)
        ms, xs = mask.shape.as_list(), inputs.shape.as_list()
        if len(ms) > len(xs) or any(m not in (1, x, None) and x is not None
                                    for m, x in zip(ms[::-1], xs[::-1])):
            raise ValueError(f"Softmax '{self.name}': the `mask` must be broadcastable to "
                             f"`inputs`: mask.shape={tuple(ms)}, inputs.shape={tuple(xs)}")
        keep = mask if mask.dtype == bool_ else mask > cast(0.5, mask.dtype)
        # Keras's large negative number: -3e4 fits float16, -1e9 the wider floats
        low = -3e4 if inputs.dtype == float16 else -1e9
        low = fill(shape(inputs), cast(low, inputs.dtype))
        out = activations.softmax(where(keep, inputs, low), axis=self.axis)
        return where(keep, out, zeros_like(out))  # zeros where the whole axis is masked too

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class Dropout(Layer):
    """Zeroes a `rate` fraction of the inputs and scales the rest by 1/(1-rate), in training only.

    The random numbers come from the layer's own `tx.random.Generator` (seeded by `seed`), whose
    state advances inside a compiled step without retracing: each step draws a new mask.
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        if not 0 <= rate <= 1:
            raise ValueError(f"Dropout: rate must be in [0, 1], got {rate}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed
        self._tfx_rng = None

    def build(self, input_shape: Any) -> None:
        self._tfx_rng = seeded_generator(self.seed)
        self.built = True

    def call(self, inputs: Any, training: bool = False) -> Any:
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return inputs * 0.0
        return dropout(inputs, self.rate, noise_shape=self.noise_shape, rng=self._tfx_rng)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}


class Lambda(Layer):
    """Wraps a function of the inputs as a layer (`arguments` are extra keyword arguments).
    The input's mask passes to a function taking `mask`; the output's mask is `mask` (a
    tensor, or a callable `mask(inputs, previous_mask)`), else the input's (Keras 3)."""

    def __init__(self, function: Callable[..., Any], output_shape: Any = None,
                 mask: Any = None, arguments: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, got {function!r}")
        self.supports_masking = True
        self.function, self.arguments = function, dict(arguments or {})
        self.output_shape, self.mask = output_shape, mask
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._tfx_fn_takes = {k for k in ("mask", "training") if k in params}

    def call(self, inputs: Any, mask: Any = None, training: Any = None) -> Any:
        extra = {k: v for k, v in (("mask", mask), ("training", training))
                 if k in self._tfx_fn_takes}
        return self.function(inputs, **self.arguments, **extra)

    def compute_mask(self, inputs: Any, previous_mask: Any) -> Any:
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return previous_mask if self.mask is None else self.mask

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "function": self.function,
                "output_shape": self.output_shape, "arguments": self.arguments}


class Rescaling(Layer):
    """`inputs * scale + offset`, in the layer's float dtype (e.g. scale=1/255 for images)."""

    def __init__(self, scale: float, offset: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.scale, self.offset = scale, offset

    def call(self, inputs: Any) -> Any:
        x = cast(inputs, self.dtype) if inputs.dtype != self.dtype else inputs
        return x * self.scale + self.offset

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


__all__ = ["Activation", "Dense", "Dropout", "Lambda", "ReLU", "Rescaling", "Softmax"]

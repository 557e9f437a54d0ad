"""Core layers: Dense, Activation, ReLU, Softmax, Dropout, Lambda, Rescaling."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tfx_core.keras import activations, initializers, regularizers
from tfx_core.keras.engine.layer import Layer
from tfx_core.ops.dropout_ops import dropout
from tfx_core.ops.linalg_ops import matmul, tensordot
from tfx_core.ops.math_ops import cast


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
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
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

    def build(self, input_shape: Any) -> None:
        last = input_shape[-1]
        if last is None:
            raise ValueError(f"Dense '{self.name}': the last dimension of the inputs must be "
                             f"known, got input shape {input_shape}")
        self.kernel = self.add_weight((last, self.units), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias",
                                    regularizer=self.bias_regularizer) if self.use_bias else None
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
                "kernel_regularizer": _serialize(self.kernel_regularizer),
                "bias_regularizer": _serialize(self.bias_regularizer)}

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
    """Softmax along `axis`."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs: Any) -> Any:
        return activations.softmax(inputs, axis=self.axis)

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
        if not 0 <= rate <= 1:
            raise ValueError(f"Dropout: rate must be in [0, 1], got {rate}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed
        self._tfx_rng = None

    def build(self, input_shape: Any) -> None:
        from tfx_core.ops.random_ops import Generator

        self._tfx_rng = (Generator.from_non_deterministic_state() if self.seed is None
                         else Generator.from_seed(self.seed))
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
    """Wraps a function of the inputs as a layer (`arguments` are extra keyword arguments)."""

    def __init__(self, function: Callable[..., Any], output_shape: Any = None,
                 arguments: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, got {function!r}")
        self.function, self.arguments = function, dict(arguments or {})
        self.output_shape = output_shape

    def call(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "function": self.function,
                "output_shape": self.output_shape, "arguments": self.arguments}


class Rescaling(Layer):
    """`inputs * scale + offset`, in the layer's float dtype (e.g. scale=1/255 for images)."""

    def __init__(self, scale: float, offset: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs: Any) -> Any:
        x = cast(inputs, self.dtype) if inputs.dtype != self.dtype else inputs
        return x * self.scale + self.offset

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


__all__ = ["Activation", "Dense", "Dropout", "Lambda", "ReLU", "Rescaling", "Softmax"]

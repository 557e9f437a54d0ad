"""`tx.keras.activations`: activation functions by name (keras.activations.get)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tfx_core.ops import math_ops as M
from tfx_core.ops import nn_ops as N


def linear(x: Any) -> Any:
    return x


def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> Any:
    """max(x, 0), with Keras's optional leak below `threshold` and cap at `max_value`."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return N.relu(x)
    y = M.where(M.greater_equal(x, threshold), x, negative_slope * (x - threshold))
    return y if max_value is None else M.minimum(y, max_value)


def softmax(x: Any, axis: int = -1) -> Any:
    return N.softmax(x, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Any:
    return N.log_softmax(x, axis=axis)


def sigmoid(x: Any) -> Any:
    return M.sigmoid(x)


def tanh(x: Any) -> Any:
    return M.tanh(x)


def elu(x: Any, alpha: float = 1.0) -> Any:
    return N.elu(x) if alpha == 1.0 else M.where(M.greater(x, 0.0), x, alpha * (M.exp(x) - 1.0))


def selu(x: Any) -> Any:
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return scale * M.where(M.greater(x, 0.0), x, alpha * (M.exp(x) - 1.0))


def gelu(x: Any, approximate: bool = False) -> Any:
    return N.gelu(x, approximate=approximate)


def silu(x: Any) -> Any:
    return N.silu(x)


def softplus(x: Any) -> Any:
    return N.softplus(x)


def relu6(x: Any) -> Any:
    return N.relu6(x)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Any:
    return N.leaky_relu(x, alpha=negative_slope)


def exponential(x: Any) -> Any:
    return M.exp(x)


_BY_NAME: dict[str, Callable[..., Any]] = {
    "linear": linear, "relu": relu, "softmax": softmax, "log_softmax": log_softmax,
    "sigmoid": sigmoid, "tanh": tanh, "elu": elu, "selu": selu, "gelu": gelu, "silu": silu,
    "swish": silu, "softplus": softplus, "relu6": relu6, "leaky_relu": leaky_relu,
    "exponential": exponential,
}


def get(identifier: Any) -> Callable[..., Any]:
    """An activation from a name ("relu"), None (linear) or a callable (returned as is)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier)
        if fn is None:
            raise ValueError(f"Could not interpret activation function identifier: "
                             f"{identifier!r}; known: {sorted(_BY_NAME)}")
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(fn: Callable[..., Any]) -> Any:
    """The name of a built-in activation, else the callable itself."""
    for name, known in _BY_NAME.items():
        if known is fn:
            return name
    return fn


swish = silu
__all__ = ["elu", "exponential", "gelu", "get", "leaky_relu", "linear", "log_softmax", "relu",
           "relu6", "selu", "serialize", "sigmoid", "silu", "softmax", "softplus", "swish", "tanh"]

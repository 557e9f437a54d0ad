"""`tx.keras.activations`: activation functions by name (keras.activations.get)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tfx_core.framework.convert import convert_to_tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops import nn_ops as N
from tfx_core.ops.array_ops import range as range_
from tfx_core.ops.array_ops import reshape, split, zeros_like
from tfx_core.ops.reduction_ops import reduce_sum
from tfx_core.ops.sort_ops import cumsum, sort


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


def celu(x: Any, alpha: float = 1.0) -> Any:
    """max(x, 0) + alpha * expm1(min(x, 0) / alpha)."""
    return M.maximum(x, 0.0) + alpha * M.expm1(M.minimum(x, 0.0) / alpha)


def softsign(x: Any) -> Any:
    return x / (1.0 + M.abs(x))


def soft_shrink(x: Any, threshold: float = 0.5) -> Any:
    """x - threshold above it, x + threshold below -threshold, else 0."""
    return M.where(M.greater(x, threshold), x - threshold,
                   M.where(M.less(x, -threshold), x + threshold, zeros_like(x)))


def hard_shrink(x: Any, threshold: float = 0.5) -> Any:
    return M.where(M.greater(M.abs(x), threshold), x, zeros_like(x))


def sparse_plus(x: Any) -> Any:
    """0 for x <= -1, (x + 1)**2 / 4 inside (-1, 1), x from 1 on."""
    return M.where(M.less_equal(x, -1.0), zeros_like(x),
                   M.where(M.less(x, 1.0), 0.25 * M.square(x + 1.0), x))


def sparse_sigmoid(x: Any) -> Any:
    """0 for x <= -1, (x + 1) / 2 inside, 1 from 1 on."""
    return M.clip_by_value(0.5 * (x + 1.0), 0.0, 1.0)


def squareplus(x: Any, b: float = 4) -> Any:
    return 0.5 * (x + M.sqrt(M.square(x) + b))


def glu(x: Any, axis: int = -1) -> Any:
    """a * sigmoid(b) for the two halves a, b of `axis`."""
    x = convert_to_tensor(x)
    if x.shape[axis] % 2 != 0:
        raise ValueError(f"axis size must be divisible by 2. Received: x.shape={tuple(x.shape)} "
                         f"with axis={axis}")
    a, b = split(x, 2, axis=axis)
    return a * M.sigmoid(b)


def tanh_shrink(x: Any) -> Any:
    return x - M.tanh(x)


def hard_tanh(x: Any) -> Any:
    return M.clip_by_value(x, -1.0, 1.0)


def threshold(x: Any, threshold: float, default_value: float) -> Any:
    """x where x > threshold, else default_value."""
    return M.where(M.greater(x, threshold), x, zeros_like(x) + default_value)


def hard_sigmoid(x: Any) -> Any:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between."""
    return M.clip_by_value(x / 6.0 + 0.5, 0.0, 1.0)


def hard_silu(x: Any) -> Any:
    return x * hard_sigmoid(x)


def log_sigmoid(x: Any) -> Any:
    return -N.softplus(-x)


def mish(x: Any) -> Any:
    return x * M.tanh(N.softplus(x))


def sparsemax(x: Any, axis: int = -1) -> Any:
    """The Euclidean projection of x onto the probability simplex along `axis` (sparse
    probabilities: max(x - tau, 0) with tau chosen so they sum to 1)."""
    x = convert_to_tensor(x)
    rank = len(x.shape)
    axis = axis % rank
    n = x.shape[axis]
    desc = sort(x, axis=axis, direction="DESCENDING")
    cum = cumsum(desc, axis=axis)
    r_shape = [1] * rank
    r_shape[axis] = n
    r = M.cast(reshape(range_(1, n + 1), r_shape), x.dtype)
    support = M.greater(desc - (cum - 1.0) / r, 0.0)
    k = reduce_sum(M.cast(support, x.dtype), axis=axis, keepdims=True)
    # NOTE: the support is a prefix of the sorted values, so tau = (their sum - 1) / k as in
    # Martins & Astudillo 2016. Keras 3.15 sums the prefix's cumulative sums instead, so its
    # outputs do not sum to 1 ([0.1, 0.5, -1, 0.3] -> [0, 0.1, 0, 0]); we follow the paper.
    tau = (reduce_sum(M.where(support, desc, zeros_like(desc)), axis=axis, keepdims=True)
           - 1.0) / k
    return M.maximum(x - tau, 0.0)


_BY_NAME: dict[str, Callable[..., Any]] = {
    "linear": linear, "relu": relu, "softmax": softmax, "log_softmax": log_softmax,
    "sigmoid": sigmoid, "tanh": tanh, "elu": elu, "selu": selu, "gelu": gelu, "silu": silu,
    "swish": silu, "softplus": softplus, "relu6": relu6, "leaky_relu": leaky_relu,
    "exponential": exponential, "celu": celu, "softsign": softsign, "soft_shrink": soft_shrink,
    "hard_shrink": hard_shrink, "sparse_plus": sparse_plus, "sparse_sigmoid": sparse_sigmoid,
    "squareplus": squareplus, "glu": glu, "tanh_shrink": tanh_shrink, "hard_tanh": hard_tanh,
    "threshold": threshold, "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu,
    "hard_swish": hard_silu, "log_sigmoid": log_sigmoid, "mish": mish, "sparsemax": sparsemax,
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
hard_swish = hard_silu
__all__ = ["celu", "elu", "exponential", "gelu", "get", "glu", "hard_shrink", "hard_sigmoid",
           "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid",
           "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid", "silu",
           "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
           "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold"]

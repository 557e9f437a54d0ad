"""Activations, softmax, bias_add and cross-entropy losses (tf.nn.*), as composites."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from compiler.interpreters import is_tracing
from compiler.ir.types import I32, I64, dims_compatible
from compiler.ops import cast as CA
from compiler.ops import constant as C
from tfx_core.framework.operands import Tensor, binary_operands, bind, to_tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import axis_values, op_error
from tfx_core.polymorphic_function.eager_composite import composite

TensorLike = Any


def _float(x: TensorLike, name: str) -> Tensor:
    x = to_tensor(x, name)
    if not x.dtype.is_floating:
        raise op_error(name, f"expected a floating tensor, got {x.type}", TypeError)
    return x


def _numeric(x: TensorLike, name: str) -> Tensor:
    x = to_tensor(x, name)
    if not (x.dtype.is_floating or x.dtype.is_integer):
        raise op_error(name, f"expected a numeric tensor, got {x.type}", TypeError)
    return x


def _axis(name: str, x: Tensor, axis: Any) -> int:
    values = [-1] if axis is None else axis_values(name, axis)  # ints, numpy ints, tensors
    if len(values) != 1 or isinstance(values[0], (bool, np.bool_)) or \
            not isinstance(values[0], (int, np.integer)):
        raise op_error(name, f"axis must be an int, got {axis!r}", TypeError)
    axis = int(values[0])
    if not -x.ndim <= axis < x.ndim:
        raise op_error(name, f"axis {axis} is out of range for {x.type} (rank {x.ndim})")
    return axis % x.ndim


# ---------------------------------------------------------------- activations
def relu(features: TensorLike, name: str | None = None) -> Tensor:
    """max(features, 0) (tf.nn.relu)."""
    x = _numeric(features, "relu")
    # NOTE: 0 first: maximum's gradient goes to its first operand on ties, so the gradient at
    # x == 0 is 0, as TF's ReluGrad (x > 0).
    return M.maximum(0, x)


def relu6(features: TensorLike, name: str | None = None) -> Tensor:
    """min(max(features, 0), 6) (tf.nn.relu6)."""
    x = _numeric(features, "relu6")
    return M.minimum(6, M.maximum(0, x))  # gradient 0 at both kinks, as TF (see relu)


def leaky_relu(features: TensorLike, alpha: float = 0.2, name: str | None = None) -> Tensor:
    """features where positive, else alpha * features (tf.nn.leaky_relu); integer features
    become float32 first, as TF's wrapper does."""
    x = _numeric(features, "leaky_relu")
    if x.dtype.is_integer:
        x = M.cast(x, "float32")
    return M.where(M.greater(x, 0), x, M.multiply(x, alpha))


def elu(features: TensorLike, name: str | None = None) -> Tensor:
    """features where positive, else exp(features) - 1 (tf.nn.elu)."""
    x = _float(features, "elu")
    return M.where(M.greater(x, 0), x, M.expm1(M.minimum(x, 0)))


def gelu(features: TensorLike, approximate: bool = False, name: str | None = None) -> Tensor:
    """x * Phi(x): exact via erf, or the tanh approximation when `approximate` (tf.nn.gelu)."""
    x = _float(features, "gelu")
    if approximate:
        inner = M.multiply(M.add(x, M.multiply(M.multiply(M.square(x), x), 0.044715)),
                           math.sqrt(2 / math.pi))
        return M.multiply(M.multiply(x, 0.5), M.add(M.tanh(inner), 1))
    return M.multiply(M.multiply(x, 0.5), M.add(M.erf(M.multiply(x, 1 / math.sqrt(2))), 1))


def silu(features: TensorLike, beta: float = 1.0, name: str | None = None) -> Tensor:
    """features * sigmoid(beta * features), a.k.a. swish (tf.nn.silu)."""
    x = _float(features, "silu")
    return M.multiply(x, M.sigmoid(x if beta == 1.0 else M.multiply(x, beta)))


swish = silu


def softplus(features: TensorLike, name: str | None = None) -> Tensor:
    """log(1 + exp(features)), computed without overflow (tf.nn.softplus)."""
    x = _float(features, "softplus")
    # NOTE: one branch per sign, each fed only values it is safe on (no exp overflow, so no
    # 0 * inf in the gradient of the branch not taken); the gradient is sigmoid(x) everywhere,
    # 0.5 at 0 (max(x, 0) + log1p(exp(-|x|)) gave 1 there: both kinks count at the tie)
    pos = M.greater(x, 0)
    xp, xn = M.where(pos, x, 0.0), M.where(pos, 0.0, x)
    return M.where(pos, M.add(xp, M.log1p(M.exp(M.negative(xp)))), M.log1p(M.exp(xn)))


# ---------------------------------------------------------------- softmax
def _shift(x: Tensor, ax: int) -> Tensor:
    """The row max, subtracted for stability. Its gradient cancels exactly in softmax, so it
    is cut from the tape (as JAX does): cheaper and more exact backward passes."""
    return bind(CA.stop_gradient_op, R.reduce_max(x, ax, keepdims=True))


def softmax(logits: TensorLike, axis: int | None = None, name: str | None = None) -> Tensor:
    """exp(logits) / sum(exp(logits)) along `axis` (default -1), max-shifted (tf.nn.softmax)."""
    x = _float(logits, "softmax")
    return _softmax(x, axis=_axis("softmax", x, axis))


@composite("softmax")
def _softmax(x: Tensor, axis: int) -> Tensor:
    e = M.exp(M.subtract(x, _shift(x, axis)))
    return M.divide(e, R.reduce_sum(e, axis, keepdims=True))


def log_softmax(logits: TensorLike, axis: int | None = None, name: str | None = None) -> Tensor:
    """logits - log(sum(exp(logits))) along `axis`, max-shifted (tf.nn.log_softmax)."""
    x = _float(logits, "log_softmax")
    return _log_softmax(x, axis=_axis("log_softmax", x, axis))


@composite("log_softmax")
def _log_softmax(x: Tensor, axis: int) -> Tensor:
    s = M.subtract(x, _shift(x, axis))
    return M.subtract(s, M.log(R.reduce_sum(M.exp(s), axis, keepdims=True)))


def softmax_cross_entropy_with_logits(labels: TensorLike, logits: TensorLike, axis: int = -1,
                                      name: str | None = None) -> Tensor:
    """-sum(labels * log_softmax(logits)) along `axis` (tf.nn.softmax_cross_entropy_with_logits)."""
    name_ = "softmax_cross_entropy_with_logits"
    logits_t = _float(logits, name_)
    labels_t = labels if isinstance(labels, Tensor) else to_tensor(labels, name_, logits_t.dtype)
    if labels_t.dtype is not logits_t.dtype:
        raise op_error(
            name_, f"labels and logits dtypes differ: {labels_t.type} vs {logits_t.type}",
            TypeError)
    if labels_t.ndim != logits_t.ndim or not all(
        dims_compatible(p, q) for p, q in zip(labels_t.shape, logits_t.shape)
    ):
        raise op_error(
            name_, f"labels and logits shapes differ: {labels_t.type} vs {logits_t.type}")
    return _softmax_xent(labels_t, logits_t, axis=_axis(name_, logits_t, axis))


@composite("softmax_cross_entropy_with_logits")
def _softmax_xent(labels: Tensor, logits: Tensor, axis: int) -> Tensor:
    return M.negative(R.reduce_sum(M.multiply(labels, _log_softmax(logits, axis=axis)), axis))


def _check_labels(name: str, labels: Tensor, n: int) -> None:
    """Eagerly, TF's CPU kernel's range check (its XLA kernel, like ours compiled, gives NaN)."""
    if labels._buf is None or is_tracing():
        return
    v = labels.numpy().reshape(-1)
    bad = v[(v < 0) | (v >= n)]
    if bad.size:
        shown = " ".join(str(int(i)) for i in v[:20]) + (" ..." if v.size > 20 else "")
        raise op_error(name, f"Received a label value of {int(bad[0])} which is outside the "
                       f"valid range of [0, {n}).  Label values: {shown}")


def sparse_softmax_cross_entropy_with_logits(labels: TensorLike, logits: TensorLike,
                                             name: str | None = None) -> Tensor:
    """Cross-entropy with integer class labels (tf.nn.sparse_softmax_cross_entropy_with_logits).

    Raises:
        tx.errors.InvalidArgumentError: eagerly, a label outside [0, num_classes) (TF's CPU
            kernel's error), or logits with no class.

    Inside a tx.function the labels are not known until run time: an out-of-range label gives
    a NaN loss there (as TF's XLA kernel, `jit_compile=True`, does) instead of raising.
    """
    name_ = "sparse_softmax_cross_entropy_with_logits"
    logits_t = _float(logits, name_)
    labels_t = to_tensor(labels, name_)
    if labels_t.dtype not in (I32, I64):
        raise op_error(name_, f"labels must be int32 or int64, got {labels_t.type}", TypeError)
    if logits_t.ndim < 1 or labels_t.ndim != logits_t.ndim - 1 or not all(
        dims_compatible(p, q) for p, q in zip(labels_t.shape, logits_t.shape[:-1])
    ):
        raise op_error(name_, f"labels must have the shape of logits without the last dim, got "
                    f"labels {labels_t.type} and logits {logits_t.type}")
    n = logits_t.shape[-1]
    if n is None:
        raise op_error(name_, f"the number of classes must be known at trace time, got "
                    f"{logits_t.type}")
    if n == 0:
        raise op_error(name_, f"must have at least one class, but got logits {logits_t.type}")
    _check_labels(name_, labels_t, n)
    return _sparse_xent(labels_t, logits_t)


@composite("sparse_softmax_cross_entropy_with_logits")
def _sparse_xent(labels: Tensor, logits: Tensor) -> Tensor:
    from tfx_core.ops.array_ops import expand_dims

    n = logits.shape[-1]
    classes = bind(C.iota_op, shape=(n,), dimension=0, dtype=labels.dtype)
    one_hot = M.equal(expand_dims(labels, -1), classes)
    picked = M.where(one_hot, _log_softmax(logits, axis=logits.ndim - 1), 0)
    loss = M.negative(R.reduce_sum(picked, -1))
    valid = M.logical_and(M.greater_equal(labels, 0), M.less(labels, n))
    return M.where(valid, loss, math.nan)


# ---------------------------------------------------------------- bias_add
def bias_add(value: TensorLike, bias: TensorLike, data_format: str | None = None,
             name: str | None = None) -> Tensor:
    """value + bias on the channel dim: last ("N...C", default) or 1 ("NC...") (tf.nn.bias_add)."""
    x, b = binary_operands("bias_add", value, bias)
    if x.dtype is not b.dtype:
        raise op_error("bias_add", f"dtypes differ: {x.type} and bias {b.type}", TypeError)
    if x.ndim < 2 or b.ndim != 1:
        raise op_error("bias_add", f"expected value of rank >= 2 and a 1-D bias, got {x.type} "
                    f"and bias {b.type}")
    fmt = data_format or "NHWC"
    if not isinstance(fmt, str) or not fmt.startswith("N") or len(fmt) < 2:
        raise op_error("bias_add", f"unknown data_format {data_format!r}")
    channel_first = fmt.startswith("NC") and not fmt.endswith("C")
    ax = 1 if channel_first else x.ndim - 1
    if not dims_compatible(x.shape[ax], b.shape[0]):
        raise op_error("bias_add", f"bias {b.type} does not match channel dim {ax} of {x.type}"
                    f" (data_format={fmt})")
    if channel_first and x.ndim > 2:
        from tfx_core.ops.array_ops import reshape

        b = reshape(b, (-1, *[1] * (x.ndim - 2)))
    return M.add(x, b)


__all__ = [
    "bias_add", "elu", "gelu", "leaky_relu", "log_softmax", "relu", "relu6", "silu", "softmax",
    "softmax_cross_entropy_with_logits", "softplus", "sparse_softmax_cross_entropy_with_logits",
    "swish",
]

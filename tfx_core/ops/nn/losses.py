"""tf.nn activations and losses built from elementwise ops: selu, softsign, crelu, l2_loss,
sigmoid/weighted cross-entropy, log_poisson_loss, compute_average_loss, zero_fraction."""
from __future__ import annotations

import math
from typing import Any

from compiler.ir.types import F32
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error
from tfx_core.ops.math.arithmetic import divide_no_nan
from tfx_core.ops.nn.checks import float_tensor, same_shape_pair

TensorLike = Any

# SELU's constants (Klambauer et al. 2017), the values TF uses.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(features: TensorLike, name: str | None = None) -> Tensor:
    """scale * (x where x > 0, else alpha * (exp(x) - 1)) (tf.nn.selu)."""
    x = float_tensor("selu", features, "features")
    neg = M.multiply(M.expm1(M.minimum(x, 0)), _SELU_ALPHA)  # min: no overflow on the dead side
    # x >= 0 takes the linear branch, so the gradient at 0 is `scale` (TF's SeluGrad)
    return M.multiply(M.where(M.greater_equal(x, 0), x, neg), _SELU_SCALE)


def softsign(features: TensorLike, name: str | None = None) -> Tensor:
    """x / (1 + |x|) (tf.nn.softsign)."""
    x = float_tensor("softsign", features, "features")
    return M.divide(x, M.add(M.abs(x), 1))


def crelu(features: TensorLike, axis: int = -1, name: str | None = None) -> Tensor:
    """relu(x) and relu(-x) concatenated along `axis`: twice the channels (tf.nn.crelu)."""
    x = float_tensor("crelu", features, "features")
    return A.concat([M.maximum(0, x), M.maximum(0, M.negative(x))], axis)


def l2_loss(t: TensorLike, name: str | None = None) -> Tensor:
    """sum(t ** 2) / 2, a scalar (tf.nn.l2_loss)."""
    x = float_tensor("l2_loss", t, "t")
    return M.multiply(R.reduce_sum(M.square(x)), 0.5)


def _softplus_parts(x: Tensor) -> tuple[Tensor, Tensor]:
    """(max(x, 0), log(1 + exp(-|x|))), each a branch chosen by x >= 0 (as TF writes them), so
    their sum's gradient at x = 0 is the true derivative of softplus there, 1/2 (abs and max
    would each give a one-sided 0 or 1)."""
    pos = M.greater_equal(x, 0)
    return M.where(pos, x, A.zeros_like(x)), M.log1p(M.exp(M.where(pos, M.negative(x), x)))


def sigmoid_cross_entropy_with_logits(labels: TensorLike = None, logits: TensorLike = None,
                                      name: str | None = None) -> Tensor:
    """Per-element logistic loss max(x, 0) - x z + log(1 + exp(-|x|)), stable for any logit
    (tf.nn.sigmoid_cross_entropy_with_logits)."""
    z, x = same_shape_pair("sigmoid_cross_entropy_with_logits", labels, logits,
                           ("labels", "logits"))
    relu, tail = _softplus_parts(x)
    return M.add(M.subtract(relu, M.multiply(x, z)), tail)


def weighted_cross_entropy_with_logits(labels: TensorLike, logits: TensorLike,
                                       pos_weight: TensorLike, name: str | None = None,
                                       ) -> Tensor:
    """The logistic loss with the positive term weighted by pos_weight:
    (1 - z) x + (1 + (q - 1) z) (log(1 + exp(-|x|)) + max(-x, 0))
    (tf.nn.weighted_cross_entropy_with_logits)."""
    name_ = "weighted_cross_entropy_with_logits"
    z, x = same_shape_pair(name_, labels, logits, ("labels", "logits"))
    q = float_tensor(name_, pos_weight, "pos_weight", x.dtype)
    log_weight = M.add(M.multiply(M.subtract(q, 1), z), 1)
    relu, tail = _softplus_parts(M.negative(x))  # softplus(-x), smooth through 0
    soft = M.add(tail, relu)
    return M.add(M.multiply(M.subtract(1, z), x), M.multiply(log_weight, soft))


def log_poisson_loss(targets: TensorLike, log_input: TensorLike,
                     compute_full_loss: bool = False, name: str | None = None) -> Tensor:
    """exp(log_input) - targets * log_input, plus (compute_full_loss) Stirling's approximation
    of log(targets!) outside [0, 1]: t log t - t + log(2 pi t) / 2 (tf.nn.log_poisson_loss)."""
    t, c = same_shape_pair("log_poisson_loss", targets, log_input, ("targets", "log_input"))
    loss = M.subtract(M.exp(c), M.multiply(c, t))
    if not compute_full_loss:
        return loss
    # As TF: no term for 0 <= t <= 1 (negative targets give NaN). Those t are replaced by 1
    # inside the logs, so the unused branch stays finite and its gradient is not NaN.
    small = M.logical_and(M.greater_equal(t, 0), M.less_equal(t, 1))
    safe = M.where(small, 1.0, t)
    stirling = M.add(M.subtract(M.multiply(safe, M.log(safe)), safe),
                     M.multiply(M.log(M.multiply(safe, 2 * math.pi)), 0.5))
    return M.add(loss, M.where(small, 0.0, stirling))


def compute_average_loss(per_example_loss: TensorLike, sample_weight: TensorLike = None,
                         global_batch_size: Any = None) -> Tensor:
    """sum(per_example_loss * sample_weight) / global_batch_size, which defaults to the batch
    (first) dim: one replica here (tf.nn.compute_average_loss). Weights of one rank less than
    the losses apply per example, as TF."""
    name_ = "compute_average_loss"
    loss = float_tensor(name_, per_example_loss, "per_example_loss")
    if loss.ndim == 0:
        raise op_error(name_, f"per_example_loss must have rank >= 1 (one loss per example), "
                       f"got {loss.type}")
    if sample_weight is not None:
        w = to_tensor(sample_weight, name_, loss.dtype)
        if w.dtype is not loss.dtype:
            w = M.cast(w, loss.dtype)
        # TF's squeeze_or_expand_dimensions: per-example weights [batch] scale every loss of
        # their example; a trailing 1 on weights one rank above the losses is dropped.
        if w.ndim == loss.ndim - 1 and w.ndim > 0:
            w = A.expand_dims(w, -1)
        elif w.ndim == loss.ndim + 1 and w.shape[-1] == 1:
            w = A.squeeze(w, [-1])
        loss = M.multiply(loss, w)
    if global_batch_size is None:
        n = loss.shape[0]
        global_batch_size = n if n is not None else A.shape(loss)[0]
    elif isinstance(global_batch_size, bool) or not isinstance(global_batch_size, int) and not (
            isinstance(global_batch_size, Tensor) and global_batch_size.dtype.is_integer
            and global_batch_size.ndim == 0):
        raise op_error(name_, f"global_batch_size must be an integer scalar, got "
                       f"{global_batch_size!r}", TypeError)
    # divide_no_nan, as TF: an empty batch (or global_batch_size 0) averages to 0, not NaN
    return divide_no_nan(R.reduce_sum(loss), M.cast(global_batch_size, loss.dtype))


def scale_regularization_loss(regularization_loss: TensorLike) -> Tensor:
    """The summed regularization loss over the replicas in sync: one here
    (tf.nn.scale_regularization_loss); a list is added up first."""
    if isinstance(regularization_loss, (list, tuple)):
        parts = [to_tensor(v, "scale_regularization_loss") for v in regularization_loss]
        total = parts[0]
        for p in parts[1:]:
            total = M.add(total, p)
        regularization_loss = total
    return R.reduce_sum(to_tensor(regularization_loss, "scale_regularization_loss"))


def zero_fraction(value: TensorLike, name: str | None = None) -> Tensor:
    """The fraction of zeros in `value`, a float32 scalar (tf.math.zero_fraction)."""
    x = to_tensor(value, "zero_fraction")
    return R.reduce_mean(M.cast(M.equal(x, 0), F32))


__all__ = [
    "compute_average_loss", "crelu", "l2_loss", "log_poisson_loss", "scale_regularization_loss",
    "selu", "sigmoid_cross_entropy_with_logits", "softsign", "weighted_cross_entropy_with_logits",
    "zero_fraction",
]

"""`tx.keras.losses`: cross-entropies, MSE, MAE, Huber, KL divergence, cosine similarity
(classes, functions and string names)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tfx_core.framework.convert import convert_to_tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops import nn_ops as N
from tfx_core.ops.array_ops import expand_dims, squeeze, zeros_like
from tfx_core.ops.indexing_ops import one_hot
from tfx_core.ops.reduction_ops import reduce_mean, reduce_sum

EPSILON = 1e-7  # Keras's backend epsilon: probabilities are clipped to [eps, 1 - eps]


def _pair(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    if y_true.dtype != y_pred.dtype:
        y_true = M.cast(y_true, y_pred.dtype)
    return y_true, y_pred


def same_rank(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """Keras's `squeeze_or_expand_to_same_rank`: when one side has one more axis, of size 1,
    a rank-1 other side gains that axis, else the size-1 axis is dropped; so (batch,) labels
    meet (batch, 1) scores element by element, never broadcast to (batch, batch)."""
    y_true, y_pred = convert_to_tensor(y_true), convert_to_tensor(y_pred)
    t, p = y_true.shape.rank, y_pred.shape.rank
    if t == p + 1 and y_true.shape.as_list()[-1] == 1:
        if p == 1:
            y_pred = expand_dims(y_pred, -1)
        else:
            y_true = squeeze(y_true, axis=[-1])
    elif p == t + 1 and y_pred.shape.as_list()[-1] == 1:
        if t == 1:
            y_true = expand_dims(y_true, -1)
        else:
            y_pred = squeeze(y_pred, axis=[-1])
    return y_true, y_pred


def mean_squared_error(y_true: Any, y_pred: Any) -> Any:
    """Per-sample `mean(square(y_pred - y_true), axis=-1)`."""
    y_true, y_pred = _pair(y_true, y_pred)
    return reduce_mean(M.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Any:
    y_true, y_pred = _pair(y_true, y_pred)
    return reduce_mean(M.abs(y_pred - y_true), axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Any:
    """Quadratic for |error| <= delta, linear beyond (per-sample mean over the last axis)."""
    y_true, y_pred = _pair(y_true, y_pred)
    err = M.abs(y_pred - y_true)
    quad = M.minimum(err, delta)
    return reduce_mean(0.5 * M.square(quad) + delta * (err - quad), axis=-1)


def kl_divergence(y_true: Any, y_pred: Any) -> Any:
    """`sum(y_true * log(y_true / y_pred), axis=-1)`, both clipped to [eps, 1] (Keras)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = M.clip_by_value(y_true, EPSILON, 1.0)
    y_pred = M.clip_by_value(y_pred, EPSILON, 1.0)
    return reduce_sum(y_true * M.log(y_true / y_pred), axis=-1)


def _l2_normalize(x: Any, axis: int) -> Any:
    # NOTE: Keras's form: x * min(rsqrt(sum(x**2)), 1 / eps), so a zero vector stays zero
    inv = M.minimum(M.rsqrt(reduce_sum(M.square(x), axis=axis, keepdims=True)), 1.0 / EPSILON)
    return x * inv


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Any:
    """The NEGATED cosine similarity (Keras 3's loss): -1 for parallel vectors, 0 when
    orthogonal or when either is zero."""
    y_true, y_pred = _pair(y_true, y_pred)
    return -reduce_sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Any:
    """Element-wise binary cross-entropy, averaged over `axis`."""
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:  # max(x, 0) - x * y + log(1 + exp(-|x|)): stable for any x
        ce = (M.maximum(y_pred, 0.0) - y_pred * y_true
              + M.log1p(M.exp(-M.abs(y_pred))))
    else:
        p = M.clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
        ce = -(y_true * M.log(p) + (1.0 - y_true) * M.log(1.0 - p))
    return reduce_mean(ce, axis=axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Any:
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        classes = y_pred.shape.as_list()[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / classes
    if from_logits:
        return -reduce_sum(y_true * N.log_softmax(y_pred, axis=axis), axis=axis)
    p = y_pred / reduce_sum(y_pred, axis=axis, keepdims=True)
    p = M.clip_by_value(p, EPSILON, 1.0 - EPSILON)
    return -reduce_sum(y_true * M.log(p), axis=axis)


def _sparse_labels(y_true: Any, y_pred: Any, axis: int) -> Any:
    """Integer labels without the class axis: a (..., 1) label is squeezed (Keras)."""
    y_true = convert_to_tensor(y_true)
    if y_true.shape.rank == y_pred.shape.rank and y_true.shape.as_list()[axis] == 1:
        y_true = squeeze(y_true, axis=[axis])
    return y_true if y_true.dtype.is_integer else M.cast(y_true, "int32")


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> Any:
    """Integer labels against class scores along `axis`; labels of shape (batch, 1) are
    squeezed. Entries labelled `ignore_class` get a loss of 0 (the Loss class then averages
    over the other entries only, as Keras 3)."""
    y_pred = convert_to_tensor(y_pred)
    y_true = _sparse_labels(y_true, y_pred, axis)
    valid = None
    if ignore_class is not None:
        valid = M.not_equal(y_true, M.cast(ignore_class, y_true.dtype))
        y_true = M.where(valid, y_true, zeros_like(y_true))
    rank = y_pred.shape.rank
    if from_logits and axis % rank == rank - 1:
        res = N.sparse_softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        classes = y_pred.shape.as_list()[axis]
        res = categorical_crossentropy(
            one_hot(y_true, classes, axis=axis % rank, dtype=y_pred.dtype), y_pred,
            from_logits=from_logits, axis=axis)
    return res if valid is None else M.where(valid, res, zeros_like(res))


class Loss:
    """A loss: `call(y_true, y_pred)` gives per-sample losses; `__call__` weights them by
    `sample_weight` and reduces ("sum_over_batch_size" or "mean": the weighted sum divided by
    the number of elements, Keras 3's default; "mean_with_sample_weight": divided by the sum
    of the weights; "sum"; "none")."""

    REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight", "sum", "none", None)

    def __init__(self, name: str | None = None, reduction: str = "sum_over_batch_size") -> None:
        if reduction not in self.REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`: {reduction!r}; expected "
                             f"one of {self.REDUCTIONS}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true: Any, y_pred: Any) -> Any:
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        values = self.call(y_true, y_pred)
        sw = None
        if sample_weight is not None:
            sw = M.cast(convert_to_tensor(sample_weight), values.dtype)
            while sw.shape.rank > values.shape.rank:
                sw = squeeze(sw, axis=[-1])
            # NOTE: Keras's squeeze_or_expand_to_same_rank: losses (batch, 1) and weights
            # (batch,) line up row by row (plain broadcasting would make (batch, batch))
            if (values.shape.rank == sw.shape.rank + 1
                    and values.shape.as_list()[-1] == 1):
                sw = expand_dims(sw, -1)
            values = values * sw
        if self.reduction in ("none", None) or values.shape.rank == 0:
            return values
        total = reduce_sum(values)
        if self.reduction == "sum":
            return total
        if self.reduction == "mean_with_sample_weight" and sw is not None:
            weight = reduce_sum(sw)
            # NOTE: Keras's divide_no_nan: all weights 0 gives 0, not nan
            return total / (weight + M.cast(M.equal(weight, 0.0), weight.dtype))
        return total / float(max(1, values.shape.num_elements()))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A Loss around a per-sample function `fn(y_true, y_pred, **kwargs)`."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None,
                 reduction: str = "sum_over_batch_size", **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction)
        self.fn, self._tfx_kwargs = fn, kwargs

    def call(self, y_true: Any, y_pred: Any) -> Any:
        # as Keras's wrapper (not its bare functions): (batch,) labels against (batch, 1)
        # scores -- Dense(1) on 1-D targets -- must not broadcast to (batch, batch)
        return self.fn(*same_rank(y_true, y_pred), **self._tfx_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._tfx_kwargs}


class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction: str = "sum_over_batch_size",
                 name: str = "mean_squared_error") -> None:
        super().__init__(mean_squared_error, name=name, reduction=reduction)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}


class MeanAbsoluteError(LossFunctionWrapper):
    def __init__(self, reduction: str = "sum_over_batch_size",
                 name: str = "mean_absolute_error") -> None:
        super().__init__(mean_absolute_error, name=name, reduction=reduction)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}


class Huber(LossFunctionWrapper):
    def __init__(self, delta: float = 1.0, reduction: str = "sum_over_batch_size",
                 name: str = "huber_loss") -> None:
        super().__init__(huber, name=name, reduction=reduction, delta=float(delta))


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: str = "sum_over_batch_size",
                 name: str = "binary_crossentropy") -> None:
        super().__init__(binary_crossentropy, name=name, reduction=reduction,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str = "sum_over_batch_size",
                 name: str = "categorical_crossentropy") -> None:
        super().__init__(categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """With `ignore_class`, those entries are masked: "sum_over_batch_size" divides the
    weighted sum by the number of entries NOT ignored (Keras 3's mask weighting)."""

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str = "sum_over_batch_size",
                 name: str = "sparse_categorical_crossentropy", axis: int = -1) -> None:
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        if self.ignore_class is None:
            return super().__call__(y_true, y_pred, sample_weight)
        y_pred = convert_to_tensor(y_pred)
        labels = _sparse_labels(y_true, y_pred, self.axis)
        mask = M.cast(M.not_equal(labels, M.cast(self.ignore_class, labels.dtype)),
                      y_pred.dtype)
        weight = mask
        if self.reduction in ("sum_over_batch_size", "mean"):
            # NOTE: valid entries weigh total / valid, so the mean is over them only (all
            # ignored: every weight is 0, as Keras's divide_no_nan gives)
            total = float(max(1, mask.shape.num_elements()))
            weight = mask * (total / M.maximum(reduce_sum(mask), 1.0))
        if sample_weight is not None:
            sw = M.cast(convert_to_tensor(sample_weight), y_pred.dtype)
            while sw.shape.rank > weight.shape.rank:
                sw = squeeze(sw, axis=[-1])
            while sw.shape.rank < weight.shape.rank:
                sw = expand_dims(sw, -1)
            weight = weight * sw
        return super().__call__(labels, y_pred, weight)


class KLDivergence(LossFunctionWrapper):
    def __init__(self, reduction: str = "sum_over_batch_size",
                 name: str = "kl_divergence") -> None:
        super().__init__(kl_divergence, name=name, reduction=reduction)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}


class CosineSimilarity(LossFunctionWrapper):
    """`-cos(y_true, y_pred)` along `axis` (Keras 3's sign: minimizing it aligns them)."""

    def __init__(self, axis: int = -1, reduction: str = "sum_over_batch_size",
                 name: str = "cosine_similarity") -> None:
        super().__init__(cosine_similarity, name=name, reduction=reduction, axis=axis)


def _snake(name: str) -> str:
    return "".join(("_" + c.lower()) if c.isupper() and i else c.lower()
                   for i, c in enumerate(name))


_BY_NAME: dict[str, Callable[[], Loss]] = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "huber": Huber, "huber_loss": Huber,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "KLDivergence": KLDivergence,
    "kullback_leibler_divergence": KLDivergence, "cosine_similarity": CosineSimilarity,
}


def get(identifier: Any) -> Loss:
    """A Loss from a name ("mse", "sparse_categorical_crossentropy", "MeanSquaredError"),
    a Loss instance, or a per-sample function `fn(y_true, y_pred)`."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        make = _BY_NAME.get(identifier) or _BY_NAME.get(_snake(identifier))
        if make is None:
            raise ValueError(f"Could not interpret loss identifier: {identifier!r}; known: "
                             f"{sorted(_BY_NAME)}")
        return make()
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise TypeError(f"Could not interpret loss identifier: {identifier!r}")


mse, mae, kld = mean_squared_error, mean_absolute_error, kl_divergence
__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "CosineSimilarity", "Huber",
           "KLDivergence", "Loss", "LossFunctionWrapper", "MeanAbsoluteError",
           "MeanSquaredError", "SparseCategoricalCrossentropy", "binary_crossentropy",
           "categorical_crossentropy", "cosine_similarity", "get", "huber", "kl_divergence",
           "kld", "mae", "mean_absolute_error", "mean_squared_error", "mse",
           "sparse_categorical_crossentropy"]

"""`tx.keras.metrics`: stateful metrics (Mean, accuracies, top-k, MSE, Precision, Recall, AUC)
whose state is tx.Variables."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compiler.ir.types import F32
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.variables import Variable, init_scope
from tfx_core.keras import losses as L
from tfx_core.ops import math_ops as M
from tfx_core.ops.array_ops import expand_dims, ones_like, reshape, squeeze, zeros, zeros_like
from tfx_core.ops.indexing_ops import one_hot
from tfx_core.ops.reduction_ops import argmax, reduce_mean, reduce_sum
from tfx_core.ops.sort_ops import top_k


class Metric:
    """Base class: `update_state(...)` accumulates into Variables (also inside a compiled
    step), `result()` reads them, `reset_state()` zeroes them; `metric(...)` = update + result."""

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or _snake(type(self).__name__)
        self.dtype = F32 if dtype is None else dtype
        self._tfx_variables: list[Variable] = []

    def add_variable(self, shape: Any = (), name: str = "total") -> Variable:
        with init_scope():  # state is created eagerly, even when first used inside a trace
            v = Variable(lambda: zeros(list(shape), self.dtype), trainable=False,
                         name=f"{self.name}/{name}")
        self._tfx_variables.append(v)
        return v

    @property
    def variables(self) -> list[Variable]:
        return list(self._tfx_variables)

    def reset_state(self) -> None:
        for v in self._tfx_variables:
            v.assign(zeros(v.shape.as_list(), v.dtype))

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The (weighted) mean of every value passed to `update_state`."""

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values = M.cast(convert_to_tensor(values), self.dtype)
        if sample_weight is None:
            self.total.assign_add(reduce_sum(values))
            self.count.assign_add(M.cast(float(max(1, values.shape.num_elements())), self.dtype))
            return
        sw = M.cast(convert_to_tensor(sample_weight), self.dtype)
        while sw.shape.rank > values.shape.rank and sw.shape.rank > 0:
            sw = squeeze(sw, axis=[-1])
        if values.shape.rank > sw.shape.rank:  # per-sample weights of per-element values
            values = reduce_mean(values, axis=list(range(sw.shape.rank, values.shape.rank)))
        weighted = values * sw
        self.total.assign_add(reduce_sum(weighted))
        self.count.assign_add(reduce_sum(sw + M.cast(0.0, self.dtype) * values))

    def result(self) -> Any:
        # NOTE: 0 before any update (count 0, total 0), as Keras's divide_no_nan
        return self.total.value() / M.maximum(self.count.value(), 1e-30)


class MeanMetricWrapper(Mean):
    """The mean of `fn(y_true, y_pred)` over every sample seen."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name or fn.__name__, dtype=dtype)
        self._tfx_fn, self._tfx_kwargs = fn, kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        super().update_state(self._tfx_fn(y_true, y_pred, **self._tfx_kwargs), sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self._tfx_kwargs}


def accuracy(y_true: Any, y_pred: Any) -> Any:
    """1.0 where `y_true == y_pred`, else 0.0."""
    y_true, y_pred = convert_to_tensor(y_true), convert_to_tensor(y_pred)
    if y_true.dtype != y_pred.dtype:
        y_true = M.cast(y_true, y_pred.dtype)
    return M.cast(M.equal(y_true, y_pred), F32)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Any:
    y_true, y_pred = convert_to_tensor(y_true), convert_to_tensor(y_pred)
    predicted = M.cast(M.greater(y_pred, threshold), y_pred.dtype)
    return reduce_mean(M.cast(M.equal(M.cast(y_true, y_pred.dtype), predicted), F32), axis=-1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> Any:
    return M.cast(M.equal(argmax(y_true, axis=-1), argmax(y_pred, axis=-1)), F32)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Any:
    """Integer labels against the argmax of class scores; (batch, 1) labels are squeezed."""
    y_true, y_pred = convert_to_tensor(y_true), convert_to_tensor(y_pred)
    if y_true.shape.rank == y_pred.shape.rank and y_true.shape.as_list()[-1] == 1:
        y_true = squeeze(y_true, axis=[-1])
    predicted = argmax(y_pred, axis=-1)
    return M.cast(M.equal(M.cast(y_true, predicted.dtype), predicted), F32)


class Accuracy(MeanMetricWrapper):
    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "binary_accuracy", dtype: Any = None,
                 threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(L.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(L.mean_absolute_error, name=name, dtype=dtype)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Any:
    """1.0 where the true class's score is among the k largest (ties count as in, as
    tf.math.in_top_k); (batch, 1) labels are squeezed."""
    y_true, y_pred = convert_to_tensor(y_true), convert_to_tensor(y_pred)
    if y_true.shape.rank == y_pred.shape.rank and y_true.shape.as_list()[-1] == 1:
        y_true = squeeze(y_true, axis=[-1])
    classes = y_pred.shape.as_list()[-1]
    if k >= classes:
        return M.cast(M.equal(y_true, y_true), F32)
    y_pred = M.cast(y_pred, F32)
    true_score = reduce_sum(y_pred * one_hot(M.cast(y_true, "int32"), classes), axis=-1)
    kth = top_k(y_pred, k).values[..., k - 1]
    return M.cast(M.greater_equal(true_score, kth), F32)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Any:
    """As sparse_top_k_categorical_accuracy, with one-hot labels."""
    return sparse_top_k_categorical_accuracy(argmax(y_true, axis=-1), y_pred, k=k)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


def _divide_no_nan(a: Any, b: Any) -> Any:
    zero = M.equal(b, 0.0)
    return M.where(zero, zeros_like(a), a / M.where(zero, ones_like(b), b))


class _ConfusionMetric(Metric):
    """Counts (weighted) true/false positives/negatives at each threshold, where a sample is
    predicted positive when `y_pred > threshold`; inputs are flattened (one binary problem)."""

    _COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")

    def __init__(self, thresholds: list[float], name: str | None, dtype: Any,
                 counts: tuple[str, ...]) -> None:
        super().__init__(name=name, dtype=dtype)
        self.thresholds = [float(t) for t in thresholds]
        n = len(self.thresholds)
        for count in counts:
            setattr(self, count, self.add_variable((n,), name=count))
        self._tfx_counts = counts

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = M.cast(convert_to_tensor(y_pred), F32)
        weight = ones_like(y_pred)
        if sample_weight is not None:  # per-sample weights spread over the trailing axes
            sw = M.cast(convert_to_tensor(sample_weight), F32)
            while 0 < sw.shape.rank < y_pred.shape.rank:
                sw = expand_dims(sw, -1)
            weight = weight * sw
        y_pred, weight = reshape(y_pred, [-1]), reshape(weight, [-1])
        positive = M.cast(M.greater(reshape(M.cast(convert_to_tensor(y_true), F32), [-1]), 0.5),
                          F32)
        # (thresholds, samples): predicted positive at each threshold
        above = M.cast(M.greater(expand_dims(y_pred, 0),
                                 M.cast(convert_to_tensor([[t] for t in self.thresholds]), F32)),
                       F32)
        below = 1.0 - above
        pos_w, neg_w = positive * weight, (1.0 - positive) * weight
        parts = {"true_positives": above * pos_w, "false_positives": above * neg_w,
                 "true_negatives": below * neg_w, "false_negatives": below * pos_w}
        for count in self._tfx_counts:
            getattr(self, count).assign_add(reduce_sum(parts[count], axis=1))

    def get_config(self) -> dict[str, Any]:
        scalar = getattr(self, "_tfx_scalar", False)  # a float threshold gives a scalar back
        return {"name": self.name,
                "thresholds": self.thresholds[0] if scalar else list(self.thresholds)}


def _thresholds(thresholds: Any) -> tuple[list[float], bool]:
    if thresholds is None:
        return [0.5], True
    if isinstance(thresholds, (int, float)):
        return [float(thresholds)], True
    return [float(t) for t in thresholds], False


class Precision(_ConfusionMetric):
    """tp / (tp + fp) at `thresholds` (default 0.5: a float gives a scalar, a list a vector)."""

    def __init__(self, thresholds: Any = None, name: str = "precision",
                 dtype: Any = None) -> None:
        values, self._tfx_scalar = _thresholds(thresholds)
        super().__init__(values, name, dtype, ("true_positives", "false_positives"))

    def result(self) -> Any:
        out = _divide_no_nan(self.true_positives.value(),
                             self.true_positives.value() + self.false_positives.value())
        return out[0] if self._tfx_scalar else out


class Recall(_ConfusionMetric):
    """tp / (tp + fn) at `thresholds` (default 0.5: a float gives a scalar, a list a vector)."""

    def __init__(self, thresholds: Any = None, name: str = "recall", dtype: Any = None) -> None:
        values, self._tfx_scalar = _thresholds(thresholds)
        super().__init__(values, name, dtype, ("true_positives", "false_negatives"))

    def result(self) -> Any:
        out = _divide_no_nan(self.true_positives.value(),
                             self.true_positives.value() + self.false_negatives.value())
        return out[0] if self._tfx_scalar else out


class AUC(_ConfusionMetric):
    """Area under the ROC or precision-recall curve (Keras's `summation_method="interpolation"`).

    `num_thresholds` evenly spaced thresholds, (i + 1) / (num_thresholds - 1), plus -eps and
    1 + eps at the ends. ROC: trapezoids of recall over the false-positive rate. PR: Davis &
    Goadrich's interpolation between thresholds (precision varies along the segment as the
    positives count changes linearly), as Keras's `interpolate_pr_auc`. `from_logits`:
    scores pass through a sigmoid first.
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", name: str | None = None,
                 dtype: Any = None, from_logits: bool = False) -> None:
        if num_thresholds <= 1:
            raise ValueError(f"AUC: `num_thresholds` must be > 1, got {num_thresholds}")
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC: `curve` must be 'ROC' or 'PR', got {curve!r}")
        self.num_thresholds, self.curve = num_thresholds, curve.upper()
        self.from_logits = bool(from_logits)
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        super().__init__([0.0 - L.EPSILON, *inner, 1.0 + L.EPSILON], name or "auc", dtype,
                         self._COUNTS)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.from_logits:  # scores -> probabilities, so the fixed thresholds apply
            y_pred = M.sigmoid(M.cast(convert_to_tensor(y_pred), F32))
        super().update_state(y_true, y_pred, sample_weight)

    def result(self) -> Any:
        tp, fp = self.true_positives.value(), self.false_positives.value()
        tn, fn = self.true_negatives.value(), self.false_negatives.value()
        if self.curve == "PR":
            return self._interpolated_pr(tp, fp, fn)
        recall = _divide_no_nan(tp, tp + fn)
        fp_rate = _divide_no_nan(fp, fp + tn)
        heights = (recall[:-1] + recall[1:]) / 2.0
        return reduce_sum((fp_rate[:-1] - fp_rate[1:]) * heights)

    @staticmethod
    def _interpolated_pr(tp: Any, fp: Any, fn: Any) -> Any:
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, M.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both = M.logical_and(M.greater(p[:-1], 0.0), M.greater(p[1:], 0.0))
        ratio = M.where(both, _divide_no_nan(p[:-1], M.maximum(p[1:], 0.0)), ones_like(dtp))
        return reduce_sum(_divide_no_nan(slope * (dtp + intercept * M.log(ratio)),
                                         M.maximum(tp[1:] + fn[1:], 0.0)))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                "from_logits": self.from_logits}


def _snake(name: str) -> str:
    return "".join(("_" + c.lower()) if c.isupper() and i else c.lower()
                   for i, c in enumerate(name))


_BY_NAME: dict[str, Callable[..., Metric]] = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "precision": Precision, "recall": Recall, "auc": AUC, "AUC": AUC,
}


def _accuracy_for(y_true: Any, y_pred: Any, loss: Any, name: str) -> Metric:
    # NOTE: Keras resolves "accuracy" from the loss when it says which kind, else from shapes:
    # one output column is binary; labels of lower rank (or one column) against several
    # scores are sparse; otherwise categorical.
    kinds = {L.BinaryCrossentropy: BinaryAccuracy, L.CategoricalCrossentropy: CategoricalAccuracy,
             L.SparseCategoricalCrossentropy: SparseCategoricalAccuracy}
    for loss_cls, metric_cls in kinds.items():
        if isinstance(loss, loss_cls):
            return metric_cls(name=name)
    true_shape = list(convert_to_tensor(y_true).shape.as_list()) if y_true is not None else []
    pred_shape = list(convert_to_tensor(y_pred).shape.as_list())
    if pred_shape and pred_shape[-1] == 1:
        return BinaryAccuracy(name=name)
    if len(true_shape) < len(pred_shape) or (true_shape and true_shape[-1] == 1):
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def get(identifier: Any, y_true: Any = None, y_pred: Any = None, loss: Any = None) -> Metric:
    """A Metric from a name, a class, an instance or a function `fn(y_true, y_pred)`;
    "accuracy"/"acc" is resolved against the loss and the shapes of `y_true`/`y_pred`."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return _accuracy_for(y_true, y_pred, loss, identifier)
        make = _BY_NAME.get(identifier) or _BY_NAME.get(_snake(identifier))
        if make is None:
            raise ValueError(f"Could not interpret metric identifier: {identifier!r}; known: "
                             f"{sorted(['accuracy', *_BY_NAME])}")
        return make(name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"Could not interpret metric identifier: {identifier!r}")


__all__ = ["AUC", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "Mean",
           "MeanAbsoluteError", "MeanMetricWrapper", "MeanSquaredError", "Metric", "Precision",
           "Recall", "SparseCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
           "TopKCategoricalAccuracy", "accuracy", "binary_accuracy", "categorical_accuracy",
           "get", "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy",
           "top_k_categorical_accuracy"]

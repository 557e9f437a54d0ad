"""`tx.keras.metrics`: stateful metrics (Mean, accuracies, top-k, MSE, Precision, Recall, AUC)
whose state is tx.Variables."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from compiler.ir.types import F32
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.variables import Variable, init_scope
from tfx_core.keras import losses as L
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error
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


same_rank = L.same_rank  # the losses' rule, re-exported for the metrics below


def accuracy(y_true: Any, y_pred: Any) -> Any:
    """1.0 where `y_true == y_pred`, else 0.0."""
    y_true, y_pred = same_rank(y_true, y_pred)
    if y_true.dtype != y_pred.dtype:
        y_true = M.cast(y_true, y_pred.dtype)
    return M.cast(M.equal(y_true, y_pred), F32)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Any:
    y_true, y_pred = same_rank(y_true, y_pred)
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


def mean_squared_error(y_true: Any, y_pred: Any) -> Any:
    """The loss's per-sample mean squared error, labels and scores first brought to one
    rank (see same_rank)."""
    return L.mean_squared_error(*same_rank(y_true, y_pred))


def mean_absolute_error(y_true: Any, y_pred: Any) -> Any:
    """The loss's per-sample mean absolute error, after same_rank."""
    return L.mean_absolute_error(*same_rank(y_true, y_pred))


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


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


NEG_INF = -1e10  # what Keras gives the scores outside the top k (so they are never positive)


def _filter_top_k(scores: Any, k: int) -> Any:
    """`scores` with all but the k largest of the last axis replaced by NEG_INF (ties go to
    the lower index, as top_k)."""
    mask = reduce_sum(one_hot(top_k(scores, k).indices, scores.shape.as_list()[-1]), axis=-2)
    return scores * mask + NEG_INF * (1.0 - mask)


def _weighted_mean(values: Any, label_weights: Any) -> Any:
    if label_weights is None:
        return reduce_mean(values)
    lw = convert_to_tensor(label_weights, F32)
    return _divide_no_nan(reduce_sum(values * lw), reduce_sum(lw))


class _ConfusionMetric(Metric):
    """Counts (weighted) true/false positives/negatives at each threshold, where a sample is
    predicted positive when `y_pred > threshold`. `top_k` first keeps only each row's k best
    scores, `class_id` then keeps one column. Inputs are flattened into one binary problem
    (counts of shape (thresholds,)) unless `multi_label`: then (batch, labels) inputs are
    counted per label (shape (thresholds, labels), created at the first update unless
    `num_labels` is given)."""

    _COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")

    def __init__(self, thresholds: list[float], name: str | None, dtype: Any,
                 counts: tuple[str, ...], top_k: int | None = None, class_id: int | None = None,
                 multi_label: bool = False, num_labels: int | None = None,
                 label_weights: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.thresholds = [float(t) for t in thresholds]
        self.top_k, self.class_id = top_k, class_id
        self.multi_label, self.num_labels = bool(multi_label), num_labels
        self.label_weights = None
        if label_weights is not None:
            lw = np.asarray(label_weights, np.float32).reshape(-1)
            if (lw < 0).any():
                raise ValueError(f"{type(self).__name__}: all values of `label_weights` must be "
                                 f"non-negative, got {lw.tolist()}")
            self.label_weights = lw
        self._tfx_counts = counts
        self._tfx_built = False
        if not self.multi_label or num_labels is not None:
            self._build(num_labels)

    def _build(self, num_labels: int | None) -> None:
        n = len(self.thresholds)
        shape = (n, num_labels) if self.multi_label else (n,)
        for count in self._tfx_counts:
            setattr(self, count, self.add_variable(shape, name=count))
        self.num_labels, self._tfx_built = num_labels, True

    def _inputs(self, y_true: Any, y_pred: Any, sample_weight: Any) -> tuple[Any, Any, Any]:
        """(positive, scores, weight), each of shape (samples, labels)."""
        op = f"{type(self).__name__}.update_state"
        y_pred = M.cast(convert_to_tensor(y_pred), F32)
        y_true = M.cast(convert_to_tensor(y_true), F32)
        if self.top_k is not None:
            y_pred = _filter_top_k(y_pred, self.top_k)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        weight = ones_like(y_pred)
        if sample_weight is not None:  # per-sample weights spread over the trailing axes
            sw = M.cast(convert_to_tensor(sample_weight), F32)
            while 0 < sw.shape.rank < y_pred.shape.rank:
                sw = expand_dims(sw, -1)
            weight = weight * sw
        if self.multi_label:
            if y_pred.shape.rank != 2:
                raise op_error(op, "multi_label needs (batch, labels) predictions, got shape "
                               f"{y_pred.shape.as_list()}")
            labels = y_pred.shape.as_list()[-1]
            if not self._tfx_built:
                self._build(labels)
            elif labels != self.num_labels:
                raise op_error(op, f"expected {self.num_labels} labels (the state's), got "
                               f"predictions of shape {y_pred.shape.as_list()}")
        else:
            if self.label_weights is not None:  # weights of the columns, then one problem
                weight = weight * convert_to_tensor(self.label_weights, F32)
            y_pred, weight = reshape(y_pred, [-1, 1]), reshape(weight, [-1, 1])
        positive = M.cast(M.not_equal(y_true, 0.0), F32)  # as Keras: any nonzero label
        return reshape(positive, y_pred.shape.as_list()), y_pred, weight

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        positive, y_pred, weight = self._inputs(y_true, y_pred, sample_weight)
        # (thresholds, samples, labels): predicted positive at each threshold
        limits = convert_to_tensor(np.asarray(self.thresholds, np.float32).reshape(-1, 1, 1))
        above = M.cast(M.greater(expand_dims(y_pred, 0), limits), F32)
        below = 1.0 - above
        pos_w, neg_w = positive * weight, (1.0 - positive) * weight
        parts = {"true_positives": above * pos_w, "false_positives": above * neg_w,
                 "true_negatives": below * neg_w, "false_negatives": below * pos_w}
        for count in self._tfx_counts:
            total = reduce_sum(parts[count], axis=1)
            if not self.multi_label:
                total = reshape(total, [len(self.thresholds)])
            getattr(self, count).assign_add(total)

    def get_config(self) -> dict[str, Any]:
        scalar = getattr(self, "_tfx_scalar", False)  # a float threshold gives a scalar back
        return {"name": self.name, "top_k": self.top_k, "class_id": self.class_id,
                "thresholds": self.thresholds[0] if scalar else list(self.thresholds)}


def _thresholds(who: str, thresholds: Any, top_k: int | None) -> tuple[list[float], bool]:
    if thresholds is None:  # Keras: with top_k every kept score counts as positive
        return [0.5 if top_k is None else NEG_INF], True
    values = [float(thresholds)] if isinstance(thresholds, (int, float)) else \
        [float(t) for t in thresholds]
    bad = [t for t in values if not 0.0 <= t <= 1.0]
    if bad:
        raise ValueError(f"{who}: threshold values must be in [0, 1], got {bad}")
    return values, isinstance(thresholds, (int, float))


class _RatioMetric(_ConfusionMetric):
    """tp / (tp + the count named by `_OTHER`) at each threshold; one threshold gives a
    scalar (as Keras), several a vector."""

    _OTHER = ""

    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        values, self._tfx_scalar = _thresholds(type(self).__name__, thresholds, top_k)
        super().__init__(values, name or _snake(type(self).__name__), dtype,
                         ("true_positives", self._OTHER), top_k=top_k, class_id=class_id)

    def result(self) -> Any:
        tp = self.true_positives.value()
        out = _divide_no_nan(tp, tp + getattr(self, self._OTHER).value())
        return out[0] if len(self.thresholds) == 1 else out

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if config["thresholds"] == NEG_INF:  # the top_k default, not a user's value
            config["thresholds"] = None
        return config


class Precision(_RatioMetric):
    """tp / (tp + fp) at `thresholds` (default 0.5, or every top-k score with `top_k`)."""

    _OTHER = "false_positives"


class Recall(_RatioMetric):
    """tp / (tp + fn) at `thresholds` (default 0.5, or every top-k score with `top_k`)."""

    _OTHER = "false_negatives"


_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(_ConfusionMetric):
    """Area under the ROC or precision-recall curve, as keras.metrics.AUC.

    `num_thresholds` evenly spaced thresholds, (i + 1) / (num_thresholds - 1), or the given
    `thresholds` (sorted), plus -eps and 1 + eps at the ends. The curve is summed as Riemann
    rectangles whose heights are the mean ("interpolation"), the smaller ("minoring") or the
    larger ("majoring") of the two ends; PR with "interpolation" is Davis & Goadrich's
    (precision varies along the segment as the positives count changes linearly), as Keras's
    `interpolate_pr_auc`. `multi_label`: one curve per column of (batch, labels) inputs, their
    areas averaged (weighted by `label_weights`); otherwise the inputs are flattened, each
    column weighted by `label_weights`. `from_logits`: scores pass through a sigmoid first.
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 dtype: Any = None, thresholds: Any = None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False) -> None:
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC: `curve` must be 'ROC' or 'PR', got {curve!r}")
        if summation_method.lower() not in _SUMMATIONS:
            raise ValueError(f"AUC: `summation_method` must be one of {list(_SUMMATIONS)}, "
                             f"got {summation_method!r}")
        if thresholds is not None:
            inner = sorted(_thresholds("AUC", thresholds, None)[0])
            num_thresholds = len(inner) + 2
        elif num_thresholds <= 1:
            raise ValueError(f"AUC: `num_thresholds` must be > 1, got {num_thresholds}")
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._tfx_given = None if thresholds is None else inner
        self.num_thresholds, self.curve = num_thresholds, curve.upper()
        self.summation_method = summation_method.lower()
        self.from_logits = bool(from_logits)
        super().__init__([0.0 - L.EPSILON, *inner, 1.0 + L.EPSILON], name or "auc", dtype,
                         self._COUNTS, multi_label=multi_label, num_labels=num_labels,
                         label_weights=label_weights)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.from_logits:  # scores -> probabilities, so the fixed thresholds apply
            y_pred = M.sigmoid(M.cast(convert_to_tensor(y_pred), F32))
        super().update_state(y_true, y_pred, sample_weight)

    def result(self) -> Any:
        if not self._tfx_built:  # multi_label before any update
            return convert_to_tensor(0.0, F32)
        tp, fp = self.true_positives.value(), self.false_positives.value()
        tn, fn = self.true_negatives.value(), self.false_negatives.value()
        if self.curve == "PR" and self.summation_method == "interpolation":
            terms = self._interpolated_pr(tp, fp, fn)
        else:
            recall = _divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _divide_no_nan(fp, fp + tn), recall
            else:
                x, y = recall, _divide_no_nan(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = M.minimum(y[:-1], y[1:])
            else:
                heights = M.maximum(y[:-1], y[1:])
            terms = (x[:-1] - x[1:]) * heights
        if not self.multi_label:
            return reduce_sum(terms)
        return _weighted_mean(reduce_sum(terms, axis=0), self.label_weights)

    @staticmethod
    def _interpolated_pr(tp: Any, fp: Any, fn: Any) -> Any:
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, M.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both = M.logical_and(M.greater(p[:-1], 0.0), M.greater(p[1:], 0.0))
        ratio = M.where(both, _divide_no_nan(p[:-1], M.maximum(p[1:], 0.0)), ones_like(dtp))
        return _divide_no_nan(slope * (dtp + intercept * M.log(ratio)),
                              M.maximum(tp[1:] + fn[1:], 0.0))

    def get_config(self) -> dict[str, Any]:
        lw = None if self.label_weights is None else self.label_weights.tolist()
        return {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "thresholds": self._tfx_given,
                "multi_label": self.multi_label, "num_labels": self.num_labels,
                "label_weights": lw, "from_logits": self.from_logits}


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
           "get", "mean_absolute_error", "mean_squared_error", "same_rank",
           "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy",
           "top_k_categorical_accuracy"]

"""`tx.keras.metrics`: stateful metrics (Mean, accuracies, MSE) whose state is tx.Variables."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compiler.ir.types import F32
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.variables import Variable, init_scope
from tfx_core.keras import losses as L
from tfx_core.ops import math_ops as M
from tfx_core.ops.array_ops import squeeze, zeros
from tfx_core.ops.reduction_ops import argmax, reduce_mean, reduce_sum


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


def _snake(name: str) -> str:
    return "".join(("_" + c.lower()) if c.isupper() and i else c.lower()
                   for i, c in enumerate(name))


_BY_NAME: dict[str, Callable[..., Metric]] = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
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


__all__ = ["Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "Mean", "MeanAbsoluteError",
           "MeanMetricWrapper", "MeanSquaredError", "Metric", "SparseCategoricalAccuracy",
           "accuracy", "binary_accuracy", "categorical_accuracy", "get",
           "sparse_categorical_accuracy"]

"""`tx.keras.constraints`: projections applied to a weight after each optimizer update."""
from __future__ import annotations

import inspect
from typing import Any

from tfx_core.framework.convert import convert_to_tensor
from tfx_core.keras import serialization
from tfx_core.ops.math_ops import cast, clip_by_value, maximum, sqrt, square
from tfx_core.ops.reduction_ops import reduce_sum

_EPSILON = 1e-7  # keras.backend.epsilon(): keeps a zero column finite


class Constraint:
    """A callable `projected_weight = constraint(weight)`; the base class returns `w` as is.

    A layer's `kernel_constraint=` (etc.) is recorded on the weight; the optimizer applies it
    right after each update (`w.assign(constraint(w))`), as Keras 3.
    """

    def __call__(self, w: Any) -> Any:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        return cls(**config)


def _norms(w: Any, axis: Any) -> Any:
    return sqrt(reduce_sum(square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales each slice along `axis` whose L2 norm exceeds `max_value` down to it."""

    def __init__(self, max_value: float = 2, axis: Any = 0) -> None:
        self.max_value, self.axis = max_value, axis

    def __call__(self, w: Any) -> Any:
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = clip_by_value(norms, cast(0.0, norms.dtype), cast(self.max_value, norms.dtype))
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Negative entries become 0."""

    def __call__(self, w: Any) -> Any:
        w = convert_to_tensor(w)
        return maximum(w, cast(0.0, w.dtype))


class UnitNorm(Constraint):
    """Each slice along `axis` divided by its L2 norm."""

    def __init__(self, axis: Any = 0) -> None:
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        w = convert_to_tensor(w)
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice's L2 norm into [min_value, max_value], a `rate` fraction of the way."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: Any = 0) -> None:
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w: Any) -> Any:
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        lo, hi = cast(self.min_value, norms.dtype), cast(self.max_value, norms.dtype)
        desired = self.rate * clip_by_value(norms, lo, hi) + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


_CLASSES = {c.__name__: c for c in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
# Keras 3's snake-case names ("max_norm", "non_neg", ...)
_BY_NAME = {**_CLASSES, "constraint": Constraint, "max_norm": MaxNorm,
            "min_max_norm": MinMaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm}


def serialize(constraint: Any) -> Any:
    """{"class_name", "config"} of a constraint (a layer's get_config entry; a registered
    class's also has "registered_name"); None, a name or a plain function is returned as is."""
    if getattr(constraint, "get_config", None) is None or inspect.isclass(constraint):
        return constraint
    return serialization.serialize(constraint)


def get(identifier: Any) -> Any:
    """A constraint from None, a name ("max_norm", "NonNeg", ...), a `{"class_name",
    "config"}` entry (a user's class found as serialization finds it: custom_objects scope,
    registry), a class, an instance or any callable."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return serialization.deserialize(identifier, _CLASSES, "constraint")
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret constraint identifier: {identifier!r}; "
                             f"known: {sorted(_BY_NAME)}")
        return cls()
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")


max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm
__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "get", "max_norm",
           "min_max_norm", "non_neg", "serialize", "unit_norm"]

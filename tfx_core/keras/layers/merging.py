"""Merging layers: Add, Multiply, Concatenate (a list of inputs in, one tensor out)."""
from __future__ import annotations

from typing import Any

from tfx_core.keras.engine.layer import Layer
from tfx_core.ops.array_ops import concat


def _check_list(layer: Layer, inputs: Any) -> list[Any]:
    if not isinstance(inputs, (list, tuple)) or len(inputs) < 1:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' expects a list of inputs, got "
                         f"{inputs!r}")
    return list(inputs)


class Add(Layer):
    """The elementwise sum of a list of tensors (shapes broadcast)."""

    def call(self, inputs: Any) -> Any:
        xs = _check_list(self, inputs)
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        return total


class Multiply(Layer):
    """The elementwise product of a list of tensors (shapes broadcast)."""

    def call(self, inputs: Any) -> Any:
        xs = _check_list(self, inputs)
        product = xs[0]
        for x in xs[1:]:
            product = product * x
        return product


class Concatenate(Layer):
    """Concatenation of a list of tensors along `axis`."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs: Any) -> Any:
        return concat(_check_list(self, inputs), axis=self.axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


__all__ = ["Add", "Concatenate", "Multiply"]

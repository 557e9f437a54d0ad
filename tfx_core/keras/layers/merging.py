"""Merging layers: Add, Multiply, Concatenate (a list of inputs in, one tensor out)."""
from __future__ import annotations

from typing import Any

from tfx_core.keras.engine.layer import Layer
from tfx_core.ops.array_ops import concat, expand_dims, ones_like
from tfx_core.ops.math_ops import cast, logical_or
from tfx_core.ops.reduction_ops import reduce_any


def _check_list(layer: Layer, inputs: Any) -> list[Any]:
    if not isinstance(inputs, (list, tuple)) or len(inputs) < 1:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' expects a list of inputs, got "
                         f"{inputs!r}")
    return list(inputs)


class _Merge(Layer):
    """An elementwise merge: the output's mask is the OR of the inputs' masks when every input
    has one, else none (Keras 3's Merge)."""

    supports_masking = True

    def compute_mask(self, inputs: Any, previous_mask: Any) -> Any:
        masks = _mask_list(self, inputs, previous_mask)
        if masks is None or any(m is None for m in masks):
            return None
        out = masks[0]
        for m in masks[1:]:
            out = logical_or(out, m)
        return out


def _mask_list(layer: Layer, inputs: Any, masks: Any) -> list[Any] | None:
    if masks is None:
        return None
    if not isinstance(masks, (list, tuple)) or len(masks) != len(_check_list(layer, inputs)):
        raise ValueError(f"{type(layer).__name__} '{layer.name}': `mask` should be a list as "
                         f"long as the inputs, got {masks!r}")
    return list(masks)


class Add(_Merge):
    """The elementwise sum of a list of tensors (shapes broadcast)."""

    def call(self, inputs: Any) -> Any:
        xs = _check_list(self, inputs)
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        return total


class Multiply(_Merge):
    """The elementwise product of a list of tensors (shapes broadcast)."""

    def call(self, inputs: Any) -> Any:
        xs = _check_list(self, inputs)
        product = xs[0]
        for x in xs[1:]:
            product = product * x
        return product


class Concatenate(Layer):
    """Concatenation of a list of tensors along `axis`. With masks, the output's mask is the
    inputs' masks (all-True for an unmasked input, broadcast over its last axis) concatenated
    and reduced with `any` over the last axis (Keras 3)."""

    supports_masking = True

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def compute_mask(self, inputs: Any, previous_mask: Any) -> Any:
        masks = _mask_list(self, inputs, previous_mask)
        if masks is None or all(m is None for m in masks):
            return None
        full = []
        for x, m in zip(inputs, masks):
            if m is None:
                m = cast(ones_like(x), "bool")
            elif m.shape.rank < x.shape.rank:
                m = logical_or(expand_dims(m, -1), cast(x * 0, "bool"))  # broadcast to x
            full.append(m)
        return reduce_any(concat(full, axis=self.axis), axis=-1)

    def call(self, inputs: Any) -> Any:
        return concat(_check_list(self, inputs), axis=self.axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


__all__ = ["Add", "Concatenate", "Multiply"]

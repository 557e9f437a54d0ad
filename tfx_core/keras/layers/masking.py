"""Masking: marks the time steps whose features all equal `mask_value` as padding."""
from __future__ import annotations

from typing import Any

from tfx_core.framework.convert import convert_to_tensor
from tfx_core.keras.engine.layer import Layer
from tfx_core.keras.engine.masks import set_keras_mask
from tfx_core.ops.array_ops import squeeze, zeros_like
from tfx_core.ops.math_ops import cast, not_equal, where
from tfx_core.ops.reduction_ops import reduce_any


class Masking(Layer):
    """keras.layers.Masking: a step (the last axis' vector at one position) is kept when any
    feature differs from `mask_value`; kept steps pass unchanged, masked ones become zeros, and
    the output carries the (batch, time) mask for the layers downstream."""

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def _keep(self, inputs: Any, keepdims: bool) -> Any:
        value = cast(convert_to_tensor(self.mask_value), inputs.dtype)
        return reduce_any(not_equal(inputs, value), axis=-1, keepdims=keepdims)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return self._keep(inputs, keepdims=False)

    def call(self, inputs: Any) -> Any:
        keep = self._keep(inputs, keepdims=True)
        outputs = where(keep, inputs, zeros_like(inputs))
        set_keras_mask(outputs, squeeze(keep, axis=[-1]))
        return outputs

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}


__all__ = ["Masking"]

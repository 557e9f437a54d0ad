"""Reshaping layers: Flatten, Reshape (the batch dimension is kept)."""
from __future__ import annotations

import math
from typing import Any

from tfx_core.keras.engine.layer import Layer
from tfx_core.ops.array_ops import reshape


class Flatten(Layer):
    """`(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)`; `(batch,)` becomes `(batch, 1)`."""

    def call(self, inputs: Any) -> Any:
        rest = inputs.shape.as_list()[1:]
        if any(d is None for d in rest):
            raise ValueError(f"Flatten '{self.name}': the non-batch dimensions must be known, "
                             f"got {inputs.shape}")
        return reshape(inputs, [-1, math.prod(rest)])


class Reshape(Layer):
    """Reshape each sample to `target_shape` (one entry may be -1, inferred as Keras does)."""

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"Reshape: at most one -1 in target_shape, got {self.target_shape}")

    def _resolved(self, sample_shape: list) -> list[int]:
        size = math.prod(sample_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or size % known:
                raise ValueError(f"Reshape '{self.name}': cannot reshape samples of shape "
                                 f"{tuple(sample_shape)} to {self.target_shape}")
            return [size // known if d == -1 else d for d in self.target_shape]
        if known != size:
            raise ValueError(f"Reshape '{self.name}': total size of new array must be unchanged, "
                             f"input_shape = {list(sample_shape)}, output_shape = "
                             f"{list(self.target_shape)}")
        return list(self.target_shape)

    def call(self, inputs: Any) -> Any:
        # NOTE: -1 is resolved from the sample shape so the batch dimension can stay -1 (None
        # in symbolic calls).
        return reshape(inputs, [-1, *self._resolved(inputs.shape.as_list()[1:])])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": self.target_shape}


__all__ = ["Flatten", "Reshape"]

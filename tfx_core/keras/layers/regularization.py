"""SpatialDropout2D: Dropout of whole feature maps (one draw per sample and channel)."""
from __future__ import annotations

from typing import Any

from tfx_core.keras.layers.core import Dropout
from tfx_core.ops.dropout_ops import dropout


class SpatialDropout2D(Dropout):
    """Drops entire channels of (batch, h, w, c) inputs in training (keras.layers.SpatialDropout2D).

    The noise shape is (batch, 1, 1, channels) (channels_last) or (batch, channels, 1, 1).
    """

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"SpatialDropout2D: data_format must be 'channels_last' or "
                             f"'channels_first', got {data_format!r}")
        self.data_format = data_format or "channels_last"

    def call(self, inputs: Any, training: bool = False) -> Any:
        if inputs.shape.rank != 4:
            raise ValueError(f"SpatialDropout2D '{self.name}': expected inputs of rank 4, got "
                             f"shape {tuple(inputs.shape.as_list())}")
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return inputs * 0.0
        # the batch is known here: a training call runs on concrete (or fixed-shape) batches
        b, d1, _, d3 = inputs.shape.as_list()
        noise = [b, d1, 1, 1] if self.data_format == "channels_first" else [b, 1, 1, d3]
        return dropout(inputs, self.rate, noise_shape=noise, rng=self._tfx_rng)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "data_format": self.data_format}
        config.pop("noise_shape")
        return config


__all__ = ["SpatialDropout2D"]

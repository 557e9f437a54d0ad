"""Pooling layers: Max/AveragePooling1D/2D, GlobalAveragePooling1D/2D, GlobalMaxPooling2D."""
from __future__ import annotations

from typing import Any

from tfx_core.keras.engine.layer import Layer
from tfx_core.keras.layers.convolutional import normalize_padding, normalize_tuple, tf_data_format
from tfx_core.ops.array_ops import expand_dims
from tfx_core.ops.conv_ops import avg_pool, max_pool
from tfx_core.ops.math_ops import cast
from tfx_core.ops.reduction_ops import reduce_max, reduce_mean, reduce_sum


class Pooling(Layer):
    """A windowed max or average over `rank` spatial dims; `strides` defaults to `pool_size`."""

    rank = 2
    kind = "max"

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = normalize_tuple(cls, "pool_size", pool_size, self.rank)
        self.strides = self.pool_size if strides is None else normalize_tuple(
            cls, "strides", strides, self.rank)
        self.padding = padding
        self._tfx_padding = normalize_padding(cls, padding)
        self.data_format = data_format or "channels_last"
        self._tfx_format = tf_data_format(cls, data_format, self.rank)

    def call(self, inputs: Any) -> Any:
        # NOTE: tf.nn's SAME average counts only the non-padding elements of each window, as
        # Keras's average pooling does.
        pool = max_pool if self.kind == "max" else avg_pool
        return pool(inputs, self.pool_size, self.strides, self._tfx_padding,
                    data_format=self._tfx_format)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(Pooling):
    """Max over windows of `pool_size` steps (keras.layers.MaxPooling1D)."""

    rank, kind = 1, "max"


class MaxPooling2D(Pooling):
    """Max over `pool_size` windows of (height, width) (keras.layers.MaxPooling2D)."""

    rank, kind = 2, "max"


class AveragePooling1D(Pooling):
    """Mean over windows of `pool_size` steps (keras.layers.AveragePooling1D)."""

    rank, kind = 1, "avg"


class AveragePooling2D(Pooling):
    """Mean over `pool_size` windows of (height, width) (keras.layers.AveragePooling2D)."""

    rank, kind = 2, "avg"


class GlobalPooling(Layer):
    """A max or mean over all `rank` spatial dims; `keepdims` keeps them as size 1."""

    rank = 2
    kind = "avg"

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        tf_data_format(type(self).__name__, data_format, self.rank)  # checks the value
        self.data_format = data_format or "channels_last"
        self.keepdims = keepdims

    def call(self, inputs: Any) -> Any:
        first = 2 if self.data_format == "channels_first" else 1
        axes = list(range(first, first + self.rank))
        reduce = reduce_max if self.kind == "max" else reduce_mean
        return reduce(inputs, axes, keepdims=self.keepdims)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling1D(GlobalPooling):
    """Mean over the steps (keras.layers.GlobalAveragePooling1D); with a (batch, steps) `mask`
    (e.g. from `Embedding(mask_zero=True)`) the mean of the kept steps only."""

    rank, kind = 1, "avg"

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return super().call(inputs)
        first = self.data_format != "channels_first"
        keep = cast(expand_dims(mask, 2 if first else 1), inputs.dtype)
        axis = 1 if first else 2
        # as Keras: a row with every step masked divides 0 by 0 (NaN)
        return (reduce_sum(inputs * keep, axis, keepdims=self.keepdims)
                / reduce_sum(keep, axis, keepdims=self.keepdims))

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return None


class GlobalAveragePooling2D(GlobalPooling):
    """Mean over height and width (keras.layers.GlobalAveragePooling2D)."""

    rank, kind = 2, "avg"


class GlobalMaxPooling2D(GlobalPooling):
    """Max over height and width (keras.layers.GlobalMaxPooling2D)."""

    rank, kind = 2, "max"


__all__ = ["AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D"]

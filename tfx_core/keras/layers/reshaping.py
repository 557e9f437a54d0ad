"""Reshaping layers: Flatten, Reshape, Permute, ZeroPadding2D, UpSampling2D (batch kept)."""
from __future__ import annotations

import math
from typing import Any

from tfx_core.keras.engine.layer import Layer
from tfx_core.ops.array_ops import pad, reshape, tile, transpose


class Flatten(Layer):
    """`(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)`; `(batch,)` becomes `(batch, 1)`.
    With data_format="channels_first" the channels (axis 1) move last first, so the order of
    the flattened features matches the channels_last layout (Keras 3)."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"Flatten: data_format must be 'channels_last' or "
                             f"'channels_first', got {data_format!r}")
        self.data_format = data_format or "channels_last"

    def call(self, inputs: Any) -> Any:
        rest = inputs.shape.as_list()[1:]
        if any(d is None for d in rest):
            raise ValueError(f"Flatten '{self.name}': the non-batch dimensions must be known, "
                             f"got {inputs.shape}")
        if self.data_format == "channels_first" and len(rest) > 1:
            rank = len(rest) + 1
            inputs = transpose(inputs, [0, *range(2, rank), 1])
        return reshape(inputs, [-1, math.prod(rest)])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


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


class Permute(Layer):
    """Permute the non-batch dimensions: `dims` are 1-based, e.g. (2, 1) swaps the last two."""

    def __init__(self, dims: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: invalid permutation argument `dims` for Permute Layer. "
                             f"The set of indices in `dims` must be consecutive and start from 1. "
                             f"Received dims={self.dims}")

    def call(self, inputs: Any) -> Any:
        if inputs.shape.rank != len(self.dims) + 1:
            raise ValueError(f"Permute '{self.name}': dims {self.dims} need inputs of rank "
                             f"{len(self.dims) + 1}, got shape {tuple(inputs.shape.as_list())}")
        return transpose(inputs, [0, *self.dims])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": self.dims}


def _pairs(value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """ZeroPadding2D's padding: int, (sym_h, sym_w) or ((top, bottom), (left, right))."""
    if isinstance(value, int):
        return (value, value), (value, value)
    h, w = value
    h = (h, h) if isinstance(h, int) else tuple(h)
    w = (w, w) if isinstance(w, int) else tuple(w)
    if len(h) != 2 or len(w) != 2 or min(*h, *w) < 0:
        raise ValueError(f"ZeroPadding2D: padding must be an int, 2 ints or 2 pairs of "
                         f"non-negative ints, got {value!r}")
    return (int(h[0]), int(h[1])), (int(w[0]), int(w[1]))


class ZeroPadding2D(Layer):
    """Zero rows/columns around images: padding ((top, bottom), (left, right))."""

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.padding = _pairs(padding)
        self.data_format = data_format or "channels_last"

    def call(self, inputs: Any) -> Any:
        h, w = self.padding
        if self.data_format == "channels_first":
            return pad(inputs, [[0, 0], [0, 0], list(h), list(w)])
        return pad(inputs, [[0, 0], list(h), list(w), [0, 0]])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class UpSampling2D(Layer):
    """Repeat rows `size[0]` and columns `size[1]` times (nearest-neighbour upsampling)."""

    def __init__(self, size: Any = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
        if interpolation != "nearest":
            raise NotImplementedError(f"UpSampling2D: interpolation={interpolation!r} is not "
                                      "supported yet (only 'nearest')")
        self.data_format = data_format or "channels_last"
        self.interpolation = interpolation

    def call(self, inputs: Any) -> Any:
        # NOTE: nearest neighbour = each pixel tiled into a size[0] x size[1] block: insert a
        # unit axis after height and width, tile it, merge it back (no gather needed).
        cf = self.data_format == "channels_first"
        x = transpose(inputs, [0, 2, 3, 1]) if cf else inputs
        _, h, w, c = x.shape.as_list()
        if None in (h, w, c):
            raise ValueError(f"UpSampling2D '{self.name}': height, width and channels must be "
                             f"known, got {tuple(inputs.shape.as_list())}")
        sh, sw = self.size
        x = tile(reshape(x, [-1, h, 1, w, 1, c]), [1, 1, sh, 1, sw, 1])
        x = reshape(x, [-1, h * sh, w * sw, c])
        return transpose(x, [0, 3, 1, 2]) if cf else x

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


__all__ = ["Flatten", "Permute", "Reshape", "UpSampling2D", "ZeroPadding2D"]

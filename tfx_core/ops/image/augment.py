"""Random image augmentations (tf.image.random_* from the global stream and the
stateless_random_* functions of a seed): a random draw feeding the deterministic adjustment.
Our bits come from threefry, not TF's philox, so only the distributions match TF's."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from compiler.ir.types import F32, I32
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import random_ops as RND
from tfx_core.ops.arguments import op_error, static_ints
from tfx_core.ops.control_flow_ops import cond
from tfx_core.ops.image import color as C
from tfx_core.ops.image.common import image_tensor

TensorLike = Any
Draw = Callable[[list, float, float, Any], Tensor]  # (shape, low, high, dtype) -> uniform


def _stateful(seed: Any) -> Draw:
    return lambda shape, lo, hi, dt=F32: RND.uniform(shape, lo, hi, dt, seed=seed)


def _stateless(seed: Any) -> Draw:
    return lambda shape, lo, hi, dt=F32: RND.stateless_uniform(shape, seed, lo, hi, dt)


def _delta(name: str, max_delta: Any, cap: float | None = None) -> float:
    d = float(max_delta)
    if d < 0:
        raise op_error(name, f"max_delta must be non-negative, got {d}")
    if cap is not None and d > cap:
        raise op_error(name, f"max_delta must be <= {cap}, got {d}")
    return d


def _range(name: str, lower: Any, upper: Any) -> tuple[float, float]:
    lo, hi = float(lower), float(upper)
    if hi <= lo:
        raise op_error(name, f"upper must be > lower, got lower={lo}, upper={hi}")
    if lo < 0:
        raise op_error(name, f"lower must be non-negative, got {lo}")
    return lo, hi


def _brightness(name, image, max_delta, draw):
    d = _delta(name, max_delta)
    return C.adjust_brightness(image, draw([], -d, d))


def _contrast(name, image, lower, upper, draw):
    lo, hi = _range(name, lower, upper)
    return C.adjust_contrast(image, draw([], lo, hi))


def _saturation(name, image, lower, upper, draw):
    lo, hi = _range(name, lower, upper)
    return C.adjust_saturation(image, draw([], lo, hi))


def _hue(name, image, max_delta, draw):
    d = _delta(name, max_delta, 0.5)
    return C.adjust_hue(image, draw([], -d, d))


def _flip(name: str, image: TensorLike, axis: int, draw: Draw) -> Tensor:
    """Flip with probability 1/2: one coin for an image, one per image for a batch."""
    x = image_tensor(name, image)
    if x.ndim == 3:
        return cond(draw([], 0.0, 1.0) < 0.5, lambda: A.reverse(x, [axis]), lambda: x)
    if x.shape[0] is None:
        raise op_error(name, f"the batch size must be known, got {x.type}")
    coin = A.reshape(draw([x.shape[0]], 0.0, 1.0) < 0.5, [-1, 1, 1, 1])
    return M.where(coin, A.reverse(x, [axis + 1]), x)


def _crop(name: str, value: TensorLike, size: Any, draw: Draw) -> Tensor:
    x = value if isinstance(value, Tensor) else to_tensor(value, name)
    sz = static_ints(size, name, "size")
    if len(sz) != x.ndim or None in x.shape:
        raise op_error(name, f"size {list(sz)} must have one entry per dim of {x.type} (a "
                       f"shape known at trace time)")
    if any(s > d or s < 0 for s, d in zip(sz, x.shape)):
        raise op_error(name, f"Need value.shape >= size, got {x.type} and {list(sz)}")
    limit = np.asarray(x.shape, np.int64) - np.asarray(sz) + 1
    offsets = M.cast(M.floor(draw([x.ndim], 0.0, 1.0) * limit.astype(np.float32)), I32)
    offsets = M.minimum(offsets, A.reshape(to_tensor(limit.astype(np.int32) - 1, name), [-1]))
    return A.slice(x, offsets, list(sz))


def random_brightness(image: TensorLike, max_delta: Any, seed: Any = None) -> Tensor:
    """adjust_brightness by a delta uniform in [-max_delta, max_delta)
    (tf.image.random_brightness)."""
    return _brightness("random_brightness", image, max_delta, _stateful(seed))


def stateless_random_brightness(image: TensorLike, max_delta: Any, seed: Any) -> Tensor:
    """random_brightness as a function of `seed` (tf.image.stateless_random_brightness)."""
    return _brightness("stateless_random_brightness", image, max_delta, _stateless(seed))


def random_contrast(image: TensorLike, lower: Any, upper: Any, seed: Any = None) -> Tensor:
    """adjust_contrast by a factor uniform in [lower, upper) (tf.image.random_contrast)."""
    return _contrast("random_contrast", image, lower, upper, _stateful(seed))


def stateless_random_contrast(image: TensorLike, lower: Any, upper: Any, seed: Any) -> Tensor:
    """random_contrast as a function of `seed` (tf.image.stateless_random_contrast)."""
    return _contrast("stateless_random_contrast", image, lower, upper, _stateless(seed))


def random_saturation(image: TensorLike, lower: Any, upper: Any, seed: Any = None) -> Tensor:
    """adjust_saturation by a factor uniform in [lower, upper) (tf.image.random_saturation)."""
    return _saturation("random_saturation", image, lower, upper, _stateful(seed))


def stateless_random_saturation(image: TensorLike, lower: Any, upper: Any,
                                seed: Any = None) -> Tensor:
    """random_saturation as a function of `seed` (tf.image.stateless_random_saturation)."""
    return _saturation("stateless_random_saturation", image, lower, upper, _stateless(seed))


def random_hue(image: TensorLike, max_delta: Any, seed: Any = None) -> Tensor:
    """adjust_hue by a delta uniform in [-max_delta, max_delta), max_delta <= 0.5
    (tf.image.random_hue)."""
    return _hue("random_hue", image, max_delta, _stateful(seed))


def stateless_random_hue(image: TensorLike, max_delta: Any, seed: Any) -> Tensor:
    """random_hue as a function of `seed` (tf.image.stateless_random_hue)."""
    return _hue("stateless_random_hue", image, max_delta, _stateless(seed))


def random_flip_left_right(image: TensorLike, seed: Any = None) -> Tensor:
    """flip_left_right with probability 1/2, per image (tf.image.random_flip_left_right)."""
    return _flip("random_flip_left_right", image, 1, _stateful(seed))


def stateless_random_flip_left_right(image: TensorLike, seed: Any) -> Tensor:
    """random_flip_left_right as a function of `seed`."""
    return _flip("stateless_random_flip_left_right", image, 1, _stateless(seed))


def random_flip_up_down(image: TensorLike, seed: Any = None) -> Tensor:
    """flip_up_down with probability 1/2, per image (tf.image.random_flip_up_down)."""
    return _flip("random_flip_up_down", image, 0, _stateful(seed))


def stateless_random_flip_up_down(image: TensorLike, seed: Any) -> Tensor:
    """random_flip_up_down as a function of `seed`."""
    return _flip("stateless_random_flip_up_down", image, 0, _stateless(seed))


def random_crop(value: TensorLike, size: Any, seed: Any = None, name: str | None = None) -> Tensor:
    """A `size` block at a uniformly random offset (tf.image.random_crop)."""
    return _crop("random_crop", value, size, _stateful(seed))


def stateless_random_crop(value: TensorLike, size: Any, seed: Any,
                          name: str | None = None) -> Tensor:
    """random_crop as a function of `seed` (tf.image.stateless_random_crop)."""
    return _crop("stateless_random_crop", value, size, _stateless(seed))

"""Color conversions and adjustments (tf.image.rgb_to_hsv, adjust_hue, adjust_contrast, ...):
elementwise math over the channel axis, so gradients come from those ops."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import F32
from tfx_core.framework.convert import constant_tensor
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error
from tfx_core.ops.image.common import (
    at_least_3d,
    check_channels,
    constant_like,
    convert_image_dtype,
    to_float,
)
from tfx_core.ops.linalg_ops import tensordot

TensorLike = Any

# TF's conversion matrices (rows: input channels, columns: output channels)
_RGB_TO_YIQ = [[0.299, 0.59590059, 0.2115], [0.587, -0.27455667, -0.52273617],
               [0.114, -0.32134392, 0.31119955]]
_YIQ_TO_RGB = [[1, 1, 1], [0.95598634, -0.27201283, -1.10674021],
               [0.6208248, -0.64720424, 1.70423049]]
_RGB_TO_YUV = [[0.299, -0.14714119, 0.61497538], [0.587, -0.28886916, -0.51496512],
               [0.114, 0.43601035, -0.10001026]]
_YUV_TO_RGB = [[1, 1, 1], [0, -0.394642334, 2.03206185], [1.13988303, -0.58062185, 0]]
_GRAY = [0.2989, 0.5870, 0.1140]


def _float_image(name: str, images: TensorLike) -> Tensor:
    x = images if isinstance(images, Tensor) else to_tensor(images, name)
    if not x.dtype.is_floating:
        raise op_error(name, f"images must be a floating tensor, got {x.type}", TypeError)
    if x.ndim < 1:
        raise op_error(name, f"images must have a channel axis, got {x.type}")
    check_channels(name, x)
    return x


def _mix(name: str, images: TensorLike, matrix: list) -> Tensor:
    x = _float_image(name, images)
    k = constant_tensor(np.asarray(matrix, x.dtype.np_dtype))
    return tensordot(x, k, [[x.ndim - 1], [0]])


def rgb_to_yiq(images: TensorLike) -> Tensor:
    """RGB to YIQ (tf.image.rgb_to_yiq)."""
    return _mix("rgb_to_yiq", images, _RGB_TO_YIQ)


def yiq_to_rgb(images: TensorLike) -> Tensor:
    """YIQ to RGB (tf.image.yiq_to_rgb)."""
    return _mix("yiq_to_rgb", images, _YIQ_TO_RGB)


def rgb_to_yuv(images: TensorLike) -> Tensor:
    """RGB to YUV (tf.image.rgb_to_yuv)."""
    return _mix("rgb_to_yuv", images, _RGB_TO_YUV)


def yuv_to_rgb(images: TensorLike) -> Tensor:
    """YUV to RGB (tf.image.yuv_to_rgb)."""
    return _mix("yuv_to_rgb", images, _YUV_TO_RGB)


def rgb_to_grayscale(images: TensorLike, name: str | None = None) -> Tensor:
    """Luma (0.2989 R + 0.5870 G + 0.1140 B) with a last dim of 1, in the input's dtype
    (tf.image.rgb_to_grayscale)."""
    x = images if isinstance(images, Tensor) else to_tensor(images, "rgb_to_grayscale")
    check_channels("rgb_to_grayscale", x)
    flt = convert_image_dtype(x, F32)
    gray = tensordot(flt, constant_tensor(np.asarray(_GRAY, np.float32)), [[-1], [-1]])
    return convert_image_dtype(A.expand_dims(gray, -1), x.dtype)


def grayscale_to_rgb(images: TensorLike, name: str | None = None) -> Tensor:
    """Repeat the single channel three times (tf.image.grayscale_to_rgb)."""
    x = images if isinstance(images, Tensor) else to_tensor(images, "grayscale_to_rgb")
    if x.ndim < 2:
        raise op_error("grayscale_to_rgb", f"images must be at least two-dimensional, got "
                       f"{x.type}")
    check_channels("grayscale_to_rgb", x, 1)
    return A.tile(x, [1] * (x.ndim - 1) + [3])


def _channels(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    return x[..., 0], x[..., 1], x[..., 2]


def _hsv(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Hue in [0, 1), saturation, value, as TF's RGBToHSV kernel computes them."""
    r, g, b = _channels(x)
    v = M.maximum(M.maximum(r, g), b)
    rng = v - M.minimum(M.minimum(r, g), b)
    zero = A.zeros_like(v)
    s = M.where(v > 0, rng / M.where(v > 0, v, A.ones_like(v)), zero)
    norm = 1.0 / M.where(rng > 0, rng, A.ones_like(rng)) / 6.0
    h = M.where(M.equal(r, v), norm * (g - b),
                M.where(M.equal(g, v), norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0))
    h = M.where(rng > 0, h, zero)
    h = M.where(h < 0, h + 1.0, h)
    return h, s, v


def _rgb(h: Tensor, s: Tensor, v: Tensor) -> Tensor:
    """TF's HSVToRGB kernel: piecewise-linear channel ramps of 6 h."""
    dh = h * 6.0
    dr = M.clip_by_value(M.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = M.clip_by_value(2.0 - M.abs(dh - 2.0), 0.0, 1.0)
    db = M.clip_by_value(2.0 - M.abs(dh - 4.0), 0.0, 1.0)
    one_s = 1.0 - s
    return A.stack([(one_s + s * dr) * v, (one_s + s * dg) * v, (one_s + s * db) * v], -1)


def rgb_to_hsv(images: TensorLike, name: str | None = None) -> Tensor:
    """RGB in [0, 1] to hue, saturation, value in [0, 1] (tf.image.rgb_to_hsv)."""
    return A.stack(_hsv(_float_image("rgb_to_hsv", images)), -1)


def hsv_to_rgb(images: TensorLike, name: str | None = None) -> Tensor:
    """Hue, saturation, value to RGB (tf.image.hsv_to_rgb)."""
    return _rgb(*_channels(_float_image("hsv_to_rgb", images)))


def adjust_hue(image: TensorLike, delta: Any, name: str | None = None) -> Tensor:
    """Rotate the hue by `delta` (a fraction of the color wheel, in [-1, 1])
    (tf.image.adjust_hue)."""
    if not isinstance(delta, Tensor) and not -1 <= float(delta) <= 1:
        raise op_error("adjust_hue", f"delta must be in the interval [-1, 1], got {delta}")
    x, orig = to_float("adjust_hue", image)
    check_channels("adjust_hue", x)
    h, s, v = _hsv(x)
    h = M.floormod(h + constant_like(delta, h), A.ones_like(h))
    return convert_image_dtype(_rgb(h, s, v), orig)


def adjust_saturation(image: TensorLike, saturation_factor: Any,
                      name: str | None = None) -> Tensor:
    """Scale the saturation by `saturation_factor`, clipped to [0, 1]
    (tf.image.adjust_saturation)."""
    x, orig = to_float("adjust_saturation", image)
    check_channels("adjust_saturation", x)
    h, s, v = _hsv(x)
    s = M.clip_by_value(s * constant_like(saturation_factor, s), 0.0, 1.0)
    return convert_image_dtype(_rgb(h, s, v), orig)


def adjust_brightness(image: TensorLike, delta: Any) -> Tensor:
    """Add `delta` (in float's [0, 1] scale) to every pixel (tf.image.adjust_brightness)."""
    x, orig = to_float("adjust_brightness", image)
    return convert_image_dtype(x + constant_like(delta, x), orig, saturate=True)


def adjust_contrast(images: TensorLike, contrast_factor: Any) -> Tensor:
    """(x - mean) * contrast_factor + mean, the mean per image and channel
    (tf.image.adjust_contrast)."""
    x, orig = to_float("adjust_contrast", images)
    at_least_3d("adjust_contrast", x, "images")
    mean = R.reduce_mean(x, [-3, -2], keepdims=True)
    return convert_image_dtype((x - mean) * constant_like(contrast_factor, x) + mean, orig,
                               saturate=True)


def adjust_gamma(image: TensorLike, gamma: Any = 1, gain: Any = 1) -> Tensor:
    """gain * image ** gamma (tf.image.adjust_gamma)."""
    if not isinstance(gamma, Tensor) and float(gamma) < 0:
        raise op_error("adjust_gamma", f"Gamma should be a non-negative real number, got {gamma}")
    x, orig = to_float("adjust_gamma", image)
    out = constant_like(gain, x) * M.pow(x, constant_like(gamma, x))
    return convert_image_dtype(out, orig, saturate=True)


def per_image_standardization(image: TensorLike) -> Tensor:
    """(x - mean) / max(stddev, 1 / sqrt(pixels)) per image, in float32
    (tf.image.per_image_standardization)."""
    x = at_least_3d("per_image_standardization", image)
    if None in x.shape[-3:]:
        raise op_error("per_image_standardization", f"image height, width and channels must be "
                       f"known at trace time, got {x.type}")
    x = M.cast(x, F32)
    n = int(np.prod(x.shape[-3:]))
    mean = R.reduce_mean(x, [-1, -2, -3], keepdims=True)
    std = R.reduce_std(x, [-1, -2, -3], keepdims=True)
    return (x - mean) / M.maximum(std, np.float32(1.0 / np.sqrt(n)))

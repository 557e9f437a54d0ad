"""Image quality and gradient measures (tf.image.total_variation, image_gradients, sobel_edges,
psnr, ssim, ssim_multiscale), with TF's Gaussian window and constants."""
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
from tfx_core.ops.conv_ops import avg_pool, depthwise_conv2d
from tfx_core.ops.image.common import convert_image_dtype, image_tensor
from tfx_core.ops.nn_ops import relu

TensorLike = Any
_MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def total_variation(images: TensorLike, name: str | None = None) -> Tensor:
    """Sum of absolute differences of neighbouring pixels, per image for a batch
    (tf.image.total_variation)."""
    x = image_tensor("total_variation", images, what="images")
    h = x.ndim - 3
    d1 = M.abs(x[1:] - x[:-1]) if h == 0 else M.abs(x[:, 1:] - x[:, :-1])
    d2 = M.abs(x[:, 1:] - x[:, :-1]) if h == 0 else M.abs(x[:, :, 1:] - x[:, :, :-1])
    axis = None if h == 0 else [1, 2, 3]
    return R.reduce_sum(d1, axis) + R.reduce_sum(d2, axis)


def image_gradients(image: TensorLike) -> tuple[Tensor, Tensor]:
    """(dy, dx): forward differences along height and width, zero in the last row/column
    (tf.image.image_gradients)."""
    x = image_tensor("image_gradients", image, (4,))
    dy = A.pad(x[:, 1:] - x[:, :-1], [[0, 0], [0, 1], [0, 0], [0, 0]])
    dx = A.pad(x[:, :, 1:] - x[:, :, :-1], [[0, 0], [0, 0], [0, 1], [0, 0]])
    return dy, dx


def sobel_edges(image: TensorLike) -> Tensor:
    """[b, h, w, d, 2]: the vertical and horizontal Sobel responses of each channel, the image
    padded by reflection (tf.image.sobel_edges)."""
    x = image_tensor("sobel_edges", image, (4,))
    if x.shape[3] is None:
        raise op_error("sobel_edges", f"the channel count must be known, got {x.type}")
    k = np.array([[[-1, -2, -1], [0, 0, 0], [1, 2, 1]], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]])
    k = np.tile(np.transpose(k, (1, 2, 0))[:, :, None, :], (1, 1, x.shape[3], 1))
    padded = A.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    out = depthwise_conv2d(padded, constant_tensor(k.astype(x.dtype.np_dtype)), [1, 1, 1, 1],
                           "VALID")
    return A.reshape(out, [-1 if x.shape[0] is None else x.shape[0], *x.shape[1:], 2])


def _pair(name: str, a: TensorLike, b: TensorLike) -> tuple[Tensor, Tensor]:
    x = a if isinstance(a, Tensor) else to_tensor(a, name)
    y = b if isinstance(b, Tensor) else to_tensor(b, name)
    if x.dtype is not y.dtype:
        raise op_error(name, f"images must have one dtype, got {x.type} and {y.type}", TypeError)
    if x.ndim < 3 or y.ndim < 3 or x.shape[-3:] != y.shape[-3:]:
        raise op_error(name, f"images must be at least 3-D with the same last three dims, got "
                       f"{x.type} and {y.type}")
    return x, y


def _max_val(max_val: Any, like: Tensor) -> Tensor:
    m = M.cast(max_val if isinstance(max_val, Tensor) else to_tensor(max_val, "image"),
               like.dtype)
    return convert_image_dtype(m, F32)


def psnr(a: TensorLike, b: TensorLike, max_val: Any, name: str | None = None) -> Tensor:
    """Peak signal-to-noise ratio per image, in float32 (tf.image.psnr)."""
    x, y = _pair("psnr", a, b)
    mv = _max_val(max_val, x)
    x, y = convert_image_dtype(x, F32), convert_image_dtype(y, F32)
    mse = R.reduce_mean(M.squared_difference(x, y), [-3, -2, -1])
    return 20.0 * M.log(mv) / np.float32(np.log(10.0)) - np.float32(10 / np.log(10)) * M.log(mse)


def _gauss(size: int, sigma: float) -> np.ndarray:
    """TF's window: softmax of -(i^2 + j^2) / (2 sigma^2) over the size x size grid."""
    c = np.arange(size, dtype=np.float32) - np.float32(size - 1) / 2
    g = np.square(c) * np.float32(-0.5 / np.float32(sigma) ** 2)
    g = (g[None, :] + g[:, None]).reshape(-1)
    e = np.exp(g - g.max())
    return (e / e.sum()).reshape(size, size).astype(np.float32)


def _ssim_per_channel(x: Tensor, y: Tensor, max_val: Tensor, size: int, sigma: float, k1: float,
                      k2: float, index_map: bool = False) -> tuple[Tensor, Tensor]:
    h, w, c = x.shape[-3:]
    if h < size or w < size:
        raise op_error("ssim", f"images of height/width {h}x{w} are smaller than the filter "
                       f"size {size}")
    kernel = constant_tensor(np.tile(_gauss(size, sigma)[:, :, None, None], (1, 1, c, 1)))
    head = list(x.shape[:-3])

    def reducer(t: Tensor) -> Tensor:
        flat = A.reshape(t, [-1, h, w, c])
        out = depthwise_conv2d(flat, kernel, [1, 1, 1, 1], "VALID")
        return A.reshape(out, [*[-1 if d is None else d for d in head], *out.shape[1:]])

    c1 = M.square(k1 * max_val)
    c2 = M.square(k2 * max_val)
    mean0, mean1 = reducer(x), reducer(y)
    num0 = mean0 * mean1 * 2.0
    den0 = M.square(mean0) + M.square(mean1)
    luminance = (num0 + c1) / (den0 + c1)
    num1 = reducer(x * y) * 2.0
    den1 = reducer(M.square(x) + M.square(y))
    cs = (num1 - num0 + c2) / (den1 - den0 + c2)
    if index_map:
        return luminance * cs, cs
    return R.reduce_mean(luminance * cs, [-3, -2]), R.reduce_mean(cs, [-3, -2])


def _ssim_inputs(name, img1, img2, max_val):
    x, y = _pair(name, img1, img2)
    if None in x.shape[-3:]:
        raise op_error(name, f"image height, width and channels must be known, got {x.type}")
    mv = _max_val(max_val, x)
    return convert_image_dtype(x, F32), convert_image_dtype(y, F32), mv


def ssim(img1: TensorLike, img2: TensorLike, max_val: Any, filter_size: int = 11,
         filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03,
         return_index_map: bool = False) -> Tensor:
    """Structural similarity per image (or per pixel with return_index_map), with TF's 11x11
    Gaussian window of sigma 1.5 and VALID filtering (tf.image.ssim)."""
    x, y, mv = _ssim_inputs("ssim", img1, img2, max_val)
    val, _ = _ssim_per_channel(x, y, mv, int(filter_size), float(filter_sigma), k1, k2,
                               return_index_map)
    return R.reduce_mean(val, [-1])


def ssim_multiscale(img1: TensorLike, img2: TensorLike, max_val: Any,
                    power_factors: Any = _MSSSIM_WEIGHTS, filter_size: int = 11,
                    filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03) -> Tensor:
    """Multi-scale SSIM: contrast-structure terms of each 2x-downsampled scale (the image
    padded symmetrically to even size first) and the last scale's SSIM, raised to
    power_factors (tf.image.ssim_multiscale)."""
    x, y, mv = _ssim_inputs("ssim_multiscale", img1, img2, max_val)
    head = [-1 if d is None else d for d in x.shape[:-3]]
    imgs = [x, y]
    mcs = []
    for k in range(len(power_factors)):
        if k > 0:
            h, w, c = imgs[0].shape[-3:]
            flat = [A.reshape(t, [-1, h, w, c]) for t in imgs]
            if h % 2 or w % 2:
                flat = [A.pad(t, [[0, 0], [0, h % 2], [0, w % 2], [0, 0]], mode="SYMMETRIC")
                        for t in flat]
            down = [avg_pool(t, [1, 2, 2, 1], [1, 2, 2, 1], "VALID") for t in flat]
            imgs = [A.reshape(t, [*head, *t.shape[1:]]) for t in down]
        val, cs = _ssim_per_channel(imgs[0], imgs[1], mv, int(filter_size), float(filter_sigma),
                                    k1, k2)
        mcs.append(relu(cs))
    mcs.pop()
    stacked = A.stack([*mcs, relu(val)], -1)
    weights = constant_tensor(np.asarray(power_factors, np.float32))
    return R.reduce_mean(R.reduce_prod(M.pow(stacked, weights), [-1]), [-1])

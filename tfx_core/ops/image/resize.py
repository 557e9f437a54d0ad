"""tf.image.resize and resize_with_pad (TF2 semantics: half-pixel centers): per axis a weight
matrix computed on the host from the static sizes, applied as a matmul, or as a few gathered
taps when every output reads <= 4 inputs; nearest neighbour is a gather. Gradients come from
the matmuls and gathers."""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from compiler.ir.types import F32
from tfx_core.framework.convert import constant_tensor
from tfx_core.framework.operands import Tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_int, static_ints
from tfx_core.ops.image import kernels as K
from tfx_core.ops.image.common import image_tensor
from tfx_core.ops.image.geometry import pad_to_bounding_box
from tfx_core.ops.indexing_ops import gather
from tfx_core.ops.linalg_ops import einsum

TensorLike = Any


class ResizeMethod:
    """The interpolation methods of tf.image.resize (tf.image.ResizeMethod)."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


_METHODS = {v for k, v in vars(ResizeMethod).items() if k.isupper()}
# ScaleAndTranslate kernels: the antialiased bilinear and bicubic use triangle and Keys cubic
_SCALE_TRANSLATE = {"lanczos3", "lanczos5", "gaussian", "mitchellcubic"}


def _weights(method: str, antialias: bool, n_in: int, n_out: int) -> np.ndarray:
    if method in _SCALE_TRANSLATE:
        return K.scale_and_translate(n_in, n_out, method, antialias)
    if method == "bilinear":
        return (K.scale_and_translate(n_in, n_out, "triangle", True) if antialias
                else K.bilinear(n_in, n_out))
    if method == "bicubic":
        return (K.scale_and_translate(n_in, n_out, "keyscubic", True) if antialias
                else K.bicubic(n_in, n_out))
    return K.area(n_in, n_out)


def _method(name: str, method: Any) -> str:
    m = str(getattr(method, "value", method)).lower()
    if m not in _METHODS:
        raise op_error(name, f"Resize method is not implemented: {method!r} (one of "
                       f"{sorted(_METHODS)})")
    return m


def _resize4(x: Tensor, size: tuple[int, int], method: str, antialias: bool) -> Tensor:
    """Resize a [batch, h, w, c] tensor of static h, w."""
    h, w = x.shape[1], x.shape[2]
    if method == "nearest":
        if (h, w) == size:
            return x
        rows = constant_tensor(K.nearest(h, size[0]).astype(np.int32))
        cols = constant_tensor(K.nearest(w, size[1]).astype(np.int32))
        return gather(gather(x, rows, axis=1), cols, axis=2)
    x = M.cast(x, F32)
    x = _apply(x, _weights(method, antialias, w, size[1]), 2)
    return _apply(x, _weights(method, antialias, h, size[0]), 1)


# Taps per output up to which a weight matrix is applied as gathers: bilinear/bicubic without
# antialias read 2/4 inputs, and a dense matmul over all n_in inputs was 4-5x slower on XLA:CPU
# (f32[8,224,224,3] -> 299x299 bilinear: ~30 ms as two einsums, ~7 ms as taps).
_MAX_TAPS = 4


def _apply(x: Tensor, weights: np.ndarray, axis: int) -> Tensor:
    """Resample `x` along `axis` (1 or 2 of NHWC) by weights[n_out, n_in]."""
    nonzero = weights != 0
    taps = int(nonzero.sum(1).max(initial=0))
    if weights.shape[1] == 0 or taps > _MAX_TAPS:
        spec = "bhwc,ph->bpwc" if axis == 1 else "bhwc,pw->bhpc"
        return einsum(spec, x, constant_tensor(weights.astype(np.float32)))
    # idx[o, k]: the k-th input output o reads (rows with fewer taps: some input, weight 0)
    idx = np.argsort(~nonzero, axis=1, kind="stable")[:, :builtins.max(taps, 1)]
    tap_w = np.take_along_axis(weights, idx, 1)
    shape = [1, 1, 1, 1]
    shape[axis] = weights.shape[0]
    out = None
    for k in range(idx.shape[1]):
        term = M.multiply(gather(x, constant_tensor(idx[:, k].astype(np.int32)), axis=axis),
                          constant_tensor(tap_w[:, k].astype(np.float32).reshape(shape)))
        out = term if out is None else M.add(out, term)
    return out


def _static_hw(name: str, x: Tensor) -> tuple[int, int]:
    h, w = x.shape[-3], x.shape[-2]
    if h is None or w is None:
        raise op_error(name, f"images height and width must be known at trace time, got "
                       f"{x.type}")
    return h, w


def resize(images: TensorLike, size: Any, method: Any = ResizeMethod.BILINEAR,
           preserve_aspect_ratio: bool = False, antialias: bool = False,
           name: str | None = None) -> Tensor:
    """Resize [h, w, c] or [b, h, w, c] images to `size` = [new_height, new_width]
    (tf.image.resize). Float32 results, except `nearest`, which keeps the input dtype."""
    op = "resize"
    x = image_tensor(op, images, what="images")
    m = _method(op, method)
    sz = static_ints(size, op, "size")
    if len(sz) != 2:
        raise op_error(op, f"'size' must be a 1-D Tensor of 2 elements: new_height, new_width; "
                       f"got {list(sz)}")
    h, w = _static_hw(op, x)
    if preserve_aspect_ratio:
        f = builtins.min(np.float32(sz[0]) / np.float32(h), np.float32(sz[1]) / np.float32(w))
        sz = (int(np.round(f * np.float32(h))), int(np.round(f * np.float32(w))))
    if builtins.min(sz) <= 0:
        raise op_error(op, f"output size must be positive, got {list(sz)}")
    batched = x if x.ndim == 4 else A.expand_dims(x, 0)
    out = _resize4(batched, (sz[0], sz[1]), m, bool(antialias))
    return out if x.ndim == 4 else A.squeeze(out, [0])


def resize_with_pad(image: TensorLike, target_height: Any, target_width: Any,
                    method: Any = ResizeMethod.BILINEAR, antialias: bool = False) -> Tensor:
    """Resize keeping the aspect ratio to fit [target_height, target_width], then zero-pad
    evenly to that size (tf.image.resize_with_pad)."""
    op = "resize_with_pad"
    x = image_tensor(op, image)
    th = static_int(target_height, op, "target_height")
    tw = static_int(target_width, op, "target_width")
    if th <= 0 or tw <= 0:
        raise op_error(op, f"target_height and target_width must be > 0, got ({th}, {tw})")
    h, w = _static_hw(op, x)
    f32 = np.float32
    ratio = builtins.max(f32(w) / f32(tw), f32(h) / f32(th))
    rh, rw = f32(h) / ratio, f32(w) / ratio
    ph = builtins.max(0, int(np.floor((f32(th) - rh) / f32(2))))
    pw = builtins.max(0, int(np.floor((f32(tw) - rw) / f32(2))))
    resized = resize(x, [int(np.floor(rh)), int(np.floor(rw))], method, antialias=antialias)
    return pad_to_bounding_box(resized, ph, pw, th, tw)

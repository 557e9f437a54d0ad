"""tf.image.crop_and_resize and extract_glimpse: per box, one-hot (bilinear: two-hot) row and
column interpolation matrices built from the run-time boxes, applied with einsum, so boxes may
be tensors and gradients reach both the image and the box coordinates."""
from __future__ import annotations

from typing import Any

from compiler.ir.types import F32, I32
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import random_ops as RND
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error, static_ints
from tfx_core.ops.image.common import image_tensor
from tfx_core.ops.indexing_ops import gather, one_hot
from tfx_core.ops.linalg_ops import einsum

TensorLike = Any


def _positions(lo: Tensor, hi: Tensor, n_in: int, n_out: int) -> Tensor:
    """[boxes, n_out] sampling positions in pixels along one axis, as TF's kernel computes them."""
    last = float(n_in - 1)
    if n_out > 1:
        step = (hi - lo) * last / float(n_out - 1)
        steps = A.reshape(M.cast(A.range(n_out), F32), [1, n_out])
        return A.expand_dims(lo * last, 1) + steps * A.expand_dims(step, 1)
    return A.expand_dims(0.5 * (lo + hi) * last, 1)


def _axis_weights(pos: Tensor, n_in: int, method: str) -> Tensor:
    """[boxes, n_out, n_in] interpolation weights of each sampling position."""
    if method == "nearest":  # TF rounds half away from zero; in-range positions are >= 0
        return one_hot(M.cast(M.floor(pos + 0.5), I32), n_in, dtype=F32)
    top = M.floor(pos)
    frac = A.expand_dims(pos - top, -1)
    return (one_hot(M.cast(top, I32), n_in, dtype=F32) * (1.0 - frac)
            + one_hot(M.cast(M.ceil(pos), I32), n_in, dtype=F32) * frac)


def crop_and_resize(image: TensorLike, boxes: TensorLike, box_indices: TensorLike,
                    crop_size: Any, method: str = "bilinear", extrapolation_value: float = 0.0,
                    name: str | None = None) -> Tensor:
    """[num_boxes, crop_h, crop_w, depth] crops of image[box_indices[i]] at the normalized
    [y1, x1, y2, x2] boxes, sampled bilinearly or by nearest neighbour; samples outside the
    image take extrapolation_value (tf.image.crop_and_resize). Float32 results."""
    op = "crop_and_resize"
    x = image_tensor(op, image, (4,))
    if x.shape[1] is None or x.shape[2] is None:
        raise op_error(op, f"image height and width must be known at trace time, got {x.type}")
    b = M.cast(to_tensor(boxes, op), F32)
    idx = to_tensor(box_indices, op)
    if b.ndim != 2 or b.shape[1] not in (4, None):
        raise op_error(op, f"boxes must be 2-D [num_boxes, 4], got {b.type}")
    if idx.ndim != 1 or not idx.dtype.is_integer:
        raise op_error(op, f"box_indices must be a 1-D integer tensor, got {idx.type}")
    size = static_ints(crop_size, op, "crop_size")
    if len(size) != 2 or min(size) <= 0:
        raise op_error(op, f"crop_size must be two positive ints, got {list(size)}")
    if method not in ("bilinear", "nearest"):
        raise op_error(op, f"method must be 'bilinear' or 'nearest', got {method!r}")
    h, w = x.shape[1], x.shape[2]
    py = _positions(b[:, 0], b[:, 2], h, size[0])
    px = _positions(b[:, 1], b[:, 3], w, size[1])
    crops = gather(M.cast(x, F32), idx)
    out = einsum("nyh,nhwc->nywc", _axis_weights(py, h, method), crops)
    out = einsum("nxw,nywc->nyxc", _axis_weights(px, w, method), out)
    inside_y = M.logical_and(py >= 0.0, py <= float(h - 1))
    inside_x = M.logical_and(px >= 0.0, px <= float(w - 1))
    inside = M.logical_and(A.expand_dims(A.expand_dims(inside_y, 2), 3),
                           A.expand_dims(A.expand_dims(inside_x, 1), 3))
    return M.where(inside, out, A.fill([1], float(extrapolation_value), F32) + A.zeros_like(out))


def extract_glimpse(input: TensorLike, size: Any, offsets: TensorLike,  # noqa: A002
                    centered: bool = True, normalized: bool = True, noise: str = "uniform",
                    name: str | None = None) -> Tensor:
    """[batch, size[0], size[1], depth] windows of a float image at `offsets` ([batch, 2] as
    (y, x), normalized and/or centred as flagged); pixels outside the image are zero or noise
    drawn from the image's range ('uniform') or its mean and deviation ('gaussian')
    (tf.image.extract_glimpse)."""
    op = "extract_glimpse"
    x = image_tensor(op, input, (4,), "input")
    if x.shape[1] is None or x.shape[2] is None or x.shape[3] is None:
        raise op_error(op, f"input height, width and depth must be known, got {x.type}")
    if not x.dtype.is_floating:
        raise op_error(op, f"input must be a float tensor, got {x.type}", TypeError)
    gh, gw = static_ints(size, op, "size")
    noise = str(noise)
    if noise not in ("uniform", "gaussian", "zero", ""):
        raise op_error(op, f"noise must be 'uniform', 'gaussian' or 'zero', got {noise!r}")
    off = M.cast(to_tensor(offsets, op), F32)
    h, w = x.shape[1], x.shape[2]
    y, xo = off[:, 0], off[:, 1]
    # TF's kernel: normalized centred offsets span [-1, 1] and name the window's centre;
    # otherwise they are pixels (from the image centre when centred) naming its top-left corner
    if normalized:
        y, xo = y * float(h), xo * float(w)
        if centered:
            y, xo = y / 2.0 + (h - gh) / 2.0, xo / 2.0 + (w - gw) / 2.0
    elif centered:
        y, xo = y + h / 2.0, xo + w / 2.0
    top = M.cast(y, I32)  # C's truncation toward zero, as TF's kernel
    left = M.cast(xo, I32)
    rows = A.expand_dims(top, 1) + A.range(gh)
    cols = A.expand_dims(left, 1) + A.range(gw)
    img = M.cast(x, F32)
    out = einsum("nyh,nhwc->nywc", one_hot(rows, h, dtype=F32), img)
    out = einsum("nxw,nywc->nyxc", one_hot(cols, w, dtype=F32), out)
    if noise in ("zero", ""):
        return M.cast(out, x.dtype)
    inside = M.logical_and(
        A.expand_dims(A.expand_dims(M.logical_and(rows >= 0, rows < h), 2), 3),
        A.expand_dims(A.expand_dims(M.logical_and(cols >= 0, cols < w), 1), 3))
    shape = [x.shape[0] if x.shape[0] is not None else A.shape(x)[0], gh, gw, x.shape[3]]
    if noise == "uniform":
        lo = R.reduce_min(img, [1, 2, 3], keepdims=True)
        hi = R.reduce_max(img, [1, 2, 3], keepdims=True)
        fill = lo + RND.uniform(shape) * (hi - lo)
    else:
        mean = R.reduce_mean(img, [1, 2, 3], keepdims=True)
        std = M.sqrt(R.reduce_mean(M.square(img - mean), [1, 2, 3], keepdims=True))
        fill = mean + std * RND.normal(shape)
    return M.cast(M.where(inside, out, fill), x.dtype)

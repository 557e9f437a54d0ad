"""Bounding-box drawing and sampling (tf.image.draw_bounding_boxes,
sample_distorted_bounding_box and its stateless form), on masks so they compile."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import F32, I32
from tfx_core.framework.convert import constant_tensor
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import random_ops as RND
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.image.common import image_tensor
from tfx_core.ops.indexing_ops import gather

TensorLike = Any
# TF's kernel's colors when none are given (RGBA)
_DEFAULT_COLORS = [[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0.5, 0, 0.5, 1],
                   [0.5, 0.5, 0, 1], [0.5, 0, 0, 1], [0, 0, 0.5, 1], [0, 1, 1, 1], [1, 0, 1, 1]]


def draw_bounding_boxes(images: TensorLike, boxes: TensorLike, colors: TensorLike = None,
                        name: str | None = None) -> Tensor:
    """Paint the one-pixel outlines of the normalized [y1, x1, y2, x2] boxes (box i in
    colors[i % len(colors)], later boxes on top) into [batch, h, w, depth] float images
    (tf.image.draw_bounding_boxes). Corners map to pixels by truncating y * (h - 1); edges
    outside the image are not drawn, and boxes with y1 > y2 or x1 > x2 are skipped."""
    op = "draw_bounding_boxes"
    x = image_tensor(op, images, (4,), "images")
    if None in x.shape[1:]:
        raise op_error(op, f"images need known height, width and depth, got {x.type}")
    b = M.cast(to_tensor(boxes, op), F32)
    if b.ndim != 3 or b.shape[-1] != 4 or None in b.shape[1:]:
        raise op_error(op, f"boxes must be [batch, num_boxes, 4], got {b.type}")
    col = (constant_tensor(np.asarray(_DEFAULT_COLORS, np.float32)) if colors is None
           else M.cast(to_tensor(colors, op), F32))
    _, h, w, depth = x.shape
    if col.ndim != 2 or col.shape[1] is None or col.shape[1] < depth:
        raise op_error(op, f"colors must be [num_colors, >= depth ({depth})], got {col.type}")
    n = b.shape[1]
    if n == 0:
        return x
    top, bottom = M.cast(b[..., 0] * float(h - 1), I32), M.cast(b[..., 2] * float(h - 1), I32)
    left, right = M.cast(b[..., 1] * float(w - 1), I32), M.cast(b[..., 3] * float(w - 1), I32)
    ok = M.logical_and(M.logical_and(top <= bottom, left <= right),
                       M.logical_and(M.logical_and(top < h, bottom >= 0),
                                     M.logical_and(left < w, right >= 0)))

    def grid(v, axis):  # [batch, boxes] -> broadcastable against [batch, boxes, h, w]
        return A.expand_dims(A.expand_dims(v, 2), 3 - axis)

    rows = A.reshape(A.range(h), [1, 1, h, 1])
    cols = A.reshape(A.range(w), [1, 1, 1, w])
    in_rows = M.logical_and(rows >= grid(top, 0), rows <= grid(bottom, 0))
    in_cols = M.logical_and(cols >= grid(left, 1), cols <= grid(right, 1))
    edge = M.logical_or(
        M.logical_and(M.logical_or(M.equal(rows, grid(top, 0)), M.equal(rows, grid(bottom, 0))),
                      in_cols),
        M.logical_and(M.logical_or(M.equal(cols, grid(left, 1)), M.equal(cols, grid(right, 1))),
                      in_rows))
    edge = M.logical_and(edge, A.expand_dims(A.expand_dims(ok, 2), 3))
    # the last box painting a pixel wins: its number + 1, 0 where none does
    order = A.reshape(A.range(1, n + 1), [1, n, 1, 1])
    winner = R.reduce_max(M.where(edge, order + A.zeros_like(M.cast(edge, I32)),
                                  A.zeros_like(M.cast(edge, I32))), 1)
    palette = gather(col[:, :depth], M.floormod(M.maximum(winner - 1, 0), col.shape[0]))
    return M.where(A.expand_dims(winner > 0, -1), M.cast(palette, x.dtype), x)


def _sample_box(op: str, image_size: TensorLike, bounding_boxes: TensorLike, draw,
                min_object_covered: Any, aspect_ratio_range: Any, area_range: Any,
                max_attempts: Any, use_image_if_no_bounding_boxes: Any):
    """TF's SampleDistortedBoundingBox kernel on `max_attempts` attempts drawn at once: each
    draws an aspect ratio, a height between those of the smallest and largest allowed areas
    and an offset; the first attempt that fits the image and the area range and covers
    min_object_covered of some box wins, else the whole image."""
    size = M.cast(to_tensor(image_size, op), F32)
    if size.shape != (3,):
        raise op_error(op, f"image_size must be [height, width, channels], got {size.type}")
    boxes = M.cast(to_tensor(bounding_boxes, op), F32)
    if boxes.ndim != 3 or boxes.shape[-1] != 4 or boxes.shape[1] is None:
        raise op_error(op, f"bounding_boxes must be [batch, N, 4], got {boxes.type}")
    lo_ar, hi_ar = (float(v) for v in (aspect_ratio_range or (0.75, 1.33)))
    lo_area, hi_area = (float(v) for v in (area_range or (0.05, 1.0)))
    tries = static_int(100 if max_attempts is None else max_attempts, op, "max_attempts")
    cover = M.cast(to_tensor(min_object_covered, op), F32)
    if tries <= 0 or lo_ar <= 0 or hi_ar < lo_ar or not 0 < lo_area <= hi_area <= 1:
        raise op_error(op, f"need max_attempts > 0, 0 < aspect ratios ascending and 0 < area "
                       f"range ascending <= 1; got {tries}, {(lo_ar, hi_ar)}, "
                       f"{(lo_area, hi_area)}")
    h, w = size[0], size[1]
    flat = A.reshape(boxes, [-1, 4])
    if flat.shape[0] == 0:
        if not use_image_if_no_bounding_boxes:
            raise op_error(op, "no bounding boxes given and use_image_if_no_bounding_boxes is "
                           "False")
        flat = constant_tensor(np.array([[0.0, 0.0, 1.0, 1.0]], np.float32))
    u = draw([4, tries])
    aspect = lo_ar + u[0] * (hi_ar - lo_ar)
    min_area, max_area = lo_area * h * w, hi_area * h * w
    height = M.round(M.sqrt(min_area / aspect))
    max_h = M.round(M.sqrt(max_area / aspect))
    narrow = M.floor((w + 0.5 - 1e-7) / aspect)
    narrow = M.where(M.round(narrow * aspect) > w, narrow - 1.0, narrow)
    max_h = M.minimum(M.where(M.round(max_h * aspect) > w, narrow, max_h), h)
    height = M.minimum(height, max_h)
    height = height + M.floor(u[1] * (max_h - height + 1.0))
    width = M.round(height * aspect)
    small = width * height < min_area
    height = M.where(small, height + 1.0, height)
    width = M.where(small, M.round(height * aspect), width)
    area = width * height
    fits = M.logical_and(M.logical_and(area >= min_area, area <= max_area),
                         M.logical_and(M.logical_and(width <= w, height <= h),
                                       M.logical_and(width > 0.0, height > 0.0)))
    y = M.floor(u[2] * (h - height + 1.0))
    x = M.floor(u[3] * (w - width + 1.0))
    # the boxes in whole pixels, as the kernel's integer rectangles
    by0, bx0 = M.floor(flat[:, 0] * h), M.floor(flat[:, 1] * w)
    by1, bx1 = M.floor(flat[:, 2] * h), M.floor(flat[:, 3] * w)
    barea = (by1 - by0) * (bx1 - bx0)
    ih = M.maximum(M.minimum(A.expand_dims(y + height, 1), by1)
                   - M.maximum(A.expand_dims(y, 1), by0), 0.0)
    iw = M.maximum(M.minimum(A.expand_dims(x + width, 1), bx1)
                   - M.maximum(A.expand_dims(x, 1), bx0), 0.0)
    covered = M.logical_and(barea > 0.0, ih * iw >= cover * barea)
    ok = M.logical_and(fits, R.reduce_any(covered, 1))
    first = M.cast(R.argmax(M.cast(ok, I32), 0), I32)
    found = R.reduce_any(ok)
    pick = [M.where(found, gather(v, first), d)
            for v, d in ((y, 0.0 * h), (x, 0.0 * w), (height, h), (width, w))]
    y0, x0, hh, ww = pick
    begin = A.stack([M.cast(y0, I32), M.cast(x0, I32), A.zeros([], I32)])
    extent = A.stack([M.cast(hh, I32), M.cast(ww, I32), A.fill([], -1, I32)])
    bbox = A.reshape(A.stack([y0 / h, x0 / w, (y0 + hh) / h, (x0 + ww) / w]), [1, 1, 4])
    return begin, extent, bbox


def sample_distorted_bounding_box(image_size: TensorLike, bounding_boxes: TensorLike,
                                  seed: Any = 0, min_object_covered: Any = 0.1,
                                  aspect_ratio_range: Any = None, area_range: Any = None,
                                  max_attempts: Any = None,
                                  use_image_if_no_bounding_boxes: Any = None,
                                  name: str | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """(begin, size, bboxes): a random crop for tx.slice, covering min_object_covered of one of
    the boxes, with its aspect ratio and relative area in the given ranges
    (tf.image.sample_distorted_bounding_box)."""
    return _sample_box("sample_distorted_bounding_box", image_size, bounding_boxes,
                       lambda shape: RND.uniform(shape, 0.0, 1.0, seed=seed or None),
                       min_object_covered, aspect_ratio_range, area_range, max_attempts,
                       use_image_if_no_bounding_boxes)


def stateless_sample_distorted_bounding_box(image_size: TensorLike, bounding_boxes: TensorLike,
                                            seed: Any, min_object_covered: Any = 0.1,
                                            aspect_ratio_range: Any = None,
                                            area_range: Any = None, max_attempts: Any = None,
                                            use_image_if_no_bounding_boxes: Any = None,
                                            name: str | None = None
                                            ) -> tuple[Tensor, Tensor, Tensor]:
    """sample_distorted_bounding_box as a function of `seed`
    (tf.image.stateless_sample_distorted_bounding_box)."""
    return _sample_box("stateless_sample_distorted_bounding_box", image_size, bounding_boxes,
                       lambda shape: RND.stateless_uniform(shape, seed, 0.0, 1.0),
                       min_object_covered, aspect_ratio_range, area_range, max_attempts,
                       use_image_if_no_bounding_boxes)

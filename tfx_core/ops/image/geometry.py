"""Image geometry (tf.image.flip_*, rot90, transpose, crops and pads, extract_patches): slices,
reversals, transposes and pads of the input, so gradients come from those ops."""
from __future__ import annotations

import builtins
from typing import Any

from tfx_core.framework.operands import Tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops.arguments import op_error, static_int, static_ints
from tfx_core.ops.image.common import at_least_3d, image_tensor

TensorLike = Any


def flip_left_right(image: TensorLike) -> Tensor:
    """Reverse the width axis of a [h, w, c] or [b, h, w, c] image (tf.image.flip_left_right)."""
    x = image_tensor("flip_left_right", image)
    return A.reverse(x, [-2])


def flip_up_down(image: TensorLike) -> Tensor:
    """Reverse the height axis (tf.image.flip_up_down)."""
    x = image_tensor("flip_up_down", image)
    return A.reverse(x, [-3])


def transpose(image: TensorLike, name: str | None = None) -> Tensor:
    """Swap height and width (tf.image.transpose)."""
    x = image_tensor("transpose", image)
    return A.transpose(x, [1, 0, 2] if x.ndim == 3 else [0, 2, 1, 3])


def rot90(image: TensorLike, k: Any = 1, name: str | None = None) -> Tensor:
    """Rotate by k * 90 degrees counter-clockwise (tf.image.rot90); k must be known at trace
    time (odd k changes the output shape)."""
    x = image_tensor("rot90", image)
    turns = static_int(k, "rot90", "k") % 4
    h = x.ndim - 3
    if turns == 1:
        return transpose(A.reverse(x, [h + 1]))
    if turns == 2:
        return A.reverse(x, [h, h + 1])
    if turns == 3:
        return A.reverse(transpose(x), [h + 1])
    return x


def _hw(name: str, x: Tensor) -> tuple[int, int]:
    h, w = x.shape[-3], x.shape[-2]
    if h is None or w is None:
        raise op_error(name, f"image height and width must be known at trace time, got {x.type}")
    return h, w


def _box(name: str, *values: Any) -> list[int]:
    what = ("offset_height", "offset_width", "target_height", "target_width")
    return [static_int(v, name, w) for v, w in zip(values, what)]


def crop_to_bounding_box(image: TensorLike, offset_height: Any, offset_width: Any,
                         target_height: Any, target_width: Any) -> Tensor:
    """The [target_height, target_width] window at (offset_height, offset_width)
    (tf.image.crop_to_bounding_box)."""
    name = "crop_to_bounding_box"
    x = image_tensor(name, at_least_3d(name, image))
    oh, ow, th, tw = _box(name, offset_height, offset_width, target_height, target_width)
    h, w = _hw(name, x)
    for ok, msg in ((oh >= 0, "offset_height must be >= 0"), (ow >= 0, "offset_width must be >= 0"),
                    (th > 0, "target_height must be > 0"), (tw > 0, "target_width must be > 0"),
                    (h >= th + oh, "height must be >= target + offset"),
                    (w >= tw + ow, "width must be >= target + offset")):
        if not ok:
            raise op_error(name, f"{msg} (image {x.type}, offsets ({oh}, {ow}), target "
                           f"({th}, {tw}))")
    if x.ndim == 3:
        return x[oh:oh + th, ow:ow + tw, :]
    return x[:, oh:oh + th, ow:ow + tw, :]


def pad_to_bounding_box(image: TensorLike, offset_height: Any, offset_width: Any,
                        target_height: Any, target_width: Any) -> Tensor:
    """Zero-pad to [target_height, target_width], the image at (offset_height, offset_width)
    (tf.image.pad_to_bounding_box)."""
    name = "pad_to_bounding_box"
    x = image_tensor(name, at_least_3d(name, image))
    oh, ow, th, tw = _box(name, offset_height, offset_width, target_height, target_width)
    h, w = _hw(name, x)
    after_h, after_w = th - oh - h, tw - ow - w
    for ok, msg in ((oh >= 0, "offset_height must be >= 0"), (ow >= 0, "offset_width must be >= 0"),
                    (after_h >= 0, "height must be <= target - offset"),
                    (after_w >= 0, "width must be <= target - offset")):
        if not ok:
            raise op_error(name, f"{msg} (image {x.type}, offsets ({oh}, {ow}), target "
                           f"({th}, {tw}))")
    pads = [[oh, after_h], [ow, after_w], [0, 0]]
    return A.pad(x, pads if x.ndim == 3 else [[0, 0], *pads])


def resize_with_crop_or_pad(image: TensorLike, target_height: Any, target_width: Any) -> Tensor:
    """Center-crop and/or zero-pad to [target_height, target_width]
    (tf.image.resize_with_crop_or_pad)."""
    name = "resize_with_crop_or_pad"
    x = image_tensor(name, at_least_3d(name, image))
    th = static_int(target_height, name, "target_height")
    tw = static_int(target_width, name, "target_width")
    if th <= 0 or tw <= 0:
        raise op_error(name, f"target size must be > 0, got ({th}, {tw})")
    h, w = _hw(name, x)
    dh, dw = th - h, tw - w
    cropped = crop_to_bounding_box(x, builtins.max(-dh // 2, 0), builtins.max(-dw // 2, 0),
                                   builtins.min(th, h), builtins.min(tw, w))
    return pad_to_bounding_box(cropped, builtins.max(dh // 2, 0), builtins.max(dw // 2, 0),
                               th, tw)


def central_crop(image: TensorLike, central_fraction: Any) -> Tensor:
    """The central `central_fraction` of height and width (tf.image.central_crop)."""
    name = "central_crop"
    x = image_tensor(name, image)
    at_least_3d(name, x)
    frac = float(central_fraction)
    if frac <= 0.0 or frac > 1.0:
        raise op_error(name, f"central_fraction must be within (0, 1], got {frac}")
    if frac == 1.0:
        return x
    h, w = _hw(name, x)
    sh, sw = int((h - h * frac) / 2), int((w - w * frac) / 2)
    if x.ndim == 3:
        return x[sh:h - sh, sw:w - sw, :]
    return x[:, sh:h - sh, sw:w - sw, :]


def _same_pads(n: int, k: int, s: int) -> tuple[int, int, int]:
    out = -(-n // s)
    total = builtins.max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2, out


def extract_patches(images: TensorLike, sizes: Any, strides: Any, rates: Any, padding: str,
                    name: str | None = None) -> Tensor:
    """Patches of sizes[1:3] (taps `rates` apart), every `strides` pixels, each flattened in
    (row, col, depth) order into the last dim (tf.image.extract_patches)."""
    op = "extract_patches"
    x = image_tensor(op, images, (4,), "images")
    if None in x.shape[1:]:
        raise op_error(op, f"images rows, cols and depth must be known at trace time, got "
                       f"{x.type}")
    vals = {}
    for what, v in (("sizes", sizes), ("strides", strides), ("rates", rates)):
        vals[what] = static_ints(v, op, what)
        if len(vals[what]) != 4 or vals[what][0] != 1 or vals[what][3] != 1 or \
                builtins.min(vals[what]) < 1:
            raise op_error(op, f"{what} must be [1, rows, cols, 1] with positive entries, got "
                           f"{list(vals[what])}")
    pad = str(padding).upper()
    if pad not in ("VALID", "SAME"):
        raise op_error(op, f"padding must be 'VALID' or 'SAME', got {padding!r}")
    ks, st, rt = vals["sizes"], vals["strides"], vals["rates"]
    pads, outs = [[0, 0]], []
    for d in (1, 2):
        n, k, s = x.shape[d], ks[d] + (ks[d] - 1) * (rt[d] - 1), st[d]
        if pad == "SAME":
            lo, hi, out = _same_pads(n, k, s)
        else:
            lo, hi, out = 0, 0, (n - k) // s + 1 if n >= k else 0
        pads.append([lo, hi])
        outs.append(out)
    x = A.pad(x, [*pads, [0, 0]])
    depth = x.shape[3]
    if 0 in outs:
        if x.shape[0] is None:
            raise op_error(op, f"no patches fit in {x.type}, and the batch size is unknown")
        return A.zeros([x.shape[0], *outs, ks[1] * ks[2] * depth], x.dtype)
    taps = []
    for i in builtins.range(ks[1]):
        for j in builtins.range(ks[2]):
            r0, c0 = i * rt[1], j * rt[2]
            taps.append(x[:, r0:r0 + (outs[0] - 1) * st[1] + 1:st[1],
                          c0:c0 + (outs[1] - 1) * st[2] + 1:st[2], :])
    out = A.stack(taps, axis=3)
    return A.reshape(out, [-1, *outs, len(taps) * depth])

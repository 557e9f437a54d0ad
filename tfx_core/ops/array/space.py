"""Space/batch block moves (space_to_batch_nd, batch_to_space) and extract_volume_patches."""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from compiler.ir.types import I32
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as AO
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import concrete_value, op_error, static_ints

TensorLike = Any


def _pairs(name: str, v: Any, m: int, what: str) -> list[tuple[int, int]]:
    a = concrete_value(v, name, what) if isinstance(v, Tensor) else np.asarray(v)
    flat = static_ints(a.reshape(-1) if a.size else [], name, what)
    if len(flat) != 2 * m or builtins.any(d < 0 for d in flat):
        raise op_error(name, f"{what} must be {m} non-negative [start, end] pairs, got "
                       f"{a.tolist()}")
    return list(zip(flat[0::2], flat[1::2]))


def _blocks(name: str, x: Tensor, block_shape: Any) -> list[int]:
    b = list(static_ints(block_shape, name, "block_shape"))
    if not b or builtins.any(d < 1 for d in b) or len(b) >= x.ndim:
        raise op_error(name, f"block_shape must be 1..{x.ndim - 1} ints >= 1 for {x.type}, "
                       f"got {b}")
    if None in x.shape[:len(b) + 1]:
        raise op_error(name, f"needs the batch and spatial dims of {x.type} known at trace time")
    return b


def space_to_batch_nd(input: TensorLike, block_shape: Any, paddings: Any,  # noqa: A002
                      name: str | None = None) -> Tensor:
    """Zero-pad the M spatial dims after the batch dim, cut them into blocks of `block_shape`
    and move each block offset into the batch dim (tf.space_to_batch_nd)."""
    x = to_tensor(input, "space_to_batch_nd")
    b = _blocks("space_to_batch_nd", x, block_shape)
    m = len(b)
    pads = _pairs("space_to_batch_nd", paddings, m, "paddings")
    x = AO.pad(x, [[0, 0], *pads] + [[0, 0]] * (x.ndim - 1 - m))
    n, spatial, rest = x.shape[0], x.shape[1:m + 1], list(x.shape[m + 1:])
    for i, (d, k) in enumerate(zip(spatial, b)):
        if d % k:
            raise op_error("space_to_batch_nd", f"padded spatial dim {i} ({d}) must be a "
                           f"multiple of block_shape[{i}] = {k}")
    split = [n] + [v for d, k in zip(spatial, b) for v in (d // k, k)] + rest
    x = AO.reshape(x, split)
    perm = [2 + 2 * i for i in builtins.range(m)] + [0] + [1 + 2 * i for i in builtins.range(m)]
    perm += list(builtins.range(1 + 2 * m, 1 + 2 * m + len(rest)))
    x = AO.transpose(x, perm)
    return AO.reshape(x, [n * int(np.prod(b))] + [d // k for d, k in zip(spatial, b)] + rest)


def space_to_batch(input: TensorLike, block_shape: Any, paddings: Any,  # noqa: A002
                   name: str | None = None) -> Tensor:
    """tf.space_to_batch (TF 2): the same as space_to_batch_nd."""
    return space_to_batch_nd(input, block_shape, paddings)


def batch_to_space(input: TensorLike, block_shape: Any, crops: Any,  # noqa: A002
                   name: str | None = None) -> Tensor:
    """The inverse of space_to_batch_nd: move batch blocks back into the M spatial dims, then
    crop (tf.batch_to_space, TF 2)."""
    x = to_tensor(input, "batch_to_space")
    b = _blocks("batch_to_space", x, block_shape)
    m = len(b)
    cr = _pairs("batch_to_space", crops, m, "crops")
    n, spatial, rest = x.shape[0], list(x.shape[1:m + 1]), list(x.shape[m + 1:])
    nb = int(np.prod(b))
    if n % nb:
        raise op_error("batch_to_space", f"the batch dim {n} of {x.type} must be a multiple of "
                       f"prod(block_shape) = {nb}")
    x = AO.reshape(x, b + [n // nb] + spatial + rest)
    perm = [m]
    for i in builtins.range(m):
        perm += [m + 1 + i, i]
    perm += list(builtins.range(2 * m + 1, 2 * m + 1 + len(rest)))
    x = AO.transpose(x, perm)
    full = [d * k for d, k in zip(spatial, b)]
    x = AO.reshape(x, [n // nb] + full + rest)
    for i, ((lo, hi), d) in enumerate(zip(cr, full)):
        if lo + hi > d:
            raise op_error("batch_to_space", f"crops {[lo, hi]} of spatial dim {i} exceed its "
                           f"size {d}")
    begin = [0] + [lo for lo, _ in cr] + [0] * len(rest)
    size = [-1] + [d - lo - hi for (lo, hi), d in zip(cr, full)] + [-1] * len(rest)
    return AO.slice(x, begin, size)


def required_space_to_batch_paddings(input_shape: TensorLike, block_shape: TensorLike,
                                     base_paddings: TensorLike = None,
                                     name: str | None = None) -> tuple[Tensor, Tensor]:
    """(paddings, crops) that make input_shape (+ base_paddings) divisible by block_shape, the
    extra padding going at the end (tf.required_space_to_batch_paddings)."""
    shape = M.cast(to_tensor(input_shape, "required_space_to_batch_paddings"), I32)
    block = M.cast(to_tensor(block_shape, "required_space_to_batch_paddings"), I32)
    if shape.ndim != 1 or block.shape != shape.shape:
        raise op_error("required_space_to_batch_paddings", f"input_shape and block_shape must "
                       f"be vectors of one length, got {shape.type} and {block.type}")
    m = shape.shape[0]
    base = (AO.zeros([m, 2], I32) if base_paddings is None else
            M.cast(to_tensor(base_paddings, "required_space_to_batch_paddings"), I32))
    start, end = base[:, 0], base[:, 1]
    full = M.add(M.add(shape, start), end)
    extra = M.floormod(M.subtract(block, M.floormod(full, block)), block)
    paddings = AO.stack([start, M.add(end, extra)], axis=1)
    crops = AO.stack([AO.zeros_like(extra), extra], axis=1)
    return paddings, crops


def _same_pads(n: int, k: int, s: int) -> tuple[int, int, int]:
    out = -(-n // s)
    total = builtins.max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2, out


def extract_volume_patches(input: TensorLike, ksizes: Any, strides: Any,  # noqa: A002
                           padding: str, name: str | None = None) -> Tensor:
    """Patches of ksizes[1:4] from a [batch, planes, rows, cols, depth] volume, each flattened
    (planes, rows, cols, depth order) into the last dim (tf.extract_volume_patches)."""
    x = to_tensor(input, "extract_volume_patches")
    if x.ndim != 5 or None in x.shape:
        raise op_error("extract_volume_patches", f"input must be a 5-D tensor of known shape, "
                       f"got {x.type}")
    ks = static_ints(ksizes, "extract_volume_patches", "ksizes")
    st = static_ints(strides, "extract_volume_patches", "strides")
    for what, v in (("ksizes", ks), ("strides", st)):
        if len(v) != 5 or v[0] != 1 or v[4] != 1 or builtins.min(v) < 1:
            raise op_error("extract_volume_patches", f"{what} must be [1, p, r, c, 1] with "
                           f"positive entries, got {list(v)}")
    pad = str(padding).upper()
    if pad not in ("VALID", "SAME"):
        raise op_error("extract_volume_patches", f"padding must be 'VALID' or 'SAME', got "
                       f"{padding!r}")
    pads, outs = [[0, 0]], []
    for d in builtins.range(1, 4):
        n, k, s = x.shape[d], ks[d], st[d]
        if pad == "SAME":
            lo, hi, out = _same_pads(n, k, s)
        else:
            lo, hi, out = 0, 0, (n - k) // s + 1 if n >= k else 0
        pads.append([lo, hi])
        outs.append(out)
    x = AO.pad(x, pads + [[0, 0]])
    if 0 in outs:
        return AO.zeros([x.shape[0], *outs, int(np.prod(ks)) * x.shape[4]], x.dtype)
    taps = []
    for i in builtins.range(ks[1]):
        for j in builtins.range(ks[2]):
            for k in builtins.range(ks[3]):
                taps.append(x[:, i:i + (outs[0] - 1) * st[1] + 1:st[1],
                              j:j + (outs[1] - 1) * st[2] + 1:st[2],
                              k:k + (outs[2] - 1) * st[3] + 1:st[3], :])
    out = AO.stack(taps, axis=4)
    return AO.reshape(out, [x.shape[0], *outs, len(taps) * x.shape[4]])


__all__ = [
    "batch_to_space", "extract_volume_patches", "required_space_to_batch_paddings",
    "space_to_batch", "space_to_batch_nd",
]

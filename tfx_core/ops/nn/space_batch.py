"""Moving blocks of space into depth and back, and running an op through space_to_batch (how
TF runs dilated ops): tf.nn.space_to_depth, depth_to_space, with_space_to_batch; tf.nn's
space_to_batch is tf.space_to_batch (ops/array/space.py)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops.arguments import op_error, static_int, static_ints
from tfx_core.ops.array.space import batch_to_space, space_to_batch, space_to_batch_nd
from tfx_core.ops.nn.checks import static_dims

TensorLike = Any


def _block_format(name: str, x: Tensor, block_size: Any, data_format: str) -> tuple[int, bool]:
    if x.ndim != 4:
        raise op_error(name, f"input must be 4-D, got {x.type}")
    if data_format not in ("NHWC", "NCHW"):
        raise op_error(name, f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    bs = static_int(block_size, name, "block_size")
    if bs < 2:
        raise op_error(name, f"block_size must be >= 2, got {bs}")
    return bs, data_format == "NCHW"


def space_to_depth(input: TensorLike, block_size: Any, data_format: str = "NHWC",  # noqa: A002
                   name: str | None = None) -> Tensor:
    """Each block_size x block_size spatial block becomes depth: channel (dy * bs + dx) * C + c
    (tf.nn.space_to_depth)."""
    name_ = "space_to_depth"
    x = to_tensor(input, name_)
    bs, cf = _block_format(name_, x, block_size, data_format)
    n, c, h, w = (static_dims(name_, x)[i] for i in ((0, 1, 2, 3) if cf else (0, 3, 1, 2)))
    if h % bs or w % bs:
        raise op_error(name_, f"height {h} and width {w} must be divisible by block_size {bs}"
                       f" ({x.type})")
    if cf:
        x = A.transpose(A.reshape(x, [n, c, h // bs, bs, w // bs, bs]), [0, 3, 5, 1, 2, 4])
        return A.reshape(x, [n, bs * bs * c, h // bs, w // bs])
    x = A.transpose(A.reshape(x, [n, h // bs, bs, w // bs, bs, c]), [0, 1, 3, 2, 4, 5])
    return A.reshape(x, [n, h // bs, w // bs, bs * bs * c])


def depth_to_space(input: TensorLike, block_size: Any, data_format: str = "NHWC",  # noqa: A002
                   name: str | None = None) -> Tensor:
    """The inverse of space_to_depth: depth moves into block_size x block_size spatial blocks
    (tf.nn.depth_to_space)."""
    name_ = "depth_to_space"
    x = to_tensor(input, name_)
    bs, cf = _block_format(name_, x, block_size, data_format)
    n, c, h, w = (static_dims(name_, x)[i] for i in ((0, 1, 2, 3) if cf else (0, 3, 1, 2)))
    if c % (bs * bs):
        raise op_error(name_, f"depth {c} must be divisible by block_size**2 = {bs * bs} "
                       f"({x.type})")
    c2 = c // (bs * bs)
    if cf:
        x = A.transpose(A.reshape(x, [n, bs, bs, c2, h, w]), [0, 3, 4, 1, 5, 2])
        return A.reshape(x, [n, c2, h * bs, w * bs])
    x = A.transpose(A.reshape(x, [n, h, w, bs, bs, c2]), [0, 1, 3, 2, 4, 5])
    return A.reshape(x, [n, h * bs, w * bs, c2])


def with_space_to_batch(input: TensorLike, dilation_rate: Any, padding: str,  # noqa: A002
                        op: Callable, filter_shape: Any = None, spatial_dims: Any = None,
                        data_format: str | None = None) -> Tensor:
    """op(input, num_spatial_dims, padding) run with dilation_rate as TF does it: SAME pads the
    dilated filter's span with zeros, space_to_batch by the rate, op with "VALID", then
    batch_to_space and crop (tf.nn.with_space_to_batch)."""
    name_ = "with_space_to_batch"
    x = to_tensor(input, name_)
    rate = static_ints(dilation_rate, name_, "dilation_rate")
    m = len(rate)
    if min(rate, default=1) < 1:
        raise op_error(name_, f"dilation_rate must be positive, got {list(rate)}")
    if padding not in ("SAME", "VALID"):
        raise op_error(name_, f"padding must be 'SAME' or 'VALID', got {padding!r}")
    start = 2 if data_format is not None and data_format.startswith("NC") else 1
    dims = list(range(start, start + m)) if spatial_dims is None else \
        sorted(static_ints(spatial_dims, name_, "spatial_dims"))
    if len(dims) != m or dims[0] < 1 or dims[-1] >= x.ndim:
        raise op_error(name_, f"spatial_dims {dims} do not fit dilation_rate {list(rate)} and "
                       f"{x.type}")
    if all(r == 1 for r in rate):
        return op(x, m, padding)
    if padding == "SAME":
        if filter_shape is None:
            raise op_error(name_, "filter_shape is required for padding 'SAME'")
        ks = static_ints(filter_shape, name_, "filter_shape")
        span = [(k - 1) * r for k, r in zip(ks, rate)]
        base = [(s // 2, s - s // 2) for s in span]
    else:
        base = [(0, 0)] * m
    shape = static_dims(name_, x)
    # TF's required_space_to_batch_paddings: extra end padding makes each dim divide its rate.
    extra = [(r - (shape[d] + lo + hi) % r) % r for d, r, (lo, hi) in zip(dims, rate, base)]
    # Blocks of 1 on the non-spatial dims between the batch and the last spatial dim.
    blocks, pads, crops = [], [], []
    for d in range(1, dims[-1] + 1):
        if d in dims:
            i = dims.index(d)
            blocks.append(rate[i])
            pads.append((base[i][0], base[i][1] + extra[i]))
            crops.append((0, extra[i]))
        else:
            blocks.append(1)
            pads.append((0, 0))
            crops.append((0, 0))
    y = op(space_to_batch_nd(x, blocks, pads), m, "VALID")
    return batch_to_space(y, blocks, crops)


__all__ = ["depth_to_space", "space_to_batch", "space_to_depth", "with_space_to_batch"]

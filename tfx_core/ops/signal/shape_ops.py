"""tf.signal.frame and tf.signal.overlap_and_add: slicing a signal into (overlapping) frames and
summing frames back into a signal. Both need the framed axis's length at trace time."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import indexing_ops as X
from tfx_core.ops.arguments import op_error, static_int

TensorLike = Any


def known_dim(x: Tensor, axis: int, name: str) -> int:
    """x.shape[axis], which the signal functions need at trace time."""
    d = x.shape[axis]
    if d is None:
        raise op_error(name, f"needs the length of axis {axis} known at trace time, got "
                       f"{x.type}", TypeError)
    return d


def normalize_axis(axis: Any, rank: int, name: str) -> int:
    a = static_int(axis, name, "axis")
    if not -rank <= a < rank:
        raise op_error(name, f"axis {a} is out of range for a rank-{rank} signal", IndexError)
    return a % rank


def positive_int(v: Any, name: str, what: str) -> int:
    n = static_int(v, name, what)
    if n <= 0:
        raise op_error(name, f"{what} must be positive, got {n}")
    return n


def frame(signal: TensorLike, frame_length: Any, frame_step: Any, pad_end: bool = False,
          pad_value: Any = 0, axis: Any = -1, name: str | None = None) -> Tensor:
    """Axis `axis` of `signal` becomes [num_frames, frame_length]: windows of `frame_length`
    starting every `frame_step` samples (tf.signal.frame). With `pad_end`, windows running past
    the end are padded with `pad_value` (num_frames = ceil(N / frame_step)); otherwise only
    windows that fit are kept (num_frames = max(0, 1 + (N - frame_length) // frame_step))."""
    x = to_tensor(signal, "frame")
    if x.ndim < 1:
        raise op_error("frame", f"signal must have rank >= 1, got {x.type}")
    fl = static_int(frame_length, "frame", "frame_length")
    step = positive_int(frame_step, "frame", "frame_step")
    if fl < 0:
        raise op_error("frame", f"frame_length must be non-negative, got {fl}")
    ax = normalize_axis(axis, x.ndim, "frame")
    n = known_dim(x, ax, "frame")
    if pad_end:
        num = -(-n // step)
        extra = max(0, fl + step * (num - 1) - n)
        if extra:
            pads = [[0, 0]] * x.ndim
            pads[ax] = [0, extra]
            x = A.pad(x, pads, constant_values=to_tensor(pad_value, "frame", x.dtype))
    else:
        num = max(0, 1 + (n - fl) // step)
    if num == 0 or fl == 0:
        shape = list(x.shape)
        shape[ax:ax + 1] = [num, fl]
        return A.zeros(shape, x.dtype)
    return _gather_frames(x, ax, num, fl, step)


def _gather_frames(x: Tensor, ax: int, num: int, fl: int, step: int) -> Tensor:
    """Frames as one gather of subframes (TF's scheme): cut the axis into blocks of
    g = gcd(frame_length, frame_step) samples, so frame f is blocks f*step/g ... + fl/g - 1.
    The index table is [num_frames, frame_length / g] and each gathered slice g samples long,
    which keeps the constant small and the gradient (a scatter-add of slices) fast."""
    g = math.gcd(fl, step)
    # (-1: the one unknown dim a reshape may infer, and "to the end" for a slice)
    outer = [-1 if d is None else d for d in x.shape[:ax]]
    inner = [-1 if d is None else d for d in x.shape[ax + 1:]]
    if x.shape.count(None) > 1:
        g = 1  # no reshape can infer two unknown dims: gather single samples instead
    n_sub = x.shape[ax] // g
    if g > 1:
        if n_sub * g != x.shape[ax]:
            x = A.slice(x, [0] * x.ndim, outer + [n_sub * g] + inner)
        x = A.reshape(x, outer + [n_sub, g] + inner)
    idx = (np.arange(num, dtype=np.int32)[:, None] * (step // g)
           + np.arange(fl // g, dtype=np.int32)[None, :])
    frames = X.gather(x, Tensor.from_numpy(idx), axis=ax)  # [..., num, fl/g, (g,) ...]
    if g == 1:
        return frames
    return A.reshape(frames, outer + [num, fl] + inner)


def overlap_and_add(signal: TensorLike, frame_step: Any, name: str | None = None) -> Tensor:
    """Sum `[..., frames, frame_length]` frames placed every `frame_step` samples into a
    `[..., frame_length + frame_step * (frames - 1)]` signal (tf.signal.overlap_and_add)."""
    x = to_tensor(signal, "overlap_and_add")
    if x.ndim < 2:
        raise op_error("overlap_and_add", f"signal must have rank >= 2, got {x.type}")
    if isinstance(frame_step, Tensor) and not frame_step.dtype.is_integer:
        raise op_error("overlap_and_add", f"frame_step must be an integer, got {frame_step.type}",
                       TypeError)
    step = positive_int(frame_step, "overlap_and_add", "frame_step")
    frames = known_dim(x, x.ndim - 2, "overlap_and_add")
    fl = known_dim(x, x.ndim - 1, "overlap_and_add")
    outer = list(x.shape[:-2])
    if outer.count(None) > 1:
        raise op_error("overlap_and_add", f"needs at most one unknown outer dim, got {x.type}",
                       TypeError)
    out_len = fl + step * (frames - 1)
    if (frames == 0 or fl == 0 or 0 in outer) and None not in outer:
        return A.zeros(outer + [max(out_len, 0)], x.dtype)  # no samples (no -1 reshapes)
    outer = [-1 if d is None else d for d in outer]  # (reshape infers the unknown one)
    if step == fl:
        return A.reshape(x, outer + [out_len])
    # Cut each frame into `segments` blocks of frame_step samples; block j of frame f lands on
    # output block f + j, so shifting block column j down by j frames and summing the columns
    # adds every overlap (a few pads and adds; gradients are slices).
    segments = -(-fl // step)
    x = A.pad(A.reshape(x, [-1, frames, fl]), [[0, 0], [0, 0], [0, segments * step - fl]])
    x = A.reshape(x, [-1, frames, segments, step])
    total = None
    for j in range(segments):
        col = A.reshape(A.slice(x, [0, 0, j, 0], [-1, frames, 1, step]), [-1, frames, step])
        col = A.pad(col, [[0, 0], [j, segments - 1 - j], [0, 0]])
        total = col if total is None else total + col
    total = A.reshape(total, [-1, (frames + segments - 1) * step])
    if out_len != (frames + segments - 1) * step:
        total = A.slice(total, [0, 0], [-1, max(out_len, 0)])
    return A.reshape(total, outer + [max(out_len, 0)])

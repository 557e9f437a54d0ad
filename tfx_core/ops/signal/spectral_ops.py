"""tf.signal.stft / inverse_stft / inverse_stft_window_fn and mdct / inverse_mdct: framing,
windowing and (I)RFFT or DCT-IV per frame, then overlap-add on the way back."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.signal import fft_ops as F
from tfx_core.ops.signal.dct_ops import dct_internal
from tfx_core.ops.signal.shape_ops import frame, known_dim, overlap_and_add, positive_int
from tfx_core.ops.signal.window_ops import hann_window, vorbis_window

TensorLike = Any


def enclosing_power_of_two(n: int) -> int:
    """TF's default fft_length: 2 ** ceil(log(n) / log(2)), with TF's float64 rounding."""
    return int(2 ** np.ceil(np.log(n) / np.log(2.0)))


def _real_signal(x: TensorLike, name: str, rank: int) -> Tensor:
    t = to_tensor(x, name)
    if t.dtype.name not in ("float32", "float64"):
        raise op_error(name, f"dtype must be a floating point type (float32 or float64), got "
                       f"{t.type}")
    if t.ndim < rank:
        raise op_error(name, f"needs rank >= {rank}, got {t.type}")
    return t


def _fft_length(fft_length: Any, frame_length: int, name: str) -> int:
    if fft_length is None:
        return enclosing_power_of_two(frame_length)
    return positive_int(fft_length, name, "fft_length")


def stft(signals: TensorLike, frame_length: Any, frame_step: Any, fft_length: Any = None,
         window_fn: Callable | None = hann_window, pad_end: bool = False,
         name: str | None = None) -> Tensor:
    """The short-time Fourier transform: frames of `frame_length` every `frame_step` samples,
    times window_fn(frame_length), then rfft of fft_length (default: the enclosing power of
    two): [..., frames, fft_length // 2 + 1] (tf.signal.stft)."""
    x = _real_signal(signals, "stft", 1)
    fl = positive_int(frame_length, "stft", "frame_length")
    n = _fft_length(fft_length, fl, "stft")
    frames = frame(x, fl, frame_step, pad_end=pad_end)
    if window_fn is not None:
        frames = frames * to_tensor(window_fn(fl, dtype=frames.dtype), "stft", frames.dtype)
    return F.rfft(frames, [n])


def inverse_stft_window_fn(frame_step: Any, forward_window_fn: Callable = hann_window,
                           name: str | None = None) -> Callable:
    """A window_fn for inverse_stft that undoes `forward_window_fn` under overlap-add: the
    forward window divided by the sum of the squared windows overlapping each sample (0 where
    that sum is 0) (tf.signal.inverse_stft_window_fn)."""
    step = positive_int(frame_step, "inverse_stft_window_fn", "frame_step")

    def inverse_window(frame_length: Any, dtype: Any) -> Tensor:
        fl = static_int(frame_length, "inverse_stft_window_fn", "frame_length")
        fwd = to_tensor(forward_window_fn(fl, dtype=dtype), "inverse_stft_window_fn")
        overlaps = -(-fl // step)
        denom = A.pad(M.square(fwd), [[0, overlaps * step - fl]])
        denom = R.reduce_sum(A.reshape(denom, [overlaps, step]), 0, keepdims=True)
        denom = A.reshape(A.tile(denom, [overlaps, 1]), [overlaps * step])[:fl]
        zero = A.zeros_like(fwd)
        safe = M.where(M.equal(denom, zero), A.ones_like(denom), denom)
        return M.where(M.equal(denom, zero), zero, fwd / safe)

    return inverse_window


def inverse_stft(stfts: TensorLike, frame_length: Any, frame_step: Any, fft_length: Any = None,
                 window_fn: Callable | None = hann_window, name: str | None = None) -> Tensor:
    """The inverse of stft: irfft of each [..., frames, bins] frame, cropped or zero-padded to
    frame_length, times window_fn(frame_length), overlap-added every frame_step samples. Pass
    inverse_stft_window_fn(frame_step) as window_fn for perfect reconstruction
    (tf.signal.inverse_stft)."""
    s = to_tensor(stfts, "inverse_stft")
    if not s.dtype.is_complex:
        raise op_error("inverse_stft", f"IRFFT requires complex64 or complex128 inputs, got "
                       f"{s.type}")
    if s.ndim < 2:
        raise op_error("inverse_stft", f"needs rank >= 2, got {s.type}")
    fl = positive_int(frame_length, "inverse_stft", "frame_length")
    n = _fft_length(fft_length, fl, "inverse_stft")
    frames = F.resize_axes(F.irfft(s, [n]), [s.ndim - 1], [fl])
    if window_fn is not None:
        rdt = frames.dtype
        frames = frames * to_tensor(window_fn(fl, dtype=rdt), "inverse_stft", rdt)
    return overlap_and_add(frames, frame_step)


def mdct(signals: TensorLike, frame_length: Any, window_fn: Callable | None = vorbis_window,
         pad_end: bool = False, norm: str | None = None, name: str | None = None) -> Tensor:
    """The modified DCT of frames of `frame_length` (a multiple of 4) every frame_length / 2
    samples: [..., frames, frame_length // 2] (tf.signal.mdct)."""
    x = _real_signal(signals, "mdct", 1)
    fl = positive_int(frame_length, "mdct", "frame_length")
    if fl % 4:
        raise op_error("mdct", f"the frame length must be a multiple of 4, got {fl}")
    if norm not in (None, "ortho"):
        raise op_error("mdct", f"unknown normalization: expected None or 'ortho', got {norm!r}")
    frames = frame(x, fl, fl // 2, pad_end=pad_end)
    if window_fn is not None:
        frames = frames * to_tensor(window_fn(fl, dtype=frames.dtype), "mdct", frames.dtype)
    else:
        frames = frames * to_tensor(1.0 / np.sqrt(2.0), "mdct", frames.dtype)
    q0, q1, q2, q3 = A.split(frames, 4, axis=-1)
    first = -A.reverse(q2, [-1]) - q3
    second = q0 - A.reverse(q1, [-1])
    return dct_internal(A.concat([first, second], -1), 4, None, norm)


def inverse_mdct(mdcts: TensorLike, window_fn: Callable | None = vorbis_window,
                 norm: str | None = None, name: str | None = None) -> Tensor:
    """The inverse of mdct: DCT-IV of each [..., frames, half] frame, unfolded to 2 * half
    samples, windowed and overlap-added every half samples (tf.signal.inverse_mdct)."""
    x = _real_signal(mdcts, "inverse_mdct", 2)
    if norm not in (None, "ortho"):
        raise op_error("inverse_mdct", f"unknown normalization: expected None or 'ortho', got "
                       f"{norm!r}")
    half = known_dim(x, x.ndim - 1, "inverse_mdct")
    if norm is None:
        y = dct_internal(x, 4, None, None) * to_tensor(0.5 / half, "inverse_mdct", x.dtype)
    else:
        y = dct_internal(x, 4, None, "ortho")
    h0, h1 = A.split(y, 2, axis=-1)
    frames = A.concat([h1, -A.reverse(h1, [-1]), -A.reverse(h0, [-1]), -h0], -1)
    if window_fn is not None:
        frames = frames * to_tensor(window_fn(2 * half, dtype=x.dtype), "inverse_mdct", x.dtype)
    else:
        frames = frames * to_tensor(1.0 / np.sqrt(2.0), "inverse_mdct", x.dtype)
    return overlap_and_add(frames, half)

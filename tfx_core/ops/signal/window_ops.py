"""tf.signal's window functions (hann, hamming, kaiser, kaiser_bessel_derived, vorbis).

A window depends only on its (trace-time) length, so it is computed once in float64 on the host
and becomes a constant of the requested dtype: no ops run, eagerly or compiled.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import F32, DType
from tfx_core.framework.dtypes import as_dtype
from tfx_core.framework.operands import Tensor
from tfx_core.ops.arguments import op_error, static_int


def window_args(name: str, window_length: Any, dtype: Any) -> tuple[int, DType]:
    """The static length and the floating dtype of a window (TF: ValueError otherwise)."""
    dt = as_dtype(dtype)
    if not dt.is_floating:
        raise op_error(name, f"dtype must be a floating point type, got {dt.name}")
    n = static_int(window_length, name, "window_length")
    if n < 0:
        raise op_error(name, f"window_length must be non-negative, got {n}")
    return n, dt


def window_constant(w: np.ndarray, dtype: DType) -> Tensor:
    return Tensor.from_numpy(np.asarray(w, np.float64).astype(dtype.np_dtype))


def _raised_cosine(name: str, window_length: Any, periodic: Any, dtype: Any, a: float,
                   b: float) -> Tensor:
    n, dt = window_args(name, window_length, dtype)
    if n == 1:
        return window_constant(np.ones(1), dt)
    # periodic: the window of length n + 1 without its last sample (only for even lengths, as TF)
    periodic = bool(np.asarray(periodic.numpy() if isinstance(periodic, Tensor) else periodic))
    denom = n - 1 + (1 if periodic and n % 2 == 0 else 0)
    k = np.arange(n, dtype=np.float64)
    return window_constant(a - b * np.cos(2 * np.pi * k / denom), dt)


def hann_window(window_length: Any, periodic: Any = True, dtype: Any = F32,
                name: str | None = None) -> Tensor:
    """0.5 - 0.5 cos(2 pi k / (N - 1)) (periodic and N even: / N) (tf.signal.hann_window)."""
    return _raised_cosine("hann_window", window_length, periodic, dtype, 0.5, 0.5)


def hamming_window(window_length: Any, periodic: Any = True, dtype: Any = F32,
                   name: str | None = None) -> Tensor:
    """0.54 - 0.46 cos(2 pi k / (N - 1)) (periodic and N even: / N) (tf.signal.hamming_window)."""
    return _raised_cosine("hamming_window", window_length, periodic, dtype, 0.54, 0.46)


def _i0e(x: np.ndarray) -> np.ndarray:
    """exp(-x) I0(x) for x >= 0: numpy's i0 below 700 (where it still fits in float64), the
    asymptotic series above (its sixth term is < 1e-15 there)."""
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    small = x < 700.0
    out[small] = np.i0(x[small]) * np.exp(-x[small])
    big = x[~small]
    t = 1.0 / (8.0 * big) if big.size else big
    series = 1 + t * (1 + t * (9 / 2 + t * (225 / 6 + t * (11025 / 24 + t * 893025 / 120))))
    out[~small] = series / np.sqrt(2 * np.pi * big) if big.size else big
    return out


def _kaiser(n: int, beta: float) -> np.ndarray:
    if n == 1:
        return np.ones(1)
    half = (n - 1) / 2.0
    arg = np.arange(n, dtype=np.float64) - half
    num = beta * np.sqrt(np.maximum(0.0, 1.0 - (arg / half) ** 2))
    # I0(num) / I0(beta), scaled as TF's bessel_i0e ratio so a large beta does not overflow
    return np.exp(num - beta) * _i0e(num) / _i0e(np.array([beta]))[0]


def _beta(beta: Any, name: str) -> float:
    try:
        return float(np.asarray(beta.numpy() if isinstance(beta, Tensor) else beta))
    except (TypeError, ValueError):
        raise op_error(name, f"beta must be a real number, got {beta!r}", TypeError) from None


def kaiser_window(window_length: Any, beta: Any = 12.0, dtype: Any = F32,
                  name: str | None = None) -> Tensor:
    """I0(beta sqrt(1 - (2k / (N - 1) - 1)^2)) / I0(beta) (tf.signal.kaiser_window)."""
    n, dt = window_args("kaiser_window", window_length, dtype)
    return window_constant(_kaiser(n, _beta(beta, "kaiser_window")), dt)


def kaiser_bessel_derived_window(window_length: Any, beta: Any = 12.0, dtype: Any = F32,
                                 name: str | None = None) -> Tensor:
    """sqrt of the normalized running sum of a Kaiser window of length N // 2 + 1, mirrored
    (tf.signal.kaiser_bessel_derived_window; an odd N gives N - 1 samples, as TF)."""
    n, dt = window_args("kaiser_bessel_derived_window", window_length, dtype)
    k = _kaiser(n // 2 + 1, _beta(beta, "kaiser_bessel_derived_window"))
    c = np.cumsum(k)
    half = np.sqrt(c[:-1] / c[-1])
    return window_constant(np.concatenate([half, half[::-1]]), dt)


def vorbis_window(window_length: Any, dtype: Any = F32, name: str | None = None) -> Tensor:
    """sin(pi / 2 sin^2(pi (k + 0.5) / N)) (tf.signal.vorbis_window)."""
    n, dt = window_args("vorbis_window", window_length, dtype)
    k = np.arange(n, dtype=np.float64)
    return window_constant(np.sin(np.pi / 2 * np.sin(np.pi / max(n, 1) * (k + 0.5)) ** 2), dt)

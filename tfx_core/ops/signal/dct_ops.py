"""tf.signal.dct / idct (types I-IV, norm=None or 'ortho', along the last axis) and
mfccs_from_log_mel_spectrograms, computed as TF does: through rfft/irfft of a length-2N signal
and a complex twiddle factor, so gradients come from the FFT's rules."""
from __future__ import annotations

from typing import Any

import numpy as np

from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.signal import fft_ops as F
from tfx_core.ops.signal.shape_ops import known_dim

TensorLike = Any


def _validate(name: str, x: Tensor, type_: Any, n: Any, axis: Any, norm: Any) -> int | None:
    """TF's checks (_validate_dct_arguments), in TF's order."""
    if static_int(axis, name, "axis") != -1:
        raise op_error(name, f"axis must be -1, got {axis}", NotImplementedError)
    if n is not None:
        n = static_int(n, name, "n")
        if n < 1:
            raise op_error(name, "n should be a positive integer or None")
    if type_ not in (1, 2, 3, 4):
        raise op_error(name, f"types I, II, III and IV (I)DCT are supported, got {type_!r}")
    if type_ == 1:
        if norm == "ortho":
            raise op_error(name, "normalization is not supported for the Type-I DCT")
        if x.ndim and x.shape[-1] is not None and x.shape[-1] < 2:
            raise op_error(name, f"type-I DCT requires the dimension to be greater than one, "
                           f"got {x.type}")
    if norm not in (None, "ortho"):
        raise op_error(name, f"unknown normalization: expected None or 'ortho', got {norm!r}")
    if not x.dtype.is_floating:  # TF: the float constants cannot become this dtype
        raise op_error(name, f"needs a float32 or float64 tensor, got {x.type}", TypeError)
    if x.dtype.name not in ("float32", "float64"):  # TF: RFFT's dtype check
        raise op_error(name, f"RFFT requires float32 or float64 inputs, got {x.type}")
    if x.ndim < 1:
        raise op_error(name, f"needs rank >= 1, got {x.type}")
    return n


def _const(a: np.ndarray, dtype: Any) -> Tensor:
    return Tensor.from_numpy(np.asarray(a).astype(dtype.np_dtype))


def _last_slice(x: Tensor, start: int, stop: int, step: int = 1) -> Tensor:
    return x[..., start:stop:step]


def _twiddle(n: int, sign: float, dtype: Any) -> tuple[Tensor, Tensor]:
    """The real and imaginary parts of 2 exp(sign i pi k / (2n)), k < n (kept as two real
    constants: the products are written out in real arithmetic)."""
    angle = np.pi * np.arange(n, dtype=np.float64) / (2.0 * n)
    return _const(2.0 * np.cos(angle), dtype), _const(sign * 2.0 * np.sin(angle), dtype)


def dct_internal(x: Tensor, type_: int, n: int | None, norm: str | None) -> Tensor:
    """The transform itself (validated arguments)."""
    name = "dct"
    if n is not None:
        x = F.resize_axes(x, [x.ndim - 1], [n])
    size = known_dim(x, x.ndim - 1, name)
    dt = x.dtype
    if type_ == 1:
        # the even extension [x0 .. x(N-1) x(N-2) .. x1] has a real DFT: the DCT-I
        ext = A.concat([x, A.reverse(_last_slice(x, 1, size - 1), [-1])], -1)
        return M.real(F.rfft(ext))
    if type_ == 2:
        spec = _last_slice(F.rfft(x, [2 * size]), 0, size)
        tr, ti = _twiddle(size, -1.0, dt)
        out = M.real(spec) * tr - M.imag(spec) * ti
        if norm == "ortho":
            w = np.full(size, 0.5 * np.sqrt(2.0 / size))
            w[0] = 0.5 / np.sqrt(size)
            out = out * _const(w, dt)
        return out
    if type_ == 3:
        if norm == "ortho":
            w = np.full(size, np.sqrt(size) * np.sqrt(0.5))
            w[0] = np.sqrt(size)
            x = x * _const(w, dt)
        else:
            x = x * _const(float(size), dt)
        tr, ti = _twiddle(size, 1.0, dt)
        return _last_slice(F.irfft(M.complex(x * tr, x * ti), [2 * size]), 0, size)
    dct2 = dct_internal(x, 2, 2 * size, None)
    out = _last_slice(dct2, 1, 2 * size, 2)
    if norm == "ortho":
        out = out * _const(np.sqrt(0.5) / np.sqrt(size), dt)
    return out


def dct(input: TensorLike, type: int = 2, n: Any = None, axis: int = -1,  # noqa: A002
        norm: str | None = None, name: str | None = None) -> Tensor:
    """The type I-IV discrete cosine transform of the last axis, cropped or zero-padded to `n`
    first; norm='ortho' makes types II-IV orthonormal (tf.signal.dct)."""
    x = to_tensor(input, "dct")
    n = _validate("dct", x, type, n, axis, norm)
    return dct_internal(x, type, n, norm)


def idct(input: TensorLike, type: int = 2, n: Any = None, axis: int = -1,  # noqa: A002
         norm: str | None = None, name: str | None = None) -> Tensor:
    """The inverse DCT: the DCT of type 1, 3, 2, 4 for type 1, 2, 3, 4; with norm=None it is
    the inverse up to 2N (2(N-1) for type I) (tf.signal.idct)."""
    x = to_tensor(input, "idct")
    n = _validate("idct", x, type, n, axis, norm)
    return dct_internal(x, {1: 1, 2: 3, 3: 2, 4: 4}[type], n, norm)


def mfccs_from_log_mel_spectrograms(log_mel_spectrograms: TensorLike,
                                    name: str | None = None) -> Tensor:
    """MFCCs: the orthonormal-scaled DCT-II of [..., num_mel_bins] log-mel spectrograms,
    dct(x) / sqrt(2 num_mel_bins) (tf.signal.mfccs_from_log_mel_spectrograms)."""
    opname = "mfccs_from_log_mel_spectrograms"
    x = to_tensor(log_mel_spectrograms, opname)
    if x.ndim < 1:
        raise op_error(opname, f"needs rank >= 1, got {x.type}")
    bins = known_dim(x, x.ndim - 1, opname)
    if bins == 0:
        raise op_error(opname, f"num_mel_bins must be positive, got {x.type}")
    _validate(opname, x, 2, None, -1, None)
    return dct_internal(x, 2, None, None) * _const(1.0 / np.sqrt(2.0 * bins), x.dtype)

"""tf.signal's FFTs: fft/ifft (1-3 D), rfft/irfft (1-3 D), fftnd/ifftnd/rfftnd/irfftnd (any
axes, norm=) and fftshift/ifftshift. Each transform is one IR `fft` op (StableHLO's fft over
trailing dims), with transposes around it when the axes are not the trailing ones; fft_length
pads with zeros or crops each axis first, as TF's kernels do."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import COMPLEX_OF
from compiler.ops.spectral import fft as F
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops.arguments import op_error, static_ints

TensorLike = Any
_NORMS = ("backward", "forward", "ortho")


def _complex_input(x: TensorLike, name: str) -> Tensor:
    """A complex tensor. Anything not yet a tensor (Python values, numpy arrays, complex128 and
    float64 ones included) becomes complex64, as TF's conversion with its complex64 preference
    makes it; a real tx.Tensor is an error."""
    if not isinstance(x, Tensor):
        a = np.asarray(x)
        if a.dtype.kind in "biufc":
            x = a.astype(np.complex64)
    t = to_tensor(x, name)
    if not t.dtype.is_complex:
        raise op_error(name, f"needs a complex64 or complex128 tensor, got {t.type}")
    return t


def _real_input(x: TensorLike, name: str) -> Tensor:
    """A float32/float64 tensor; anything not yet a tensor (float64 numpy arrays included)
    becomes float32, as TF's conversion with its float32 preference makes it."""
    if not isinstance(x, Tensor):
        a = np.asarray(x)
        if a.dtype.kind in "biuf":
            x = a.astype(np.float32)
    t = to_tensor(x, name)
    if t.dtype not in COMPLEX_OF:
        raise op_error(name, f"RFFT requires float32 or float64 inputs, got {t.type}")
    return t


def _static_dims(x: Tensor, axes: list[int], name: str) -> list[int]:
    dims = [x.shape[a] for a in axes]
    if None in dims:
        raise op_error(name, f"needs the transformed dims known at trace time, got {x.type}",
                       TypeError)
    return dims


def resize_axes(x: Tensor, axes: list[int], sizes: list[int]) -> Tensor:
    """Crop or zero-pad each of `axes` to its size (TF's fft_length semantics)."""
    dims = list(x.shape)
    crop = [min(d, n) for d, n in zip((dims[a] for a in axes), sizes)]
    if any(c != dims[a] for c, a in zip(crop, axes)):
        size = list(dims)
        for a, c in zip(axes, crop):
            size[a] = c
        x = A.slice(x, [0] * x.ndim, size)
    pads = [[0, 0] for _ in range(x.ndim)]
    for a, c, n in zip(axes, crop, sizes):
        pads[a][1] = n - c
    if any(p[1] for p in pads):
        x = A.pad(x, pads)
    return x


def _bind_trailing(x: Tensor, fft_type: str, lengths: tuple) -> Tensor:
    """One `fft` op over the trailing dims; an empty transform is zeros (XLA's fft needs at
    least one element)."""
    out_t = F.fft_op.infer_types((x.type,), {"fft_type": fft_type, "fft_length": lengths})[0]
    if 0 in x.shape or 0 in out_t.shape:
        shape = list(out_t.shape)
        if fft_type == "RFFT" and lengths[-1] == 0:
            shape[-1] = 0  # TF: an RFFT of length 0 has no bins (not 0 // 2 + 1)
        return A.zeros(shape, out_t.dtype)
    return bind(F.fft_op, x, fft_type=fft_type, fft_length=lengths)


def transform(x: Tensor, axes: list[int], fft_type: str, lengths: list[int]) -> Tensor:
    """`fft_type` over `axes` (distinct, any order; x already resized), in groups of at most
    three trailing dims; RFFT/IRFFT apply to the last axis, plain FFT/IFFT to the others."""
    if not axes:
        return x
    real_kind = fft_type in ("RFFT", "IRFFT")
    plain = "FFT" if fft_type in ("FFT", "RFFT") else "IFFT"
    # the real<->complex step goes with the last group; for IRFFT the complex steps come first
    groups = [list(range(i, min(i + 3, len(axes)))) for i in range(0, len(axes), 3)]
    last = groups.pop()
    order = ([(last, fft_type)] + [(g, plain) for g in groups]) if fft_type == "RFFT" else (
        [(g, plain) for g in groups] + [(last, fft_type)])
    for group, kind in order:
        gaxes = [axes[i] for i in group]
        lens = tuple(lengths[i] for i in group)
        if not real_kind:
            kind = plain
        perm = [d for d in range(x.ndim) if d not in gaxes] + gaxes
        moved = x if perm == list(range(x.ndim)) else A.transpose(x, perm)
        y = _bind_trailing(moved, kind, lens)
        inv = list(np.argsort(perm))
        x = y if perm == list(range(x.ndim)) else A.transpose(y, inv)
    return x


def _trailing(opname: str, fft_type: str, rank: int, doc: str):
    def public(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
        x = _complex_input(input, opname)
        if x.ndim < rank:
            raise op_error(opname, f"needs rank >= {rank}, got {x.type}")
        axes = list(range(x.ndim - rank, x.ndim))
        return transform(x, axes, fft_type, _static_dims(x, axes, opname))

    public.__name__ = public.__qualname__ = opname
    public.__doc__ = doc
    return public


fft = _trailing("fft", "FFT", 1, "The DFT over the last dim of a complex tensor (tf.signal.fft).")
ifft = _trailing("ifft", "IFFT", 1, "The inverse DFT over the last dim (tf.signal.ifft).")
fft2d = _trailing("fft2d", "FFT", 2, "The 2-D DFT over the last two dims (tf.signal.fft2d).")
ifft2d = _trailing("ifft2d", "IFFT", 2, "The inverse 2-D DFT (tf.signal.ifft2d).")
fft3d = _trailing("fft3d", "FFT", 3, "The 3-D DFT over the last three dims (tf.signal.fft3d).")
ifft3d = _trailing("ifft3d", "IFFT", 3, "The inverse 3-D DFT (tf.signal.ifft3d).")


def _lengths(fft_length: Any, k: int, default: list[int], name: str) -> list[int]:
    if fft_length is None:
        return default
    n = list(static_ints(fft_length, name, "fft_length"))
    if len(n) != k or any(v < 0 for v in n):
        raise op_error(name, f"fft_length must hold {k} non-negative ints, got {n}")
    return n


def _half(lengths: list[int]) -> list[int]:
    return lengths[:-1] + [lengths[-1] // 2 + 1]


def _real_trailing(opname: str, rank: int, inverse: bool, doc: str):
    def public(input_tensor: TensorLike, fft_length: Any = None,
               name: str | None = None) -> Tensor:
        x = (_complex_input if inverse else _real_input)(input_tensor, opname)
        if x.ndim < rank:
            raise op_error(opname, f"needs rank >= {rank}, got {x.type}")
        axes = list(range(x.ndim - rank, x.ndim))
        dims = _static_dims(x, axes, opname)
        default = dims[:-1] + [max(0, 2 * (dims[-1] - 1))] if inverse else dims
        lengths = _lengths(fft_length, rank, default, opname)
        x = resize_axes(x, axes, _half(lengths) if inverse else lengths)
        return transform(x, axes, "IRFFT" if inverse else "RFFT", lengths)

    public.__name__ = public.__qualname__ = opname
    public.__doc__ = doc
    return public


rfft = _real_trailing("rfft", 1, False, "The DFT of a real signal over its last dim, the "
                      "fft_length // 2 + 1 non-negative frequencies (tf.signal.rfft).")
irfft = _real_trailing("irfft", 1, True, "The real signal of fft_length samples whose half "
                       "spectrum is the last dim (tf.signal.irfft).")
rfft2d = _real_trailing("rfft2d", 2, False, "The 2-D DFT of a real signal (tf.signal.rfft2d).")
irfft2d = _real_trailing("irfft2d", 2, True, "The inverse of rfft2d (tf.signal.irfft2d).")
rfft3d = _real_trailing("rfft3d", 3, False, "The 3-D DFT of a real signal (tf.signal.rfft3d).")
irfft3d = _real_trailing("irfft3d", 3, True, "The inverse of rfft3d (tf.signal.irfft3d).")


# ---------------------------------------------------------------- N-D with axes and norm
def _axes(x: Tensor, axes: Any, name: str) -> list[int]:
    if axes is None:
        return list(range(x.ndim))
    out = []
    for a in static_ints(axes, name, "axes"):
        if not -x.ndim <= a < x.ndim:
            raise op_error(name, f"axis {a} is out of range for {x.type}")
        out.append(a % x.ndim)
    if len(set(out)) != len(out):
        raise op_error(name, f"axes {list(axes)} repeat an axis")
    return out


def _norm_scale(norm: Any, lengths: list[int], forward: bool, name: str) -> float:
    """The factor TF multiplies the input by: 1 (backward), 1/N or N (forward), N^-1/2 or N^1/2
    (ortho), for a forward or inverse transform."""
    norm = "backward" if norm is None else norm
    if norm not in _NORMS:
        raise op_error(name, f"norm must be one of {_NORMS} or None, got {norm!r}")
    n = float(np.prod(lengths)) if lengths else 1.0
    if norm == "backward" or n == 0:
        return 1.0
    s = n if norm == "forward" else np.sqrt(n)
    return 1.0 / s if forward else s


def _scaled(x: Tensor, factor: float) -> Tensor:
    return x if factor == 1.0 else x * to_tensor(factor, "fft", x.dtype)


def _nd(opname: str, fft_type: str, doc: str):
    inverse = fft_type in ("IFFT", "IRFFT")

    def public(input_tensor: TensorLike, fft_length: Any = None, axes: Any = None,
               norm: str | None = None, name: str | None = None) -> Tensor:
        x = (_real_input if fft_type == "RFFT" else _complex_input)(input_tensor, opname)
        ax = _axes(x, axes, opname)
        dims = _static_dims(x, ax, opname)
        irfft_ = fft_type == "IRFFT" and bool(dims)
        default = dims[:-1] + [max(0, 2 * (dims[-1] - 1))] if irfft_ else dims
        lengths = _lengths(fft_length, len(ax), default, opname)
        x = resize_axes(x, ax, _half(lengths) if irfft_ else lengths)
        x = _scaled(x, _norm_scale(norm, lengths, not inverse, opname))
        return transform(x, ax, fft_type, lengths)

    public.__name__ = public.__qualname__ = opname
    public.__doc__ = doc
    return public


fftnd = _nd("fftnd", "FFT", "The N-D DFT over `axes` (default: all), each axis cropped or "
            "padded to fft_length; norm 'backward' (default), 'forward' or 'ortho' "
            "(tf.signal.fftnd).")
ifftnd = _nd("ifftnd", "IFFT", "The N-D inverse DFT over `axes` (tf.signal.ifftnd).")
rfftnd = _nd("rfftnd", "RFFT", "The N-D DFT of a real tensor over `axes`, the last of them "
             "halved (tf.signal.rfftnd).")
irfftnd = _nd("irfftnd", "IRFFT", "The inverse of rfftnd (tf.signal.irfftnd).")


# ---------------------------------------------------------------- shifts
def _roll(x: Tensor, axes: list[int], shifts: list[int]) -> Tensor:
    for a, s in zip(axes, shifts):
        n = x.shape[a]
        s %= n if n else 1
        if s:
            begin, size = [0] * x.ndim, list(x.shape)
            size[a] = n - s
            head = A.slice(x, begin, size)
            begin[a], size[a] = n - s, s
            tail = A.slice(x, begin, size)
            x = A.concat([tail, head], a)
    return x


def _shift(opname: str, sign: int, doc: str):
    def public(x: TensorLike, axes: Any = None, name: str | None = None) -> Tensor:
        t = to_tensor(x, opname)
        ax = _axes(t, [axes] if isinstance(axes, (int, np.integer)) else axes, opname)
        if any(t.shape[a] is None for a in ax):
            raise op_error(opname, f"needs the shifted dims known at trace time, got {t.type}",
                           TypeError)
        return _roll(t, ax, [sign * (t.shape[a] // 2) for a in ax])

    public.__name__ = public.__qualname__ = opname
    public.__doc__ = doc
    return public


fftshift = _shift("fftshift", 1, "Roll the zero frequency to the center of each of `axes` "
                  "(default: all) (tf.signal.fftshift).")
ifftshift = _shift("ifftshift", -1, "The inverse of fftshift (tf.signal.ifftshift).")

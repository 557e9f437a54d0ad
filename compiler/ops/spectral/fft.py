"""The `fft` op: StableHLO's fft over the trailing len(fft_length) (1 to 3) dims.

fft_type FFT/IFFT map complex to complex; RFFT maps float32/float64 to the half spectrum
(last dim n // 2 + 1) of complex64/complex128; IRFFT maps a half spectrum back to n reals.
The operand's trailing dims must already equal fft_length (n // 2 + 1 last for IRFFT): the
public functions pad or crop as TF does. Gradients follow TF (tensorflow/python/ops/signal/
fft_ops.py): FFT -> IFFT(g) * N, IFFT -> FFT(g) / N, IRFFT -> RFFT(g) * mask / N (mask: 1 for
the DC and, for even n, Nyquist bins, 2 elsewhere), RFFT -> the adjoint, real(IFFT(g zero-
extended to n) * N), which equals TF's 1-D and 2-D formulas and extends them to 3-D (1-D uses
TF's cheaper IRFFT form of it).
"""
from __future__ import annotations

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from ... import autodiff as A
from ...ir.graph import ConstArray
from ...ir.types import COMPLEX_OF, TensorType
from ...lowering import helpers as H
from ...registry import PROPAGATES_NONFINITE, PURE, OpDef, OpTypeError, register

FFT_TYPES = ("FFT", "IFFT", "RFFT", "IRFFT")


def _check_attrs(x: TensorType, fft_type: str, fft_length: tuple) -> int:
    if fft_type not in FFT_TYPES:
        raise OpTypeError(f"fft_type must be one of {FFT_TYPES}, got {fft_type!r}")
    if not (isinstance(fft_length, tuple) and 1 <= len(fft_length) <= 3 and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in fft_length)):
        raise OpTypeError(f"fft_length must be 1 to 3 non-negative ints, got {fft_length!r}")
    k = len(fft_length)
    if x.rank < k:
        raise OpTypeError(f"a {k}-D {fft_type} needs rank >= {k}, got {x}")
    return k


def _fft_infer(x: TensorType, *, fft_type: str, fft_length: tuple) -> TensorType:
    k = _check_attrs(x, fft_type, fft_length)
    want = list(fft_length)
    if fft_type == "RFFT":
        if x.dtype not in COMPLEX_OF:
            raise OpTypeError(f"RFFT needs a float32 or float64 operand, got {x}")
        out_dtype = COMPLEX_OF[x.dtype]
    else:
        if not x.dtype.is_complex:
            raise OpTypeError(f"{fft_type} needs a complex64 or complex128 operand, got {x}")
        out_dtype = x.dtype.real_dtype if fft_type == "IRFFT" else x.dtype
        if fft_type == "IRFFT":
            want[-1] = fft_length[-1] // 2 + 1
    got = x.shape[x.rank - k:]
    if any(g is not None and g != w for g, w in zip(got, want)):
        raise OpTypeError(f"{fft_type} with fft_length {list(fft_length)} needs trailing dims "
                          f"{want}, got {x}")
    out = list(x.shape[:x.rank - k]) + list(fft_length)
    if fft_type == "RFFT":
        out[-1] = fft_length[-1] // 2 + 1
    return TensorType(out_dtype, tuple(out))


def _fft_lower(ctx, x, *, fft_type, fft_length):
    return hlo.fft(x, hlo.FftTypeAttr.get(fft_type), list(fft_length),
                   results=[H.ir_type(ctx.type_out)])


def _fft_reference(x, *, fft_type, fft_length):
    axes = tuple(range(x.ndim - len(fft_length), x.ndim))
    s = list(fft_length)
    if fft_type == "FFT":
        out, dt = np.fft.fftn(x, s, axes), x.dtype
    elif fft_type == "IFFT":
        out, dt = np.fft.ifftn(x, s, axes), x.dtype
    elif fft_type == "RFFT":
        out, dt = np.fft.rfftn(x, s, axes), np.result_type(x.dtype, np.complex64)
    else:
        lead = x.shape[:x.ndim - len(s)]
        out = np.fft.irfftn(x, s, axes) if all(s) else np.zeros(lead + tuple(s))
        dt = np.real(np.zeros((), x.dtype)).dtype
    return np.asarray(out).astype(dt)


def _scale(v, factor: float, dtype):
    """v * factor; a complex factor is a real constant converted (constants stay real)."""
    if not dtype.is_complex:
        return A.mul(v, A.const(factor, dtype))
    return A.mul(v, A.op("convert", A.const(factor, dtype.real_dtype), dtype=dtype))


def _fft_vjp(ctx, g, *, fft_type, fft_length):
    (tx,), (ty,) = ctx.types_in, ctx.types_out
    size = int(np.prod(fft_length))
    if fft_type == "FFT":
        return (_scale(A.op("fft", g, fft_type="IFFT", fft_length=fft_length), size, ty.dtype),)
    if fft_type == "IFFT":
        inv = 1.0 / size if size else 0.0
        return (_scale(A.op("fft", g, fft_type="FFT", fft_length=fft_length), inv, ty.dtype),)
    if fft_type == "IRFFT":
        # TF's rule: the half spectrum's interior bins stand for two bins of the full one
        half = fft_length[-1] // 2 + 1
        mask = np.full(half, 2.0)
        mask[0] = 1.0
        if fft_length[-1] % 2 == 0:
            mask[-1] = 1.0
        mask /= size if size else 1
        r = A.op("fft", g, fft_type="RFFT", fft_length=fft_length)
        # the real mask scales both parts (no complex constant: it stays a real one)
        m = A.op("constant", value=ConstArray(mask.astype(tx.dtype.real_dtype.np_dtype)))
        return (A.op("complex", A.mul(A.op("real", r), m), A.mul(A.op("imag", r), m)),)
    n = fft_length[-1]
    if len(fft_length) == 1:
        return (_rfft_1d_vjp(g, ty, tx, n),)
    # RFFT: the adjoint of "full FFT, keep the first n // 2 + 1 bins", real part
    pad_hi = n - (n // 2 + 1)
    gf = g
    if pad_hi > 0:
        zero = A.const(0, ty.dtype)
        gf = A.op("pad", g, zero, low=(0,) * ty.rank, high=(0,) * (ty.rank - 1) + (pad_hi,),
                  interior=(0,) * ty.rank)
    full = A.op("fft", gf, fft_type="IFFT", fft_length=fft_length)
    return (_scale(A.op("real", full), float(size), tx.dtype),)


def _last_bin(g, ty: TensorType, i: int):
    """real(g[..., i:i+1])."""
    r = ty.rank
    part = A.op("slice", g, begin=(None,) * (r - 1) + (i,), end=(None,) * (r - 1) + (i + 1,),
                strides=(1,) * r)
    return A.op("real", part)


def _rfft_1d_vjp(g, ty: TensorType, tx: TensorType, n: int):
    """TF's 1-D formula, the same adjoint at half the cost (an IRFFT, no full complex FFT):
    0.5 (n irfft(g) + real(g_0) + [n even] real(g_{n/2}) (-1)^k). IRFFT counts each interior
    bin twice and ignores the imaginary parts of the DC and Nyquist bins, which the two
    correction terms account for."""
    out = _scale(A.op("fft", g, fft_type="IRFFT", fft_length=(n,)), float(n), tx.dtype)
    out = A.add(out, _last_bin(g, ty, 0))
    if n % 2 == 0:
        sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0).astype(tx.dtype.np_dtype)
        alt = A.op("constant", value=ConstArray(sign))
        out = A.add(out, A.mul(_last_bin(g, ty, n // 2), alt))
    return _scale(out, 0.5, tx.dtype)


fft_op = register(
    OpDef(
        "fft",
        infer=_fft_infer,
        lower=_fft_lower,
        reference=_fft_reference,
        vjp=_fft_vjp,
        traits=frozenset({PURE, PROPAGATES_NONFINITE, A.COMPLEX_VJP}),
    )
)

"""Op table: tx.signal (and tx.fftnd & co.) against numpy/scipy references. Complex inputs and
outputs appear as (real, imag) float pairs, so the finite-difference gradient check covers the
FFT rules in TF's convention too."""
from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal.windows as W

import tfx_core as tx
from tests.optable import OpInfo, Sample, make_arg

# float32 samples (the gradient check runs them in float64); rfft also runs in float64 here,
# and tests/ops/test_signal_oracle.py has float64/complex128 cases of every transform
_F = (tx.float32, tx.float64)
_F32 = (tx.float32,)
_TOL = {"float32": (2e-5, 2e-5)}
# composites of the transforms checked here: their gradients are compared with TF 2.21's in
# tests/ops/test_signal_oracle.py (saves the finite-difference runs' compile time)
_BY_ORACLE = "gradient checked against TF 2.21 in tests/ops/test_signal_oracle.py"
_CDT = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128}


def _c(re, im):  # tx: a complex tensor from two float tensors
    return tx.complex(re, im)


def _parts(z):
    return tx.math.real(z), tx.math.imag(z)


def _np_parts(z, like):
    return np.real(z).astype(like.dtype), np.imag(z).astype(like.dtype)


def _np_c(re, im):
    return (re + 1j * im).astype(_CDT[re.dtype])


def _complex_entry(name, fn, np_fn, shapes, kwargs_list=({},), ops=("fft",), dtypes=_F32,
                   grad=None):
    """fn(complex, **kw) checked as (re, im) -> (real, imag) of the result."""
    def tx_fn(re, im, **kw):
        out = fn(_c(re, im), **kw)
        return _parts(out) if out.dtype.is_complex else out

    def ref(re, im, **kw):
        out = np_fn(_np_c(re, im), **kw)
        return _np_parts(out, re) if np.iscomplexobj(out) else out.astype(re.dtype)

    def samples(rng, dt):
        return [Sample((make_arg(rng, s, dt), make_arg(rng, s, dt)), dict(kw))
                for s in shapes for kw in kwargs_list]

    return OpInfo(name, tx_fn, ref, samples, dtypes, ops=ops, tol=_TOL, grad=grad)


def _real_entry(name, fn, np_fn, samples, ops=("fft",), dtypes=_F32, grad=None):
    def tx_fn(*a, **kw):
        out = fn(*a, **kw)
        return _parts(out) if out.dtype.is_complex else out

    def ref(x, *a, **kw):
        out = np_fn(x, *a, **kw)
        return _np_parts(out, x) if np.iscomplexobj(out) else np.asarray(out).astype(x.dtype)

    return OpInfo(name, tx_fn, ref, samples, dtypes, ops=ops, tol=_TOL, grad=grad)


def _x(shape, *args, **kw):
    return lambda rng, dt: [Sample((make_arg(rng, shape, dt), *args), kw)]


def _many(*specs):
    return lambda rng, dt: [s for spec in specs for s in spec(rng, dt)]


# ---------------------------------------------------------------- numpy references
def _irfft_ref(z, fft_length):
    n = fft_length[0]
    return np.fft.irfft(z[..., :n // 2 + 1], n)


def _frame_ref(x, frame_length, frame_step, pad_end=False, pad_value=0.0):
    n = x.shape[-1]
    if pad_end:
        num = -(-n // frame_step)
        extra = max(0, frame_length + frame_step * (num - 1) - n)
        x = np.concatenate([x, np.full(x.shape[:-1] + (extra,), pad_value, x.dtype)], -1)
    else:
        num = max(0, 1 + (n - frame_length) // frame_step)
    return np.stack([x[..., i * frame_step:i * frame_step + frame_length] for i in range(num)],
                    -2)


def _ola_ref(x, frame_step):
    frames, fl = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + (fl + frame_step * (frames - 1),), x.dtype)
    for f in range(frames):
        out[..., f * frame_step:f * frame_step + fl] += x[..., f, :]
    return out


def _stft_ref(x, frame_length, frame_step, fft_length=None):
    n = fft_length or int(2 ** np.ceil(np.log2(frame_length)))
    frames = _frame_ref(x, frame_length, frame_step)
    return np.fft.rfft(frames * W.hann(frame_length, sym=False), n)


def _istft_ref(z, frame_length, frame_step):
    n = int(2 ** np.ceil(np.log2(frame_length)))
    frames = np.fft.irfft(z, n)[..., :frame_length] * W.hann(frame_length, sym=False)
    return _ola_ref(frames, frame_step)


def _dct_ref(x, type=2, norm=None, n=None):  # noqa: A002
    return scipy.fft.dct(x, type=type, n=n, norm=norm, axis=-1)


def _idct_ref(x, type=2, norm=None):  # noqa: A002
    inverse = {1: 1, 2: 3, 3: 2, 4: 4}[type]
    return scipy.fft.dct(x, type=inverse, norm=norm, axis=-1)


def _mdct_ref(x, frame_length, norm=None):
    # the textbook MDCT: X_k = sum_n w_n x_n cos(pi / N (n + 1/2 + N / 2)(k + 1/2)), N = half
    half = frame_length // 2
    frames = _frame_ref(x, frame_length, half) * np.sin(
        np.pi / 2 * np.sin(np.pi * (np.arange(frame_length) + 0.5) / frame_length) ** 2)
    n, k = np.arange(frame_length), np.arange(half)
    basis = np.cos(np.pi / half * (n[:, None] + 0.5 + half / 2) * (k[None] + 0.5))
    out = 2 * frames @ basis
    return out / np.sqrt(2 * half) if norm == "ortho" else out


def _imdct_ref(x):
    # (1 / N) sum_k X_k cos(pi / N (n + 1/2 + N / 2)(k + 1/2)), windowed, overlap-added
    half = x.shape[-1]
    n, k = np.arange(2 * half), np.arange(half)
    basis = np.cos(np.pi / half * (n[:, None] + 0.5 + half / 2) * (k[None] + 0.5))
    window = np.sin(np.pi / 2 * np.sin(np.pi * (n + 0.5) / (2 * half)) ** 2)
    return _ola_ref(x @ basis.T / half * window, half)


def _mfcc_ref(x):
    return scipy.fft.dct(x, type=2, axis=-1) / np.sqrt(2.0 * x.shape[-1])


def _windows(n):
    return (tx.signal.hann_window(n), tx.signal.hamming_window(n, periodic=False),
            tx.signal.kaiser_window(n, beta=4.0), tx.signal.kaiser_bessel_derived_window(n),
            tx.signal.vorbis_window(n))


def _windows_ref(n):
    k = np.arange(n)
    return tuple(np.asarray(w, np.float32) for w in (
        W.hann(n, sym=False) if n % 2 == 0 else W.hann(n), W.hamming(n),
        W.kaiser(n, 4.0), W.kaiser_bessel_derived(n - n % 2, 12.0),
        np.sin(np.pi / 2 * np.sin(np.pi * (k + 0.5) / n) ** 2)))


ENTRIES = [
    _complex_entry("signal.fft", tx.signal.fft, np.fft.fft, [(2, 6)]),
    _complex_entry("signal.ifft3d", tx.signal.ifft3d, np.fft.ifftn, [(2, 2, 3)], grad=_BY_ORACLE),
    _complex_entry("signal.irfft", tx.signal.irfft, _irfft_ref, [(2, 5)],
                   [{"fft_length": [7]}, {"fft_length": [4]}]),
    _complex_entry("signal.irfft2d", tx.signal.irfft2d,
                   lambda z, fft_length: np.fft.irfft2(z, fft_length), [(3, 4)],
                   [{"fft_length": [3, 6]}]),
    _complex_entry("fftnd", tx.fftnd, lambda z, **kw: np.fft.fftn(z, **kw), [(2, 3, 4)],
                   [{"axes": [2, 0], "norm": "ortho"}]),
    _complex_entry("irfftnd", tx.irfftnd, lambda z, fft_length, axes: np.fft.irfftn(
        z, fft_length, axes), [(2, 3, 4)], [{"fft_length": [3, 6], "axes": [0, 2]}]),
    _complex_entry("signal.inverse_stft", tx.signal.inverse_stft, _istft_ref, [(4, 5)],
                   [{"frame_length": 8, "frame_step": 3}], ops=("fft", "pad"), grad=_BY_ORACLE),
    _real_entry("signal.rfft", tx.signal.rfft, lambda x, n=None: np.fft.rfft(
        x, None if n is None else n[0]), _many(_x((2, 7), [5]), _x((3,), [8])), dtypes=_F),
    _real_entry("rfftnd", tx.rfftnd, lambda x, **kw: np.fft.rfftn(
        x, kw["fft_length"], kw["axes"]), _x((2, 3, 4), fft_length=[5, 2], axes=[2, 0])),
    _real_entry("signal.stft", tx.signal.stft, _stft_ref, _x((2, 40), 12, 5), grad=_BY_ORACLE),
    _real_entry("signal.frame", tx.signal.frame, _frame_ref,
                _x((2, 11), 3, 4, pad_end=True, pad_value=0.5), ops=("gather",)),
    _real_entry("signal.overlap_and_add", tx.signal.overlap_and_add, _ola_ref, _many(
        _x((2, 3, 5), 2), _x((3, 4), 6)), ops=("pad",)),
    _real_entry("signal.dct", tx.signal.dct, _dct_ref, _many(
        _x((2, 6), type=1), _x((5,), type=3, norm="ortho"), _x((2, 5), type=4, n=7))),
    _real_entry("signal.idct", tx.signal.idct, _idct_ref, _x((3, 5), type=2, norm="ortho"),
                grad=_BY_ORACLE),
    _real_entry("signal.mdct", tx.signal.mdct, _mdct_ref, _x((2, 24), 8), grad=_BY_ORACLE),
    _real_entry("signal.inverse_mdct", tx.signal.inverse_mdct, _imdct_ref, _x((3, 4)),
                grad=_BY_ORACLE),
    _real_entry("signal.mfccs_from_log_mel_spectrograms",
                tx.signal.mfccs_from_log_mel_spectrograms, _mfcc_ref, _x((2, 3, 8)),
                grad=_BY_ORACLE),
    _real_entry("signal.fftshift", tx.signal.fftshift, np.fft.fftshift, _x((3, 5)),
                ops=("concatenate",)),
    _real_entry("signal.ifftshift", tx.signal.ifftshift, np.fft.ifftshift,
                _x((5, 4), axes=[0]), ops=("concatenate",), grad=_BY_ORACLE),
    OpInfo("signal.windows", _windows, _windows_ref,
           lambda rng, dt: [Sample((8,)), Sample((7,))], (tx.float32,)),
]

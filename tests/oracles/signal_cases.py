"""tf.signal cases shared by record_signal.py (run once with TF 2.21) and
tests/ops/test_signal_oracle.py (tx.signal): each case is run the same way on either namespace."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Arr:
    """A random input array of `shape` and `dtype` (complex: random real and imaginary parts)."""

    shape: tuple
    dtype: str = "float32"


@dataclass(frozen=True)
class DT:
    """A dtype argument, resolved in the namespace (tf.float64 / tx.float64)."""

    name: str


@dataclass(frozen=True)
class Win:
    """A window_fn argument: ns.signal.<name>, or inverse_stft_window_fn(step, <name>)."""

    name: str
    inverse_step: int | None = None


@dataclass
class Case:
    name: str
    fn: str  # a tf.signal name, "istft_window" or "stft_roundtrip" (see `call`)
    args: tuple
    kwargs: dict = field(default_factory=dict)
    grad: bool = False  # also record d(weighted sum of outputs)/d(first array argument)


def _w(*a: Any, **k: Any) -> tuple:
    return a, k


CASES = [
    # framing
    Case("frame", "frame", (Arr((10,)), 4, 3), grad=True),
    Case("frame_pad", "frame", (Arr((2, 10)), 4, 3), {"pad_end": True, "pad_value": -1.5}),
    Case("frame_axis0", "frame", (Arr((7, 3)), 3, 2), {"axis": 0, "pad_end": True}),
    Case("frame_short", "frame", (Arr((2, 3)), 5, 2)),
    Case("frame_step_gt", "frame", (Arr((11,)), 3, 4), grad=True),
    Case("ola", "overlap_and_add", (Arr((2, 3, 5)), 2), grad=True),
    Case("ola_gap", "overlap_and_add", (Arr((3, 4)), 6)),
    Case("ola_exact", "overlap_and_add", (Arr((4, 4)), 4)),
    # windows
    Case("hann8", "hann_window", (8,)),
    Case("hann7", "hann_window", (7,)),
    Case("hann8_sym", "hann_window", (8,), {"periodic": False}),
    Case("hann1", "hann_window", (1,)),
    Case("hamming8", "hamming_window", (8,)),
    Case("hamming9_sym64", "hamming_window", (9,), {"periodic": False, "dtype": DT("float64")}),
    Case("kaiser9", "kaiser_window", (9,), {"beta": 5.0}),
    Case("kaiser16", "kaiser_window", (16,)),
    Case("kaiser_big_beta", "kaiser_window", (16,), {"beta": 800.0}),  # I0(800) overflows f64
    Case("kbd8", "kaiser_bessel_derived_window", (8,), {"beta": 5.0}),
    Case("kbd7", "kaiser_bessel_derived_window", (7,)),
    Case("vorbis8", "vorbis_window", (8,)),
    Case("vorbis5_64", "vorbis_window", (5,), {"dtype": DT("float64")}),
    # mel
    Case("mel_default", "linear_to_mel_weight_matrix", ()),
    Case("mel_small", "linear_to_mel_weight_matrix", (4, 9, 8000, 100.0, 3000.0)),
    Case("mel_64", "linear_to_mel_weight_matrix", (10, 33, 16000, 0.0, 8000.0),
         {"dtype": DT("float64")}),
    # FFTs
    Case("fft", "fft", (Arr((2, 6), "complex64"),), grad=True),
    Case("ifft", "ifft", (Arr((3, 5), "complex128"),), grad=True),
    Case("fft2d", "fft2d", (Arr((2, 3, 4), "complex64"),), grad=True),
    Case("ifft3d", "ifft3d", (Arr((2, 3, 2), "complex64"),)),
    Case("rfft_even", "rfft", (Arr((2, 8)),), grad=True),
    Case("rfft_odd", "rfft", (Arr((2, 7)),), grad=True),
    Case("rfft_crop", "rfft", (Arr((2, 8)), [5]), grad=True),
    Case("rfft_pad", "rfft", (Arr((3,), "float64"), [8])),
    Case("irfft_even", "irfft", (Arr((2, 5), "complex64"),), grad=True),
    Case("irfft_odd", "irfft", (Arr((2, 5), "complex64"), [9]), grad=True),
    Case("irfft_crop", "irfft", (Arr((2, 6), "complex128"), [6]), grad=True),
    Case("irfft_pad", "irfft", (Arr((2, 3), "complex64"), [10])),
    Case("rfft2d", "rfft2d", (Arr((2, 3, 4)),), grad=True),
    Case("rfft2d_len", "rfft2d", (Arr((3, 5)), [4, 6]), grad=True),
    Case("irfft2d", "irfft2d", (Arr((3, 4), "complex64"), [3, 7]), grad=True),
    Case("rfft3d", "rfft3d", (Arr((2, 3, 4), "float64"),)),
    Case("irfft3d", "irfft3d", (Arr((2, 2, 3), "complex64"),)),
    Case("fftnd", "fftnd", (Arr((2, 3, 4), "complex64"),)),
    Case("fftnd_axes", "fftnd", (Arr((2, 3, 4), "complex64"),),
         {"fft_length": [2, 5], "axes": [0, 2], "norm": "ortho"}),
    Case("ifftnd", "ifftnd", (Arr((3, 4), "complex128"),), {"norm": "forward"}),
    Case("rfftnd", "rfftnd", (Arr((2, 3, 4)),), {"fft_length": [3, 6], "axes": [-2, -1]}),
    Case("irfftnd", "irfftnd", (Arr((2, 3, 4), "complex64"),),
         {"fft_length": [3, 6], "axes": [1, 2], "norm": "ortho"}),
    Case("fftshift", "fftshift", (Arr((3, 4)),)),
    Case("fftshift_axes", "fftshift", (Arr((3, 5)),), {"axes": 1}),
    Case("ifftshift", "ifftshift", (Arr((5, 4)),), {"axes": [0]}),
    # STFT
    Case("stft", "stft", (Arr((2, 64)), 16, 8), grad=True),
    Case("stft_pad", "stft", (Arr((50,), "float64"), 12, 5),
         {"fft_length": 16, "pad_end": True, "window_fn": Win("hamming_window")}),
    Case("stft_nowin", "stft", (Arr((40,)), 10, 10), {"window_fn": None}),
    Case("istft", "inverse_stft", (Arr((5, 9), "complex64"), 16, 4)),
    Case("istft_win", "inverse_stft", (Arr((5, 9), "complex64"), 16, 4),
         {"window_fn": Win("hann_window", inverse_step=4)}, grad=True),
    Case("istft_short", "inverse_stft", (Arr((4, 5), "complex64"), 10, 5), {"fft_length": 8}),
    Case("istft_fn", "istft_window", (4, 16)),
    Case("istft_fn_hamming", "istft_window", (3, 10, "hamming_window")),
    Case("stft_roundtrip", "stft_roundtrip", (Arr((2, 96)), 32, 8)),
    # DCT / MDCT / MFCC
    *[Case(f"dct{t}{'_ortho' if o else ''}", "dct", (Arr((2, 6)),),
           {"type": t, "norm": "ortho" if o else None}, grad=True)
      for t in (1, 2, 3, 4) for o in (False, True) if not (t == 1 and o)],
    Case("dct2_n_crop", "dct", (Arr((2, 6)),), {"n": 4}),
    Case("dct3_n_pad", "dct", (Arr((6,), "float64"),), {"type": 3, "n": 9}),
    *[Case(f"idct{t}", "idct", (Arr((3, 5)),), {"type": t, "norm": "ortho" if t > 1 else None})
      for t in (1, 2, 3, 4)],
    Case("mdct", "mdct", (Arr((2, 32)), 8), grad=True),
    Case("mdct_ortho_pad", "mdct", (Arr((30,)), 8),
         {"pad_end": True, "norm": "ortho", "window_fn": Win("kaiser_bessel_derived_window")}),
    Case("imdct", "inverse_mdct", (Arr((3, 4)),), grad=True),
    Case("imdct_ortho", "inverse_mdct", (Arr((2, 3, 6)),), {"norm": "ortho", "window_fn": None}),
    Case("mfccs", "mfccs_from_log_mel_spectrograms", (Arr((2, 3, 10)),), grad=True),
]


def make_input(case: str, i: int, a: Arr) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(f"{case}/{i}".encode()))
    x = rng.standard_normal(a.shape)
    if a.dtype.startswith("complex"):
        x = x + 1j * rng.standard_normal(a.shape)
    return x.astype(a.dtype)


def inputs(case: Case) -> list:
    return [make_input(case.name, i, a) if isinstance(a, Arr) else a
            for i, a in enumerate(case.args)]


def _resolve(ns: Any, v: Any) -> Any:
    if isinstance(v, DT):
        return getattr(ns, v.name)
    if isinstance(v, Win):
        fwd = getattr(ns.signal, v.name)
        if v.inverse_step is None:
            return fwd
        return ns.signal.inverse_stft_window_fn(v.inverse_step, forward_window_fn=fwd)
    return v


def call(ns: Any, case: Case, args: list) -> Any:
    """Run the case in namespace `ns` (tf or tx) on `args` (tensors where arrays were)."""
    kwargs = {k: _resolve(ns, v) for k, v in case.kwargs.items()}
    if case.fn == "istft_window":  # inverse_stft_window_fn(step, fwd)(frame_length, dtype)
        fwd = getattr(ns.signal, args[2]) if len(args) > 2 else ns.signal.hann_window
        return ns.signal.inverse_stft_window_fn(args[0], forward_window_fn=fwd)(
            args[1], dtype=ns.float32)
    if case.fn == "stft_roundtrip":
        x, fl, step = args
        s = ns.signal.stft(x, fl, step)
        win = ns.signal.inverse_stft_window_fn(step)
        return ns.signal.inverse_stft(s, fl, step, window_fn=win)
    return getattr(ns.signal, case.fn)(*args, **kwargs)


def weights(case: Case, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(f"w/{case.name}".encode()))
    return rng.standard_normal(out.shape), rng.standard_normal(out.shape)


def weighted_sum(ns: Any, out: Any, w: tuple) -> Any:
    """sum(real(out) * w0 + imag(out) * w1) in float64 (real outputs: sum(out * w0))."""
    if out.dtype.is_complex:
        re = ns.cast(ns.math.real(out), ns.float64)
        im = ns.cast(ns.math.imag(out), ns.float64)
        return ns.reduce_sum(re * w[0] + im * w[1])
    return ns.reduce_sum(ns.cast(out, ns.float64) * w[0])


def gradient(ns: Any, case: Case, args: list, w: tuple) -> Any:
    """d weighted_sum / d(first array argument)."""
    pos = next(i for i, a in enumerate(case.args) if isinstance(a, Arr))
    t = [ns.constant(a) if isinstance(c, Arr) else a for a, c in zip(args, case.args)]
    with ns.GradientTape() as tape:
        tape.watch(t[pos])
        target = weighted_sum(ns, call(ns, case, t), w)
    return tape.gradient(target, t[pos])

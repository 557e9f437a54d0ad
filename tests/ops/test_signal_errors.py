"""tx.signal misuse raises TF's error classes naming the function and the caller's line; shapes
known only at run time (input_signature with None) work where only the batch is unknown."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx

F32 = np.ones((2, 8), np.float32)
C64 = np.ones((2, 5), np.complex64)

BAD = [
    ("fft", lambda: tx.signal.fft(tx.constant(F32)), tx.errors.InvalidArgumentError,
     "complex64 or complex128"),
    ("rfft", lambda: tx.signal.rfft(C64), tx.errors.InvalidArgumentError, "float32 or float64"),
    ("irfft", lambda: tx.signal.irfft(tx.constant(F32)), ValueError, "complex64"),
    ("rfft2d", lambda: tx.signal.rfft2d(np.ones(3, np.float32)), ValueError, "rank >= 2"),
    ("rfft", lambda: tx.signal.rfft(F32, [4, 4]), ValueError, "fft_length"),
    ("fftnd", lambda: tx.fftnd(C64, norm="bad"), ValueError, "norm"),
    ("fftnd", lambda: tx.fftnd(C64, axes=[0, 0]), ValueError, "repeat"),
    ("frame", lambda: tx.signal.frame(F32, 3, 0), ValueError, "frame_step"),
    ("frame", lambda: tx.signal.frame(F32, 3, 2, axis=2), IndexError, "axis"),
    ("overlap_and_add", lambda: tx.signal.overlap_and_add(np.ones(4, np.float32), 2),
     ValueError, "rank >= 2"),
    ("dct", lambda: tx.signal.dct(F32, type=5), ValueError, "types"),
    ("dct", lambda: tx.signal.dct(F32, type=1, norm="ortho"), ValueError, "Type-I"),
    ("dct", lambda: tx.signal.dct(F32, axis=0), NotImplementedError, "axis must be -1"),
    ("idct", lambda: tx.signal.idct(F32, n=0), ValueError, "positive"),
    ("mdct", lambda: tx.signal.mdct(np.ones(20, np.float32), 6), ValueError, "multiple of 4"),
    ("hann_window", lambda: tx.signal.hann_window(4, dtype=tx.int32), ValueError, "floating"),
    ("linear_to_mel_weight_matrix",
     lambda: tx.signal.linear_to_mel_weight_matrix(upper_edge_hertz=5000.0), ValueError,
     "Nyquist"),
    ("linear_to_mel_weight_matrix",
     lambda: tx.signal.linear_to_mel_weight_matrix(lower_edge_hertz=200.0,
                                                   upper_edge_hertz=100.0), ValueError, ">="),
    ("mfccs_from_log_mel_spectrograms",
     lambda: tx.signal.mfccs_from_log_mel_spectrograms(np.ones((2, 0), np.float32)),
     ValueError, "num_mel_bins"),
    ("inverse_stft", lambda: tx.signal.inverse_stft(F32, 8, 4), ValueError, "complex64"),
    ("stft", lambda: tx.signal.stft(np.ones(20, np.int32), 4, 2), ValueError, "floating"),
]


@pytest.mark.parametrize("name,fn,cls,text", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_arguments(name, fn, cls, text):
    with pytest.raises(cls) as info:
        fn()
    msg = str(info.value)
    assert msg.startswith(f"{name}:") and text in msg, msg
    assert "test_signal_errors.py:" in msg, f"no user line in {msg!r}"


def test_unknown_batch_stft_round_trip():
    """Only the batch dim unknown: traced once, compiled per batch size."""
    @tx.function(input_signature=[tx.TensorSpec([None, 64], tx.float32)])
    def roundtrip(x):
        s = tx.signal.stft(x, 16, 8)
        return tx.signal.inverse_stft(s, 16, 8, window_fn=tx.signal.inverse_stft_window_fn(8))

    for batch in (3, 1):
        x = np.random.default_rng(batch).standard_normal((batch, 64)).astype(np.float32)
        y = roundtrip(x).numpy()
        assert y.shape == (batch, 64)
        np.testing.assert_allclose(y[:, 8:-8], x[:, 8:-8], atol=1e-5)  # full overlap inside


def test_unknown_signal_length_is_a_clear_error():
    @tx.function(input_signature=[tx.TensorSpec([None], tx.float32)])
    def f(x):
        return tx.signal.frame(x, 4, 2)

    with pytest.raises(TypeError, match="frame: needs the length of axis 0 known"):
        f(np.ones(10, np.float32))


def test_conversion_of_non_tensor_inputs():
    """As TF 2.21: values not yet tensors convert to the transform's preferred dtype, complex64
    (float64 and complex128 arrays included) or float32 for rfft; tensors keep theirs."""
    assert tx.signal.fft(np.ones(4)).dtype == tx.complex64
    assert tx.signal.fft2d(np.ones((2, 4), np.complex128)).dtype == tx.complex64
    assert tx.signal.irfft([1.0, 2.0, 3.0]).dtype == tx.float32
    assert tx.signal.irfft(np.ones(4, np.complex128)).dtype == tx.float32
    assert tx.signal.rfft(np.ones(4, np.int32)).dtype == tx.complex64
    assert tx.signal.rfft(np.ones((2, 4))).dtype == tx.complex64
    assert tx.signal.rfft(tx.constant(np.ones(4))).dtype == tx.complex128
    assert tx.signal.dct(np.ones(4)).dtype == tx.float64  # no preference: float64 stays


def test_tensor_arguments_known_at_trace_time():
    x = np.random.default_rng(0).standard_normal((2, 12)).astype(np.float32)
    got = tx.signal.rfft(tx.constant(x), tx.constant([6])).numpy()
    np.testing.assert_allclose(got, np.fft.rfft(x, 6), rtol=1e-5, atol=1e-5)
    frames = tx.signal.frame(tx.constant(x), tx.constant(5), tx.constant(3)).numpy()
    assert frames.shape == (2, 3, 5)


@pytest.mark.parametrize("fn,shape", [
    (lambda: tx.signal.stft(np.ones((2, 10), np.float32), 16, 4), (2, 0, 9)),
    (lambda: tx.signal.inverse_stft(tx.signal.stft(np.ones((2, 10), np.float32), 16, 4), 16, 4),
     (2, 12)),
    (lambda: tx.signal.frame(np.zeros((0,), np.float32), 4, 2, pad_end=True), (0, 4)),
    (lambda: tx.signal.overlap_and_add(np.zeros((0, 4), np.float32), 2), (2,)),
    (lambda: tx.signal.overlap_and_add(np.zeros((0, 4), np.float32), 6), (0,)),
    (lambda: tx.signal.overlap_and_add(np.ones((3, 0), np.float32), 2), (4,)),
    (lambda: tx.signal.rfft(np.zeros((2, 0), np.float32)), (2, 0)),
    (lambda: tx.signal.rfft(np.zeros((2, 0), np.float32), [4]), (2, 3)),
    (lambda: tx.signal.rfft(np.zeros((0, 4), np.float32)), (0, 3)),
    (lambda: tx.signal.fft(np.zeros((0, 3), np.complex64)), (0, 3)),
], ids=["stft", "inverse_stft", "frame", "ola", "ola_step_gt", "ola_no_samples", "rfft",
        "rfft_padded", "rfft_no_rows", "fft"])
def test_empty_inputs(fn, shape):
    """Empty signals and frame sets: TF 2.21's shapes (all zeros), no XLA call on empty FFTs."""
    got = fn().numpy()
    assert got.shape == shape and not np.any(got)

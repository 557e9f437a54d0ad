"""tx.signal against tf.signal outputs and gradients recorded once from TF 2.21
(tests/oracles/record_signal.py -> signal.npz), eagerly and under @tx.function."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.signal_cases import CASES, Arr, call, gradient, inputs, weights

DATA = np.load(Path(__file__).parents[1] / "oracles" / "signal.npz")
# the recorded cases TF cannot run (FFTND has no CPU kernel in TF 2.21) are checked vs numpy
NUMPY_FOR = {
    "fftnd": lambda x: np.fft.fftn(x),
    "fftnd_axes": lambda x: np.fft.fftn(x, s=[2, 5], axes=[0, 2], norm="ortho"),
    "ifftnd": lambda x: np.fft.ifftn(x, norm="forward"),
    "rfftnd": lambda x: np.fft.rfftn(x, s=[3, 6], axes=[-2, -1]),
    "irfftnd": lambda x: np.fft.irfftn(x, s=[3, 6], axes=[1, 2], norm="ortho"),
}


# Every case runs eagerly; these (one per function family) also run under @tx.function, to
# keep the file's compile time down (the optable module runs the families compiled as well).
COMPILED = {"frame_pad", "ola", "hann8", "mel_small", "fft2d", "rfft_odd", "irfft_odd",
            "irfft3d", "fftnd_axes", "rfftnd", "ifftshift", "stft_pad", "istft_win",
            "stft_roundtrip", "dct2_ortho", "dct3", "dct4_ortho", "idct1", "mdct_ortho_pad",
            "imdct", "mfccs"}
COMPILED_GRAD = {"frame", "fft", "ifft", "rfft_even", "irfft_crop", "rfft2d_len", "irfft2d",
                 "stft", "dct3_ortho", "imdct"}


def _tol(want: np.ndarray) -> dict:
    single = want.dtype in (np.float32, np.complex64)
    scale = max(1.0, float(np.max(np.abs(want), initial=0)))
    return {"rtol": 2e-5 if single else 1e-11, "atol": (2e-5 if single else 1e-11) * scale}


def _run(case, compiled: bool):
    args = inputs(case)
    is_arr = [isinstance(c, Arr) for c in case.args]

    def f(*tensors):
        it = iter(tensors)
        return call(tx, case, [next(it) if a else v for v, a in zip(args, is_arr)])

    fn = tx.function(f) if compiled else f
    return fn(*[tx.constant(v) for v, a in zip(args, is_arr) if a])


def _params(cases, compiled):
    return [pytest.param(c, m, id=f"{c.name}-{m}") for c in cases
            for m in ("eager", "compiled") if m == "eager" or c.name in compiled]


@pytest.mark.parametrize("case,mode", _params(CASES, COMPILED))
def test_output(case, mode):
    key = f"{case.name}__out"
    if key in DATA:
        want = DATA[key]
    else:
        assert f"{case.name}__error" in DATA, f"{case.name}: not recorded"
        want = NUMPY_FOR[case.name](inputs(case)[0])
    got = _run(case, mode == "compiled").numpy()
    assert got.shape == want.shape, f"{case.name}: shape {got.shape} != TF's {want.shape}"
    assert got.dtype == want.dtype, f"{case.name}: dtype {got.dtype} != TF's {want.dtype}"
    np.testing.assert_allclose(got, want, **_tol(want), err_msg=case.name)


GRAD_CASES = [c for c in CASES if c.grad]


@pytest.mark.parametrize("case,mode", _params(GRAD_CASES, COMPILED_GRAD))
def test_gradient(case, mode):
    args = inputs(case)
    out = DATA[f"{case.name}__out"]
    w = weights(case, out)
    tensors = [tx.constant(a) if isinstance(c, Arr) else a for a, c in zip(args, case.args)]
    if mode == "compiled":  # the weights are inputs too: a gradient folded into a constant
        # would hide the compiled rules
        f = tx.function(lambda ww, *a: gradient(tx, case, list(a), ww))
        got = f(tuple(tx.constant(v) for v in w), *tensors).numpy()
    else:
        got = gradient(tx, case, tensors, w).numpy()
    key = f"{case.name}__grad"
    if key not in DATA:  # TF's own rule fails here (rfft/irfft cropping): finite differences
        want = _finite_difference(case, args, w)
        tol = {"rtol": 1e-5, "atol": 1e-5 * max(1.0, float(np.max(np.abs(want))))}
    else:
        want = DATA[key]
        tol = _tol(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype)
    np.testing.assert_allclose(got, want, **tol, err_msg=case.name)


def _finite_difference(case, args, w):
    """d(weighted sum)/d(first array argument) by central differences in float64/complex128,
    with numpy's FFT as the function (the cases without a TF gradient are rfft/irfft)."""
    x0 = args[0].astype(np.complex128 if args[0].dtype.kind == "c" else np.float64)
    n = case.args[1][0]
    f = (lambda x: np.fft.rfft(x, n)) if case.fn == "rfft" else (lambda x: np.fft.irfft(x, n))

    def target(x):
        o = f(x)
        return float(np.sum(np.real(o) * w[0] + np.imag(o) * w[1]))

    g = np.zeros(x0.shape, x0.dtype)
    for i in np.ndindex(x0.shape):
        for d in ([1.0] if x0.dtype.kind == "f" else [1.0, 1j]):
            xp, xm = x0.copy(), x0.copy()
            xp[i] += 1e-6 * d
            xm[i] -= 1e-6 * d
            g[i] += d * (target(xp) - target(xm)) / 2e-6
    return g.astype(args[0].dtype)

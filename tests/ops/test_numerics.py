"""Every op in the table, eager and compiled, against its numpy reference."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

import tfx_core as tx
from tests.optable import DEFAULT_TOL, all_entries, to_input

ENTRIES = all_entries()


def _cases():
    for info in ENTRIES:
        for dt in info.dtypes:
            rng = np.random.default_rng(zlib.crc32(f"{info.name}/{dt.name}".encode()))
            for i, sample in enumerate(info.samples(rng, dt)):
                yield pytest.param(info, dt, sample, id=f"{info.name}-{dt.name}-{i}")


CASES = list(_cases())


def _check(info, dtype, sample, got, mode):
    with np.errstate(all="ignore"):
        want = info.ref(*sample.args, **sample.kwargs)
    got_t = got if isinstance(got, (tuple, list)) else (got,)
    want_t = want if isinstance(want, (tuple, list)) else (want,)
    assert len(got_t) == len(want_t), f"{info.name}: {len(got_t)} results, expected {len(want_t)}"
    rtol, atol = info.tol.get(dtype.name, DEFAULT_TOL.get(dtype.name, (0, 0)))
    for g, w in zip(got_t, want_t):
        w = np.asarray(w)
        assert isinstance(g, tx.Tensor), f"{info.name} returned {type(g).__name__}"
        g = g.numpy()
        repro = f"{info.name} {mode} dtype={dtype.name} sample={sample}"
        assert g.shape == w.shape, f"{repro}: shape {g.shape} != reference {w.shape}"
        assert g.dtype == w.dtype, f"{repro}: dtype {g.dtype} != reference {w.dtype}"
        if w.dtype.kind == "c":  # complex: compare the real and imaginary parts as floats
            g, w = np.stack([g.real, g.imag]), np.stack([w.real, w.imag])
        if w.dtype.kind == "f" or w.dtype.itemsize == 2 and w.dtype.kind == "V":
            np.testing.assert_allclose(
                g.astype(np.float64), w.astype(np.float64), rtol=rtol, atol=atol,
                equal_nan=True, err_msg=repro,
            )
        else:
            np.testing.assert_array_equal(g, w, err_msg=repro)


def _xfail(info, dtype, mode):
    reason = info.xfail.get(dtype.name) or info.xfail.get(mode)
    if reason:
        pytest.xfail(reason)


@pytest.mark.parametrize("info,dtype,sample", CASES)
def test_eager(info, dtype, sample):
    _xfail(info, dtype, "eager")
    got = info.fn(*[to_input(a) for a in sample.args], **sample.kwargs)
    _check(info, dtype, sample, got, "eager")


@pytest.mark.parametrize("info,dtype,sample", CASES)
def test_compiled(info, dtype, sample):
    _xfail(info, dtype, "compiled")
    is_t = [isinstance(a, np.ndarray) for a in sample.args]

    @tx.function
    def f(*tensors):
        it = iter(tensors)
        args = [next(it) if t else a for a, t in zip(sample.args, is_t)]
        return info.fn(*args, **sample.kwargs)

    got = f(*[tx.constant(a) for a, t in zip(sample.args, is_t) if t])
    _check(info, dtype, sample, got, "compiled")

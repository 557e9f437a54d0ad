"""Calling compiled functions with numpy arrays: exact dtypes, no aliasing, mixed inputs."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx


def test_numpy_inputs_repeatedly_match_numpy():
    f = tx.function(lambda x, y: x * y + 1.0)
    rng = np.random.default_rng(0)
    for _ in range(4):  # first call traces; later ones take the fast host path
        x = rng.standard_normal((8, 16)).astype(np.float32)
        y = rng.standard_normal((8, 16)).astype(np.float32)
        np.testing.assert_allclose(f(x, y).numpy(), x * y + 1.0, rtol=2e-5, atol=1e-6)
    assert f.experimental_get_tracing_count() == 1


def test_mixed_tensor_and_numpy_inputs():
    f = tx.function(lambda x, y: x - y)
    x = tx.constant(np.arange(6, dtype=np.int32))
    for _ in range(3):
        np.testing.assert_array_equal(f(x, np.ones(6, np.int32)).numpy(), np.arange(6) - 1)


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_64_bit_numpy_inputs_stay_exact(dtype):
    f = tx.function(lambda x: x + x)
    a = (np.arange(4) + 2**40).astype(dtype) if dtype == np.int64 else \
        np.array([1e-300, 1 + 1e-15, 3.0, -2.5])
    for _ in range(3):
        out = f(a)
        assert out.dtype.np_dtype == np.dtype(dtype)
        np.testing.assert_array_equal(out.numpy(), a + a)


def test_mutating_the_input_after_the_call_does_not_change_the_result():
    f = tx.function(lambda x: x * 2.0)
    a = np.ones((256, 256), np.float32)
    f(a)  # trace + compile
    results = []
    for i in range(5):
        results.append(f(a))
        a[...] = float(i + 10)  # the caller reuses its buffer immediately
    for i, r in enumerate(results):
        expected = 2.0 if i == 0 else 2.0 * (i - 1 + 10)
        np.testing.assert_array_equal(r.numpy(), np.full((256, 256), expected, np.float32))


def test_wrong_dtype_numpy_retraces_instead_of_narrowing():
    f = tx.function(lambda x: x * 2)
    f(np.ones(3, np.float32))
    f(np.ones(3, np.float32))
    out = f(np.ones(3, np.float64))
    assert out.dtype is tx.float64
    assert f.experimental_get_tracing_count() == 2


def test_captured_tensor_with_numpy_input():
    big = tx.constant(np.full((64, 64), 3.0, np.float32))  # > 1024 elements: an implicit input
    f = tx.function(lambda x: x + big)
    for _ in range(3):
        np.testing.assert_array_equal(f(np.ones((64, 64), np.float32)).numpy(), 4.0)

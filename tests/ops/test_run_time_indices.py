"""x[i] where i is only known at run time (a loop counter, an argmax, a function argument):
a size-1 dynamic_slice, negative indices counted from the end, out of range clamped (XLA)."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx

X = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)

KEYS = {  # name: key as a function of the run-time indices (i, j)
    "x[i]": lambda i, j: i,
    "x[:, j]": lambda i, j: (slice(None), j),
    "x[..., i]": lambda i, j: (Ellipsis, i),
    "x[i, j]": lambda i, j: (i, j),
    "x[1, j, ::2]": lambda i, j: (1, j, slice(None, None, 2)),
    "x[-1, j]": lambda i, j: (-1, j),
    "x[i, None, j]": lambda i, j: (i, None, j),
    "x[i, 1:3]": lambda i, j: (i, slice(1, 3)),
}


@pytest.mark.parametrize("name", sorted(KEYS))
@pytest.mark.parametrize("i, j", [(0, 1), (1, 2), (-1, -3), (-2, -1)])
def test_run_time_index_matches_numpy(name, i, j):
    key = KEYS[name]
    f = tx.function(lambda x, a, b: x[key(a, b)])
    got = f(tx.constant(X), tx.constant(i), tx.constant(j))
    np.testing.assert_array_equal(got.numpy(), X[key(i, j)])
    assert got.shape == X[key(i, j)].shape


def test_one_trace_serves_every_index_value():
    f = tx.function(lambda x, i: x[i])
    for i in range(-2, 2):
        np.testing.assert_array_equal(f(tx.constant(X), tx.constant(i)).numpy(), X[i])
    assert f.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_index_dtypes(dtype):
    f = tx.function(lambda x, i, j: x[i, j])
    got = f(tx.constant(X), tx.constant(dtype(1)), tx.constant(dtype(-1)))
    np.testing.assert_array_equal(got.numpy(), X[1, -1])


def test_loop_counter_index():
    @tx.function
    def row_sum(x):
        s = tx.zeros([4])
        for i in tx.range(3):
            s = s + x[1, i]
        return s

    np.testing.assert_allclose(row_sum(tx.constant(X)).numpy(), X[1].sum(0))


def test_argmax_index():
    f = tx.function(lambda x: x[tx.argmax(x[:, 0, 0], output_type=tx.int32)])
    np.testing.assert_array_equal(f(tx.constant(X)).numpy(), X[1])


def test_out_of_range_is_clamped_when_compiled():
    f = tx.function(lambda x, i: x[i])
    np.testing.assert_array_equal(f(tx.constant(X), tx.constant(7)).numpy(), X[1])
    np.testing.assert_array_equal(f(tx.constant(X), tx.constant(-9)).numpy(), X[0])


def test_eager_tensor_index_is_checked_like_an_int():
    np.testing.assert_array_equal(tx.constant(X)[tx.constant(1)].numpy(), X[1])
    with pytest.raises(IndexError, match="index 5 is out of range for axis 0 of size 2"):
        tx.constant(X)[tx.constant(5)]


def test_gradient_flows_to_the_indexed_row():
    @tx.function
    def grad(x, i):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.reduce_sum(x[i, 1] * 3.0)
        return tape.gradient(y, x)

    want = np.zeros_like(X)
    want[1, 1] = 3.0
    np.testing.assert_array_equal(grad(tx.constant(X), tx.constant(-1)).numpy(), want)


def test_none_dims_of_a_signature_specialize():
    f = tx.function(lambda x, i: x[i],
                    input_signature=[tx.TensorSpec([None, 4], tx.float32),
                                     tx.TensorSpec([], tx.int32)])
    for n in (3, 5):  # the unknown axis size is read with shape_of, static per call shape
        a = np.arange(n * 4, dtype=np.float32).reshape(n, 4)
        np.testing.assert_array_equal(f(tx.constant(a), tx.constant(2)).numpy(), a[2])
        np.testing.assert_array_equal(f(tx.constant(a), tx.constant(-1)).numpy(), a[-1])
    g = tx.function(lambda x, i: x[:, i], input_signature=[tx.TensorSpec([None, 4], tx.float32),
                                                            tx.TensorSpec([], tx.int32)])
    for n in (2, 5):  # the other (unknown) axes are taken whole, sized per call shape
        a = np.arange(n * 4, dtype=np.float32).reshape(n, 4)
        np.testing.assert_array_equal(g(tx.constant(a), tx.constant(-3)).numpy(), a[:, -3])


def test_run_time_slice_bounds_are_refused_clearly():
    f = tx.function(lambda x, i: x[i:])  # a width known only at run time (x[i:i + 1] works)
    with pytest.raises(TypeError, match=r"getitem: slice bounds that are only known at run time"
                                        r".*test_run_time_indices.py"):
        f(tx.constant(X), tx.constant(0))


def test_non_scalar_or_float_tensor_index_is_refused():
    f = tx.function(lambda x, i: x[i])
    with pytest.raises(TypeError, match="must be integer scalars"):
        f(tx.constant(X), tx.constant(1.0))
    with pytest.raises(TypeError, match="must be integer scalars"):
        f(tx.constant(X), tx.constant([0, 1]))

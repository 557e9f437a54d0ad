"""x[i:i + w], x[i:i + w:k] and tx.slice at a start known only at run time: one dynamic_slice of
a static width, eager and compiled against numpy, gradients against jax.grad."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tfx_core as tx

X = np.arange(5 * 6 * 4, dtype=np.float32).reshape(5, 6, 4) / 10.0
HERE = "test_run_time_slices.py:"

# name: (tfx form f(x, i), reference f(array, int) for numpy and jax, starts in range).
# "In range": the window lies inside the axis on one side of zero, as numpy reads it (x[i:i+3]
# with 0 <= i <= n-3, or -n <= i <= -4 so that i + 3 is still negative).
FORMS = {
    "x[i:i+3]": (lambda x, i: x[i:i + 3], lambda a, i: a[i:i + 3], (0, 2, -5, -4)),
    "x[:, i:i+2]": (lambda x, i: x[:, i:i + 2], lambda a, i: a[:, i:i + 2], (0, 4, -6, -3)),
    "x[i-2:i]": (lambda x, i: x[i - 2:i], lambda a, i: a[i - 2:i], (2, 5, -1, -3)),
    "x[:, i:i+4:2]": (lambda x, i: x[:, i:i + 4:2], lambda a, i: a[:, i:i + 4:2], (0, 2, -6)),
    "x[..., i:i+1]": (lambda x, i: x[..., i:i + 1], lambda a, i: a[..., i:i + 1], (0, 3, -2)),
    "x[i:i-3:-1]": (lambda x, i: x[i:i - 3:-1], lambda a, i: a[i:i - 3:-1], (3, 4, -1, -2)),
    "x[1, i+1:i+3, ::2]": (lambda x, i: x[1, i + 1:i + 3, ::2],
                           lambda a, i: a[1, i + 1:i + 3, ::2], (0, 3, -5)),
    "x[i, None, i:i+2]": (lambda x, i: x[i, None, i:i + 2],
                          lambda a, i: a[i, None, i:i + 2], (0, 1, -3)),
    "x[i-1:i+2, :, 1:]": (lambda x, i: x[i - 1:i + 2, :, 1:],
                          lambda a, i: a[i - 1:i + 2, :, 1:], (1, 3, -4)),
    "tx.slice(x, [i, 1, 0], [2, 3, -1])": (lambda x, i: tx.slice(x, [i, 1, 0], [2, 3, -1]),
                                           lambda a, i: a[i:i + 2, 1:4, :], (0, 3)),
    "tx.slice(x, stack([1, i, i]), ...)": (
        lambda x, i: tx.slice(x, tx.stack([1, i, i]), [3, 2, 1]),
        lambda a, i: a[1:4, i:i + 2, i:i + 1], (0, 2, 3)),
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_matches_numpy_eager_and_compiled(name):
    form, ref, starts = FORMS[name]
    f = tx.function(form)
    for i in starts:
        want = ref(X, i)
        for got in (form(tx.constant(X), tx.constant(i)), f(tx.constant(X), tx.constant(i))):
            assert got.shape == want.shape, (i, got.shape, want.shape)
            np.testing.assert_array_equal(got.numpy(), want)
    assert f.experimental_get_tracing_count() == 1  # one program serves every start


@pytest.mark.parametrize("name", sorted(FORMS))
def test_gradient_matches_jax(name):
    form, ref, starts = FORMS[name]

    def grad(x, i):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.reduce_sum(tx.sin(form(x, i)))
        return tape.gradient(y, x)

    compiled = tx.function(grad)
    i = starts[-1]
    want = np.asarray(jax.grad(lambda a: jnp.sum(jnp.sin(ref(a, i))))(jnp.asarray(X)))
    for got in (grad(tx.constant(X), tx.constant(i)), compiled(tx.constant(X), tx.constant(i))):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)


def test_out_of_range_windows_are_clamped_when_compiled():
    # XLA's rule: the start is clamped so the whole window fits (eagerly numpy/TF semantics
    # give a shorter result, which a static-size program cannot)
    f = tx.function(lambda x, i: x[i:i + 3])
    np.testing.assert_array_equal(f(tx.constant(X), tx.constant(4)).numpy(), X[2:5])
    np.testing.assert_array_equal(f(tx.constant(X), tx.constant(-9)).numpy(), X[0:3])
    np.testing.assert_array_equal(tx.constant(X)[tx.constant(4):tx.constant(7)].numpy(), X[4:])
    g = tx.function(lambda x, i: tx.slice(x, [i, 0, 0], [2, -1, -1]))
    np.testing.assert_array_equal(g(tx.constant(X), tx.constant(4)).numpy(), X[3:5])
    np.testing.assert_array_equal(g(tx.constant(X), tx.constant(-1)).numpy(), X[0:2])


def test_int64_start_and_region_captures():
    f = tx.function(lambda x, i: x[i:i + 2])
    np.testing.assert_array_equal(f(tx.constant(X), tx.constant(np.int64(2))).numpy(), X[2:4])

    @tx.function
    def loop(x, i):
        s = tx.zeros([2, 6, 4])
        for t in tx.range(3):  # i captured in the body, i + 2 computed there
            s = s + x[i:i + 2] + x[t:t + 2]
        return s

    want = 3 * X[1:3] + X[0:2] + X[1:3] + X[2:4]
    np.testing.assert_allclose(loop(tx.constant(X), tx.constant(1)).numpy(), want, rtol=1e-6)


def test_unknown_dims_of_a_signature_specialize():
    f = tx.function(lambda x, i: x[i - 2:i, 1:],
                    input_signature=[tx.TensorSpec([None, 4], tx.float32),
                                     tx.TensorSpec([], tx.int32)])
    for n in (3, 6):
        a = np.arange(n * 4, dtype=np.float32).reshape(n, 4)
        np.testing.assert_array_equal(f(tx.constant(a), tx.constant(2)).numpy(), a[0:2, 1:])
        np.testing.assert_array_equal(f(tx.constant(a), tx.constant(-1)).numpy(), a[-3:-1, 1:])


@pytest.mark.parametrize("form", [lambda x, i, j: x[i:j], lambda x, i, j: x[i:],
                                  lambda x, i, j: x[:j], lambda x, i, j: x[2:i + 3],
                                  lambda x, i, j: x[i:i * 2]])
def test_a_width_known_only_at_run_time_is_refused(form):
    f = tx.function(form)
    with pytest.raises(TypeError) as e:
        f(tx.constant(X), tx.constant(1), tx.constant(3))
    msg = str(e.value)
    for w in ("getitem: slice bounds that are only known at run time", "x[i:i + w]",
              "tx.slice(x, [i], [w])", "tx.gather(x, tx.range(w) + i)", HERE):
        assert w in msg, msg


def test_a_window_wider_than_its_axis_is_refused():
    f = tx.function(lambda x, i: x[i:i + 6])
    with pytest.raises(IndexError, match=r"spans 6 elements but axis 0 has 5.*" + HERE):
        f(tx.constant(X), tx.constant(0))


def test_slice_size_minus_one_at_a_run_time_begin_is_refused():
    f = tx.function(lambda x, i: tx.slice(x, [i, 0, 0], [-1, 2, 2]))
    with pytest.raises(tx.errors.InvalidArgumentError,
                       match=r"slice: size\[0\] is -1 .* begin\[0\] is known only at run time.*"
                             + HERE):
        f(tx.constant(X), tx.constant(1))


def test_eager_slice_bounds_are_checked_as_tf():
    x = tx.constant(X)
    with pytest.raises(tx.errors.InvalidArgumentError,
                       match=r"Expected begin\[0\] in \[0, 5\], but got 6.*f32\[5,6,4\].*" + HERE):
        tx.slice(x, [tx.constant(6), 0, 0], [1, 1, 1])
    with pytest.raises(tx.errors.InvalidArgumentError,
                       match=r"Expected size\[1\] in \[0, 2\], but got 3.*axis 1"):
        tx.slice(x, tx.constant([0, 4, 0]), [1, 3, 1])
    with pytest.raises(ValueError, match=r"Expected begin\[2\] in \[0, 4\], but got -1"):
        tx.slice(x, [0, 0, -1], [1, 1, 1])


def test_run_time_begin_must_be_integer_scalars():
    f = tx.function(lambda x, b: tx.slice(x, b, [1, 1, 1]))
    with pytest.raises(TypeError, match="begin must be a 1-D integer tensor"):
        f(tx.constant(X), tx.constant([[0, 1, 2]]))
    g = tx.function(lambda x, b: tx.slice(x, [b, 0, 0], [1, 1, 1]))
    with pytest.raises(TypeError, match="begin entries must be integer scalars"):
        g(tx.constant(X), tx.constant([0, 1]))

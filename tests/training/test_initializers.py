"""Initializers: seeded determinism, sample statistics, Glorot limits and fans, dtypes, errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tfx_core as tx

I = tx.initializers  # noqa: E741
FLOATS = [tx.float16, tx.bfloat16, tx.float32, tx.float64]
RANDOM = [
    lambda seed: I.RandomNormal(seed=seed),
    lambda seed: I.RandomUniform(seed=seed),
    lambda seed: I.TruncatedNormal(seed=seed),
    lambda seed: I.GlorotUniform(seed=seed),
    lambda seed: I.GlorotNormal(seed=seed),
    lambda seed: I.HeNormal(seed=seed),
    lambda seed: I.HeUniform(seed=seed),
    lambda seed: I.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=seed),
]
RANDOM_IDS = ["normal", "uniform", "truncated", "glorot_u", "glorot_n", "he_n", "he_u", "vs"]


def sample(init, shape=(10_000,), dtype=tx.float64) -> np.ndarray:
    t = init(shape, dtype)
    assert isinstance(t, tx.Tensor) and not t.is_symbolic
    return t.numpy().astype(np.float64)


# ---------------------------------------------------------------- determinism
@pytest.mark.parametrize("make", RANDOM, ids=RANDOM_IDS)
def test_same_seed_same_values_every_call(make):
    a = make(7)
    first = a((4, 5)).numpy()
    np.testing.assert_array_equal(a((4, 5)).numpy(), first)       # same instance, again
    np.testing.assert_array_equal(make(7)((4, 5)).numpy(), first)  # a new instance
    assert not np.array_equal(make(8)((4, 5)).numpy(), first)


@pytest.mark.parametrize("make", RANDOM, ids=RANDOM_IDS)
def test_no_seed_fresh_values(make):
    init = make(None)
    assert not np.array_equal(init((50,)).numpy(), init((50,)).numpy())


def test_seeded_values_independent_of_dtype_up_to_rounding():
    a = I.RandomNormal(seed=3)((100,), tx.float64).numpy()
    b = I.RandomNormal(seed=3)((100,), tx.float32).numpy()
    np.testing.assert_allclose(b, a, rtol=1e-6)


# ---------------------------------------------------------------- statistics
def test_random_normal_statistics():
    x = sample(I.RandomNormal(mean=1.5, stddev=2.0, seed=0))
    assert abs(x.mean() - 1.5) < 0.08  # standard error is 0.02
    assert abs(x.std() - 2.0) < 0.06


def test_random_uniform_statistics_and_bounds():
    x = sample(I.RandomUniform(minval=-1.0, maxval=3.0, seed=1))
    assert x.min() >= -1.0 and x.max() < 3.0
    assert abs(x.mean() - 1.0) < 0.05
    assert abs(x.std() - 4.0 / math.sqrt(12.0)) < 0.04
    assert x.min() < -0.99 and x.max() > 2.99  # covers the whole interval


def test_default_hyperparameters():
    x = sample(I.RandomNormal(seed=2))
    assert abs(x.mean()) < 0.003 and abs(x.std() - 0.05) < 0.002
    u = sample(I.RandomUniform(seed=2))
    assert u.min() >= -0.05 and u.max() < 0.05


def test_truncated_normal_within_two_stddevs():
    x = sample(I.TruncatedNormal(mean=1.0, stddev=0.5, seed=4))
    assert np.all(np.abs(x - 1.0) <= 1.0)
    assert abs(x.mean() - 1.0) < 0.02
    assert abs(x.std() - 0.5 * 0.8796) < 0.02  # the stddev of a 2-sigma truncated normal


@pytest.mark.parametrize("shape", [(100, 200), (3, 3, 16, 32), (50,), ()])
def test_glorot_uniform_limit_exact(shape):
    fan_in, fan_out = I.compute_fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    x = I.GlorotUniform(seed=5)(shape, tx.float64).numpy()
    assert x.shape == shape
    assert np.all(np.abs(x) <= limit)
    if x.size >= 1000:
        assert np.abs(x).max() > 0.99 * limit  # the limit is reached, not a smaller one
        assert abs(x.std() - limit / math.sqrt(3.0)) < 0.03 * limit


def test_glorot_normal_and_he_stddev():
    shape = (200, 100)
    x = sample(I.GlorotNormal(seed=6), shape)
    assert abs(x.std() - math.sqrt(2.0 / 300)) < 0.03 * math.sqrt(2.0 / 300)
    assert np.abs(x).max() <= 2.0 * math.sqrt(2.0 / 300) / 0.87962566103423978 + 1e-12
    h = sample(I.HeUniform(seed=6), shape)
    assert np.abs(h).max() <= math.sqrt(6.0 / 200)
    assert np.abs(h).max() > 0.99 * math.sqrt(6.0 / 200)


@pytest.mark.parametrize("shape,fans", [
    ((), (1, 1)), ((7,), (7, 7)), ((4, 9), (4, 9)), ((3, 3, 16, 32), (144, 288)),
    ((5, 2, 3), (10, 15)), ((0, 4), (0, 4)),
])
def test_compute_fans(shape, fans):
    assert I.compute_fans(shape) == fans


def test_glorot_uniform_zero_sized_shape():
    x = I.GlorotUniform(seed=0)((0, 4))
    assert x.shape == (0, 4) and x.dtype == tx.float32


# ---------------------------------------------------------------- shapes and dtypes
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("make", RANDOM, ids=RANDOM_IDS)
def test_random_dtypes(make, dtype):
    t = make(0)([2, 3], dtype)
    assert t.dtype == dtype and t.shape == (2, 3)
    assert np.all(np.isfinite(t.numpy().astype(np.float32)))


def test_default_dtype_is_float32_and_shape_spellings():
    for shape in ([2, 3], (2, 3), tx.TensorShape((2, 3)), np.array([2, 3])):
        t = I.RandomNormal(seed=0)(shape)
        assert t.dtype == tx.float32 and t.shape == (2, 3)
    assert I.Zeros()(4).shape == (4,)


@pytest.mark.parametrize("dtype", [*FLOATS, tx.int32, tx.int64, tx.uint8, tx.bool],
                         ids=lambda d: d.name)
def test_zeros_ones_constant_any_dtype(dtype):
    np.testing.assert_array_equal(I.Zeros()((2, 2), dtype).numpy(), np.zeros((2, 2)))
    np.testing.assert_array_equal(I.Ones()((3,), dtype).numpy(), np.ones(3))
    c = I.Constant(1)((2,), dtype)
    assert c.dtype == dtype
    np.testing.assert_array_equal(c.numpy(), np.ones(2))


def test_constant_scalar_fill_and_reshape():
    np.testing.assert_array_equal(I.Constant(2.5)((2, 2)).numpy(), np.full((2, 2), 2.5))
    np.testing.assert_array_equal(I.Constant([1, 2, 3, 4, 5, 6])((2, 3), tx.int32).numpy(),
                                  np.arange(1, 7).reshape(2, 3))
    np.testing.assert_array_equal(I.Constant(np.eye(2))((4,), tx.float64).numpy(),
                                  [1, 0, 0, 1])
    np.testing.assert_array_equal(I.Constant(tx.constant([1.0, 2.0]))((2,)).numpy(), [1, 2])


def test_tf_aliases():
    assert I.random_normal_initializer is I.RandomNormal is I.random_normal
    assert I.random_uniform_initializer is I.RandomUniform
    assert I.zeros_initializer is I.Zeros is I.zeros
    assert I.ones_initializer is I.Ones is I.ones
    assert I.constant_initializer is I.Constant
    assert I.glorot_uniform_initializer is I.GlorotUniform is I.glorot_uniform


def test_top_level_exports():
    assert tx.random_normal_initializer is I.RandomNormal
    assert tx.random_uniform_initializer is I.RandomUniform
    assert tx.zeros_initializer is I.Zeros
    assert tx.ones_initializer is I.Ones
    assert tx.constant_initializer is I.Constant
    assert tx.glorot_uniform_initializer is I.GlorotUniform


def test_get_and_config_round_trip():
    assert isinstance(I.get("glorot_uniform"), I.GlorotUniform)
    assert isinstance(I.get("GlorotUniform"), I.GlorotUniform)
    assert isinstance(I.get(I.Zeros), I.Zeros)
    init = I.RandomUniform(-1.0, 2.0, seed=3)
    assert I.get(init) is init
    clone = I.RandomUniform.from_config(init.get_config())
    np.testing.assert_array_equal(clone((5,)).numpy(), init((5,)).numpy())
    assert "seed=3" in repr(init)
    with pytest.raises(ValueError, match="unknown initializer 'nope'"):
        I.get("nope")


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("make", RANDOM, ids=RANDOM_IDS)
@pytest.mark.parametrize("dtype", [tx.int32, tx.bool])
def test_random_rejects_non_float(make, dtype):
    with pytest.raises(TypeError, match=f"floating dtype.*got {dtype.name}"):
        make(0)((2,), dtype)


@pytest.mark.parametrize("shape,exc,msg", [
    ((2, -1), ValueError, ">= 0"),
    ((2, None), TypeError, "ints"),
    ((2.0, 3), TypeError, "ints"),
    ((True, 3), TypeError, "ints"),
    ("abc", TypeError, "list or tuple"),
    (None, TypeError, "list or tuple"),
])
def test_bad_shapes(shape, exc, msg):
    for init in (I.Zeros(), I.RandomNormal(seed=0), I.GlorotUniform(seed=0)):
        with pytest.raises(exc, match=msg):
            init(shape)


def test_constructor_errors():
    with pytest.raises(ValueError, match="stddev"):
        I.RandomNormal(stddev=-1.0)
    with pytest.raises(ValueError, match="maxval"):
        I.RandomUniform(1.0, 0.0)
    with pytest.raises(TypeError, match="seed"):
        I.RandomNormal(seed=1.5)
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="scale"):
        I.VarianceScaling(scale=0.0)
    with pytest.raises(TypeError, match="numeric"):
        I.Constant("x")


def test_constant_errors():
    with pytest.raises(ValueError, match="3 elements but shape \\(2, 2\\) needs 4"):
        I.Constant([1.0, 2.0, 3.0])((2, 2))
    with pytest.raises(TypeError, match="int32"):
        I.Constant(1.5)((2,), tx.int32)

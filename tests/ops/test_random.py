"""tx.random: bit-exact threefry reference, determinism, statistics, Generators, global seed."""
from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

import tfx_core as tx
from compiler.interpreters import bind
from compiler.ir.types import I64, U32
from compiler.ops.random import rng_bit_generator_op, rng_bits

N = 100_000
P_MIN = 1e-3  # KS / chi-square p-values: seeds are fixed, so these are deterministic checks


# ---------------------------------------------------------------- the bits
@pytest.mark.parametrize("dtype", [U32, I64], ids=["u32", "i64"])
@pytest.mark.parametrize("shape", [(), (1,), (2,), (5,), (2, 3), (3, 5), (3, 1, 5), (0,), (4, 0),
                                   (7, 9, 2), (1, 7), (1000,)])
def test_reference_is_bit_exact(shape, dtype):
    """The numpy threefry (the op's reference, and the op table's oracle) is XLA's, bit for bit,
    eagerly and compiled, including the advanced state and counters that wrap around."""
    states = [[1, 2], [0, 0], [-1, -5], [2**62, 2**63 - 3],
              *np.random.default_rng(7).integers(-(2**63), 2**63 - 1, (2, 2)).tolist()]
    f = tx.function(lambda s: bind(rng_bit_generator_op, s, shape=shape, dtype=dtype))
    for st in states:
        s = np.array(st, np.int64)
        want_state, want_bits = rng_bits(s, shape, dtype)
        for mode, (ns, bits) in (("eager", bind(rng_bit_generator_op, tx.constant(s),
                                                shape=shape, dtype=dtype)),
                                 ("compiled", f(tx.constant(s)))):
            np.testing.assert_array_equal(ns.numpy(), want_state, err_msg=f"{mode} state {st}")
            assert bits.numpy().dtype == want_bits.dtype and bits.shape == shape
            np.testing.assert_array_equal(bits.numpy(), want_bits, err_msg=f"{mode} bits {st}")


def test_state_advances_by_blocks_used():
    s = np.array([5, 10], np.int64)
    assert rng_bits(s, (7,), U32)[0].tolist() == [5, 14]  # 4 blocks of two u32 words
    assert rng_bits(s, (7,), I64)[0].tolist() == [5, 17]  # one block per u64
    assert rng_bits(s, (), U32)[0].tolist() == [5, 11]


def test_static_values_use_the_exact_reference():
    """A constant seed makes the numbers known at trace time (the reference runs): they must be
    the numbers XLA computes."""
    seen = {}

    @tx.function
    def f():
        u = tx.random.stateless_uniform([3, 4], seed=[4, 2])
        seen["static"] = tx.get_static_value(u)
        return u

    got = f().numpy()
    assert seen["static"] is not None
    np.testing.assert_array_equal(seen["static"], got)
    np.testing.assert_array_equal(tx.random.stateless_uniform([3, 4], seed=[4, 2]).numpy(), got)


# ---------------------------------------------------------------- stateless determinism
STATELESS = {
    "uniform": lambda shape, seed, dt: tx.random.stateless_uniform(shape, seed, dtype=dt),
    "normal": lambda shape, seed, dt: tx.random.stateless_normal(shape, seed, dtype=dt),
    "truncated_normal": lambda shape, seed, dt: tx.random.stateless_truncated_normal(
        shape, seed, dtype=dt),
}


@pytest.mark.parametrize("dtype", [tx.float16, tx.bfloat16, tx.float32, tx.float64])
@pytest.mark.parametrize("kind", list(STATELESS))
def test_stateless_deterministic_eager_equals_compiled(kind, dtype):
    fn = STATELESS[kind]
    seed = np.array([11, -3], np.int32)
    a = fn([64, 3], seed, dtype).numpy()
    b = fn([64, 3], tx.constant(seed), dtype).numpy()
    c = tx.function(lambda s: fn([64, 3], s, dtype))(tx.constant(seed)).numpy()
    assert a.dtype == dtype.np_dtype and a.shape == (64, 3)
    np.testing.assert_array_equal(a, b)
    if kind == "uniform":  # exact arithmetic on the same bits: bit-identical
        np.testing.assert_array_equal(a, c)
    else:  # the same bits; XLA may fuse the float math (FMA) differently: a few ulp at most
        eps = float(ml_dtypes.finfo(dtype.np_dtype).eps)
        np.testing.assert_allclose(a.astype(np.float64), c.astype(np.float64), rtol=4 * eps,
                                   atol=4 * eps)
    assert len(np.unique(a)) > 32


@pytest.mark.parametrize("kind", list(STATELESS))
def test_different_seeds_differ(kind):
    fn = STATELESS[kind]
    draws = [fn([1000], s, tx.float32).numpy() for s in ([1, 2], [1, 3], [2, 2], [0, 0])]
    for i in range(len(draws)):
        for j in range(i):
            # Unrelated streams: not equal, and not shifted copies (threefry counters of
            # seeds [1, 2] and [1, 3] would overlap if the seed were the state itself).
            common = np.intersect1d(draws[i], draws[j]).size
            assert common < 10, (kind, i, j, common)


# 0-d, empty, 3-d: the op table (tests/optable/random_ops.py) also draws (1,), (5,) and (4, 0)
@pytest.mark.parametrize("shape", [(), (3, 0, 2), (2, 3, 4)])
def test_shapes_and_dtypes(shape):
    for dt in (tx.float16, tx.bfloat16, tx.float32, tx.float64):
        for fn in STATELESS.values():
            out = fn(shape, [1, 2], dt)
            assert out.dtype == dt and tuple(out.shape) == shape
    for dt in (tx.int32, tx.int64):
        out = tx.random.stateless_uniform(shape, [1, 2], minval=-5, maxval=5, dtype=dt)
        assert out.dtype == dt and tuple(out.shape) == shape
    out = tx.random.stateless_uniform(tx.constant(np.array(shape, np.int32)), [1, 2])
    assert tuple(out.shape) == shape


# ---------------------------------------------------------------- statistics (10^5 samples)
@pytest.mark.parametrize("seed", [[1, 2], [123, 0]])
@pytest.mark.parametrize("dtype", [tx.float32, tx.float64])
def test_uniform_statistics(seed, dtype):
    u = tx.random.stateless_uniform([N], seed, minval=-1.0, maxval=3.0, dtype=dtype).numpy()
    u = u.astype(np.float64)
    assert u.min() >= -1.0 and u.max() < 3.0
    assert stats.kstest(u, stats.uniform(-1, 4).cdf).pvalue > P_MIN
    assert abs(u.mean() - 1.0) < 5 * 4 / math.sqrt(12 * N)
    assert abs(u.var() - 16 / 12) < 0.02


@pytest.mark.parametrize("dtype,bits", [(tx.float16, 10), (tx.bfloat16, 7)])
def test_uniform_half_precision_is_uniform_on_its_grid(dtype, bits):
    """16-bit floats take m random bits: each of the 2**m values k * 2**-m is equally likely."""
    u = tx.random.stateless_uniform([N], [5, 6], dtype=dtype).numpy().astype(np.float64)
    k = u * 2**bits
    assert np.all(k == np.floor(k)) and k.min() >= 0 and k.max() < 2**bits
    counts = np.bincount(k.astype(np.int64), minlength=2**bits)
    assert stats.chisquare(counts).pvalue > P_MIN


@pytest.mark.parametrize("seed", [[1, 2], [99, 7]])
@pytest.mark.parametrize("dtype", [tx.float16, tx.float32, tx.float64])
def test_normal_statistics(seed, dtype):
    z = tx.random.stateless_normal([N], seed, mean=2.0, stddev=3.0, dtype=dtype).numpy()
    z = z.astype(np.float64)
    assert stats.kstest(z, stats.norm(2, 3).cdf).pvalue > P_MIN
    assert abs(z.mean() - 2.0) < 5 * 3 / math.sqrt(N)
    assert abs(z.std() - 3.0) < 0.03
    assert abs(stats.skew(z)) < 0.05 and abs(stats.kurtosis(z)) < 0.1


@pytest.mark.parametrize("seed", [[1, 2], [3, 3]])
@pytest.mark.parametrize("dtype", [tx.bfloat16, tx.float32, tx.float64])
def test_truncated_normal_statistics(seed, dtype):
    t = tx.random.stateless_truncated_normal([N], seed, mean=-1.0, stddev=0.5, dtype=dtype)
    t = t.numpy().astype(np.float64)
    assert t.min() >= -2.0 and t.max() <= 0.0  # mean -1 +- 2 * 0.5: TF's rule
    if dtype is not tx.bfloat16:  # bf16 rounds to 8 bits: fine in the bounds, coarse for KS
        assert stats.kstest(t, stats.truncnorm(-2, 2, loc=-1, scale=0.5).cdf).pvalue > P_MIN
    assert abs(t.std() - 0.5 * 0.87962566103423978) < 0.01  # the stddev of N(0,1) on [-2, 2]


def test_truncated_normal_tails_reach_the_bounds():
    t = tx.random.stateless_truncated_normal([N], [8, 1], dtype=tx.float64).numpy()
    assert t.min() >= -2 and t.max() <= 2
    assert t.min() < -1.99 and t.max() > 1.99


@pytest.mark.parametrize("dtype", [tx.int32, tx.int64])
def test_uniform_int_statistics(dtype):
    r = tx.random.stateless_uniform([N], [2, 9], minval=-3, maxval=10, dtype=dtype).numpy()
    assert r.dtype == dtype.np_dtype and r.min() == -3 and r.max() == 9
    assert stats.chisquare(np.bincount(r + 3)).pvalue > P_MIN
    full = tx.random.stateless_uniform([N], [2, 9], minval=None, maxval=None, dtype=dtype)
    f = full.numpy().astype(np.float64)
    assert (f < 0).mean() == pytest.approx(0.5, abs=0.01)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("call,match", [
    (lambda: tx.random.stateless_uniform([2], [1, 2, 3]), "seed must be a shape"),
    (lambda: tx.random.stateless_uniform([2], [1.0, 2.0]), "seed must be a shape"),
    (lambda: tx.random.stateless_uniform([2], [1, 2], dtype=tx.int32), "needs both minval"),
    (lambda: tx.random.stateless_uniform([2], [1, 2], minval=3, maxval=3, dtype=tx.int32),
     "minval < maxval"),
    (lambda: tx.random.stateless_normal([2], [1, 2], dtype=tx.int32), "floating dtype"),
    (lambda: tx.random.stateless_normal([-1], [1, 2]), ">= 0"),
    (lambda: tx.random.stateless_uniform([2], [1, 2], dtype=tx.bool), "dtype must be"),
])
def test_errors(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


def test_random_ops_have_no_gradient():
    x = tx.constant(1.5)
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = tx.reduce_sum(tx.random.stateless_normal([3], [1, 2], mean=x, stddev=x))
    g = tape.gradient(y, x)
    assert g is not None  # through mean/stddev (ordinary ops); the bits themselves have none
    z = tx.random.stateless_normal([3], [1, 2]).numpy()
    np.testing.assert_allclose(g.numpy(), 3 + z.sum(), rtol=1e-6)


# ---------------------------------------------------------------- Generator
def test_generator_from_seed_is_reproducible_and_advances():
    g1, g2 = tx.random.Generator.from_seed(42), tx.random.Generator.from_seed(42)
    assert g1.state.numpy().tolist() == [42, 0] and g1.state.dtype == tx.int64
    a, b = g1.normal([5]).numpy(), g1.normal([5]).numpy()
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(g2.normal([5]).numpy(), a)
    np.testing.assert_array_equal(g2.normal([5]).numpy(), b)
    assert g1.state.numpy()[1] > 0
    g1.reset_from_seed(42)
    np.testing.assert_array_equal(g1.normal([5]).numpy(), a)
    g3 = tx.random.Generator.from_seed(43)
    assert not np.array_equal(g3.normal([5]).numpy(), a)


def test_generator_in_function_advances_without_retracing():
    g, ref = tx.random.Generator.from_seed(7), tx.random.Generator.from_seed(7)

    @tx.function
    def draw():
        return g.normal([4]), g.uniform([2], maxval=5.0), g.truncated_normal([3])

    outs = [draw() for _ in range(4)]
    assert draw.experimental_get_tracing_count() == 1
    for o in outs:  # the same stream as eager draws from an identical generator
        np.testing.assert_array_equal(o[0].numpy(), ref.normal([4]).numpy())
        np.testing.assert_array_equal(o[1].numpy(), ref.uniform([2], maxval=5.0).numpy())
        np.testing.assert_array_equal(o[2].numpy(), ref.truncated_normal([3]).numpy())
    np.testing.assert_array_equal(g.state.numpy(), ref.state.numpy())
    g.reset_from_seed(7)  # a reset between calls is seen by the compiled function
    np.testing.assert_array_equal(draw()[0].numpy(), outs[0][0].numpy())


def test_generator_ints_seeds_split_and_state():
    g = tx.random.Generator.from_seed([3, 4])
    assert g.state.numpy().tolist() == [3, 4] and g.algorithm == "threefry"
    r = g.uniform([1000], minval=0, maxval=6, dtype=tx.int32).numpy()
    assert r.min() == 0 and r.max() == 5
    full = g.uniform_full_int([4], dtype=tx.uint32)
    assert full.dtype == tx.uint32
    seeds = g.make_seeds(3)
    assert seeds.dtype == tx.int64 and tuple(seeds.shape) == (2, 3)
    draws = [tx.random.stateless_uniform([4], seeds[:, i]).numpy() for i in range(3)]
    assert not np.array_equal(draws[0], draws[1])
    kids = g.split(2)
    a, b = kids[0].normal([100]).numpy(), kids[1].normal([100]).numpy()
    assert np.intersect1d(a, b).size == 0
    h = tx.random.Generator.from_state(g.state.numpy())
    np.testing.assert_array_equal(h.normal([3]).numpy(), g.normal([3]).numpy())
    c = tx.random.Generator(copy_from=g)
    np.testing.assert_array_equal(c.uniform([3]).numpy(), g.uniform([3]).numpy())


def test_generator_statistics():
    g = tx.random.Generator.from_seed(2024)
    z = np.concatenate([g.normal([N // 4]).numpy() for _ in range(4)]).astype(np.float64)
    assert stats.kstest(z, "norm").pvalue > P_MIN


# ---------------------------------------------------------------- global seed
def test_set_seed_reproduces_the_global_stream():
    tx.random.set_seed(5)
    a = [tx.random.uniform([3]).numpy(), tx.random.normal([2]).numpy()]
    tx.random.set_seed(5)
    b = [tx.random.uniform([3]).numpy(), tx.random.normal([2]).numpy()]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], tx.random.uniform([3]).numpy())  # calls differ
    g = tx.random.Generator.from_seed(5)  # set_seed(s): the global stream is from_seed(s)'s
    np.testing.assert_array_equal(g.uniform([3]).numpy(), a[0])
    tx.random.set_seed(6)
    assert not np.array_equal(tx.random.uniform([3]).numpy(), a[0])


def test_op_seed_streams():
    tx.random.set_seed(11)
    a1, a2 = tx.random.uniform([4], seed=3).numpy(), tx.random.uniform([4], seed=3).numpy()
    assert not np.array_equal(a1, a2)  # each call advances the op-seed stream
    # the first draw of op seed s is the stateless draw with seed [global seed, s]
    np.testing.assert_array_equal(a1, tx.random.stateless_uniform([4], [11, 3]).numpy())
    assert not np.array_equal(a1, tx.random.uniform([4], seed=4).numpy())
    tx.random.set_seed(11)  # resets op-seed streams too
    np.testing.assert_array_equal(tx.random.uniform([4], seed=3).numpy(), a1)
    t = tx.random.truncated_normal([1000], mean=1.0, stddev=2.0, seed=9).numpy()
    assert t.min() >= -3.0 and t.max() <= 5.0


def test_global_stream_in_function_follows_set_seed():
    @tx.function
    def f():
        return tx.random.normal([3])

    tx.random.set_seed(21)
    a = [f().numpy() for _ in range(2)]
    assert not np.array_equal(a[0], a[1])
    tx.random.set_seed(21)  # reset in place: the traced function sees it, without a retrace
    np.testing.assert_array_equal(f().numpy(), a[0])
    assert f.experimental_get_tracing_count() == 1
    tx.random.set_seed(21)
    np.testing.assert_array_equal(tx.random.normal([3]).numpy(), a[0])  # eager = compiled


def test_set_global_generator():
    old = tx.random.get_global_generator()
    try:
        g = tx.random.Generator.from_seed(1)
        tx.random.set_global_generator(g)
        assert tx.random.get_global_generator() is g
        want = tx.random.Generator.from_seed(1).uniform([2]).numpy()
        np.testing.assert_array_equal(tx.random.uniform([2]).numpy(), want)
        with pytest.raises(TypeError, match="Generator"):
            tx.random.set_global_generator(3)
    finally:
        tx.random.set_global_generator(old)


def test_non_deterministic_generators_and_unset_seed():
    a = tx.random.Generator.from_non_deterministic_state()
    b = tx.random.Generator.from_non_deterministic_state()
    assert not np.array_equal(a.uniform([4]).numpy(), b.uniform([4]).numpy())
    tx.random.set_seed(None)  # back to OS entropy; op seeds use TF's default global seed
    x = tx.random.uniform([4], seed=1).numpy()
    np.testing.assert_array_equal(
        x, tx.random.stateless_uniform([4], [tx.random.DEFAULT_GLOBAL_SEED, 1]).numpy())
    with pytest.raises(TypeError, match="seed must be an int"):
        tx.random.set_seed(1.5)

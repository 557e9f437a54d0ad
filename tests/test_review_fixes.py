"""Regressions found in review: threads, method binding, float argument keys, caches."""
from __future__ import annotations

import gc
import threading
import weakref

import numpy as np

import tfx_core as tx
from tfx_core.framework import eager as eager


def test_eager_ops_in_another_thread_while_tracing_stay_eager():
    started, release = threading.Event(), threading.Event()
    out = {}

    @tx.function
    def slow(x):
        started.set()
        release.wait(10)
        return x + 1.0

    t = threading.Thread(target=lambda: out.setdefault("traced", slow(tx.constant([1.0]))))
    t.start()
    started.wait(10)
    y = tx.exp(tx.constant([0.0, 1.0]))  # main thread, while the other thread is tracing
    release.set()
    t.join(10)
    np.testing.assert_allclose(y.numpy(), np.exp([0.0, 1.0]), rtol=1e-6)
    np.testing.assert_array_equal(out["traced"].numpy(), [2.0])


def test_method_instances_are_freed():
    class M:
        def __init__(self, s):
            self.s = s

        @tx.function
        def f(self, x):
            return x * self.s

    m = M(2.0)
    m.f(tx.constant([1.0]))
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None


def test_equal_instances_get_their_own_traces():
    class E:
        def __init__(self, name, s):
            self.name, self.s = name, s

        def __eq__(self, other):
            return isinstance(other, E) and other.name == self.name

        def __hash__(self):
            return hash(self.name)

        @tx.function
        def f(self, x):
            return x * self.s

    a, b = E("n", 2.0), E("n", 3.0)
    x = tx.constant([1.0, 2.0])
    np.testing.assert_array_equal(a.f(x).numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(b.f(x).numpy(), [3.0, 6.0])


def test_method_keyword_arguments_still_canonicalize():
    class K:
        @tx.function
        def f(self, x, n=1):
            return x * float(n)

    k, x = K(), tx.constant([1.0])
    k.f(x, 2)
    k.f(x, n=2)
    assert k.f.experimental_get_tracing_count() == 1


def test_nan_python_argument_traces_once_and_signed_zero_retraces():
    g = tx.function(lambda x, s: x * s)
    x = tx.constant([1.0, 2.0])
    for _ in range(3):
        assert np.isnan(g(x, float("nan")).numpy()).all()
    assert g.experimental_get_tracing_count() == 1
    g(x, 0.0)
    assert np.signbit(g(x, -0.0).numpy()).all()
    assert g.experimental_get_tracing_count() == 3


def test_numpy_scalar_is_a_static_value_on_every_path():
    f = tx.function(lambda x, s: x * s)
    x = tx.constant([1.0], tx.float32)
    f(x, np.array(2.0, np.float32))  # a 0-d array: a tensor argument
    out = f(x, np.float32(5.0))  # a numpy scalar: a Python value (retraces)
    np.testing.assert_array_equal(out.numpy(), [5.0])
    assert f.experimental_get_tracing_count() == 2


def test_eager_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(eager, "MAX_EAGER_CACHE", 8)
    x = tx.constant(np.arange(40.0, dtype=np.float32))
    for i in range(20):
        assert float(x[i]) == i
    assert len(eager.EAGER.cache) <= 8


def test_compiled_integer_division_by_constant_zero_does_not_crash():
    # XLA's constant folder aborts the process on these unless the divisor is guarded.
    assert int(tx.function(lambda: tx.constant(5) // tx.constant(0))()) == -1
    assert int(tx.function(lambda: tx.constant(5) % tx.constant(0))()) == 5
    out = tx.function(lambda: tx.constant([-2**31, 7]) // tx.constant([-1, 0]))()
    np.testing.assert_array_equal(out.numpy(), [-2**31, -1])
    np.testing.assert_array_equal(
        tx.function(lambda: tx.math.reciprocal(tx.constant([0, 2])))().numpy(), [-1, 0])


def test_integer_reduce_mean_accumulates_wide_and_empty_is_zero():
    i8 = tx.constant(np.array([100, 100, -7], np.int8))
    assert int(tx.reduce_mean(i8)) == 64  # TF: 64 (no int8 wrap-around)
    assert int(tx.reduce_mean(tx.constant(np.full(1000, 2**30, np.int32)))) == 2**30
    empty = tx.zeros([0, 3], tx.int32)
    np.testing.assert_array_equal(tx.reduce_mean(empty, axis=0).numpy(), [0, 0, 0])
    compiled = tx.function(lambda a: tx.reduce_mean(a, axis=0))(empty)
    np.testing.assert_array_equal(compiled.numpy(), [0, 0, 0])


def test_tf_argument_forms():
    x = tx.zeros([1, 2, 1])
    assert tx.squeeze(x, []).shape == (2,)  # [] squeezes every size-1 axis, as TF
    assert tx.squeeze(x, [0, 0]).shape == (2, 1)  # repeated axes allowed
    assert tx.transpose(tx.zeros([2, 3, 4]), [-1, 0, 1]).shape == (4, 2, 3)
    np.testing.assert_array_equal(tx.clip_by_value(tx.constant([0.0, 5.0]), 2.0, -1.0).numpy(),
                                  [2.0, 2.0])  # TF: min wins when min > max
    m = tx.constant(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    assert tx.nn.softmax(m, axis=np.int64(0)).shape == (2, 3)
    f = tx.function(lambda a: tx.reduce_sum(a, axis=tx.constant(1)))
    np.testing.assert_array_equal(f(m).numpy(), [3.0, 12.0])

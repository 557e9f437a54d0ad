"""The hot path of a compiled call (positional tensors / numpy arrays keyed by type, run straight
on the executable): same results, errors and side effects as the general path."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import tfx_core as tx
from tfx_core.polymorphic_function.concrete_function import ConcreteFunction


def fast_runs(f) -> list:
    """The fast table's entries: the bound run_tensors / run_host of ConcreteFunctions."""
    runs = list(f._function_cache.fast.values())
    assert all(isinstance(r.__self__, ConcreteFunction) for r in runs)
    return runs


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_every_arity_of_tensors_numpy_and_mixed(n):
    f = tx.function(lambda *xs: sum(xs[1:], xs[0] * 2.0))
    rng = np.random.default_rng(n)
    for _ in range(3):
        a = [rng.standard_normal((3, 2)).astype(np.float32) for _ in range(n)]
        want = sum(a[1:], a[0] * 2.0)
        for args in ([tx.constant(x) for x in a], a,
                     [tx.constant(x) if i % 2 else x for i, x in enumerate(a)]):
            np.testing.assert_allclose(f(*args).numpy(), want, rtol=1e-6)
    assert f.experimental_get_tracing_count() == 1
    assert {r.__name__ for r in fast_runs(f)} == {"run_tensors", "run_host"}


def test_nested_outputs_come_back_structured():
    @tx.function
    def f(x, y):
        return {"sum": x + y, "pair": (x * y, x - y)}

    x, y = tx.constant([1.0, 2.0]), tx.constant([3.0, 5.0])
    for args in ((x, y), (x, y), (x.numpy(), y.numpy()), (x.numpy(), y.numpy())):
        out = f(*args)
        np.testing.assert_array_equal(out["sum"].numpy(), [4.0, 7.0])
        np.testing.assert_array_equal(out["pair"][0].numpy(), [3.0, 10.0])
        np.testing.assert_array_equal(out["pair"][1].numpy(), [-2.0, -3.0])


def test_captured_variable_read_anew_each_call():
    v = tx.Variable(np.ones((40, 40), np.float32))  # > 1024 elements: an implicit input
    f = tx.function(lambda x: x + v)
    x = tx.zeros([40, 40])
    for i in range(4):
        v.assign(np.full((40, 40), float(i), np.float32))
        np.testing.assert_array_equal(f(x).numpy(), float(i))
        np.testing.assert_array_equal(f(np.zeros((40, 40), np.float32)).numpy(), float(i))


def test_assigning_function_updates_variable_every_call():
    v = tx.Variable(0.0)

    @tx.function
    def step(x):
        v.assign_add(x)
        return v.read_value()

    for i in range(1, 5):
        assert float(step(tx.constant(1.0)).numpy()) == i
    assert float(step(np.float32(1.0)).numpy()) == 5.0  # a numpy scalar: a static value


def test_numpy_scalar_is_static_and_zero_d_array_is_a_tensor():
    f = tx.function(lambda x: x * 2.0)
    f(np.array(1.0, np.float32))
    f(np.array(2.0, np.float32))
    assert f.experimental_get_tracing_count() == 1  # 0-d arrays: one trace
    assert float(f(np.float32(3.0)).numpy()) == 6.0
    assert float(f(np.float32(3.0)).numpy()) == 6.0
    assert float(f(np.float32(4.0)).numpy()) == 8.0
    assert f.experimental_get_tracing_count() == 3  # numpy scalars key by value, as in TF


def test_byte_order_is_part_of_the_key():
    f = tx.function(lambda x: x + 1.0)
    native = np.arange(4, dtype=np.float32)
    for _ in range(2):
        np.testing.assert_array_equal(f(native).numpy(), native + 1)
    with pytest.raises(TypeError, match="unsupported dtype"):  # not read as little-endian
        f(native.astype(">f4"))


def test_leaked_symbolic_tensor_is_refused_on_the_fast_path():
    leaked = []

    @tx.function
    def f(x):
        leaked.append(x * 1.0)
        return x + 1.0

    x = tx.constant([1.0, 2.0])
    f(x)
    f(x)  # the fast table now holds f32[2]
    with pytest.raises(TypeError, match="symbolic|finished"):
        f(leaked[0])
    np.testing.assert_array_equal(f(x).numpy(), [2.0, 3.0])  # still fine after


def test_prints_still_run_in_order_on_the_fast_path(capfd):
    @tx.function
    def f(x):
        tx.print("value", x, output_stream=sys.stdout)
        return x * 2.0

    x = tx.constant([1.0])
    for _ in range(3):
        f(x)
    out = capfd.readouterr()
    assert (out.out + out.err).count("value") == 3


def test_under_a_tape_the_fast_table_is_not_used():
    f = tx.function(lambda x: x * x)
    x = tx.constant([3.0])
    f(x)
    f(x)
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [6.0])


def test_run_functions_eagerly_bypasses_the_fast_table():
    seen = []

    @tx.function
    def f(x):
        seen.append(1)
        return x + 1.0

    x = tx.constant([1.0])
    f(x)
    f(x)
    n = len(seen)
    tx.config.run_functions_eagerly(True)
    try:
        f(x)
    finally:
        tx.config.run_functions_eagerly(False)
    assert len(seen) == n + 1


@pytest.fixture
def bounded():
    before = tx.config.get_compile_cache_limits()["max_traces_per_function"]
    yield tx.config.set_compile_cache_limits
    tx.config.set_compile_cache_limits(max_traces_per_function=before)


@pytest.mark.parametrize("n", [1, 2])
def test_last_call_memo_goes_with_an_evicted_trace(bounded, n):
    f = tx.function(lambda *xs: xs[0] * 2.0)
    x, z = tx.ones([2]), tx.ones([3])
    f(*[x] * n)
    f(*[x] * n)  # a fast-table hit: remembered as the last call
    last = f._function_cache.last1 if n == 1 else f._function_cache.last2
    assert last[-1] is not None and last[0] is x._type
    bounded(max_traces_per_function=1)
    f(*[z] * n)  # the second trace: the bound starts, and evicts the first
    np.testing.assert_array_equal(f(*[x] * n).numpy(), [2.0, 2.0])
    assert f.experimental_get_tracing_count() == 3  # traced again, not run from the memo


def test_last_call_memo_tells_equal_types_apart_from_new_ones():
    f = tx.function(lambda x, y: x - y)
    a, b = tx.constant([5.0, 6.0]), tx.constant([1.0, 1.0])
    for _ in range(2):
        np.testing.assert_array_equal(f(a, b).numpy(), [4.0, 5.0])
    c = tx.constant([[1.0]])
    np.testing.assert_array_equal(f(c, c).numpy(), [[0.0]])  # another signature: traced
    np.testing.assert_array_equal(f(a, b).numpy(), [4.0, 5.0])
    np.testing.assert_array_equal(f(tx.constant([2.0, 2.0]), b).numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(f(a.numpy(), b).numpy(), [4.0, 5.0])
    assert f.experimental_get_tracing_count() == 2  # f32[2] (tensors or numpy), f32[1,1]


@pytest.mark.parametrize("make", [
    lambda x: (x + 1.0, x * 2.0),
    lambda x: [x + 1.0, x * 2.0],
    lambda x: (x + 1.0, [x * 2.0]),
    lambda x: (x + 1.0, None),
    lambda x: (),
    lambda x: [],
], ids=["tuple", "list", "nested", "with-none", "empty-tuple", "empty-list"])
def test_output_structures_match_the_python_function(make):
    f = tx.function(make)
    x = np.array([1.0, 2.0], np.float32)
    want = make(x)
    for arg in (tx.constant(x), tx.constant(x), x, x):
        got = f(arg)
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            if isinstance(w, list):
                assert type(g) is list
                np.testing.assert_array_equal(g[0].numpy(), w[0])
            elif w is None:
                assert g is None
            else:
                np.testing.assert_array_equal(g.numpy(), w)


def test_python_scalar_and_dict_arguments_use_the_full_key():
    f = tx.function(lambda d, k: d["a"] * k + d["b"])
    a, b = tx.constant([1.0, 2.0]), tx.constant([0.5, 0.5])
    for k in (2.0, 2.0, 3.0, 3.0):
        np.testing.assert_array_equal(f({"a": a, "b": b}, k).numpy(), [k + 0.5, 2 * k + 0.5])
    assert f.experimental_get_tracing_count() == 2  # one per Python value of k

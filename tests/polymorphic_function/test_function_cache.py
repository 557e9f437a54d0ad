"""FunctionCache: one object holding every cache of a tx.function (traces by key, the fast
table, relaxed traces, the input_signature's trace, executables per shape, bound methods), one
flatten and one key per call, and one trace per key across threads."""
from __future__ import annotations

import ast
import gc
import inspect
import threading
import warnings

import numpy as np
import pytest

import tfx_core as tx
from tfx_core.polymorphic_function import function as function_module
from tfx_core.polymorphic_function import signature
from tfx_core.polymorphic_function.concrete_function import ConcreteFunction
from tfx_core.polymorphic_function.function_cache import FunctionCache


@pytest.fixture
def bounded():
    before = tx.config.get_compile_cache_limits()["max_traces_per_function"]
    yield tx.config.set_compile_cache_limits
    tx.config.set_compile_cache_limits(max_traces_per_function=before)


def count_flattens(monkeypatch) -> list:
    calls = []
    real = signature.flatten_arguments

    def counting(fname, tree):
        calls.append(fname)
        return real(fname, tree)

    monkeypatch.setattr(signature, "flatten_arguments", counting)
    return calls


# ---------------------------------------------------------------- one flatten, one key
def test_a_call_flattens_its_arguments_once(monkeypatch):
    @tx.function
    def f(x, k, opts):
        return x * float(k) + float(opts["b"])

    x = tx.ones([3])
    calls = count_flattens(monkeypatch)
    f(x, 2, {"b": 1})  # miss: flattened once, then traced
    assert len(calls) == 1
    f(x, 2, {"b": 1})  # hit through the slow path (Python values key by value)
    assert len(calls) == 2
    f(x, 3, {"b": 1})  # another trace
    assert len(calls) == 3 and f.experimental_get_tracing_count() == 2


def test_positional_tensor_calls_skip_flattening(monkeypatch):
    @tx.function
    def f(x, y):
        return x + y

    x = tx.ones([2])
    f(x, x)
    calls = count_flattens(monkeypatch)
    for _ in range(3):
        f(x, x)
        f(np.ones(2, np.float32), x)
    assert calls == [f.__name__]  # the numpy call's first time only; then the fast table


def test_dataclass_arguments_share_the_one_key():
    import dataclasses

    @dataclasses.dataclass
    class Pair:
        a: object
        b: object

    @tx.function
    def f(p):
        return p.a * p.b

    for _ in range(3):
        np.testing.assert_array_equal(f(Pair(tx.ones([2]), tx.fill([2], 3.0))).numpy(), [3, 3])
    assert f.experimental_get_tracing_count() == 1


def test_leaf_key_and_leaf_key_table_agree():
    for x in (1, 2.5, -0.0, True, "s", np.ones(2, np.float32), tx.ones([2])):
        assert signature.leaf_key(x) == signature.LEAF_KEY[type(x)](x)


# ---------------------------------------------------------------- the one cache object
def test_every_cache_lives_in_the_function_cache():
    @tx.function
    def f(x):
        return x * 2.0

    names = set(vars(f))
    assert not names & {"_cache", "_fast", "_relaxed", "_sig_cf", "_bound"}
    assert isinstance(f._function_cache, FunctionCache)
    f(tx.ones([2]))
    f(tx.ones([3]))
    cfs = f.list_concrete_functions()
    assert [c.input_types[0].shape for c in cfs] == [(2,), (3,)]
    assert all(c._cache is f._function_cache for c in cfs)  # executables kept there too


def test_input_signature_trace_is_listed_first_and_traced_once():
    f = tx.function(lambda x: x + 1.0, input_signature=[tx.TensorSpec([None], tx.float32)])
    assert f.list_concrete_functions() == []
    f(np.ones(2, np.float32))
    f(np.ones(5, np.float32))
    (cf,) = f.list_concrete_functions()
    assert cf is f.get_concrete_function() and f.experimental_get_tracing_count() == 1
    assert sorted(cf.executables) == [((2,),), ((5,),)]


def test_a_standalone_concrete_function_keeps_its_own_cache():
    f = tx.function(lambda x: x * 3.0)
    cf = f.get_concrete_function(tx.TensorSpec([2], tx.float32))
    alone = ConcreteFunction("alone", cf.graph, cf._in_tree, cf._in_leaves, cf._tensor_idx,
                             cf._captures, cf._out_tree, 0.0)
    np.testing.assert_array_equal(alone(tx.ones([2])).numpy(), [3.0, 3.0])
    assert alone._cache is not f._function_cache and list(alone.executables) == [((2,),)]


def test_reduce_retracing_relaxes_through_the_cache():
    f = tx.function(lambda x: x + 1.0, reduce_retracing=True)
    for n in (2, 3, 4, 5):
        np.testing.assert_array_equal(f(np.ones(n, np.float32)).numpy(), np.full(n, 2.0))
    assert f.experimental_get_tracing_count() == 2  # (2,), then (None,) for the rest
    assert [c.input_types[0].shape for c in f.list_concrete_functions()] == [(2,), (None,)]


def test_trace_bound_keeps_the_recently_used_through_the_fast_table(bounded):
    bounded(max_traces_per_function=2)
    f = tx.function(lambda x: x * 2.0)
    hot = tx.ones([1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in range(2, 8):
            f(hot)  # fast path hits record their use
            f(tx.ones([n]))
    shapes = {c.input_types[0].shape for c in f.list_concrete_functions()}
    assert shapes == {(1,), (7,)}


def test_executables_per_shape_are_bounded_in_the_cache(bounded):
    bounded(max_traces_per_function=3)
    f = tx.function(lambda x: x * 2.0, input_signature=[tx.TensorSpec([None], tx.float32)])
    with pytest.warns(RuntimeWarning, match="keeps 3 executables"):
        for n in (1, 2, 3, 1, 4, 1, 5):  # (1,) stays recently used
            f(np.ones(n, np.float32))
    assert sorted(f.get_concrete_function().executables) == [((1,),), ((4,),), ((5,),)]


def test_bound_methods_are_cached_per_instance_and_die_with_it():
    class M:
        @tx.function
        def f(self, x):
            return x + 1.0

    m = M()
    assert m.f is m.f
    m.f(tx.ones([2]))
    cache = M.f._function_cache
    assert len(cache._bound) == 1
    del m
    gc.collect()
    assert len(cache._bound) == 0


# ---------------------------------------------------------------- one trace per key
def test_once_runs_make_once_for_many_threads():
    cache = FunctionCache("f")
    started, release = threading.Event(), threading.Event()
    made = []

    def make():
        made.append(1)
        started.set()
        assert release.wait(60)
        return "cf"

    out = []
    threads = [threading.Thread(target=lambda: out.append(cache.trace("k", make)))
               for _ in range(8)]
    threads[0].start()
    assert started.wait(60)
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(60)
    assert out == ["cf"] * 8 and made == [1]


def test_once_keeps_nothing_when_make_fails_and_allows_reentry():
    cache = FunctionCache("f")

    def fail():
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.trace("k", fail)
    assert cache.lookup("k") is None and cache._pending == {}
    # asked again for the same key from inside its own make: made there, no deadlock
    assert cache.trace("k", lambda: "outer" if cache.trace("k", lambda: "inner") else "") \
        == "outer"


# ---------------------------------------------------------------- no private reaches
def _private_reaches(module) -> set[tuple[str, str]]:
    found = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "sys"))):
            found.add((ast.unparse(node.value), node.attr))
    return found


def test_function_reads_no_private_member_of_concrete_function_or_cache():
    # Tensor's type (the fast path's key) and AutoGraph's method markers are all it reads
    allowed = {"_type", "_ag_fn", "_ag_ref"}
    assert {attr for _, attr in _private_reaches(function_module)} <= allowed
    assert not hasattr(function_module, "_type_of")

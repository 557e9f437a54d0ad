"""What compiled programs keep in memory is bounded: the in-memory compile cache in bytes and
entries, executables of garbage-collected functions are dropped, and one function's traces and
per-shape executables can be bounded (least recently used first, with a warning)."""
from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest

import tfx_core as tx
from runtime.cache import MEMORY_CACHE, CompileCache
from runtime.executable import live_executables


@pytest.fixture(autouse=True)
def _default_limits():
    before = tx.config.get_compile_cache_limits()
    yield
    tx.config.set_compile_cache_limits(**before)


class Blob:
    """A cache value with a size, weak-referenceable like an Executable."""

    def __init__(self, nbytes: int):
        self.nbytes = nbytes


class Owner:
    pass


# ---------------------------------------------------------------- CompileCache on its own
def test_byte_bound_evicts_least_recently_used():
    c = CompileCache(max_bytes=1000, capacity=100)
    for k in "abc":
        c.put(k, Blob(400))
    assert len(c) == 2 and c.get("a") is None and c.nbytes == 800 and c.evictions == 1
    c.get("b")  # b is now the most recent
    c.put("d", Blob(400))
    assert c.get("c") is None and c.get("b") is not None and c.nbytes == 800


def test_an_entry_lives_as_long_as_one_owner():
    c = CompileCache()
    first, second = Owner(), Owner()
    c.put("k", Blob(10), owner=first)
    assert c.get("k", owner=second) is not None  # a second function shares it
    del first
    gc.collect()
    assert c.get("k") is not None
    del second
    gc.collect()
    assert c.get("k") is None and c.dropped == 1 and c.nbytes == 0


def test_disown_drops_an_entry_nobody_else_needs():
    c = CompileCache()
    o = Owner()
    c.put("k", Blob(10), owner=o)
    c.disown("k", o)
    assert c.get("k") is None and c.dropped == 1
    c.disown("k", o)  # twice is harmless


def test_entries_put_without_owner_stay_lru_bounded():
    c = CompileCache(capacity=2)
    c.put("k", Blob(1))
    gc.collect()
    assert c.get("k") is not None


def test_limits_are_validated_and_readable():
    with pytest.raises(ValueError, match="max_bytes must be a positive int"):
        tx.config.set_compile_cache_limits(max_bytes=-1)
    with pytest.raises(ValueError, match="max_traces_per_function"):
        tx.config.set_compile_cache_limits(max_traces_per_function=True)
    tx.config.set_compile_cache_limits(max_bytes=None, max_traces_per_function=3)
    got = tx.config.get_compile_cache_limits()
    assert got["max_bytes"] is None and got["max_traces_per_function"] == 3
    assert got["max_entries"] == 4096  # left out: unchanged


# ---------------------------------------------------------------- through tx.function
X = tx.constant(np.arange(12, dtype=np.float32).reshape(3, 4))


def test_dead_functions_leave_no_executables():
    """The probe: 1,000 redefined functions kept 1,000 executables (+197 MB)."""
    gc.collect()
    live, entries = live_executables(), len(MEMORY_CACHE)
    for i in range(120):
        f = tx.function(lambda x, i=i: tx.nn.relu(x * float(i) - 3.0))
        np.testing.assert_array_equal(f(X).numpy(), np.maximum(X.numpy() * i - 3.0, 0))
    del f
    gc.collect()
    assert live_executables() <= live and len(MEMORY_CACHE) <= entries


def test_the_byte_bound_holds_through_compiles():
    tx.config.set_compile_cache_limits(max_bytes=3 << 20)  # about 10 executables
    keep = []
    for i in range(30):
        f = tx.function(lambda x, i=i: x * float(i) + 0.5)
        f(X)
        keep.append(f)  # alive: only the bound can evict
    assert MEMORY_CACHE.nbytes <= 3 << 20
    assert all(np.allclose(f(X).numpy(), X.numpy() * i + 0.5) for i, f in enumerate(keep))


def test_traces_per_function_are_bounded_least_recently_used_first():
    tx.config.set_compile_cache_limits(max_traces_per_function=4)
    f = tx.function(lambda x: x * 2.0)
    hot = np.ones(1, np.float32)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for n in range(2, 30):
            f(hot)  # the hot signature is used all along (through the fast path)
            np.testing.assert_array_equal(f(np.ones(n, np.float32)).numpy(), np.full(n, 2.0))
    kept = {id(c): c for c in f.list_concrete_functions()}
    assert len(kept) == 4
    assert any(c.input_types[0].shape == (1,) for c in kept.values())  # never evicted
    evicted = [x for x in w if "holds 4 traces" in str(x.message)]
    assert len(evicted) == 1 and "least recently used" in str(evicted[0].message)
    count = f.experimental_get_tracing_count()
    np.testing.assert_array_equal(f(np.ones(2, np.float32)).numpy(), [2.0, 2.0])  # again
    assert f.experimental_get_tracing_count() == count + 1


def test_executables_per_shape_are_bounded_and_freed():
    """The probe: one function called with 300 shapes kept 300 executables (+210 MB)."""
    tx.config.set_compile_cache_limits(max_traces_per_function=5)
    f = tx.function(lambda x: tx.reduce_sum(x * 3.0, axis=0),
                    input_signature=[tx.TensorSpec([None, 2], tx.float32)])
    gc.collect()
    live = live_executables()
    with pytest.warns(RuntimeWarning, match="keeps 5 executables") as record:
        for n in range(1, 41):
            np.testing.assert_array_equal(f(np.ones((n, 2), np.float32)).numpy(), [3.0 * n] * 2)
    assert len([r for r in record if "keeps 5" in str(r.message)]) == 1
    cf = f.get_concrete_function()
    assert len(cf.executables) == 5
    gc.collect()
    assert live_executables() - live <= 5


def test_unbounded_functions_say_when_they_keep_many_executables(monkeypatch):
    from tfx_core.polymorphic_function import function_cache

    monkeypatch.setattr(function_cache, "MANY_SHAPES", 6)
    f = tx.function(lambda x: x + 1.0, input_signature=[tx.TensorSpec([None], tx.float32)])
    with pytest.warns(RuntimeWarning, match="now keeps 6 executables, one per input shape"):
        for n in range(1, 8):
            f(np.ones(n, np.float32))

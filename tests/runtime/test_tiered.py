"""Tiered compilation: quick program first, the tuned one swapped in after a background compile."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx
from runtime import tiered
from runtime.cache import MEMORY_CACHE

# 8 x 32 x 32 output positions (the rule's minimum), 3 -> 8 features: the rule picks im2col
X = np.random.default_rng(0).standard_normal((8, 32, 32, 3)).astype(np.float32)
W = np.random.default_rng(1).standard_normal((3, 3, 3, 8)).astype(np.float32)


def _reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    xp = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)))
    n, h, ww, _ = x.shape
    return sum(xp[:, i:i + h, j:j + ww] @ w[i, j] for i in range(3) for j in range(3))


def _conv_fn():
    w = tx.constant(W)
    return tx.function(lambda x: tx.nn.relu(tx.nn.conv2d(x, w, strides=1, padding="SAME")))


@pytest.fixture
def fresh(tmp_path):
    prev_dir = tx.config.get_compile_cache_dir()
    tx.config.set_compile_cache_dir(str(tmp_path))
    prev_tier = tx.config.set_tiered_compilation(True)
    MEMORY_CACHE.clear()
    yield tmp_path
    tx.config.wait_for_background_compiles()
    tx.config.set_tiered_compilation(prev_tier)
    tx.config.set_compile_cache_dir(prev_dir)
    MEMORY_CACHE.clear()


def _exe(f, x):
    (compiled,) = f.get_concrete_function(x).executables.values()
    return compiled.exe


def test_first_call_runs_the_quick_program_then_the_tuned_one(fresh):
    want = np.maximum(_reference(X, W), 0)
    f = _conv_fn()
    x = tx.constant(X)
    started = tiered.COUNTS["started"]
    np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-4, atol=1e-4)
    exe = _exe(f, x)
    assert "concatenate" not in exe.optimized_hlo()  # plain convolution first
    assert tx.config.wait_for_background_compiles(timeout=120)
    assert tiered.COUNTS["started"] == started + 1 and exe.generation == 1
    assert "concatenate" in exe.optimized_hlo()  # the im2col patches: the tuned program
    for _ in range(3):  # the hot paths kept entries of the quick program: they follow the swap
        np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(f(X).numpy(), want, rtol=1e-4, atol=1e-4)  # numpy in
    d = f.get_concrete_function(x)._direct
    assert d and d[0] == exe.direct_entry()[0]


def test_the_persistent_cache_keeps_the_tuned_program(fresh):
    f = _conv_fn()
    x = tx.constant(X)
    f(x)
    assert tx.config.wait_for_background_compiles(timeout=120)
    MEMORY_CACHE.clear()
    g = _conv_fn()
    started = tiered.COUNTS["started"]
    g(x)
    compiled = next(iter(g.get_concrete_function(x).executables.values()))
    assert compiled.disk_hit and tiered.COUNTS["started"] == started  # no quick tier needed
    assert "concatenate" in compiled.exe.optimized_hlo()


def test_off_compiles_the_tuned_program_directly(fresh):
    tx.config.set_tiered_compilation(False)
    started = tiered.COUNTS["started"]
    f = _conv_fn()
    x = tx.constant(X)
    f(x)
    assert tiered.COUNTS["started"] == started and _exe(f, x).generation == 0
    assert "concatenate" in _exe(f, x).optimized_hlo()


def test_plain_programs_are_not_tiered(fresh):
    started = tiered.COUNTS["started"]
    f = tx.function(lambda x: tx.nn.conv2d(x, tx.constant(W[:, :, :, :1]), 1, "SAME"))
    f(tx.constant(X[:1, :8, :8]))  # too small for any rewrite
    assert tiered.COUNTS["started"] == started


def test_a_failed_background_compile_keeps_the_quick_program():
    failed = tiered.COUNTS["failed"]
    upgraded = []

    def broken():
        raise RuntimeError("XLA said no")

    tiered.submit(broken, upgraded.append)
    assert tiered.wait(timeout=60)
    assert tiered.COUNTS["failed"] == failed + 1 and not upgraded


def test_an_eigen_program_is_timed_against_its_alternative(fresh):
    """Convolutions the rule gives the eigen rewrite: the background compiles the rewrite and
    the alternative lowering (plain convs, YNNPACK's conv type off), times both on the first
    call's inputs and keeps the faster; either way the results stay the convolution's."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 32, 32, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 24)).astype(np.float32)
    wt = tx.constant(w)
    f = tx.function(lambda x: tx.nn.relu(tx.nn.conv2d(x, wt, strides=1, padding="SAME")))
    timed = tiered.COUNTS["timed"]
    xt = tx.constant(x)
    want = np.maximum(_reference(x, w), 0)
    np.testing.assert_allclose(f(xt).numpy(), want, rtol=1e-4, atol=1e-3)
    assert tx.config.wait_for_background_compiles(timeout=120)
    assert tiered.COUNTS["timed"] == timed + 1 and _exe(f, xt).generation == 1
    np.testing.assert_allclose(f(xt).numpy(), want, rtol=1e-4, atol=1e-3)


def test_faster_keeps_the_quicker_program_and_the_first_when_inputs_are_gone():
    from runtime import client

    rng = np.random.default_rng(6)
    a = rng.standard_normal((256, 256)).astype(np.float32)
    cheap = tx.function(lambda m: m + 1.0)
    costly = tx.function(lambda m: tx.foldl(lambda acc, _: tx.matmul(acc, m) * 1e-3,
                                            tx.range(60), initializer=m) + 1.0)
    m = tx.constant(a)
    cheap(m), costly(m)
    fast, slow = (next(iter(g.get_concrete_function(m).executables.values())).exe.loaded
                  for g in (cheap, costly))
    assert tiered.faster(slow, fast, [m._buf]) is fast
    assert tiered.faster(fast, slow, [m._buf]) is fast
    gone = client.device_put(a)
    gone.delete()
    assert tiered.faster(slow, fast, [gone]) is slow  # can't time: the rule's program stays

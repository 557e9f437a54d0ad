"""10,000 calls (eager ops, compiled calls, gradient tapes, Variable updates, threads) leave memory
flat: live device buffers return to where they were, and neither the Python heap's tracked
objects nor the process's resident memory keep growing. Measured, never timed."""
from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable

import jax
import numpy as np
import pytest

import tfx_core as tx

CALLS = 10_000
WARMUP = 1_000  # compiles, caches and allocator pools fill up first
CHECKPOINTS = 4
# NOTE: a leak of one small Python object per call is 10,000 objects; of one buffer per call,
# 10,000 live arrays and megabytes. The slack below is allocator noise, far under either.
MAX_OBJECT_GROWTH = 500
MAX_RSS_GROWTH = 6 << 20  # from the first checkpoint on: RSS stops growing
MAX_RSS_STEP = 32 << 20  # the first block after the warm-up (allocator pools settling)


def rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def settle() -> None:
    gc.collect()
    gc.collect()


def assert_flat(step: Callable[[], object], calls: int = CALLS) -> dict:
    """Run `step` WARMUP times, then `calls` times in CHECKPOINTS blocks, and check that live
    buffers, tracked Python objects and RSS stop growing after the warm-up."""
    for _ in range(WARMUP):
        step()
    settle()
    live0, objs0, rss0 = len(jax.live_arrays()), len(gc.get_objects()), rss_bytes()
    rss_seen = []
    for _ in range(CHECKPOINTS):
        for _ in range(calls // CHECKPOINTS):
            step()
        settle()
        rss_seen.append(rss_bytes())
    live, objs = len(jax.live_arrays()), len(gc.get_objects())
    report = {"live": (live0, live), "objects": (objs0, objs), "rss": [rss0, *rss_seen]}
    assert live <= live0, report
    assert objs - objs0 <= MAX_OBJECT_GROWTH, report
    if rss0 is not None:
        assert rss_seen[0] - rss0 <= MAX_RSS_STEP, report
        assert max(rss_seen) - rss_seen[0] <= MAX_RSS_GROWTH, report
    return report


X = np.linspace(-1.0, 1.0, 64, dtype=np.float32).reshape(8, 8)


def test_eager_ops_stay_flat():
    x = tx.constant(X)

    def step():
        y = tx.exp(x) * 2.0 + x
        return tx.reduce_sum(y, axis=0)

    assert_flat(step)


def test_compiled_calls_stay_flat():
    x = tx.constant(X)

    @tx.function
    def f(a, b):
        return tx.matmul(a, b) + 1.0

    def step():
        f(x, x)
        f(X, x)  # numpy in
        return f(x, X)

    assert_flat(step, CALLS // 2)  # three calls a step


def test_compiled_variable_updates_and_reads_stay_flat():
    v = tx.Variable(np.zeros((8, 8), np.float32))
    x = tx.constant(X)

    @tx.function
    def update(a):
        v.assign_add(a)  # donated in place
        return tx.reduce_sum(v)

    @tx.function
    def read(a):
        return v * a

    held = [None]

    def step():
        update(x)
        held[0] = v.value()  # held while updated: the next update copies instead of donating
        update(x)
        return read(x)

    assert_flat(step, CALLS // 3)


def test_gradient_tapes_stay_flat():
    w = tx.Variable(np.ones((8, 8), np.float32))
    x = tx.constant(X)

    def step():
        with tx.GradientTape() as tape:
            loss = tx.reduce_sum(tx.tanh(tx.matmul(x, w)))
        (g,) = tape.gradient(loss, [w])
        w.assign_sub(g * 1e-3)

    assert_flat(step, CALLS // 2)  # each step records 3 ops and runs about 8


def test_compiled_training_step_stays_flat():
    w = tx.Variable(np.ones((8, 8), np.float32))
    opt = tx.optimizers.SGD(1e-3)
    x = tx.constant(X)

    @tx.function
    def train_step(a):
        with tx.GradientTape() as tape:
            loss = tx.reduce_sum(tx.tanh(tx.matmul(a, w)))
        grads = tape.gradient(loss, [w])
        opt.apply_gradients(zip(grads, [w]))
        return loss

    assert_flat(lambda: train_step(x))
    assert train_step.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("threads", [4])
def test_threads_stay_flat(threads):
    v = tx.Variable(np.zeros(8, np.float32))
    x = tx.ones([8])

    @tx.function
    def update(a):
        v.assign_add(a)
        return v * 2.0

    def step():
        def body():
            for _ in range(50):
                update(x)
                v.assign_add(x)  # eager
                v.numpy()

        ts = [threading.Thread(target=body) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    # each step: threads x 50 x (compiled + eager + read): 10,000 calls of each in 50 steps
    for _ in range(5):
        step()
    settle()
    live0, objs0 = len(jax.live_arrays()), len(gc.get_objects())
    for _ in range(CALLS // (threads * 50)):
        step()
    settle()
    assert len(jax.live_arrays()) <= live0
    assert len(gc.get_objects()) - objs0 <= MAX_OBJECT_GROWTH

"""Many threads, one compiled function: one trace per signature, Variables created once, updates
atomic (eager and compiled), reads never meeting a donated buffer, shared training steps."""
from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest

import tfx_core as tx

THREADS = 8
REPEATS = 5  # every case runs again with fresh functions and variables
JOIN_SECONDS = 120  # a hang guard only (a deadlock fails instead of blocking the suite)


def run_threads(n: int, body: Callable[[int], object]) -> list:
    """Run body(0..n-1) in n threads released together; return what each returned. A thread
    that raised fails the test with its exception."""
    start = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            start.wait()
            results[i] = body(i)
        except BaseException as e:  # noqa: BLE001  (re-raised below, in the test's thread)
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_SECONDS)
    assert not any(t.is_alive() for t in threads), "threads deadlocked"
    if errors:
        raise errors[0]
    return results


repeat = pytest.mark.parametrize("rep", range(REPEATS))


# ---------------------------------------------------------------- tracing
@repeat
def test_one_trace_per_signature_however_many_threads(rep):
    @tx.function
    def f(x):
        return x * 2.0 + float(rep)

    shapes = [(1,), (2,), (3,), (2, 2)]

    def body(i: int) -> None:
        for j in range(len(shapes)):  # two threads race for each signature first
            shape = shapes[(i + j) % len(shapes)]
            out = f(tx.ones(shape))
            np.testing.assert_array_equal(out.numpy(), np.full(shape, 2.0 + rep, np.float32))

    run_threads(THREADS, body)
    assert f.experimental_get_tracing_count() == len(shapes)
    assert len(f.list_concrete_functions()) == len(shapes)


@repeat
def test_python_values_and_numpy_inputs_trace_once_each(rep):
    @tx.function
    def f(x, k):
        return x * float(k)

    def body(i: int) -> None:
        for k in (1, 2, 3):
            np.testing.assert_array_equal(f(np.ones(4, np.float32), k).numpy(), np.full(4, k))

    run_threads(THREADS, body)
    assert f.experimental_get_tracing_count() == 3


def test_no_retracing_warning_for_one_signature_from_many_threads():
    import warnings

    @tx.function
    def f(x):
        return x + 1.0

    with warnings.catch_warnings():
        warnings.simplefilter("error", tx.RetracingWarning)
        run_threads(THREADS, lambda i: [f(tx.ones([3])) for _ in range(20)])
    assert f.experimental_get_tracing_count() == 1


@repeat
def test_input_signature_traced_once_compiled_once_per_shape(rep):
    @tx.function(input_signature=[tx.TensorSpec([None], tx.float32)])
    def f(x):
        return tx.reduce_sum(x)

    def body(i: int) -> None:
        for n in (1, 2, 3, 4):
            assert float(f(np.ones(n, np.float32))) == n

    run_threads(THREADS, body)
    cf = f.get_concrete_function()
    assert f.experimental_get_tracing_count() == 1
    assert sorted(cf.executables) == [((n,),) for n in (1, 2, 3, 4)]


@repeat
def test_methods_bind_and_trace_once_per_instance(rep):
    class Model(tx.Module):
        def __init__(self):
            super().__init__()
            self.w = tx.Variable(np.full(3, 2.0, np.float32))

        @tx.function
        def __call__(self, x):
            return self.w * x

    a, b = Model(), Model()

    def body(i: int) -> None:
        m = (a, b)[i % 2]
        np.testing.assert_array_equal(m(tx.ones([3])).numpy(), [2.0, 2.0, 2.0])

    run_threads(THREADS, body)
    assert a.__call__.experimental_get_tracing_count() == 1
    assert b.__call__.experimental_get_tracing_count() == 1
    assert a.__call__ is a.__call__


def test_traces_of_other_signatures_do_not_wait_for_each_other():
    release = threading.Event()
    finished_other = threading.Event()

    @tx.function
    def f(x):
        if x.shape[0] == 2:  # this trace blocks until a trace of another signature is done
            assert release.wait(JOIN_SECONDS), "the other trace never finished"
        return x + 1.0

    f(tx.ones([1]))  # the first trace (the one allowed to create variables) is done first

    def body(i: int) -> None:
        if i == 0:
            f(tx.ones([2]))
        else:
            f(tx.ones([3]))
            finished_other.set()
            release.set()

    run_threads(2, body)
    assert finished_other.is_set()
    assert f.experimental_get_tracing_count() == 3


@repeat
def test_a_failing_trace_fails_every_caller_and_keeps_nothing(rep):
    calls = []

    @tx.function
    def f(x):
        calls.append(1)
        raise ValueError("boom")

    def body(i: int) -> str:
        with pytest.raises(ValueError, match="boom"):
            f(tx.ones([2]))
        return "ok"

    assert run_threads(4, body) == ["ok"] * 4
    assert f.experimental_get_tracing_count() == 0
    assert len(calls) == 4  # each caller traced for itself, as it would alone


# ---------------------------------------------------------------- variables created in a trace
@repeat
def test_variable_created_on_first_trace_is_created_once(rep):
    created = []

    class Counter(tx.Module):
        def __init__(self):
            super().__init__()
            self.v = None

        @tx.function
        def __call__(self, x):
            if self.v is None:
                self.v = tx.Variable(lambda: tx.zeros([3]))
                created.append(self.v)
            self.v.assign_add(tx.reduce_sum(x) * tx.ones([3]))
            return self.v.read_value()

    c = Counter()
    shapes = [(1,), (2,), (1, 1), (2, 1)]  # every shape sums to its size

    def body(i: int) -> None:
        for j in range(20):
            c(tx.ones(shapes[(i + j) % len(shapes)]))

    run_threads(THREADS, body)
    assert len(created) == 1 and c.v is created[0]
    assert c.__call__.experimental_get_tracing_count() == len(shapes)
    # 8 threads x 20 calls; each thread adds 1,2,1,2,... over its calls: 5 rounds of 1+2+1+2
    total = THREADS * sum(float(np.prod(shapes[j % len(shapes)])) for j in range(20))
    np.testing.assert_array_equal(c.v.numpy(), np.full(3, total, np.float32))


# ---------------------------------------------------------------- atomic updates
@repeat
def test_compiled_assign_add_from_many_threads_is_exact(rep):
    v = tx.Variable(np.float32(1.0))

    @tx.function
    def inc():
        v.assign_add(1.0)

    run_threads(THREADS, lambda i: [inc() for _ in range(500)])
    assert float(v.numpy()) == 1.0 + THREADS * 500


@repeat
def test_eager_assign_add_from_many_threads_is_exact(rep):
    v = tx.Variable(np.float32(0.0))
    w = tx.Variable(np.zeros(2, np.int32))

    def body(i: int) -> None:
        for _ in range(500):
            v.assign_add(1.0)
            w.assign_sub(np.array([1, 2], np.int32))

    run_threads(THREADS, body)
    assert float(v.numpy()) == THREADS * 500
    np.testing.assert_array_equal(w.numpy(), [-THREADS * 500, -2 * THREADS * 500])


@repeat
def test_eager_and_compiled_updates_of_one_variable_mix_atomically(rep):
    v = tx.Variable(np.zeros(4, np.float32))

    @tx.function
    def add_two():
        v.assign_add(tx.fill([4], 2.0))

    def body(i: int) -> None:
        for _ in range(200):
            if i % 2:
                add_two()
            else:
                v.assign_add(np.ones(4, np.float32))

    run_threads(THREADS, body)
    np.testing.assert_array_equal(v.numpy(), np.full(4, (THREADS // 2) * 200 * 3.0))


@repeat
def test_overlapping_variable_sets_do_not_deadlock(rep):
    a = tx.Variable(np.float32(0.0))
    b = tx.Variable(np.float32(0.0))

    @tx.function
    def a_from_b():  # assigns a (donated), only reads b
        a.assign_add(b * 0.0 + 1.0)

    @tx.function
    def b_from_a():  # assigns b (donated), only reads a
        b.assign_add(a * 0.0 + 1.0)

    @tx.function
    def both():  # assigns b then a: the locks are still taken in one global order
        b.assign_add(1.0)
        a.assign_add(1.0)

    fns = (a_from_b, b_from_a, both)
    run_threads(6, lambda i: [fns[i % 3]() for _ in range(200)])
    assert float(a.numpy()) == 2 * 200 * 2
    assert float(b.numpy()) == 2 * 200 * 2


# ---------------------------------------------------------------- reads during updates
@repeat
def test_reads_during_compiled_updates_see_whole_values(rep):
    n = 16
    v = tx.Variable(np.zeros(n, np.float32))
    steps = 300

    @tx.function
    def step():
        v.assign_add(tx.ones([n]))  # donated: updated in place

    @tx.function
    def twice():
        return v * 2.0  # a compiled read

    held = []

    def body(i: int) -> list:
        seen = []
        if i < 2:
            for _ in range(steps):
                step()
            return seen
        for _ in range(150):
            if i % 3 == 0:
                a = v.numpy()
            elif i % 3 == 1:
                a = twice().numpy() / 2.0
            else:
                t = v.value()  # kept: later updates must not donate its buffer
                held.append((t, t.numpy()))
                a = (v + 0.0).numpy()
            seen.append(a)
        return seen

    results = run_threads(THREADS, body)
    for seen in results:
        for a in seen:  # every read is one whole value: all elements equal, a whole step count
            assert a[0] == int(a[0]) and 0 <= a[0] <= 2 * steps
            np.testing.assert_array_equal(a, np.full(n, a[0]))
    for t, first in held:  # values read earlier are still readable, unchanged
        np.testing.assert_array_equal(t.numpy(), first)
    np.testing.assert_array_equal(v.numpy(), np.full(n, 2.0 * steps))


# ---------------------------------------------------------------- a shared training step
@repeat
def test_shared_sgd_step_from_many_threads_equals_a_serial_order(rep):
    w = tx.Variable(np.zeros(3, np.float32))
    opt = tx.optimizers.SGD(0.25)
    x = tx.constant(np.array([1.0, 2.0, 4.0], np.float32))

    @tx.function
    def train_step(x):
        with tx.GradientTape() as tape:
            loss = tx.reduce_sum(w * x)  # linear: the gradient is x whatever w is
        grads = tape.gradient(loss, [w])
        opt.apply_gradients(zip(grads, [w]))
        return loss

    steps = 100
    losses = run_threads(4, lambda i: [float(train_step(x)) for _ in range(steps)])
    total = 4 * steps
    np.testing.assert_array_equal(w.numpy(), -0.25 * total * x.numpy())
    assert int(opt.iterations.numpy()) == total
    assert train_step.experimental_get_tracing_count() == 1
    # every step saw the weights some number of whole steps in: loss = -0.25 * k * |x|^2
    seen = sorted(-loss / (0.25 * 21.0) for thread in losses for loss in thread)
    assert seen == list(range(total))

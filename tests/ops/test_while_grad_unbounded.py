"""Gradients through tx.while_loop without a static maximum_iterations (checkpointed reverse
sweep, compiler/ops/control_flow.py), against jax.grad of the same math at several trip counts."""
from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tfx_core as tx
from compiler.ops import control_flow

X = np.array([0.1, 0.2, 0.05], np.float32)
W = np.array([1.3, 1.2, 1.25], np.float32)


def _step(y, w, sin):
    return y * w + 0.1 * sin(y)


def _jax_loss_and_grads(x, w, trips):
    def loss(x, w):
        y = jax.lax.fori_loop(0, trips, lambda _, y: _step(y, w, jnp.sin), x)
        return jnp.sum(y * y)

    return loss(x, w), *jax.grad(loss, (0, 1))(x, w)


def _trips_until(lim, x=X, w=W) -> int:
    y, k = x.astype(np.float64), 0
    while y.sum() < lim:
        y, k = _step(y, w, np.sin), k + 1
    return k


def _data_dependent_loop():
    @tx.function
    def f(x, w, lim):
        with tx.GradientTape() as tape:
            tape.watch([x, w])
            i, y = tx.while_loop(lambda i, y: tx.reduce_sum(y) < lim,
                                 lambda i, y: (i + 1, _step(y, w, tx.sin)), (tx.constant(0), x))
            loss = tx.reduce_sum(y * y)
        return i, loss, tape.gradient(loss, [x, w])
    return f


def _check(i, loss, grads, trips, rtol=2e-5):
    assert int(i) == trips
    jl, jx, jw = _jax_loss_and_grads(X, W, trips)
    np.testing.assert_allclose(loss.numpy(), jl, rtol=rtol)
    np.testing.assert_allclose(grads[0].numpy(), jx, rtol=rtol)
    np.testing.assert_allclose(grads[1].numpy(), jw, rtol=rtol)


# no trip, short loops, and one past CHECKPOINT_SLOTS (32): two-iteration top-level segments
@pytest.mark.parametrize("lim, trips", [(0.0, 0), (0.5, 2), (5.0, 10), (50.0, 20),
                                        (2000.0, 35)])
def test_data_dependent_trip_count_matches_jax_grad(lim, trips):
    assert _trips_until(lim) == trips
    _check(*_data_dependent_loop()(X, W, tx.constant(np.float32(lim))), trips)


def test_one_trace_serves_every_trip_count():
    f = _data_dependent_loop()
    for lim in (1.0, 30.0, 400.0):
        _check(*f(X, W, tx.constant(np.float32(lim))), _trips_until(lim))
    assert f.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("n", [31, 32, 33, 1100])
def test_counted_loops_longer_than_the_slots(n):
    # 1100 > CHECKPOINT_SLOTS ** CHECKPOINT_LEVELS: the bottom level recomputes 2-step segments
    @tx.function
    def f(x, w, n):
        with tx.GradientTape() as tape:
            tape.watch([x, w])
            _, y = tx.while_loop(lambda i, y: i < n,
                                 lambda i, y: (i + 1, 0.999 * y + 0.01 * tx.sin(y * w)),
                                 (tx.constant(0), x))
            loss = tx.reduce_sum(y * y)
        return loss, tape.gradient(loss, [x, w])

    def loss(x, w):
        y = jax.lax.fori_loop(0, n, lambda _, y: 0.999 * y + 0.01 * jnp.sin(y * w), x)
        return jnp.sum(y * y)

    out, (gx, gw) = f(X, W, tx.constant(n))
    np.testing.assert_allclose(out.numpy(), loss(X, W), rtol=1e-5)
    jx, jw = jax.grad(loss, (0, 1))(X, W)
    np.testing.assert_allclose(gx.numpy(), jx, rtol=1e-4)
    np.testing.assert_allclose(gw.numpy(), jw, rtol=1e-4)


def test_two_slots_recurse_through_every_level(monkeypatch):
    # slots=2: every level splits, and the bottom level recomputes segments of several steps
    monkeypatch.setattr(control_flow, "CHECKPOINT_SLOTS", 2)
    f = _data_dependent_loop()
    for lim in (0.0, 0.3, 5.0, 2000.0):
        _check(*f(X, W, tx.constant(np.float32(lim))), _trips_until(lim))


def test_eager_tape_records_the_python_loop():
    x, w = tx.constant(X), tx.constant(W)
    with tx.GradientTape() as tape:
        tape.watch([x, w])
        i, y = tx.while_loop(lambda i, y: tx.reduce_sum(y) < 50.0,
                             lambda i, y: (i + 1, _step(y, w, tx.sin)), (tx.constant(0), x))
        loss = tx.reduce_sum(y * y)
    _check(i, loss, tape.gradient(loss, [x, w]), _trips_until(50.0))


def test_autograph_while_on_a_tensor_condition():
    @tx.function
    def f(x, w, lim):
        with tx.GradientTape() as tape:
            tape.watch([x, w])
            y, i = x, tx.constant(0)
            while tx.reduce_sum(y) < lim:
                y, i = _step(y, w, tx.sin), i + 1
            loss = tx.reduce_sum(y * y)
        return i, loss, tape.gradient(loss, [x, w])

    for lim in (0.0, 50.0):
        _check(*f(X, W, tx.constant(np.float32(lim))), _trips_until(lim))


def test_run_time_maximum_iterations():
    @tx.function
    def f(x, w, m):
        with tx.GradientTape() as tape:
            tape.watch([x, w])
            i, y = tx.while_loop(lambda i, y: tx.reduce_sum(y) < 1e6,
                                 lambda i, y: (i + 1, _step(y, w, tx.sin)),
                                 (tx.constant(0), x), maximum_iterations=m)
            loss = tx.reduce_sum(y * y)
        return i, loss, tape.gradient(loss, [x, w])

    for m in (0, 3, 12):
        _check(*f(X, W, tx.constant(m)), m)


def test_unknown_shapes_are_still_a_clear_error():
    @tx.function(input_signature=[tx.TensorSpec([None], tx.float32)])
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.while_loop(lambda v: tx.reduce_sum(v) < 100.0, lambda v: v * 2.0, x)
        return tape.gradient(y, x)

    with pytest.raises(TypeError, match=r"while_loop without maximum_iterations over loop "
                       r"variables of unknown shape \(f32\[\?\]\)"):
        f(X)


def test_second_order():
    @tx.function
    def f(x, n):
        with tx.GradientTape() as outer:
            outer.watch(x)
            with tx.GradientTape() as inner:
                inner.watch(x)
                _, y = tx.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, tx.sin(y) * 1.1),
                                     (tx.constant(0), x))
                loss = tx.reduce_sum(y)
            g = inner.gradient(loss, x)
            gs = tx.reduce_sum(g)
        return g, outer.gradient(gs, x)

    def loss(x, n):
        return jnp.sum(jax.lax.fori_loop(0, n, lambda _, y: jnp.sin(y) * 1.1, x))

    for n in (0, 3, 7):
        g, h = f(X, tx.constant(n))
        np.testing.assert_allclose(g.numpy(), jax.grad(loss)(X, n), rtol=1e-5)
        want = jax.grad(lambda x, n=n: jnp.sum(jax.grad(loss)(x, n)))(X)
        np.testing.assert_allclose(h.numpy(), want, rtol=1e-5, atol=1e-6)


def test_nested_unbounded_loops():
    @tx.function
    def f(x, n, m):
        with tx.GradientTape() as tape:
            tape.watch(x)

            def outer_body(i, y):
                _, z = tx.while_loop(lambda j, z: j < m, lambda j, z: (j + 1, tx.sin(z) + y),
                                     (tx.constant(0), y * 0.5))
                return i + 1, z * 0.7

            _, y = tx.while_loop(lambda i, y: i < n, outer_body, (tx.constant(0), x))
            loss = tx.reduce_sum(y * y)
        return loss, tape.gradient(loss, x)

    def loss(x, n, m):
        def outer(_, y):
            return jax.lax.fori_loop(0, m, lambda _, z: jnp.sin(z) + y, y * 0.5) * 0.7
        return jnp.sum(jax.lax.fori_loop(0, n, outer, x) ** 2)

    for n, m in ((0, 2), (3, 0), (4, 5)):
        out, g = f(X, tx.constant(n), tx.constant(m))
        np.testing.assert_allclose(out.numpy(), loss(X, n, m), rtol=1e-5)
        np.testing.assert_allclose(g.numpy(), jax.grad(loss)(X, n, m), rtol=1e-5)


@pytest.mark.parametrize("bound", [None, 3])
def test_prints_and_asserts_in_the_body_run_once_per_iteration(capfd, bound):
    # the gradient re-runs the body to recompute states: its prints must not run again
    @tx.function
    def f(x, n):
        with tx.GradientTape() as tape:
            tape.watch(x)

            def body(i, y):
                tx.print("step", i, output_stream=sys.stdout)
                tx.debugging.Assert(tx.reduce_all(y < 100.0), ["y too large"])
                y = tx.cond(tx.reduce_sum(y) > 0.0, lambda: y * 2.0,
                            lambda: (tx.print("negative", output_stream=sys.stdout), y)[1])
                return i + 1, y

            _, y = tx.while_loop(lambda i, y: i < n, body, (tx.constant(0), x),
                                 maximum_iterations=bound)
            loss = tx.reduce_sum(y)
        return loss, tape.gradient(loss, x)

    capfd.readouterr()
    loss, g = f(X, tx.constant(3))
    np.testing.assert_allclose(g.numpy(), np.full(3, 8.0))
    out = capfd.readouterr().out
    assert out.split() == ["step", "0", "step", "1", "step", "2"], out
    _, g = f(-X, tx.constant(3))
    np.testing.assert_allclose(g.numpy(), np.ones(3))
    assert capfd.readouterr().out.count("negative") == 3
    with pytest.raises(tx.errors.InvalidArgumentError, match="y too large"):
        f(X * 1000.0, tx.constant(3))

"""Gradients through tx.while_loop with a static maximum_iterations (the reverse sweep over the
saved residuals of the body's split vjp, compiler/ops/control_flow.py), eager and compiled,
against jax.grad of the same loop: output buffers written per step, read back, nested conds,
integer and bool loop variables; and that the saved stacks stay O(T), not O(T^2)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tfx_core as tx
from compiler.interpreters import bind
from compiler.ops.dynamic_slice import dynamic_slice_op, dynamic_update_slice_op

T, B, F, H = 6, 3, 2, 4
RNG = np.random.default_rng(0)
X = RNG.standard_normal((T, B, F)).astype(np.float32)
W = (RNG.standard_normal((F, H)) * 0.6).astype(np.float32)
U = (RNG.standard_normal((H, H)) * 0.5).astype(np.float32)
C = RNG.standard_normal((T, B, H)).astype(np.float32)  # weights the loss puts on each output
MODES = [pytest.param(lambda f: f, id="eager"), pytest.param(tx.function, id="compiled")]


def _check(got, want, rtol=2e-4, atol=2e-5):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if g is None:  # not connected (a stop_gradient): jax says zeros
            assert not np.any(w)
            continue
        np.testing.assert_allclose(np.asarray(g.numpy() if hasattr(g, "numpy") else g), w,
                                   rtol=rtol, atol=atol)


def _dus(buf, row, *starts):
    return bind(dynamic_update_slice_op, buf, row, *[tx.constant(s) if isinstance(s, int)
                                                     else s for s in starts])


def _ds(buf, sizes, *starts):
    return bind(dynamic_slice_op, buf, *[tx.constant(s) if isinstance(s, int) else s
                                         for s in starts], sizes=sizes)


@pytest.mark.parametrize("run", MODES)
def test_output_buffer_written_per_step_return_sequences_style(run):
    w, u = tx.Variable(W), tx.Variable(U)

    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)

            def body(t, h, ta):
                h = tx.tanh(tx.matmul(x[t], w) + tx.matmul(h, u))
                return t + 1, h, ta.write(t, h)

            _, h, ta = tx.while_loop(
                lambda t, h, ta: t < T, body,
                (tx.constant(0), tx.zeros([B, H]),
                 tx.TensorArray(tx.float32, size=T, element_shape=[B, H])),
                maximum_iterations=T)
            loss = tx.reduce_sum(ta.stack() * C) + tx.reduce_sum(h * h)
        return [loss, *tape.gradient(loss, [x, w, u])]

    def ref(x, w, u):
        def step(h, xt):
            h = jnp.tanh(xt @ w + h @ u)
            return h, h
        h, ys = jax.lax.scan(step, jnp.zeros((B, H)), x)
        return jnp.sum(ys * C) + jnp.sum(h * h)

    _check(run(f)(tx.constant(X)), [ref(X, W, U), *jax.grad(ref, (0, 1, 2))(X, W, U)])


@pytest.mark.parametrize("run", MODES)
@pytest.mark.parametrize("watch_h0", [True, False])
def test_buffer_read_back_in_the_body(run, watch_h0):
    """Row t+1 is computed from row t, read back from the carried buffer (whose initial row 0
    is h0: with watch_h0 the buffer's own cotangent is needed)."""
    u = tx.Variable(U)
    h0 = RNG.standard_normal((1, B, H)).astype(np.float32)

    def f(x, h0):
        with tx.GradientTape() as tape:
            tape.watch([x, h0])
            buf = tx.concat([h0 if watch_h0 else tx.stop_gradient(h0),
                             tx.zeros([T, B, H])], 0)

            def body(t, buf):
                prev = tx.reshape(_ds(buf, (1, B, H), t, 0, 0), [B, H])
                row = tx.tanh(tx.matmul(prev, u) + tx.matmul(x[t], tx.constant(W)))
                return t + 1, _dus(buf, tx.reshape(row, [1, B, H]), t + 1, 0, 0)

            _, buf = tx.while_loop(lambda t, b: t < T, body, (tx.constant(0), buf),
                                   maximum_iterations=T)
            loss = tx.reduce_sum(buf[1:] * C) + tx.reduce_sum(buf[0] * 0.5)
        return [loss, *tape.gradient(loss, [x, h0, u])]

    def ref(x, h0, u):
        x = jnp.asarray(x)
        buf = jnp.concatenate([h0 if watch_h0 else jax.lax.stop_gradient(h0),
                               jnp.zeros((T, B, H))], 0)

        def body(t, buf):
            row = jnp.tanh(jax.lax.dynamic_slice(buf, (t, 0, 0), (1, B, H))[0] @ u + x[t] @ W)
            return jax.lax.dynamic_update_slice(buf, row[None], (t + 1, 0, 0))

        buf = jax.lax.fori_loop(0, T, body, buf)
        return jnp.sum(buf[1:] * C) + jnp.sum(buf[0] * 0.5)

    _check(run(f)(tx.constant(X), tx.constant(h0)),
           [ref(X, h0, U), *jax.grad(ref, (0, 1, 2))(X, h0, U)])


@pytest.mark.parametrize("run", MODES)
def test_body_with_a_nested_cond(run):
    u = tx.Variable(U)

    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)

            def body(t, h, ta):
                z = tx.matmul(x[t], tx.constant(W))
                h = tx.cond(tx.reduce_sum(h) > 0.0, lambda: tx.tanh(tx.matmul(h, u) + z),
                            lambda: tx.sin(h) * 0.5 + z * z)
                return t + 1, h, ta.write(t, h)

            _, h, ta = tx.while_loop(
                lambda t, h, ta: t < T, body,
                (tx.constant(0), tx.ones([B, H]) * 0.1,
                 tx.TensorArray(tx.float32, size=T, element_shape=[B, H])),
                maximum_iterations=T)
            loss = tx.reduce_sum(ta.stack() * C)
        return [loss, *tape.gradient(loss, [x, u])]

    def ref(x, u):
        def step(h, xt):
            z = xt @ W
            h = jax.lax.cond(jnp.sum(h) > 0.0, lambda: jnp.tanh(h @ u + z),
                             lambda: jnp.sin(h) * 0.5 + z * z)
            return h, h
        _, ys = jax.lax.scan(step, jnp.ones((B, H)) * 0.1, x)
        return jnp.sum(ys * C)

    _check(run(f)(tx.constant(X)), [ref(X, U), *jax.grad(ref, (0, 1))(X, U)])


@pytest.mark.parametrize("run", MODES)
def test_integer_and_bool_loop_variables(run):
    """An int counter used in the float math, an int count and a bool flag the body
    updates from float values: they get no gradient and do not disturb the others."""
    u = tx.Variable(U)

    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)

            def body(t, h, n, flag):
                scale = tx.cast(t + 1, tx.float32) * 0.25
                h = tx.tanh(tx.matmul(h, u) * scale + tx.matmul(x[t], tx.constant(W)))
                h = tx.where(flag, h, h * 0.5)
                n = n + tx.reduce_sum(tx.cast(h > 0.0, tx.int32))
                return t + 1, h, n, tx.logical_not(flag)

            _, h, n, _ = tx.while_loop(lambda t, h, n, p: t < T, body,
                                       (tx.constant(0), tx.zeros([B, H]), tx.constant(0),
                                        tx.constant(True)), maximum_iterations=T)
            loss = tx.reduce_sum(h * C[0])
        return [loss, n, *tape.gradient(loss, [x, u])]

    def ref(x, u):
        h, flag = jnp.zeros((B, H)), True
        for t in range(T):
            h = jnp.tanh(h @ u * ((t + 1) * 0.25) + x[t] @ W)
            h = h if flag else h * 0.5
            flag = not flag
        return jnp.sum(h * C[0])

    def count(x):
        h, flag, n = np.zeros((B, H), np.float32), True, 0
        for t in range(T):
            h = np.tanh(h @ U * ((t + 1) * 0.25) + x[t] @ W)
            h = h if flag else h * 0.5
            n, flag = n + int((h > 0).sum()), not flag
        return n

    _check(run(f)(tx.constant(X)), [ref(X, U), count(X), *jax.grad(ref, (0, 1))(X, U)])


@pytest.mark.parametrize("start", [0, -2])
def test_rows_written_twice_only_the_last_write_gets_a_gradient(start):
    """A [4, ...] buffer written at a counter that runs past its ends: the clamped start
    repeats and each later write overwrites the row, so earlier writes get no gradient."""
    rows, trips = 4, 7

    @tx.function
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)

            def body(t, k, h, buf):
                h = tx.tanh(h * 1.1 + x[k])
                return t + 1, k + 1, h, _dus(buf, tx.reshape(h, [1, B, F]), t, 0, 0)

            _, _, _, buf = tx.while_loop(
                lambda t, k, h, b: k < trips, body,
                (tx.constant(start), tx.constant(0), tx.zeros([B, F]),
                 tx.zeros([rows, B, F])), maximum_iterations=trips)
            loss = tx.reduce_sum(buf * C[:rows, :, :F])
        return [loss, tape.gradient(loss, x)]

    def ref(x):
        x = jnp.asarray(x)

        def body(k, c):
            h, buf = c
            h = jnp.tanh(h * 1.1 + x[k])
            row = jnp.clip(start + k, 0, rows - 1)  # XLA clamps (jax would wrap negatives)
            return h, jax.lax.dynamic_update_slice(buf, h[None], (row, 0, 0))

        _, buf = jax.lax.fori_loop(0, trips, body, (jnp.zeros((B, F)), jnp.zeros((rows, B, F))))
        return jnp.sum(buf * C[:rows, :, :F])

    x = RNG.standard_normal((trips, B, F)).astype(np.float32)
    _check(f(tx.constant(x)), [ref(x), jax.grad(ref)(x)])


def _rnn_gradient(steps: int):
    w, u = tx.Variable(np.zeros((F, H), np.float32)), tx.Variable(np.zeros((H, H), np.float32))

    @tx.function
    def f(x):
        with tx.GradientTape() as tape:
            def body(t, h, ta):
                h = tx.tanh(tx.matmul(x[t], w) + tx.matmul(h, u))
                return t + 1, h, ta.write(t, h)

            _, _, ta = tx.while_loop(
                lambda t, h, ta: t < steps, body,
                (tx.constant(0), tx.zeros([B, H]),
                 tx.TensorArray(tx.float32, size=steps, element_shape=[B, H])),
                maximum_iterations=steps)
            loss = tx.reduce_sum(ta.stack())
        return tape.gradient(loss, [w, u])
    return f


def test_the_saved_stacks_never_hold_a_step_by_step_copy_of_a_buffer():
    """The output buffer [T, B, H] is a loop variable: saving it per step would be a
    [T, T, B, H] stack (O(T^2) memory and time). No value of the gradient program has two
    leading dims of T, and XLA's temp memory grows linearly with T."""
    steps = 20
    f = _rnn_gradient(steps)
    x = tx.constant(np.zeros((steps, B, F), np.float32))
    ir = f.experimental_get_compiler_ir(x)("ir")
    assert "while_fwd_body" in ir and "while_bwd_body" in ir
    assert f"[{steps},{steps}," not in ir
    assert f"f32[{steps},{B},{H}]" in ir  # the buffer itself, and the saved h per step
    temps = []
    for n in (40, 80):
        xn = tx.constant(np.zeros((n, B, F), np.float32))
        g = _rnn_gradient(n)
        temps.append(g.get_concrete_function(xn).compiled_for((xn._type,)).exe.memory_stats()
                     ["temp_size_in_bytes"])
    assert temps[1] < 2.5 * temps[0], temps


@pytest.mark.parametrize("run", MODES)
def test_a_row_read_back_after_the_write_in_the_same_step(run):
    """The body reads the buffer it just wrote (the previous row): the row's cotangent is
    then more than the loop's, so the buffer's cotangent must be carried."""
    u = tx.Variable(U)

    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)

            def body(t, h, buf):
                new = tx.tanh(tx.matmul(h, u) + tx.matmul(x[t], tx.constant(W)))
                buf = _dus(buf, tx.reshape(new, [1, B, H]), t, 0, 0)
                back = tx.reshape(_ds(buf, (1, B, H), t - 1, 0, 0), [B, H])
                return t + 1, new + 0.5 * back, buf

            _, h, buf = tx.while_loop(lambda t, h, b: t < T, body,
                                      (tx.constant(0), tx.zeros([B, H]), tx.zeros([T, B, H])),
                                      maximum_iterations=T)
            loss = tx.reduce_sum(buf * C) + tx.reduce_sum(h)
        return [loss, *tape.gradient(loss, [x, u])]

    def ref(x, u):
        x = jnp.asarray(x)

        def body(t, c):
            h, buf = c
            new = jnp.tanh(h @ u + x[t] @ W)
            buf = jax.lax.dynamic_update_slice(buf, new[None], (t, 0, 0))
            back = jax.lax.dynamic_slice(buf, (jnp.maximum(t - 1, 0), 0, 0), (1, B, H))[0]
            return new + 0.5 * back, buf

        h, buf = jax.lax.fori_loop(0, T, body, (jnp.zeros((B, H)), jnp.zeros((T, B, H))))
        return jnp.sum(buf * C) + jnp.sum(h)

    _check(run(f)(tx.constant(X)), [ref(X, U), *jax.grad(ref, (0, 1))(X, U)])


@pytest.mark.parametrize("inner_bound", [3, None])
def test_a_loop_nested_in_the_body(inner_bound):
    """Each outer step runs an inner loop (bounded: its own saved residuals become the outer
    step's; unbounded: the checkpointed reverse sweep inside the outer one)."""
    u = tx.Variable(U)

    @tx.function
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)

            def body(t, h, ta):
                _, g = tx.while_loop(lambda k, g: k < 3,
                                     lambda k, g: (k + 1, tx.sin(tx.matmul(g, u)) + g * 0.5),
                                     (tx.constant(0), h), maximum_iterations=inner_bound)
                h = tx.tanh(g + tx.matmul(x[t], tx.constant(W)))
                return t + 1, h, ta.write(t, h)

            _, _, ta = tx.while_loop(
                lambda t, h, ta: t < T, body,
                (tx.constant(0), tx.ones([B, H]) * 0.1,
                 tx.TensorArray(tx.float32, size=T, element_shape=[B, H])),
                maximum_iterations=T)
            loss = tx.reduce_sum(ta.stack() * C)
        return [loss, *tape.gradient(loss, [x, u])]

    def ref(x, u):
        def step(h, xt):
            g = jax.lax.fori_loop(0, 3, lambda k, g: jnp.sin(g @ u) + g * 0.5, h)
            h = jnp.tanh(g + xt @ W)
            return h, h
        _, ys = jax.lax.scan(step, jnp.ones((B, H)) * 0.1, x)
        return jnp.sum(ys * C)

    _check(f(tx.constant(X)), [ref(X, U), *jax.grad(ref, (0, 1))(X, U)])

"""A @tx.function called under an eager GradientTape: one compiled forward (results + residuals)
recorded as one op, a compiled backward run by tape.gradient; op by op where it must fall back.

Every gradient is checked against the op-by-op run (tx.config.run_functions_eagerly) and, where
the math is simple to restate, against jax.grad; `cf.tape` counts which path each call took.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import tfx_core as tx
from tfx_core.polymorphic_function import tape_call

RNG = np.random.default_rng(14)


def rand(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def op_by_op(fn):
    """fn() with every tx.function running its Python eagerly (the old path)."""
    tx.config.run_functions_eagerly(True)
    try:
        return fn()
    finally:
        tx.config.run_functions_eagerly(False)


def close(a, b, tol=2e-5):
    if a is None or b is None:
        assert a is None and b is None
        return
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def tape_stats(f, *args):
    return f.get_concrete_function(*args).tape


# ---------------------------------------------------------------- the compiled path
def test_chain_with_variables_matches_op_by_op_and_jax():
    ws = [rand(16, 16, scale=0.3) for _ in range(6)]
    Ws = [tx.Variable(w) for w in ws]
    x = tx.constant(rand(4, 16))

    @tx.function
    def chain(x):
        h = x
        for W in Ws:
            h = h + 0.5 * tx.tanh(h @ W)
        return tx.reduce_mean(h * h)

    def grads():
        with tx.GradientTape() as tape:
            loss = chain(x)
        return loss, tape.gradient(loss, Ws)

    loss, g = grads()
    st = tape_stats(chain, x)
    assert (st.compiled_calls, st.backward_runs, st.fallbacks) == (1, 1, {})
    loss2, g2 = op_by_op(grads)

    def ref(ws, x):
        h = x
        for w in ws:
            h = h + 0.5 * jnp.tanh(h @ w)
        return jnp.mean(h * h)

    gj = jax.grad(ref)(ws, x.numpy())
    close(loss, loss2)
    for a, b, c in zip(g, g2, gj):
        close(a, b)
        close(a, c)
    # a second step reuses both executables: no new trace, no new plan
    grads()
    assert chain.experimental_get_tracing_count() == 1
    assert st.compiled_calls == 2 and len(st.plans) == 1
    assert "compiled as one recorded op" in chain.get_concrete_function(x).explain()


def test_mlp_with_variables_and_sgd_update():
    sizes = (12, 10, 3)
    params = [(rand(a, b, scale=0.4), rand(b, scale=0.1)) for a, b in zip(sizes, sizes[1:])]
    x = rand(5, 12)
    y = np.array([0, 2, 1, 1, 0], np.int32)

    def run():
        vs = [tx.Variable(p) for wb in params for p in wb]

        @tx.function
        def loss_fn(x, y):
            h = x
            for i in range(0, len(vs), 2):
                h = tx.matmul(h, vs[i]) + vs[i + 1]
                if i + 2 < len(vs):
                    h = tx.nn.relu(h)
            return tx.reduce_mean(tx.nn.sparse_softmax_cross_entropy_with_logits(y, h))

        opt = tx.optimizers.SGD(0.1)
        out = []
        for _ in range(2):
            with tx.GradientTape() as tape:
                loss = loss_fn(tx.constant(x), tx.constant(y))
            grads = tape.gradient(loss, vs)
            opt.apply_gradients(zip(grads, vs))
            out.append([float(loss)] + [g.numpy() for g in grads])
        return out, loss_fn

    compiled, fn = run()
    eager, _ = op_by_op(run)
    for a, b in zip(compiled, eager):
        for u, v in zip(a, b):
            close(u, v)

    def ref(ps):
        h = x
        for i, (w, b) in enumerate(ps):
            h = h @ w + b
            if i + 1 < len(ps):
                h = jax.nn.relu(h)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(h), y[:, None], axis=1))

    gj = jax.tree_util.tree_leaves(jax.grad(ref)(params))
    for a, b in zip(compiled[0][1:], gj):
        close(a, b)
    assert tape_stats(fn, tx.constant(x), tx.constant(y)).compiled_calls == 2


def test_cond_and_bounded_while_loop_inside():
    W = tx.Variable(rand(6, 6, scale=0.4))
    x0 = rand(3, 6)

    @tx.function
    def f(x, flag):
        h = tx.cond(flag > 0, lambda: tx.sin(x @ W), lambda: tx.cos(x) * 2.0)
        _, h = tx.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tx.tanh(h @ W)),
                             (tx.constant(0), h), maximum_iterations=3)
        return tx.reduce_sum(h * h)

    def grads(flag):
        x = tx.constant(x0)
        with tx.GradientTape() as tape:
            tape.watch(x)
            loss = f(x, tx.constant(flag))
        return tape.gradient(loss, [x, W])

    def ref(x, w, flag):
        h = jnp.sin(x @ w) if flag > 0 else jnp.cos(x) * 2.0
        for _ in range(3):
            h = jnp.tanh(h @ w)
        return jnp.sum(h * h)

    for flag in (1, -1):
        g = grads(flag)
        g2 = op_by_op(lambda flag=flag: grads(flag))
        gj = jax.grad(ref, argnums=(0, 1))(x0, W.numpy(), flag)
        for a, b, c in zip(g, g2, gj):
            close(a, b)
            close(a, c)
    st = tape_stats(f, tx.constant(x0), tx.constant(1))
    assert st.compiled_calls == 2 and st.backward_runs == 2 and not st.fallbacks


def test_multiple_outputs_one_unused_and_int_outputs():
    x0 = rand(4, 5)

    @tx.function
    def f(x):
        y = tx.sin(x)
        return {"a": tx.reduce_sum(y * y), "b": tx.exp(x), "n": tx.argmax(y, axis=1),
                "k": tx.cast(tx.reduce_sum(y) > 0, tx.int32)}

    def grads():
        x = tx.constant(x0)
        with tx.GradientTape(persistent=True) as tape:
            tape.watch(x)
            out = f(x)
        ga = tape.gradient(out["a"], x)  # "b" unused: its cotangent is zeros
        gb = tape.gradient(out["b"], x, output_gradients=tx.constant(np.full((4, 5), 2.0,
                                                                              np.float32)))
        gab = tape.gradient([out["a"], out["b"]], x)
        return ga, gb, gab, out["n"].numpy(), out["k"].numpy()

    res = grads()
    res2 = op_by_op(grads)
    for a, b in zip(res, res2):
        close(a, b)
    assert res[3].dtype == np.int64 or res[3].dtype == np.int32
    close(res[0], jax.grad(lambda x: jnp.sum(jnp.sin(x) ** 2))(x0))
    close(res[1], 2.0 * np.exp(x0))
    st = tape_stats(f, tx.constant(x0))
    assert st.compiled_calls == 1 and st.backward_runs == 3  # persistent: 3 backward runs


def test_watch_plain_tensors_only():
    W = tx.Variable(rand(5, 5))
    x0, y0 = rand(2, 5), rand(2, 5)

    @tx.function
    def f(x, y):
        return tx.reduce_sum(tx.tanh(x @ W) * y)

    def grads():
        x, y = tx.constant(x0), tx.constant(y0)
        with tx.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)
            loss = f(x, y)
        return tape.gradient(loss, [x, y, W]), tape.watched_variables()

    (gx, gy, gw), watched = grads()
    (gx2, gy2, gw2), _ = op_by_op(grads)
    assert gy is None and gw is None and gy2 is None and gw2 is None and watched == ()
    close(gx, gx2)
    close(gx, jax.grad(lambda x: jnp.sum(jnp.tanh(x @ W.numpy()) * y0))(x0))
    st = tape_stats(f, tx.constant(x0), tx.constant(y0))
    assert st.compiled_calls == 1
    # only x's cotangent is computed: the plan's backward returns one gradient
    assert [p.split.grad_inputs for p in st.plans] == [(0,)]


def test_unwatched_call_runs_compiled_without_a_record():
    x = tx.constant(rand(3))

    @tx.function
    def f(x):
        return tx.sin(x)

    with tx.GradientTape() as tape:
        y = f(x)
    assert tape.gradient(y, x) is None
    st = tape_stats(f, x)
    assert st.plain_calls == 1 and st.compiled_calls == 0


def test_assigned_variables_update_once_and_get_gradients():
    W = tx.Variable(rand(4, 4, scale=0.5))
    count = tx.Variable(0.0, trainable=False)
    ema = tx.Variable(np.zeros((4, 4), np.float32), trainable=False)
    x0 = rand(2, 4)

    @tx.function
    def f(x):
        count.assign_add(1.0)
        ema.assign(0.9 * ema + 0.1 * W)
        y = tx.tanh(x @ W)
        W.assign(W * 1.0)  # read before the assignment: the gradient flows to the old value
        return tx.reduce_sum(y * y)

    def run():
        count.assign(0.0)
        ema.assign(np.zeros((4, 4), np.float32))
        W.assign(W0)
        with tx.GradientTape() as tape:
            loss = f(tx.constant(x0))
        g = tape.gradient(loss, W)
        return g.numpy(), count.numpy(), ema.numpy()

    W0 = W.numpy()
    res, res2 = run(), op_by_op(run)
    for a, b in zip(res, res2):
        close(a, b)
    assert res[1] == 1.0
    close(res[0], jax.grad(lambda w: jnp.sum(jnp.tanh(x0 @ w) ** 2))(W0))
    assert tape_stats(f, tx.constant(x0)).compiled_calls == 1


def test_stateful_random_draws_once_and_matches_op_by_op():
    gen = tx.random.Generator.from_seed(7)
    W = tx.Variable(rand(5, 5))
    x = tx.constant(rand(3, 5))

    @tx.function
    def f(x):
        noise = gen.normal((3, 5))
        return tx.reduce_sum(tx.tanh(x @ W + noise) ** 2), noise

    def run():
        gen.reset_from_seed(7)
        with tx.GradientTape() as tape:
            loss, noise = f(x)
        g = tape.gradient(loss, W)
        return g.numpy(), noise.numpy(), gen.normal((2,)).numpy()  # the state advanced once

    res, res2 = run(), op_by_op(run)
    for a, b in zip(res, res2):
        close(a, b)
    close(res[0], jax.grad(lambda w: jnp.sum(jnp.tanh(x.numpy() @ w + res[1]) ** 2))(W.numpy()))
    assert tape_stats(f, x).compiled_calls == 1


def test_residuals_and_recompute_give_the_same_gradients(monkeypatch):
    W = tx.Variable(rand(6, 6, scale=0.4))
    x = tx.constant(rand(3, 6))
    results = []
    for residuals in (True, False):
        monkeypatch.setattr(tape_call, "USE_RESIDUALS", residuals)

        @tx.function
        def f(x):
            return tx.reduce_sum(tx.nn.relu(tx.sin(x @ W)) * x)

        with tx.GradientTape() as tape:
            tape.watch(x)
            loss = f(x)
        results.append(tape.gradient(loss, [x, W]))
        assert tape_stats(f, x).backward_runs == 1
    for a, b in zip(*results):
        close(a, b)


# ---------------------------------------------------------------- fallbacks
def test_nested_tapes_fall_back_and_give_second_derivatives():
    x0 = rand(4)

    @tx.function
    def f(x):
        return tx.reduce_sum(tx.sin(x) * x)

    x = tx.constant(x0)
    with tx.GradientTape() as outer:
        outer.watch(x)
        with tx.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        g = inner.gradient(y, x)
    gg = outer.gradient(g, x)
    ref = lambda x: jnp.sum(jnp.sin(x) * x)  # noqa: E731
    close(g, jax.grad(ref)(x0))
    close(gg, jax.grad(lambda x: jnp.sum(jax.grad(ref)(x)))(x0))
    st = tape_stats(f, x)
    assert st.compiled_calls == 0 and any("more than one tape" in r for r in st.fallbacks)
    assert "more than one tape" in f.get_concrete_function(x).explain()


def test_outer_tape_watching_the_cotangent_sees_the_backward_op_by_op():
    x = tx.constant(rand(3))
    v = tx.constant(rand(3))

    @tx.function
    def f(x):
        return tx.sin(x) * 3.0

    with tx.GradientTape() as inner:
        inner.watch(x)
        y = f(x)
    with tx.GradientTape() as outer:
        outer.watch(v)
        g = inner.gradient(y, x, output_gradients=v)  # g = 3 cos(x) * v
    close(g, 3 * np.cos(x.numpy()) * v.numpy())
    close(outer.gradient(g, v), 3 * np.cos(x.numpy()))
    st = tape_stats(f, x)
    assert st.compiled_calls == 1 and st.backward_op_by_op == 1


def test_custom_gradient_inside_falls_back():
    @tx.custom_gradient
    def clip_grad(x):
        def grad(dy):
            return tx.clip_by_value(dy, -0.1, 0.1)
        return tx.identity(x), grad

    @tx.function
    def f(x):
        return tx.reduce_sum(clip_grad(x) * 5.0)

    x = tx.constant(rand(4))
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    close(tape.gradient(y, x), np.full(4, 0.1, np.float32))
    st = tape_stats(f, x)
    assert st.compiled_calls == 0 and "custom_gradient" in f.get_concrete_function(x).explain()


def test_gradient_that_cannot_be_built_falls_back(monkeypatch):
    from compiler.autodiff import GradientError

    def refuse(*a, **k):
        raise GradientError("no rule for this")

    monkeypatch.setattr(tape_call, "split_vjp", refuse)

    @tx.function
    def f(x):
        return tx.reduce_sum(tx.exp(x))

    x = tx.constant(rand(3))
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    close(tape.gradient(y, x), np.exp(x.numpy()))  # the op-by-op run differentiates it
    st = tape_stats(f, x)
    assert st.compiled_calls == 0
    assert "could not be compiled (GradientError: no rule for this)" in \
        f.get_concrete_function(x).explain()


def test_concrete_function_called_under_a_tape_is_recorded():
    W = tx.Variable(rand(3, 3))
    x = tx.constant(rand(2, 3))
    cf = tx.function(lambda x: tx.reduce_sum(tx.sin(x @ W))).get_concrete_function(x)
    with tx.GradientTape() as tape:
        y = cf(x)
    close(tape.gradient(y, W),
          jax.grad(lambda w: jnp.sum(jnp.sin(x.numpy() @ w)))(W.numpy()))
    assert cf.tape.compiled_calls == 1 and cf.tape.backward_runs == 1


def test_read_after_assign_inside_falls_back_to_the_tapes_rule():
    W = tx.Variable(rand(3, 3))
    x = tx.constant(rand(2, 3))

    @tx.function
    def f(x):
        W.assign(W * 2.0)
        return tx.reduce_sum(x @ W)  # this read is the assigned value

    def run():
        W.assign(W0)
        with tx.GradientTape() as tape:
            y = f(x)
        return tape.gradient(y, W)

    W0 = W.numpy()
    close(run(), op_by_op(run))
    st = tape_stats(f, x)
    assert st.compiled_calls == 0 and "reads Variable" in f.get_concrete_function(x).explain()


def test_input_signature_with_none_dims_and_variables_created_on_first_call():
    class Dense(tx.Module):
        def __init__(self):
            super().__init__()
            self.w = None

        @tx.function(input_signature=[tx.TensorSpec([None, 4], tx.float32)])
        def __call__(self, x):
            if self.w is None:
                self.w = tx.Variable(tx.ones((4, 2)))
            return tx.reduce_sum(tx.tanh(x @ self.w))

    m = Dense()
    for n in (3, 5):
        x = rand(n, 4)
        with tx.GradientTape() as tape:
            y = m(tx.constant(x))
        (g,) = tape.gradient(y, m.trainable_variables)
        close(g, x.T @ (1 - np.tanh(x @ np.ones((4, 2), np.float32)) ** 2))
    st = m.__call__.get_concrete_function().tape
    assert st.compiled_calls == 2 and len(st.plans) == 2  # one pair of programs per shape
    assert m.__call__.experimental_get_tracing_count() == 1


def test_unwatched_sources_get_no_gradient_as_in_tf():
    # TF 2.21: with t.watch(x): z = x*y -> t.gradient(z, [x, y]) == [2.0, None]; an unwatched
    # target differentiated by itself gives ones
    x, y = tx.constant(1.0), tx.constant(2.0)
    for fn in (lambda x, y: x * y, tx.function(lambda x, y: x * y)):
        with tx.GradientTape(persistent=True) as t:
            t.watch(x)
            z = fn(x, y)
        gx, gy = t.gradient(z, [x, y])
        assert float(gx) == 2.0 and gy is None
        assert float(t.gradient(y, y)) == 1.0
        assert float(t.gradient(z, y, unconnected_gradients="zero")) == 0.0


def test_watched_closed_over_tensors_get_gradients():
    small = tx.constant(rand(3))  # baked into the program as a constant: falls back
    big = tx.constant(rand(40, 40))  # an implicit input of the program: compiled
    x = tx.constant(rand(3))

    @tx.function
    def f(x):
        return tx.reduce_sum(x * small) + tx.reduce_sum(tx.sin(big))

    with tx.GradientTape() as tape:
        tape.watch([small, big])
        y = f(x)
    gs, gb = tape.gradient(y, [small, big])
    close(gs, x.numpy())
    close(gb, np.cos(big.numpy()))
    st = tape_stats(f, x)
    assert st.compiled_calls == 0 and any("closes over" in r for r in st.fallbacks)

    with tx.GradientTape() as tape:
        tape.watch(big)
        y = f(x)
    close(tape.gradient(y, big), np.cos(big.numpy()))
    assert st.compiled_calls == 1

"""tx.GradientTape, tx.stop_gradient and tx.custom_gradient vs TF's semantics, with numpy,
analytic values or jax as the oracle; eager and inside @tx.function."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import tree_util

import tfx_core as tx

RNG = np.random.default_rng(7)
X3 = np.array([0.3, -1.2, 2.0], np.float32)


def c(x, dtype=np.float32):
    return tx.constant(np.asarray(x, dtype))


def oracle(transform, fn, *args, **kwargs):
    """jax's `transform(fn, **kwargs)(*args)` in float64 (x64 only here: the flag is global)."""
    with jax.enable_x64(True):
        out = transform(fn, **kwargs)(*args)
        return tree_util.tree_map(np.asarray, out)


def close(got, want, rtol=1e-5, atol=1e-6):
    assert got is not None
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=rtol, atol=atol)


# ---------------------------------------------------------------- watching
def test_constant_needs_watch():
    x = c(3.0)
    with tx.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    close(tape.gradient(y, x), 6.0)


def test_trainable_variable_auto_watched():
    v = tx.Variable(3.0)
    with tx.GradientTape() as tape:
        y = v * v
    assert tape.watched_variables() == (v,)
    close(tape.gradient(y, v), 6.0)


def test_watch_accessed_variables_false():
    v, w = tx.Variable(3.0), tx.Variable(2.0)
    with tx.GradientTape(watch_accessed_variables=False) as tape:
        y = v * v * w
    assert tape.watched_variables() == ()
    assert tape.gradient(y, [v, w]) == [None, None]
    with tx.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(v)
        y = v * v * w
    assert tape.watched_variables() == (v,)
    gv, gw = tape.gradient(y, [v, w])
    close(gv, 12.0)
    assert gw is None


def test_non_trainable_variable_needs_watch():
    v = tx.Variable(3.0, trainable=False)
    with tx.GradientTape() as tape:
        y = v * v
    assert tape.watched_variables() == ()
    assert tape.gradient(y, v) is None
    with tx.GradientTape() as tape:
        tape.watch(v)
        y = v * v
    close(tape.gradient(y, v), 6.0)


def test_watch_rejects_non_tensors():
    with tx.GradientTape() as tape, pytest.raises(TypeError, match="list|float"):
        tape.watch([1.0])


# ---------------------------------------------------------------- sources and targets
def _f3(x, y, z):
    return jnp.sum(jnp.sin(x) * y) + jnp.sum(z * z * y[0])


@pytest.mark.parametrize("wrap", [
    lambda x, y, z: [x, y, z],
    lambda x, y, z: {"a": x, "b": {"y": y, "z": z}},
    lambda x, y, z: ([x, y], [z]),
    lambda x, y, z: (x, {"inner": [y, (z,)]}),
], ids=["list", "dict", "tuple_of_lists", "mixed"])
def test_nested_sources_keep_structure(wrap):
    xs = [RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=(2,))]
    x, y, z = (c(a, np.float64) for a in xs)
    with tx.GradientTape() as tape:
        tape.watch([x, y, z])
        out = tx.reduce_sum(tx.sin(x) * y) + tx.reduce_sum(z * z * y[0])
    got = tape.gradient(out, wrap(x, y, z))
    want = oracle(jax.grad, _f3, *xs, argnums=(0, 1, 2))
    assert tree_util.tree_structure(got) == tree_util.tree_structure(wrap(*want))
    for g, w in zip(tree_util.tree_leaves(got), tree_util.tree_leaves(wrap(*want))):
        assert isinstance(g, tx.Tensor)
        close(g, w, rtol=1e-12)


def test_unconnected_none_and_zero():
    x, u = c(X3), c([[1.0, 2.0]])
    v = tx.Variable(np.ones((2, 2), np.float32))
    with tx.GradientTape(persistent=True) as tape:
        tape.watch([x, u])
        y = tx.reduce_sum(x * x)
    gx, gu, gv = tape.gradient(y, [x, u, v])
    close(gx, 2 * X3)
    assert gu is None and gv is None
    gx, gu, gv = tape.gradient(y, [x, u, v], unconnected_gradients="zero")
    close(gx, 2 * X3)
    assert gu.shape == (1, 2) and gu.dtype == tx.float32
    close(gu, np.zeros((1, 2)))
    assert gv.shape == (2, 2)
    close(gv, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(y, x, unconnected_gradients="ones")


def test_integer_source_gives_none():
    xi = c([1, 2, 3], np.int32)
    x = c(X3)
    with tx.GradientTape() as tape:
        tape.watch([xi, x])
        y = tx.reduce_sum(tx.cast(xi, tx.float32) * x)
    gi, gx = tape.gradient(y, [xi, x], unconnected_gradients="zero")
    assert gi is None
    close(gx, [1.0, 2.0, 3.0])


def test_non_scalar_target_is_summed():
    x = c(X3)
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = x * x * x  # shape (3,)
    close(tape.gradient(y, x), 3 * X3**2)


def test_list_of_targets_is_summed():
    x = c(X3)
    with tx.GradientTape() as tape:
        tape.watch(x)
        ys = [x * x, 3.0 * x, tx.reduce_sum(tx.sin(x))]
    close(tape.gradient(ys, x), 2 * X3 + 3 + np.cos(X3))


def test_output_gradients_weight_the_target():
    x = c(X3)
    w = np.array([1.0, -2.0, 0.5], np.float32)
    with tx.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = tx.sin(x)
    close(tape.gradient(y, x, output_gradients=c(w)), 2 * X3 * w)
    # one weight per target in a list of targets
    close(tape.gradient([y, z], x, output_gradients=[c(w), c(2 * w)]),
          2 * X3 * w + np.cos(X3) * 2 * w)


def test_non_float_target_raises_naming_dtype():
    x = c(X3)
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = tx.cast(x, tx.int32)
    with pytest.raises(TypeError, match=r"floating.*\bint32\b"):  # the dtype's user-facing name
        tape.gradient(y, x)


# ---------------------------------------------------------------- tape lifetime
def test_persistent_tape_two_gradients():
    x = c(2.0)
    with tx.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    close(tape.gradient(y, x), 4.0)
    close(tape.gradient(z, x), 4 * 8.0)
    close(tape.gradient(z, y), 8.0)


def test_non_persistent_tape_second_call_raises():
    x = c(2.0)
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    close(tape.gradient(y, x), 4.0)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)


def test_stop_recording():
    x = c(2.0)
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        with tape.stop_recording():
            z = x * x * x  # not recorded: a constant for the tape
        total = y + z
    close(total, 12.0)
    close(tape.gradient(total, x), 4.0)


def test_reset_forgets_ops_and_watches():
    x = c(2.0)
    v = tx.Variable(5.0)
    with tx.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x * v
        tape.reset()
        z = x * x * x  # x is no longer watched
        w = v * v  # trainable variables are still watched when read
    assert tape.gradient(y, [x, v]) == [None, None]
    assert tape.gradient(z, x) is None
    close(tape.gradient(w, v), 10.0)
    assert tape.watched_variables() == (v,)
    with tx.GradientTape() as tape:
        tape.watch(x)
        _ = x * x
        tape.reset()
        tape.watch(x)
        z = x * x * x
    close(tape.gradient(z, x), 12.0)


# ---------------------------------------------------------------- stop_gradient / custom_gradient
def test_stop_gradient_eager_and_compiled():
    def body(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.reduce_sum(x * tx.stop_gradient(x) + tx.stop_gradient(tx.sin(x)))
        return y, tape.gradient(y, x)

    for fn in (body, tx.function(body)):
        y, g = fn(c(X3))
        close(y, np.sum(X3 * X3 + np.sin(X3)))
        close(g, X3)  # not 2x, no cos(x)


@tx.custom_gradient
def clip_gradient(x):
    def grad(dy):
        return tx.clip_by_value(dy, -0.5, 0.5)
    return x, grad  # the input itself: the output still needs its own gradient identity


@tx.custom_gradient
def log1pexp(x):
    e = tx.exp(x)

    def grad(dy):
        return dy * (1 - 1 / (1 + e))
    return tx.log(1 + e), grad


def _custom_grads(x):
    with tx.GradientTape(persistent=True) as tape:
        tape.watch(x)
        a = clip_gradient(x) * 3.0
        b = log1pexp(x)
        naive = tx.log(1 + tx.exp(x))
    return a, b, tape.gradient(a, x), tape.gradient(b, x), tape.gradient(naive, x)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_custom_gradient(mode):
    fn = _custom_grads if mode == "eager" else tx.function(_custom_grads)
    xs = np.array([0.0, 1.0, -2.0, 100.0], np.float32)
    a, b, ga, gb, gnaive = fn(c(xs))
    close(a, 3 * xs)  # forward unchanged
    close(ga, np.full(4, 0.5))  # 3 clipped to 0.5
    close(b[:3], np.log1p(np.exp(xs[:3])))
    close(gb, 1 / (1 + np.exp(-xs.astype(np.float64))))  # stable: 1.0 at x=100
    assert np.isnan(np.asarray(gnaive)[3])  # the op-by-op gradient is inf/inf there


def test_custom_gradient_two_inputs_and_unused_gradient():
    @tx.custom_gradient
    def f(x, y):
        def grad(dy):
            return dy * 10.0, None
        return x * y, grad

    x, y = c(2.0), c(3.0)
    with tx.GradientTape() as tape:
        tape.watch([x, y])
        out = f(x, y)
    close(out, 6.0)
    gx, gy = tape.gradient(out, [x, y])
    close(gx, 10.0)
    assert gy is None


# ---------------------------------------------------------------- jacobian / higher order
def _vec_f(x):
    return jnp.stack([x[0] * x[1], jnp.sin(x[2]), x[0] ** 2 + x[2], jnp.exp(x[1])])


def _jac(x):
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = tx.stack([x[0] * x[1], tx.sin(x[2]), x[0] ** 2 + x[2], tx.exp(x[1])])
    return tape.jacobian(y, x)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_jacobian_vs_jax(mode):
    xs = np.array([0.5, -0.7, 1.3])
    jac = (_jac if mode == "eager" else tx.function(_jac))(c(xs, np.float64))
    assert jac.shape == (4, 3)
    close(jac, oracle(jax.jacrev, _vec_f, xs), rtol=1e-12, atol=1e-14)


def test_jacobian_matrix_source_and_unconnected():
    a = RNG.normal(size=(2, 3))
    w = c(a, np.float64)
    u = c(np.ones(2), np.float64)
    with tx.GradientTape(persistent=True) as tape:
        tape.watch([w, u])
        y = tx.reduce_sum(w * w, axis=1)  # (2,)
    jw, ju = tape.jacobian(y, [w, u])
    assert jw.shape == (2, 2, 3)
    close(jw, oracle(jax.jacrev, lambda m: jnp.sum(m * m, axis=1), a), rtol=1e-12)
    assert ju is None
    _, ju = tape.jacobian(y, [w, u], unconnected_gradients="zero")
    assert ju.shape == (2, 2)
    close(ju, np.zeros((2, 2)))


def _second_derivative_of_sin(x):
    with tx.GradientTape() as outer:
        outer.watch(x)
        with tx.GradientTape() as inner:
            inner.watch(x)
            y = tx.sin(x)
        dy = inner.gradient(y, x)
    return dy, outer.gradient(dy, x)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_second_derivative_of_sin(mode):
    fn = _second_derivative_of_sin if mode == "eager" else tx.function(_second_derivative_of_sin)
    dy, d2y = fn(c(X3))
    close(dy, np.cos(X3))
    close(d2y, -np.sin(X3))


def test_third_derivative_nested_tapes():
    x = c(0.7, np.float64)
    with tx.GradientTape() as t3:
        t3.watch(x)
        with tx.GradientTape() as t2:
            t2.watch(x)
            with tx.GradientTape() as t1:
                t1.watch(x)
                y = x * x * x * x
            g1 = t1.gradient(y, x)
        g2 = t2.gradient(g1, x)
    g3 = t3.gradient(g2, x)
    close(g1, 4 * 0.7**3, rtol=1e-12)
    close(g2, 12 * 0.7**2, rtol=1e-12)
    close(g3, 24 * 0.7, rtol=1e-12)


A4 = RNG.normal(size=(4, 4))  # not symmetric: the Hessian of 0.5 x^T A x is (A + A^T) / 2


def _hvp(a, x, v):
    with tx.GradientTape() as outer:
        outer.watch(x)
        with tx.GradientTape() as inner:
            inner.watch(x)
            f = 0.5 * tx.reduce_sum(x * tx.matmul(a, x))  # x: (n, 1)
        g = inner.gradient(f, x)
        gv = tx.reduce_sum(g * v)
    return g, outer.gradient(gv, x)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_hessian_vector_product(mode):
    fn = _hvp if mode == "eager" else tx.function(_hvp)
    xs, vs = RNG.normal(size=(4, 1)), RNG.normal(size=(4, 1))
    g, hvp = fn(c(A4, np.float64), c(xs, np.float64), c(vs, np.float64))
    sym = (A4 + A4.T) / 2
    close(g, sym @ xs, rtol=1e-12)
    close(hvp, sym @ vs, rtol=1e-12)
    hess = oracle(jax.hessian, lambda z: 0.5 * z @ A4 @ z, xs[:, 0])
    close(hvp[:, 0], hess @ vs[:, 0], rtol=1e-12)


# ---------------------------------------------------------------- variables on the tape
def test_variable_read_several_times():
    v = tx.Variable(np.array([1.0, 2.0], np.float32))
    with tx.GradientTape() as tape:
        y = tx.reduce_sum(v * v + 3.0 * v.value()) + tx.reduce_sum(v.read_value()) + v[0]
    close(tape.gradient(y, v), 2 * np.array([1.0, 2.0]) + 3 + 1 + np.array([1.0, 0.0]))


def _read_assign_read(v, update):
    with tx.GradientTape() as tape:
        y1 = v * 2.0
        update(v)
        y2 = v * v
        total = y1 + y2
    return y2, tape.gradient(total, v)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("update, new", [
    (lambda v: v.assign(v * 3.0), 4.5),
    (lambda v: v.assign_add(1.0), 2.5),
    (lambda v: v.assign_sub(tx.constant(-1.0)), 2.5),
], ids=["assign", "assign_add", "assign_sub"])
def test_variable_read_before_and_after_assign(update, new, mode):
    # TF: every read is an identity path to the variable, whatever value it held; assignments
    # are not differentiable, so the new value does not lead back to the old read.
    # d/dv (2 * v_old + v_new * v_new) = 2 + 2 * v_new.
    v = tx.Variable(1.5)
    fn = _read_assign_read if mode == "eager" else tx.function(_read_assign_read)
    y2, g = fn(v, update)
    close(y2, new * new)
    close(v, new)
    close(g, 2.0 + 2 * new)


def test_watched_constant_is_not_an_equal_python_scalar():
    # TF: every constant is its own tensor; a Python 2.0 used later is not the watched x.
    x = tx.constant(2.0)
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = x * x + 2.0
    close(tape.gradient(y, x), 4.0)


def test_scalar_variable_is_not_an_equal_python_scalar():
    x = tx.constant(3.0)
    for init in (2.0, tx.constant(2.0)):
        v = tx.Variable(init)
        with tx.GradientTape() as tape:
            y = v * 5.0 + x * 2.0  # the 2.0 here has nothing to do with v
        close(tape.gradient(y, v), 5.0)
    v.assign(7.0)
    with tx.GradientTape() as tape:
        y = v * 5.0 + x * 7.0
    close(tape.gradient(y, v), 5.0)


def test_variable_from_tensor_or_variable_is_its_own_source():
    # TF: a Variable holds its own value; reading it is not reading the tensor it came from.
    x = c([1.0, 2.0])
    v = tx.Variable(x)
    w = tx.Variable(v)
    t = c([3.0, 4.0])
    u = tx.Variable(np.zeros(2, np.float32))
    u.assign(t)
    with tx.GradientTape() as tape:
        tape.watch([x, t])
        y = tx.reduce_sum(x * 2.0 + v * 3.0 + w * 5.0 + t * 7.0 + u * 11.0)
    grads = tape.gradient(y, [x, v, w, t, u])
    for g, want in zip(grads, [2.0, 3.0, 5.0, 7.0, 11.0]):
        close(g, [want, want])


def test_tape_across_function_call_eagerly():
    w = tx.Variable(np.array([0.5, -1.0, 2.0], np.float32))

    @tx.function
    def f(x):
        return tx.reduce_sum(tx.sin(x) * x * w)

    x = c(X3)
    close(f(x), np.sum(np.sin(X3) * X3 * np.asarray(w)))  # a compiled call first
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    gx, gw = tape.gradient(y, [x, w])
    wn = np.asarray(w)
    close(gx, (np.cos(X3) * X3 + np.sin(X3)) * wn)
    close(gw, np.sin(X3) * X3)


def test_gradients_inside_function_return_dict():
    w0, b0 = RNG.normal(size=(3, 2)), RNG.normal(size=(2,))
    w = tx.Variable(w0.astype(np.float32), name="w")
    b = tx.Variable(b0.astype(np.float32), name="b")
    frozen = tx.Variable(np.float32(2.0), trainable=False)

    @tx.function
    def grads(x):
        with tx.GradientTape() as tape:
            loss = tx.reduce_sum(tx.square(tx.matmul(x, w) + b)) * frozen
        return tape.gradient(loss, {"w": w, "b": b, "frozen": frozen})

    def ref(w, b, x):
        return 2.0 * jnp.sum(jnp.square(x @ w + b))

    for _ in range(2):
        xs = RNG.normal(size=(5, 3)).astype(np.float32)
        got = grads(c(xs))
        assert sorted(got) == ["b", "frozen", "w"] and got["frozen"] is None
        gw, gb = oracle(jax.grad, ref, np.asarray(w), np.asarray(b), xs, argnums=(0, 1))
        close(got["w"], gw, rtol=1e-4, atol=1e-5)
        close(got["b"], gb, rtol=1e-4, atol=1e-5)
    assert grads.experimental_get_tracing_count() == 1


def test_compiled_graph_holds_forward_and_gradient_ops():
    @tx.function
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.reduce_sum(tx.sin(x))
        return y, tape.gradient(y, x)

    x = c(X3)
    ir = f.experimental_get_compiler_ir(x)(stage="ir")
    assert ir.count("func @") == 1  # one program
    assert " sin " in ir and " cos " in ir  # forward op and its gradient op
    y, g = f(x)
    close(y, np.sum(np.sin(X3)))
    close(g, np.cos(X3))


def test_compiled_sgd_step_updates_variable():
    w0 = np.array([1.0, -2.0, 0.5])
    w = tx.Variable(w0)

    @tx.function
    def step(x):
        with tx.GradientTape() as tape:
            loss = tx.reduce_sum(tx.square(w * x - 1.0))
        w.assign_sub(0.1 * tape.gradient(loss, w))
        return loss

    xs = np.array([0.5, 1.0, 2.0])
    want = w0.copy()
    for _ in range(3):
        loss = step(c(xs, np.float64))
        close(loss, np.sum((want * xs - 1.0) ** 2), rtol=1e-12)
        want = want - 0.1 * 2 * (want * xs - 1.0) * xs
        close(w, want, rtol=1e-12)
    assert step.experimental_get_tracing_count() == 1

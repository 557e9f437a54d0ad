"""tx.cond / tx.switch_case / tx.while_loop: traced regions, structures, captures, errors."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx

X = np.array([1.0, -2.0, 3.0], np.float32)


def test_branches_capture_outer_tensors_closures_and_variables():
    v = tx.Variable(np.array([10.0, 20.0, 30.0], np.float32))
    big = tx.constant(np.arange(2000, dtype=np.float32))  # captured by reference, not baked

    @tx.function
    def f(x, p):
        y = x * 3.0
        return tx.cond(p, lambda: y + v, lambda: x - big[:3])

    np.testing.assert_array_equal(f(X, tx.constant(True)).numpy(), X * 3 + [10, 20, 30])
    np.testing.assert_array_equal(f(X, tx.constant(False)).numpy(), X - [0, 1, 2])
    v.assign(np.zeros(3, np.float32))  # read at call time, not baked into the trace
    np.testing.assert_array_equal(f(X, tx.constant(True)).numpy(), X * 3)
    assert f.experimental_get_tracing_count() == 1


def test_nested_cond_inside_while_with_dict_loop_vars():
    @tx.function
    def f(x):
        def body(state):
            i = state["i"]
            s = tx.cond(i % 2 == 0, lambda: state["s"] + x, lambda: state["s"] * 0.5)
            return {"i": i + 1, "s": s}

        return tx.while_loop(lambda st: st["i"] < 4, body, [{"i": tx.constant(0), "s": x}])

    (out,) = f(X)
    s = X.copy()
    for i in range(4):
        s = s + X if i % 2 == 0 else s * 0.5
    np.testing.assert_allclose(out["s"].numpy(), s)
    assert int(out["i"]) == 4


def test_while_loop_with_maximum_iterations_and_a_single_var():
    f = tx.function(lambda x: tx.while_loop(lambda y: True, lambda y: y + 1.0, x,
                                            maximum_iterations=7))
    np.testing.assert_array_equal(f(X).numpy(), X + 7)
    eager = tx.while_loop(lambda y: True, lambda y: y + 1.0, tx.constant(X),
                          maximum_iterations=7)
    np.testing.assert_array_equal(eager.numpy(), X + 7)


def test_python_predicates_stay_python():
    calls = []

    @tx.function
    def f(x, flag):
        return tx.cond(flag, lambda: calls.append("t") or x, lambda: calls.append("f") or -x)

    np.testing.assert_array_equal(f(X, True).numpy(), X)
    assert calls == ["t"]  # only the taken branch was traced
    assert "case" not in f.experimental_get_compiler_ir(X, True)(stage="ir")


def test_branches_that_disagree_name_both():
    f = tx.function(lambda x, p: tx.cond(p, lambda: x, lambda: (x, x)))
    with pytest.raises(TypeError, match="false_fn returns structure .* but true_fn returns"):
        f(X, tx.constant(True))
    g = tx.function(lambda x, p: tx.cond(p, lambda: x, lambda: tx.cast(x, tx.int32)))
    with pytest.raises(TypeError, match=r"output 0 is i32\[3\] in false_fn but f32\[3\] in "
                                        r"true_fn.*test_control_flow.py:\d+"):
        g(X, tx.constant(True))


def test_loop_variables_must_keep_their_shape_and_dtype():
    f = tx.function(lambda x: tx.while_loop(lambda y: tx.reduce_sum(y) < 100.0,
                                            lambda y: tx.concat([y, y], 0), x))
    with pytest.raises(TypeError, match=r"loop variable 0 enters as f32\[3\] but the body "
                                        r"returns f32\[6\]"):
        f(X)
    g = tx.function(lambda x: tx.while_loop(lambda y: True, lambda y: (y, y), (x,)))
    with pytest.raises(TypeError, match="body returns structure"):
        g(X)
    h = tx.function(lambda x: tx.while_loop(lambda y: y, lambda y: y, x))
    with pytest.raises(TypeError, match="cond must return a bool scalar"):
        h(X)


def test_predicate_must_be_a_bool_scalar():
    f = tx.function(lambda x: tx.cond(x > 0, lambda: x, lambda: -x))
    with pytest.raises(TypeError, match=r"pred must be a bool scalar, got bool\[3\]"):
        f(X)


def test_variables_assigned_in_branches_and_loop_bodies():
    v, c = tx.Variable(0.0), tx.Variable(np.zeros(3, np.float32))

    @tx.function
    def f(x):
        def grow():
            v.assign_add(x)
            return x * 2.0

        y = tx.cond(x > 0, grow, lambda: -x)  # only one branch assigns: the other keeps v

        def body(i):
            c.assign(c + tx.cast(i, tx.float32))
            tx.cond(i > 0, lambda: v.assign(v * 2.0), lambda: v)  # nested: cond in while
            return i + 1

        tx.while_loop(lambda i: i < 3, body, [tx.constant(0)])
        return y, v.read_value()

    for x, want_v, want_c in ((1.5, 6.0, 3.0), (-1.0, 24.0, 6.0), (0.5, 98.0, 9.0)):
        y, seen = f(tx.constant(x))
        assert float(y) == (x * 2 if x > 0 else -x)
        assert float(seen) == float(v.numpy()) == want_v
        np.testing.assert_array_equal(c.numpy(), [want_c] * 3)
    assert f.experimental_get_tracing_count() == 1


def test_generators_advance_inside_branches():
    g, same = tx.random.Generator.from_seed(1), tx.random.Generator.from_seed(1)
    h = tx.function(lambda p: tx.cond(p, lambda: g.uniform([2]), lambda: tx.zeros([2])))
    draws = [h(tx.constant(p)).numpy() for p in (True, True, False, True)]
    np.testing.assert_array_equal(draws[2], [0, 0])
    for got in (draws[0], draws[1], draws[3]):  # the untaken branch does not advance it
        np.testing.assert_array_equal(got, same.uniform([2]).numpy())


def test_assigning_in_a_while_cond_is_refused_clearly():
    v = tx.Variable(1.0)

    def cond(i):
        v.assign(2.0)
        return i < 2

    f = tx.function(lambda: tx.while_loop(cond, lambda i: i + 1, [tx.constant(0)]))
    with pytest.raises(TypeError, match="cond assigns a tx.Variable.*test_control_flow.py"):
        f()


def test_gradients_through_cond_reach_operands_and_variables():
    w = tx.Variable(np.array([0.5, 1.5, -1.0], np.float32))

    @tx.function
    def f(x, p):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.cond(p, lambda: tx.reduce_sum(x * x * w), lambda: tx.reduce_sum(tx.sin(x)))
        return tape.gradient(y, [x, w])

    gx, gw = f(tx.constant(X), tx.constant(True))
    np.testing.assert_allclose(gx.numpy(), 2 * X * w.numpy())
    np.testing.assert_allclose(gw.numpy(), X * X)
    gx, gw = f(tx.constant(X), tx.constant(False))
    np.testing.assert_allclose(gx.numpy(), np.cos(X), rtol=1e-6)
    np.testing.assert_array_equal(gw.numpy(), 0)


def test_none_dims_specialize_inside_regions():
    @tx.function(input_signature=[tx.TensorSpec([None], tx.float32)])
    def f(x):
        return tx.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * 2.0),
                             (tx.constant(0), x))[1]

    for n in (1, 4):
        a = np.arange(n, dtype=np.float32)
        np.testing.assert_array_equal(f(a).numpy(), a * 8)


def test_saved_and_loaded_control_flow(tmp_path):
    @tx.function(input_signature=[tx.TensorSpec([3], tx.float32), tx.TensorSpec([], tx.bool)])
    def f(x, p):
        return tx.cond(p, lambda: x + 1.0, lambda: x - 1.0)

    tx.saved_model.save(f, str(tmp_path / "f.tfx"))
    loaded = tx.saved_model.load(str(tmp_path / "f.tfx"))
    np.testing.assert_array_equal(loaded(X, np.array(True)).numpy(), X + 1)


def test_gradient_through_a_bounded_while_loop_matches_jax():
    import jax
    import jax.numpy as jnp

    w = tx.Variable(np.array([1.1, 0.9, 1.0], np.float32))

    @tx.function
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            _, y = tx.while_loop(lambda i, y: tx.reduce_sum(y) < 50.0,
                                 lambda i, y: (i + 1, tx.sin(y) * w + x),
                                 (tx.constant(0), x), maximum_iterations=4)
            loss = tx.reduce_sum(y * y)
        return tape.gradient(loss, [x, w])

    def loss(x, w):
        y = x
        for _ in range(4):
            y = jnp.where(jnp.sum(y) < 50.0, jnp.sin(y) * w + x, y)
        return jnp.sum(y * y)

    x = np.array([0.5, -1.0, 2.0], np.float32)
    gx, gw = f(tx.constant(x))
    jx, jw = jax.grad(loss, (0, 1))(x, w.numpy())
    np.testing.assert_allclose(gx.numpy(), jx, rtol=1e-5)
    np.testing.assert_allclose(gw.numpy(), jw, rtol=1e-5)


def test_map_fn_scan_foldl_with_nested_structures_eager_and_compiled():
    e = np.arange(12, dtype=np.float32).reshape(4, 3)
    for run in (lambda f: f, tx.function):
        m = run(lambda x: tx.map_fn(lambda r: {"s": tx.reduce_sum(r), "d": r * 2.0}, x))(
            tx.constant(e))
        np.testing.assert_array_equal(m["s"].numpy(), e.sum(1))
        np.testing.assert_array_equal(m["d"].numpy(), e * 2)
        s = run(lambda x: tx.scan(lambda a, r: a + r, x))(tx.constant(e))
        np.testing.assert_array_equal(s.numpy(), np.cumsum(e, 0))
        f = run(lambda x: tx.foldl(lambda a, r: a - r, x))(tx.constant(e))
        np.testing.assert_array_equal(f.numpy(), e[0] - e[1] - e[2] - e[3])
    with pytest.raises(ValueError, match="same static leading dimension"):
        tx.map_fn(lambda r: r, (tx.constant(e), tx.constant(e[:2])))


def test_scan_in_reverse_matches_a_reversed_cumulative_sum():
    e = np.arange(12, dtype=np.float32).reshape(4, 3)
    want = np.cumsum(e[::-1], 0)[::-1]
    for run in (lambda f: f, tx.function):
        got = run(lambda x: tx.scan(lambda a, r: a + r, x, reverse=True))(tx.constant(e))
        np.testing.assert_array_equal(got.numpy(), want)
        got = run(lambda x: tx.scan(lambda a, r: a + r, x, tx.zeros([3]), reverse=True))(
            tx.constant(e))
        np.testing.assert_array_equal(got.numpy(), want)


def test_a_cond_without_results_survives_every_pass():
    for passes in (None, ["constant_folding", "simplify", "layout", "cse", "dce", "fusion"]):
        kw = {} if passes is None else {"experimental_passes": passes}

        def f(p):
            tx.cond(p, lambda: (), lambda: ())
            return tx.constant(1)

        assert int(tx.function(f, autograph=False, **kw)(tx.constant(True))) == 1


def test_cond_in_a_function_with_none_dims_specializes_its_branches():
    """Specializing a None-dim graph must re-infer the case's branches (a tuple of regions)."""
    f = tx.function(lambda x, p: tx.cond(p, lambda: x * 2.0, lambda: x + 1.0),
                    input_signature=[tx.TensorSpec([None], tx.float32),
                                     tx.TensorSpec([], tx.bool)])
    np.testing.assert_array_equal(f(np.arange(3, dtype=np.float32), True).numpy(), [0, 2, 4])
    np.testing.assert_array_equal(f(np.arange(5, dtype=np.float32), False).numpy(),
                                  [1, 2, 3, 4, 5])


def test_loop_gradient_does_not_stack_what_the_body_passes_through():
    """An RNN's input sequence and weights are the same every step: the gradient's forward
    sweep stacks only what changes (else memory and time grow as T^2)."""
    t_max = 20
    x = tx.constant(np.random.default_rng(0).standard_normal((4, t_max, 8)).astype(np.float32))
    w = tx.Variable(np.random.default_rng(1).standard_normal((8, 8)).astype(np.float32) * 0.3)

    def step(x):
        with tx.GradientTape() as tape:
            def body(t, h):
                return t + 1, tx.tanh(tx.matmul(x[:, t], w) + h)
            _, h = tx.while_loop(lambda t, h: t < t_max, body,
                                 (tx.constant(0), tx.zeros([4, 8])), maximum_iterations=t_max)
            loss = tx.reduce_sum(h)
        return tape.gradient(loss, w)

    f = tx.function(step)
    ir = f.experimental_get_compiler_ir(x)("ir")
    assert "f32[20,4,20,8]" not in ir and "f32[20,8,8]" not in ir  # x and w are not stacked
    assert "f32[20,4,8]" in ir  # h is
    np.testing.assert_allclose(f(x).numpy(), step(x).numpy(), rtol=1e-4, atol=1e-5)

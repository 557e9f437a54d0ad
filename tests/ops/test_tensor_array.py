"""tx.TensorArray: eager lists and traced buffers, as loop variables of AutoGraph loops,
tx.while_loop and tx.foldl, against numpy; gradients against jax.grad of the same math; TF's
errors (OutOfRangeError / InvalidArgumentError / ValueError, messages as TF 2.21's)."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx

T, B, D, H = 4, 2, 3, 5
RNG = np.random.default_rng(0)
X = RNG.normal(size=(T, B, D)).astype(np.float32)
W = (RNG.normal(size=(D, H)) * 0.5).astype(np.float32)
U = (RNG.normal(size=(H, H)) * 0.5).astype(np.float32)
EAGER_AND_COMPILED = [pytest.param(lambda f: f, id="eager"), pytest.param(tx.function,
                                                                          id="compiled")]


def rnn_reference(x, w, u, xp=np):
    h, out = xp.zeros((B, H), np.float32), []
    for t in range(T):
        h = xp.tanh(x[t] @ w + h @ u)
        out.append(h)
    return xp.stack(out)


def rnn(x, w, u):
    ta = tx.TensorArray(tx.float32, size=T)  # element shape learned from the loop's write
    h = tx.zeros([B, H])
    for t in tx.range(T):
        h = tx.tanh(x[t] @ w + h @ u)
        ta = ta.write(t, h)
    return ta.stack()


@pytest.mark.parametrize("run", EAGER_AND_COMPILED)
def test_rnn_loop_matches_numpy(run):
    got = run(rnn)(tx.constant(X), tx.constant(W), tx.constant(U))
    np.testing.assert_allclose(got.numpy(), rnn_reference(X, W, U), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("run", EAGER_AND_COMPILED)
def test_rnn_gradient_matches_jax(run):
    import jax
    import jax.numpy as jnp

    def grads(x, w):
        with tx.GradientTape() as tape:
            tape.watch(w)
            loss = tx.reduce_sum(rnn(x, w, tx.constant(U)) ** 2)
        return tape.gradient(loss, w)

    got = run(grads)(tx.constant(X), tx.constant(W))
    want = jax.grad(lambda w: jnp.sum(rnn_reference(X, w, U, jnp) ** 2))(W)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)


def test_while_loop_carries_an_array_with_gradients_through_unstack_read_and_write():
    import jax
    import jax.numpy as jnp

    @tx.function
    def f(x, w):
        with tx.GradientTape() as tape:
            tape.watch(w)
            inputs = tx.TensorArray(tx.float32, size=T).unstack(x)
            out = tx.TensorArray(tx.float32, size=T, element_shape=[B, H])

            def body(t, h, out):
                h = tx.tanh(inputs.read(t) @ w + h @ U)
                return t + 1, h, out.write(t, h)

            _, _, out = tx.while_loop(lambda t, h, out: t < T, body,
                                      (tx.constant(0), tx.zeros([B, H]), out),
                                      maximum_iterations=T)
            loss = tx.reduce_sum(out.stack() ** 2)
        return out.stack(), tape.gradient(loss, w)

    stacked, gw = f(tx.constant(X), tx.constant(W))
    np.testing.assert_allclose(stacked.numpy(), rnn_reference(X, W, U), rtol=1e-5, atol=1e-6)
    want = jax.grad(lambda w: jnp.sum(rnn_reference(X, w, U, jnp) ** 2))(W)
    np.testing.assert_allclose(gw.numpy(), want, rtol=1e-4, atol=1e-5)


def test_foldl_carries_an_array_and_differentiates():
    import jax
    import jax.numpy as jnp

    e = RNG.normal(size=(T, 3)).astype(np.float32)

    @tx.function
    def f(elems, c):
        with tx.GradientTape() as tape:
            tape.watch(c)
            ta0 = tx.TensorArray(tx.float32, size=T)

            def step(acc, row):
                i, s, ta = acc
                s = s * c + row
                return i + 1, s, ta.write(i, s)

            _, _, ta = tx.foldl(step, elems, (tx.constant(0), tx.zeros([3]), ta0))
            loss = tx.reduce_sum(tx.sin(ta.stack()))
        return ta.stack(), tape.gradient(loss, c)

    def ref(c, xp=np):
        s, out = xp.zeros(3, np.float32), []
        for r in e:
            s = s * c + r
            out.append(s)
        return xp.stack(out)

    stacked, gc = f(tx.constant(e), tx.constant(np.float32(0.7)))
    np.testing.assert_allclose(stacked.numpy(), ref(np.float32(0.7)), rtol=1e-6)
    want = jax.grad(lambda c: jnp.sum(jnp.sin(ref(c, jnp))))(np.float32(0.7))
    np.testing.assert_allclose(gc.numpy(), want, rtol=1e-5)


@pytest.mark.parametrize("run", EAGER_AND_COMPILED)
def test_scan_reads_a_captured_array_and_differentiates(run):
    import jax
    import jax.numpy as jnp

    v = RNG.normal(size=(T, 3)).astype(np.float32)

    def f(v, c):
        with tx.GradientTape() as tape:
            tape.watch([v, c])
            inputs = tx.TensorArray(tx.float32, size=T).unstack(tx.sin(v))
            acc = tx.scan(lambda a, t: a * c + inputs.read(t), tx.range(T),
                          initializer=tx.zeros([3]))
            loss = tx.reduce_sum(acc * acc)
        return acc, tape.gradient(loss, [v, c])

    def ref(v, c, xp=np):
        a, out = xp.zeros(3, np.float32), []
        for t in range(T):
            a = a * c + xp.sin(v[t])
            out.append(a)
        return xp.stack(out)

    acc, (gv, gc) = run(f)(tx.constant(v), tx.constant(np.float32(0.5)))
    np.testing.assert_allclose(acc.numpy(), ref(v, np.float32(0.5)), rtol=1e-5)
    jv, jc = jax.grad(lambda v, c: jnp.sum(ref(v, c, jnp) ** 2), (0, 1))(v, np.float32(0.5))
    np.testing.assert_allclose(gv.numpy(), jv, rtol=1e-4)
    np.testing.assert_allclose(gc.numpy(), jc, rtol=1e-4)


def test_an_autograph_while_learns_the_element_shape_and_python_loops_grow_the_buffer():
    x = np.arange(6, dtype=np.float32)

    @tx.function
    def f(x):
        ta = tx.TensorArray(tx.float32, size=6)
        i = tx.constant(0)
        while i < 6:
            ta = ta.write(i, x[i] * 2.0)
            i += 1
        grown = tx.TensorArray(tx.float32, size=0, dynamic_size=True)
        for k in range(3):  # a Python loop: constant indices
            grown = grown.write(k, x[k])
        return ta.stack(), grown.stack(), grown.size()

    stacked, grown, n = f(tx.constant(x))
    np.testing.assert_array_equal(stacked.numpy(), x * 2)
    np.testing.assert_array_equal(grown.numpy(), x[:3])
    assert int(n) == 3


def test_appending_in_two_loops_sizes_each_loop():
    x = np.arange(6, dtype=np.float32)

    @tx.function
    def f(x):
        ta = tx.TensorArray(tx.float32, size=0, dynamic_size=True)
        for i in tx.range(3):
            ta = ta.write(ta.size(), x[i])
        for i in tx.range(2):
            ta = ta.write(ta.size(), x[i] * 10.0)
        return ta.stack(), ta.size()

    stacked, n = f(tx.constant(x))
    np.testing.assert_array_equal(stacked.numpy(), [0, 1, 2, 0, 10])
    assert int(n) == 5


def test_an_eager_array_passed_to_a_function():
    ta = tx.TensorArray(tx.float32, size=2).write(0, 1.0).write(1, 2.0)
    f = tx.function(lambda ta: ta.write(0, 5.0).stack() * 2.0)
    np.testing.assert_array_equal(f(ta).numpy(), [10, 4])
    np.testing.assert_array_equal(ta.stack().numpy(), [1, 2])  # the trace wrote a copy


@pytest.mark.parametrize("run", EAGER_AND_COMPILED)
def test_dynamic_size_grows_to_the_loop_trip_count(run):
    def f(x):
        ta = tx.TensorArray(tx.float32, size=0, dynamic_size=True)
        for t in tx.range(T):
            ta = ta.write(t, x[t] * 2.0)
        return ta.stack(), ta.size()

    stacked, n = run(f)(tx.constant(X))
    np.testing.assert_array_equal(stacked.numpy(), X * 2)
    assert int(n) == T


def test_dynamic_size_appends_in_nested_loops_and_under_a_condition():
    x = np.array([1.0, -2.0, 3.0], np.float32)

    @tx.function
    def f(x):
        ta = tx.TensorArray(tx.float32, size=0, dynamic_size=True)
        for i in tx.range(3):
            for j in tx.range(2):
                ta = ta.write(ta.size(), x[i] * tx.cast(j + 1, tx.float32))
        pos = tx.TensorArray(tx.float32, size=0, dynamic_size=True)
        for i in tx.range(3):
            if x[i] > 0:
                pos = pos.write(pos.size(), x[i])
        return ta.stack(), ta.size(), pos.stack(), pos.size()

    stacked, n, pos, npos = f(tx.constant(x))
    np.testing.assert_array_equal(stacked.numpy(), [1, 2, -2, -4, 3, 6])
    assert int(n) == 6
    # capacity = 3 iterations x 1 write (rows never written are zeros); size() is the count
    np.testing.assert_array_equal(pos.numpy(), [1, 3, 0])
    assert int(npos) == 2


def test_dynamic_size_in_a_while_loop_is_bounded_by_maximum_iterations():
    @tx.function
    def f(x):
        ta = tx.TensorArray(tx.float32, size=0, dynamic_size=True)
        _, ta = tx.while_loop(lambda i, ta: i < 3, lambda i, ta: (i + 1, ta.write(i, x[i])),
                              (tx.constant(0), ta), maximum_iterations=T)
        return ta.stack(), ta.size()

    stacked, n = f(tx.constant(X))
    assert stacked.shape == (T, B, D)  # the bound, documented: rows past size() are zeros
    np.testing.assert_array_equal(stacked.numpy()[:3], X[:3])
    np.testing.assert_array_equal(stacked.numpy()[3:], 0)
    assert int(n) == 3


def test_dynamic_size_eagerly_grows_like_tf():
    ta = tx.TensorArray(tx.float32, size=0, dynamic_size=True)
    assert ta.write(3, 1.0) is ta  # eager writes change the array in place, as TF eager
    np.testing.assert_array_equal(ta.stack().numpy(), [0, 0, 0, 1])
    assert int(ta.size()) == 4 and ta.dynamic_size


@pytest.mark.parametrize("run", EAGER_AND_COMPILED)
def test_unstack_gather_scatter_concat(run):
    v = np.arange(12, dtype=np.float32).reshape(4, 3)

    def f(v):
        ta = tx.TensorArray(tx.float32, size=4).unstack(v)
        g = ta.gather([3, 0, 3])
        sc = tx.TensorArray(tx.float32, size=5).scatter([4, 1], v[:2])
        return g, ta.concat(), sc.stack(), sc.read(4), sc.size()

    g, c, s, r, n = run(f)(tx.constant(v))
    np.testing.assert_array_equal(g.numpy(), v[[3, 0, 3]])
    np.testing.assert_array_equal(c.numpy(), v.reshape(-1))
    want = np.zeros((5, 3), np.float32)
    want[[4, 1]] = v[:2]
    np.testing.assert_array_equal(s.numpy(), want)
    np.testing.assert_array_equal(r.numpy(), v[0])
    assert int(n) == 5


def test_without_infer_shape_eager_elements_may_differ_in_length_for_concat():
    ta = tx.TensorArray(tx.float32, size=0, dynamic_size=True, infer_shape=False)
    ta.write(0, [1.0, 2.0]).write(1, [3.0])
    np.testing.assert_array_equal(ta.concat().numpy(), [1, 2, 3])  # as TF 2.21
    with pytest.raises(tx.errors.InvalidArgumentError, match="Concat saw a scalar shape"):
        tx.TensorArray(tx.float32, size=1).write(0, 1.0).concat()


def test_gather_and_scatter_with_run_time_indices_differentiate():
    import jax
    import jax.numpy as jnp

    v = RNG.normal(size=(4, 3)).astype(np.float32)
    idx = np.array([2, 0], np.int32)

    @tx.function
    def f(v, idx):
        with tx.GradientTape() as tape:
            tape.watch(v)
            ta = tx.TensorArray(tx.float32, size=4).unstack(v * 2.0)
            sc = tx.TensorArray(tx.float32, size=3).scatter(idx, ta.gather(idx) ** 2)
            loss = tx.reduce_sum(sc.stack() * tx.constant([[1.0], [2.0], [3.0]]))
        return loss, tape.gradient(loss, v)

    def ref(v):
        rows = (v * 2.0)[idx] ** 2
        return jnp.sum(jnp.zeros((3, 3)).at[idx].set(rows) * jnp.array([[1.0], [2.0], [3.0]]))

    loss, gv = f(tx.constant(v), tx.constant(idx))
    np.testing.assert_allclose(loss.numpy(), ref(v), rtol=1e-5)
    np.testing.assert_allclose(gv.numpy(), jax.grad(ref)(v), rtol=1e-5)


@pytest.mark.parametrize("run", EAGER_AND_COMPILED)
def test_element_shape_is_inferred_or_given_and_unwritten_rows_are_zeros(run):
    def f():
        ta = tx.TensorArray(tx.float32, size=3)
        assert ta.element_shape is None
        ta = ta.write(1, tx.ones([2]))
        assert ta.element_shape == (2,) and ta.dtype == tx.float32
        given = tx.TensorArray(tx.int32, size=2, element_shape=[2])
        return ta.stack(), ta.read(0), given.stack()

    stacked, r0, given = run(f)()
    np.testing.assert_array_equal(stacked.numpy(), [[0, 0], [1, 1], [0, 0]])
    np.testing.assert_array_equal(r0.numpy(), [0, 0])
    np.testing.assert_array_equal(given.numpy(), np.zeros((2, 2), np.int32))


def test_an_array_returned_by_a_function_is_usable_eagerly():
    @tx.function
    def f(x):
        return tx.TensorArray(tx.float32, size=T).unstack(x)

    ta = f(tx.constant(X))
    np.testing.assert_array_equal(ta.read(2).numpy(), X[2])
    stacked = ta.stack().numpy()  # a row cleared by its read stacks as zeros (TF eager)
    np.testing.assert_array_equal(stacked[1], X[1])
    np.testing.assert_array_equal(stacked[2], 0)

    @tx.function
    def g(x):
        ta = tx.TensorArray(tx.float32, size=0, dynamic_size=True)
        _, ta = tx.while_loop(lambda i, ta: i < 2, lambda i, ta: (i + 1, ta.write(i, x[i])),
                              (tx.constant(0), ta), maximum_iterations=T)
        return ta

    ta = g(tx.constant(X))  # capacity T, length 2: eagerly a list of 2 elements
    assert int(ta.size()) == 2 and ta.identity() is ta
    np.testing.assert_array_equal(ta.stack().numpy(), X[:2])
    assert ta.close() is None


# ---------------------------------------------------------------- errors
def test_eager_out_of_range_and_negative_indices_raise_tf_out_of_range():
    ta = tx.TensorArray(tx.float32, size=3)
    with pytest.raises(tx.errors.OutOfRangeError,
                       match=r"write to index 5 but array is not resizeable and size is: 3"):
        ta.write(5, 1.0)
    with pytest.raises(IndexError, match=r"negative indices \(index -1\)"):
        ta.write(-1, 1.0)
    with pytest.raises(tx.errors.OutOfRangeError,
                       match=r"read from index 3 but array size is: 3 .*test_tensor_array"):
        ta.read(tx.constant(3))


def test_constant_out_of_range_indices_fail_at_trace_time():
    @tx.function
    def f():
        return tx.TensorArray(tx.float32, size=2, element_shape=[]).write(2, 1.0).stack()

    with pytest.raises(tx.errors.OutOfRangeError, match="index 2 .* size is: 2"):
        f()


@pytest.mark.parametrize("run", EAGER_AND_COMPILED)
def test_wrong_dtype_and_shape_are_refused(run):
    def wrong_dtype():
        return tx.TensorArray(tx.float32, size=2).write(0, tx.constant([1, 2])).stack()

    def wrong_shape():
        ta = tx.TensorArray(tx.float32, size=2).write(0, [1.0, 2.0])
        return ta.write(1, [1.0, 2.0, 3.0]).stack()

    with pytest.raises(tx.errors.InvalidArgumentError,
                       match="TensorArray dtype is float32 but Op is trying to write dtype int32"):
        run(wrong_dtype)()
    with pytest.raises(ValueError, match=r"Incompatible shape for value \(\[3\]\), expected "
                                         r"\(\[2\]\)"):
        run(wrong_shape)()


def test_reading_twice_with_clear_after_read():
    ta = tx.TensorArray(tx.float32, size=2).write(0, [1.0, 2.0])
    np.testing.assert_array_equal(ta.read(0).numpy(), [1, 2])
    with pytest.raises(tx.errors.InvalidArgumentError,
                       match="Could not read index 0 twice because it was cleared"):
        ta.read(0)
    kept = tx.TensorArray(tx.float32, size=1, clear_after_read=False).write(0, 5.0)
    assert float(kept.read(0)) == float(kept.read(0)) == 5.0


def test_unbounded_dynamic_size_in_a_trace_is_a_clear_error():
    @tx.function
    def in_while(x):
        ta = tx.TensorArray(tx.float32, size=0, dynamic_size=True)
        i = tx.constant(0)
        while tx.reduce_sum(x) > tx.cast(i, tx.float32):
            ta = ta.write(i, x)
            i += 1
        return ta.stack()

    @tx.function
    def outside_loops(x, i):
        return tx.TensorArray(tx.float32, size=0, dynamic_size=True).write(i, x).stack()

    with pytest.raises(ValueError, match="dynamic_size TensorArray is written in a loop without "
                                         "a static trip count"):
        in_while(tx.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="written at a run-time index outside a loop"):
        outside_loops(tx.constant(1.0), tx.constant(0))


def test_unknown_element_shape_in_a_trace_asks_for_element_shape():
    @tx.function
    def f():
        return tx.TensorArray(tx.float32, size=3).stack()

    with pytest.raises(ValueError, match="pass element_shape="):
        f()


# ---------------------------------------------------------------- None dims (input_signature)
SIG_RNN = [tx.TensorSpec([None, None, D], tx.float32), tx.TensorSpec([D, H], tx.float32),
           tx.TensorSpec([H, H], tx.float32)]


def rnn_any_shape(x, w, u):
    """Batch-major RNN whose batch, length and array size all come from tx.shape."""
    batch, steps = tx.shape(x)[0], tx.shape(x)[1]
    h = tx.zeros(tx.stack([batch, tx.shape(u)[0]]))
    outputs = tx.TensorArray(tx.float32, size=steps)
    for t in tx.range(steps):
        h = tx.tanh(tx.matmul(x[:, t], w) + tx.matmul(h, u))
        outputs = outputs.write(t, h)
    return tx.transpose(outputs.stack(), [1, 0, 2])


def rnn_any_shape_numpy(x, w, u):
    h, out = np.zeros((x.shape[0], u.shape[0]), np.float32), []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ w + h @ u)
        out.append(h)
    return np.stack(out, 1)


@pytest.mark.parametrize("run", [pytest.param(lambda f: f, id="eager"), pytest.param(
    lambda f: tx.function(f, input_signature=SIG_RNN), id="signature")])
def test_rnn_with_size_and_element_shape_from_none_dims_matches_numpy(run):
    f = run(rnn_any_shape)
    for batch, steps in ((2, 4), (3, 1), (1, 6)):
        x = RNG.normal(size=(batch, steps, D)).astype(np.float32)
        got = f(tx.constant(x), tx.constant(W), tx.constant(U))
        np.testing.assert_allclose(got.numpy(), rnn_any_shape_numpy(x, W, U), rtol=1e-5,
                                   atol=1e-6)
    if hasattr(f, "experimental_get_tracing_count"):
        assert f.experimental_get_tracing_count() == 1  # one trace, specialized per shape
        from compiler.ir.printer import print_graph

        traced = print_graph(f.get_concrete_function().graph)
        assert "f32[?,?,5] = broadcast_dynamic" in traced  # the buffer: [steps, batch, H]
        ir = f.experimental_get_compiler_ir(tx.constant(np.zeros((2, 4, D), np.float32)),
                                            tx.constant(W), tx.constant(U))
        optimized = ir("ir_optimized")
        assert "f32[4,2,5]" in optimized and " case " not in optimized  # the probe is dead


@pytest.mark.parametrize("run", [pytest.param(lambda f: f, id="eager"), pytest.param(
    lambda f: tx.function(f, input_signature=[tx.TensorSpec([None, None], tx.float32),
                                              tx.TensorSpec([], tx.int32)]),
    id="signature")])
def test_unstack_read_gather_scatter_concat_write_with_none_dims(run):
    def f(x, i):
        ta = tx.TensorArray(tx.float32, size=tx.shape(x)[0], clear_after_read=False)
        ta = ta.unstack(x)  # element f32[?]
        last = tx.shape(x)[0] - 1
        picked = ta.gather(tx.stack([last, 0]))
        row = ta.read(i)
        joined = ta.concat()
        ta = ta.write(0, row * 10.0)
        ta = ta.scatter(tx.stack([last]), tx.expand_dims(row + 1.0, 0))
        return picked, row, joined, ta.stack(), ta.size()

    for shape, i in (((3, 2), 1), ((4, 5), 3), ((1, 3), 0)):
        x = RNG.normal(size=shape).astype(np.float32)
        picked, row, joined, stacked, size = run(f)(tx.constant(x), tx.constant(i))
        want = x.copy()
        want[0] = x[i] * 10
        want[-1] = x[i] + 1
        np.testing.assert_allclose(picked.numpy(), x[[-1, 0]], rtol=1e-6)
        np.testing.assert_allclose(row.numpy(), x[i], rtol=1e-6)
        np.testing.assert_allclose(joined.numpy(), x.reshape(-1), rtol=1e-6)
        np.testing.assert_allclose(stacked.numpy(), want, rtol=1e-6)
        assert int(size.numpy()) == shape[0]


def test_gradient_through_writes_and_reads_with_none_dims():
    @tx.function(input_signature=[tx.TensorSpec([None, D], tx.float32)])
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            ta = tx.TensorArray(tx.float32, size=2).write(0, x * 2.0).write(1, x)
            loss = tx.reduce_sum(ta.stack() ** 2) + tx.reduce_sum(ta.read(0))
        return tape.gradient(loss, x)

    for n in (2, 5):
        x = RNG.normal(size=(n, D)).astype(np.float32)
        np.testing.assert_allclose(f(tx.constant(x)).numpy(), 10 * x + 2, rtol=1e-5)


def test_gradient_of_a_loop_over_unknown_shapes_is_a_clear_error():
    @tx.function(input_signature=SIG_RNN[:2])
    def f(x, w):
        with tx.GradientTape() as tape:
            tape.watch(w)
            h = tx.zeros(tx.stack([tx.shape(x)[0], H]))
            outputs = tx.TensorArray(tx.float32, size=tx.shape(x)[1])
            for t in tx.range(tx.shape(x)[1]):  # (AutoGraph converts f's own loops)
                h = tx.tanh(x[:, t] @ w + h @ U)
                outputs = outputs.write(t, h)
            loss = tx.reduce_sum(outputs.stack())
        return tape.gradient(loss, w)

    with pytest.raises(TypeError, match="while_loop without maximum_iterations over loop "
                       "variables of unknown shape"):
        f(tx.constant(RNG.normal(size=(2, 3, D)).astype(np.float32)), tx.constant(W))


def test_run_time_sizes_that_are_not_shapes_are_clear_errors():
    sig = [tx.TensorSpec([None, 2], tx.float32), tx.TensorSpec([], tx.int32)]

    @tx.function(input_signature=sig)
    def from_values(x, n):
        return tx.TensorArray(tx.float32, size=n).stack()

    with pytest.raises(TypeError, match=r"TensorArray: size must be known at trace time or "
                       r"computed from tx.shape.*depends on the value of argument 1"):
        from_values(tx.zeros([3, 2]), tx.constant(3))

    @tx.function(input_signature=sig)
    def growing(x, n):
        return tx.TensorArray(tx.float32, size=tx.shape(x)[0], dynamic_size=True).stack()

    with pytest.raises(TypeError, match="with dynamic_size=True, size must be known at trace"):
        growing(tx.zeros([3, 2]), tx.constant(3))

    @tx.function(input_signature=sig)
    def unbounded(x, n):
        ta = tx.TensorArray(tx.float32, size=0, dynamic_size=True)
        for t in tx.range(tx.shape(x)[0]):
            ta = ta.write(t, x[t])
        return ta.stack()

    with pytest.raises(ValueError, match="dynamic_size TensorArray is written in a loop without "
                       "a static trip count"):
        unbounded(tx.zeros([3, 2]), tx.constant(3))


def test_an_array_sized_from_shapes_returned_by_a_function():
    sig = [tx.TensorSpec([None, None], tx.float32)]
    filled = tx.function(lambda x: tx.TensorArray(tx.float32, size=tx.shape(x)[0]).unstack(x),
                         input_signature=sig)
    x = RNG.normal(size=(3, 2)).astype(np.float32)
    ta = filled(tx.constant(x))  # a list again outside the function
    assert int(ta.size().numpy()) == 3
    np.testing.assert_allclose(ta.read(2).numpy(), x[2])
    empty = tx.function(lambda x: tx.TensorArray(tx.float32, size=tx.shape(x)[0]),
                        input_signature=sig)
    with pytest.raises(ValueError, match="size computed from shapes and no element written"):
        empty(tx.constant(x)).size()

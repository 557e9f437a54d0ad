"""tx.Variable vs TF's semantics: metadata, eager assignment, reads through ops, capture by
reference inside @tx.function, write-back with donated buffers, and the creation rules."""
from __future__ import annotations

import weakref

import numpy as np
import pytest

import tfx_core as tx
from tfx_core.framework.variables import Variable

RNG = np.random.default_rng(3)


def c(x, dtype=np.float32):
    return tx.constant(np.asarray(x, dtype))


def close(got, want, rtol=1e-6, atol=1e-6):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=rtol, atol=atol)


def alias_bytes(f, *args) -> int:
    return f.get_concrete_function(*args)._latest().exe.memory_stats()["alias_size_in_bytes"]


# ---------------------------------------------------------------- metadata
def test_metadata():
    init = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
    v = tx.Variable(init, name="w")
    assert v.dtype == tx.float32
    assert v.shape == (2, 3) and isinstance(v.shape, tx.TensorShape)
    assert v.ndim == 2 and v.get_shape() == (2, 3)
    assert v.name == "w:0"
    assert v.trainable is True
    np.testing.assert_array_equal(v.numpy(), init)
    val = v.value()
    assert isinstance(val, tx.Tensor) and val.shape == (2, 3) and val.dtype == tx.float32
    np.testing.assert_array_equal(val.numpy(), init)
    np.testing.assert_array_equal(v.read_value().numpy(), init)
    np.testing.assert_array_equal(np.asarray(v), init)
    assert "w:0" in repr(v)
    # the value is a copy as far as the caller is concerned
    init[0, 0] = 100.0
    assert v.numpy()[0, 0] == 1.0


@pytest.mark.parametrize("init, kwargs, dtype, shape", [
    (1.5, {}, tx.float32, ()),
    (3, {}, tx.int32, ()),
    ([1, 2], {"dtype": tx.float64}, tx.float64, (2,)),
    (np.zeros((2, 2), np.float64), {}, tx.float64, (2, 2)),
    (lambda: tx.ones((3,)), {}, tx.float32, (3,)),
    (np.ones((2, 3), np.float32), {"shape": (2, 3)}, tx.float32, (2, 3)),
])
def test_dtype_and_shape_from_initial_value(init, kwargs, dtype, shape):
    v = tx.Variable(init, **kwargs)
    assert v.dtype == dtype and v.shape == shape
    assert v.numpy().dtype == dtype.np_dtype and v.numpy().shape == shape
    assert v.name == "Variable:0"


def test_non_trainable_and_bad_construction():
    v = tx.Variable(1.0, trainable=False, name="step")
    assert v.trainable is False and v.name == "step:0"
    with pytest.raises(ValueError, match=r"\[2, 3\].*\[3, 2\]"):
        tx.Variable(np.ones((2, 3), np.float32), shape=(3, 2))
    with pytest.raises(ValueError, match="initial_value"):
        tx.Variable()


# ---------------------------------------------------------------- eager assignment
def test_assign_eager():
    v = tx.Variable([1.0, 2.0], name="v")
    assert v.assign([3.0, 4.0]) is v
    close(v, [3.0, 4.0])
    v.assign_add([1.0, 1.0])
    close(v, [4.0, 5.0])
    v.assign_sub(c([0.5, 2.0]))
    close(v, [3.5, 3.0])
    v.assign(v * 2.0)
    close(v, [7.0, 6.0])
    v.assign(np.array([0.0, -1.0], np.float32))
    close(v.value(), [0.0, -1.0])
    assert v.dtype == tx.float32 and v.shape == (2,)


def test_value_before_assign_keeps_old_value():
    v = tx.Variable([1.0, 2.0])
    old = v.value()
    v.assign([5.0, 6.0])
    close(old, [1.0, 2.0])
    close(v, [5.0, 6.0])


def test_reads_through_ops_and_operators():
    m = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    v = tx.Variable(m)
    x = np.array([[1.0], [-1.0]], np.float32)
    close(v * 2, m * 2)
    close(2 * v, m * 2)
    close(v + v, m + m)
    close(1.0 - v, 1.0 - m)
    close(-v, -m)
    close(v[0], m[0])
    close(v[:, 1], m[:, 1])
    close(tx.matmul(v, c(x)), m @ x)
    close(v @ c(x), m @ x)
    close(tx.reduce_sum(v), m.sum())
    np.testing.assert_array_equal(np.asarray(v > 2.0), m > 2.0)
    assert len(v) == 2
    close([r.numpy() for r in v], list(m))
    s = tx.Variable(2.5)
    assert float(s) == 2.5 and int(tx.Variable(3)) == 3 and bool(s)


# ---------------------------------------------------------------- errors
def test_assign_wrong_shape_names_variable_and_shapes():
    v = tx.Variable(np.zeros((2, 3), np.float32), name="kernel")
    with pytest.raises(ValueError, match=r"kernel:0.*\[3, 2\].*\[2, 3\]"):
        v.assign(np.zeros((3, 2), np.float32))

    @tx.function
    def f(x):
        v.assign(x)
        return x

    with pytest.raises(ValueError, match=r"kernel:0.*\[3\].*\[2, 3\]"):
        f(c(np.zeros(3)))
    np.testing.assert_array_equal(v.numpy(), np.zeros((2, 3)))  # unchanged


@pytest.mark.parametrize("method", ["assign_add", "assign_sub"])
def test_assign_add_wrong_shape_names_variable(method):
    v = tx.Variable(np.zeros((2, 3), np.float32), name="kernel")
    with pytest.raises(ValueError, match=r"kernel:0.*\[4\].*\[2, 3\]"):
        getattr(v, method)(np.zeros((4,), np.float32))


def test_assign_wrong_dtype():
    v = tx.Variable([1.0, 2.0], name="v")
    with pytest.raises(TypeError, match="v:0"):
        v.assign(c([1.0, 2.0], np.float64))
    i = tx.Variable([1, 2], name="i")
    with pytest.raises(TypeError, match="i:0"):
        i.assign([1.5, 2.5])
    close(v, [1.0, 2.0])
    np.testing.assert_array_equal(i.numpy(), [1, 2])


# ---------------------------------------------------------------- inside @tx.function
def test_assign_inside_function_is_visible_and_not_retraced():
    v = tx.Variable(np.zeros(4, np.float32))

    @tx.function
    def step(x):
        v.assign_add(x)
        return v * 10.0  # reads the new value

    x = c([1.0, 2.0, 3.0, 4.0])
    close(step(x), [10.0, 20.0, 30.0, 40.0])
    close(v, [1.0, 2.0, 3.0, 4.0])
    close(step(x), [20.0, 40.0, 60.0, 80.0])
    close(v, [2.0, 4.0, 6.0, 8.0])
    close(step(np.ones(4, np.float32)), [30.0, 50.0, 70.0, 90.0])  # numpy argument path
    close(v, [3.0, 5.0, 7.0, 9.0])
    assert step.experimental_get_tracing_count() == 1


def test_several_assignments_in_one_call():
    v = tx.Variable(1.0)

    @tx.function
    def f():
        a = v.read_value()
        v.assign_add(2.0)
        v.assign(v * 3.0)
        v.assign_sub(1.0)
        return a, v.read_value()

    a, b = f()
    close(a, 1.0)
    close(b, 8.0)
    close(v, 8.0)
    a, b = f()
    close(a, 8.0)
    close(b, 29.0)
    assert f.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("n", [3, 2000], ids=["small", "large"])
def test_eager_change_between_compiled_calls_is_seen(n):
    # small eager tensors are baked into traces as constants; variables never are
    v = tx.Variable(np.ones(n, np.float32))

    @tx.function
    def f(x):
        return tx.reduce_sum(v * x)

    x = c(np.arange(n))
    close(f(x), np.arange(n).sum())
    v.assign(np.full(n, 2.0, np.float32))
    close(f(x), 2 * np.arange(n).sum())
    v.assign_add(np.ones(n, np.float32))
    close(f(x), 3 * np.arange(n).sum())
    assert f.experimental_get_tracing_count() == 1
    ir = f.experimental_get_compiler_ir(x)(stage="ir")
    assert "constant" not in ir  # read as an input, not baked


def test_scalar_variable_read_in_function_is_not_baked():
    v = tx.Variable(2.0)

    @tx.function
    def f(x):
        return x * v

    close(f(c(3.0)), 6.0)
    v.assign(5.0)
    close(f(c(3.0)), 15.0)
    assert f.experimental_get_tracing_count() == 1


def test_two_variables_swap():
    a = tx.Variable(np.arange(3, dtype=np.float32))
    b = tx.Variable(np.arange(3, 6, dtype=np.float32))

    @tx.function
    def swap():
        old_a = a.read_value()
        a.assign(b)
        b.assign(old_a)
        return old_a + 0.0

    close(swap(), [0.0, 1.0, 2.0])
    close(a, [3.0, 4.0, 5.0])
    close(b, [0.0, 1.0, 2.0])
    close(swap(), [3.0, 4.0, 5.0])
    close(a, [0.0, 1.0, 2.0])
    close(b, [3.0, 4.0, 5.0])
    assert swap.experimental_get_tracing_count() == 1
    assert alias_bytes(swap) > 0


def test_variable_assigned_but_never_read():
    v = tx.Variable(np.zeros(3, np.float32))
    before = v.value()

    @tx.function
    def put(x):
        v.assign(x * 2.0)
        return x

    put(c([1.0, 2.0, 3.0]))
    close(v, [2.0, 4.0, 6.0])
    close(before, [0.0, 0.0, 0.0])
    put(c([0.0, 1.0, 0.0]))
    close(v, [0.0, 2.0, 0.0])
    assert put.experimental_get_tracing_count() == 1
    assert put.get_concrete_function(c([0.0, 0.0, 0.0]))._donate == ()


def test_variable_only_read_is_not_donated():
    v = tx.Variable(np.arange(4, dtype=np.float32))
    buf = v._tensor._buf

    @tx.function
    def f(x):
        return v * x

    x = c(np.full(4, 2.0))
    close(f(x), 2 * np.arange(4))
    close(f(x), 2 * np.arange(4))
    assert v._tensor._buf is buf and not buf.is_deleted()
    close(v, np.arange(4))
    assert alias_bytes(f, x) == 0
    assert f.get_concrete_function(x).variables == [v]


# ---------------------------------------------------------------- donation
def _counter():
    v = tx.Variable(np.zeros(8, np.float32))

    @tx.function
    def step(x):
        v.assign_add(x)
        return tx.reduce_sum(v)

    return v, step


def test_donation_reuses_the_buffer():
    v, step = _counter()
    x = c(np.ones(8))
    step(x)
    assert alias_bytes(step, x) > 0
    ref = weakref.ref(v._tensor._buf)
    step(x)
    old = ref()
    assert old is None or old.is_deleted()
    close(v, np.full(8, 2.0))


def test_donated_buffer_is_deleted(monkeypatch):
    # observe the old buffer right after the call, before the variable lets go of it
    v, step = _counter()
    x = c(np.ones(8))
    step(x)
    seen = []
    orig = Variable._set_buffer

    def spy(self, buf):
        seen.append(self._tensor._buf)
        orig(self, buf)

    monkeypatch.setattr(Variable, "_set_buffer", spy)
    step(x)
    assert len(seen) == 1 and seen[0].is_deleted()
    close(v, np.full(8, 2.0))


def test_copy_on_donate_keeps_held_values_readable():
    v, step = _counter()
    x = c(np.ones(8))
    step(x)
    held = v.value()
    host = v.numpy()
    step(x)
    step(x)
    close(held, np.ones(8))  # still readable, old values
    close(host, np.ones(8))
    close(v, np.full(8, 3.0))
    # once nothing else holds it, the variable's buffer is donated again
    ref = weakref.ref(v._tensor._buf)
    step(x)
    assert ref() is None or ref().is_deleted()
    close(v, np.full(8, 4.0))
    close(held, np.ones(8))


def test_donation_never_deletes_a_shared_tensor():
    t = c(np.arange(8))
    v, step = _counter()
    v.assign(t)  # the variable now holds the caller's tensor
    w = tx.Variable(v)  # another variable initialised from it
    step(c(np.ones(8)))
    close(v, np.arange(8) + 1)
    close(t, np.arange(8))
    close(w, np.arange(8))


def test_donating_a_scalar_variable_keeps_python_constants_intact():
    v = tx.Variable(1.0)

    @tx.function
    def inc():
        v.assign_add(1.0)
        return v.read_value()

    close(inc(), 2.0)
    close(inc(), 3.0)
    close(tx.constant(1.0), 1.0)  # eager constants may share buffers: none may be donated
    close(tx.constant(1.0) + 0.0, 1.0)
    close(tx.constant(2.0), 2.0)


# ---------------------------------------------------------------- creation inside @tx.function
def test_variable_created_on_first_trace_persists():
    class Counter:
        v = None

    holder = Counter()

    @tx.function
    def f(x):
        if holder.v is None:
            holder.v = tx.Variable(lambda: tx.ones((3,)) * 2.0, name="count")
        holder.v.assign_add(x)
        return holder.v.read_value()

    x = c([1.0, 2.0, 3.0])
    close(f(x), [3.0, 4.0, 5.0])
    v = holder.v
    assert isinstance(v, tx.Variable) and v.name == "count:0" and v.shape == (3,)
    close(v, [3.0, 4.0, 5.0])  # the initial value was computed eagerly, then updated
    close(f(x), [4.0, 6.0, 8.0])
    assert holder.v is v and f.experimental_get_tracing_count() == 1


def test_variable_from_trace_constant_on_first_trace():
    made = []

    @tx.function
    def f(x):
        if not made:
            made.append(tx.Variable(tx.zeros((2,)) + 1.0))
        return made[0] * x

    close(f(c([2.0, 3.0])), [2.0, 3.0])
    close(made[0], [1.0, 1.0])
    made[0].assign([5.0, 5.0])
    close(f(c([2.0, 3.0])), [10.0, 15.0])


def test_creating_a_variable_on_a_retrace_raises():
    @tx.function
    def f(x):
        v = tx.Variable(lambda: tx.zeros((2,)), name="tmp")
        return v + tx.reduce_sum(x)

    close(f(c([1.0, 2.0])), [3.0, 3.0])
    with pytest.raises(ValueError, match="first trace"):
        f(c([1.0, 2.0, 3.0]))  # a new shape retraces


def test_initial_value_from_function_inputs_raises():
    @tx.function
    def f(x):
        v = tx.Variable(x * 2.0)
        return v.read_value()

    with pytest.raises(ValueError, match=r"inputs.*callable|callable.*inputs"):
        f(c([1.0, 2.0]))


def test_variable_argument_is_passed_by_reference():
    """A Variable passed as an argument is read and assigned in place (as TF), keyed by identity."""
    v = tx.Variable([1.0, 2.0], name="a")
    w = tx.Variable([5.0, 5.0], name="b")

    @tx.function
    def bump(var, d):
        var.assign_add(d)
        return var * 2.0

    one = tx.constant([1.0, 1.0])
    np.testing.assert_allclose(bump(v, one).numpy(), [4.0, 6.0])
    np.testing.assert_allclose(bump(v, one).numpy(), [6.0, 8.0])
    np.testing.assert_allclose(v.numpy(), [3.0, 4.0])
    assert bump.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(bump(w, one).numpy(), [12.0, 12.0])
    np.testing.assert_allclose(w.numpy(), [6.0, 6.0])
    np.testing.assert_allclose(v.numpy(), [3.0, 4.0])

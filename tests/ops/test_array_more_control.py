"""Issue 16's functions that take callables or return non-tensors (tf.case, foldr,
vectorized_map, grad_pass_through, recompute_grad, shape helpers, the enums), eagerly and under
@tx.function, plus their errors (TF's classes, naming the op and the caller's line)."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx

HERE = __file__.rsplit("/", 1)[-1]


def _case(v):
    return tx.case([(v < 0.0, lambda: v * 10.0), (v < 5.0, lambda: v * 100.0)],
                   default=lambda: -v)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_case_first_true_wins_else_default(mode):
    f = _case if mode == "eager" else tx.function(_case)
    got = [float(f(tx.constant(v)).numpy()) for v in (-1.0, 1.0, 7.0)]
    assert got == [-10.0, 100.0, -7.0]  # -1 satisfies both: the first pair wins


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_case_exclusive_and_missing_default_fail_as_tf(mode):
    def excl(v):
        return tx.case([(v < 0.0, lambda: v), (v < 5.0, lambda: v * 2.0)], exclusive=True)

    f = excl if mode == "eager" else tx.function(excl)
    assert float(f(tx.constant(1.0)).numpy()) == 2.0
    with pytest.raises(tx.errors.InvalidArgumentError, match="exclusive=True"):
        f(tx.constant(-1.0))
    with pytest.raises(tx.errors.InvalidArgumentError, match="None of conditions"):
        f(tx.constant(9.0))  # no default: the last pair's predicate must hold


def test_case_rejects_non_callables():
    with pytest.raises(TypeError, match="case"):
        tx.case([(tx.constant(True), 3)])


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_foldr_runs_last_row_first(mode):
    def f(x):
        return tx.foldr(lambda acc, r: acc * 2.0 + r, x, tx.constant(0.0)), \
            tx.foldr(lambda acc, r: acc * 2.0 + r, x)

    g = f if mode == "eager" else tx.function(f)
    with_init, without = g(tx.constant([1.0, 2.0, 3.0]))
    assert float(with_init.numpy()) == ((0 * 2 + 3) * 2 + 2) * 2 + 1
    assert float(without.numpy()) == (3 * 2 + 2) * 2 + 1


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_vectorized_map_is_map_fn(mode):
    def f(x):
        return tx.vectorized_map(lambda r: tx.reduce_sum(r * r), x)

    g = f if mode == "eager" else tx.function(f)
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.testing.assert_allclose(g(tx.constant(x)).numpy(), (x * x).sum(1))


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_grad_pass_through_is_identity_gradient(mode):
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.grad_pass_through(tx.round)(x * 1.3)
            loss = tx.reduce_sum(y * y)
        return y, tape.gradient(loss, x)

    g = f if mode == "eager" else tx.function(f)
    x = np.array([1.0, 2.0, 3.0], np.float32)
    y, dx = g(tx.constant(x))
    np.testing.assert_allclose(y.numpy(), np.round(x * 1.3))
    np.testing.assert_allclose(dx.numpy(), 2 * np.round(x * 1.3) * 1.3, rtol=1e-6)


def test_recompute_grad_recomputes_and_matches():
    v = tx.Variable([0.5, -1.0, 2.0])
    calls = []

    def block(z):
        calls.append(1)
        return tx.tanh(z * v) * z

    x = tx.constant([1.0, 2.0, 3.0])
    grads = []
    for fn in (block, tx.recompute_grad(block)):
        calls.clear()
        with tx.GradientTape() as tape:
            tape.watch(x)
            loss = tx.reduce_sum(fn(x) ** 2)
        grads.append([g.numpy() for g in tape.gradient(loss, [x, v])])
        grads[-1].append(len(calls))
    (dx0, dv0, n0), (dx1, dv1, n1) = grads
    np.testing.assert_allclose(dx1, dx0, rtol=1e-6)
    np.testing.assert_allclose(dv1, dv0, rtol=1e-6)  # the Variable f reads gets its gradient
    assert n0 == 1 and n1 == 2  # the backward pass ran the block again
    assert float(tx.reduce_sum(tx.recompute_grad(block)(x)).numpy()) == pytest.approx(
        float(tx.reduce_sum(block(x)).numpy()))  # no tape: just f


def test_recompute_grad_compiled():
    v = tx.Variable([0.5, -1.0, 2.0])

    def block(z):
        return tx.tanh(z * v) * z

    @tx.function
    def step(z):
        with tx.GradientTape() as tape:
            tape.watch(z)
            loss = tx.reduce_sum(tx.recompute_grad(block)(z) ** 2)
        return tape.gradient(loss, [z, v])

    x = tx.constant([1.0, 2.0, 3.0])
    with tx.GradientTape() as tape:
        tape.watch(x)
        loss = tx.reduce_sum(block(x) ** 2)
    want = tape.gradient(loss, [x, v])
    for g, w in zip(step(x), want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-7)  # XLA fuses


def test_enums_and_unconnected_gradients():
    x, y = tx.constant(1.0), tx.constant(2.0)
    with tx.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        z = x * 3.0
    assert tape.gradient(z, y, unconnected_gradients=tx.UnconnectedGradients.NONE) is None
    zero = tape.gradient(z, y, unconnected_gradients=tx.UnconnectedGradients.ZERO)
    assert float(zero.numpy()) == 0.0
    v = tx.Variable(1.0, aggregation=tx.VariableAggregation.MEAN,
                    synchronization=tx.VariableSynchronization.ON_WRITE)
    assert v.aggregation is tx.VariableAggregation.MEAN
    assert v.synchronization is tx.VariableSynchronization.ON_WRITE
    assert tx.Variable(1.0).aggregation is tx.VariableAggregation.NONE
    with pytest.raises(ValueError, match="VariableAggregation"):
        tx.Variable(1.0, aggregation="sum-ish")


def test_shape_helpers():
    a, b = tx.zeros([2, 3]), tx.zeros([4])
    assert [s.numpy().tolist() for s in tx.shape_n([a, b])] == [[2, 3], [4]]
    assert tx.broadcast_static_shape(tx.TensorShape([None, 1, 3]),
                                     tx.TensorShape([4, 1])).as_list() == [None, 4, 3]
    with pytest.raises(ValueError, match="broadcast_static_shape"):
        tx.broadcast_static_shape(tx.TensorShape([2]), tx.TensorShape([3]))
    out = tx.tuple([a, None, b])
    assert out[1] is None and out[0].shape == (2, 3)


def test_errors_name_the_op_and_line():
    with pytest.raises(tx.errors.InvalidArgumentError) as e:
        tx.math.unsorted_segment_max([1.0, 2.0], [0, 3], 2)  # TF: ids >= num_segments fail
    assert "unsorted_segment_max" in str(e.value) and "out of range [0, 2)" in str(e.value)
    assert HERE in str(e.value)
    with pytest.raises(tx.errors.InvalidArgumentError, match="not increasing"):
        tx.math.segment_max([1.0, 2.0, 3.0], [1, 0, 1])
    with pytest.raises(TypeError, match="segment_sqrt_n.*floating"):
        tx.math.unsorted_segment_sqrt_n([1, 2], [0, 1], 2)  # (TF's mean takes ints, sqrt_n not)
    with pytest.raises(tx.errors.InvalidArgumentError, match="space_to_batch_nd.*multiple"):
        tx.space_to_batch_nd(tx.zeros([1, 5, 2]), [2], [[0, 0]])
    with pytest.raises(tx.errors.InvalidArgumentError, match="searchsorted"):
        tx.searchsorted(tx.zeros([2, 3]), tx.zeros([3, 1]))
    with pytest.raises(TypeError, match="sequence_mask.*maxlen"):
        tx.function(lambda n: tx.sequence_mask(n))(tx.constant([1, 2]))


def test_segment_ids_out_of_range_dropped_when_compiled():
    f = tx.function(lambda d, i: tx.math.unsorted_segment_prod(d, i, 2))
    got = f(tx.constant([2.0, 3.0, 5.0, 7.0]), tx.constant([0, 5, -1, 1]))
    np.testing.assert_array_equal(got.numpy(), [2.0, 7.0])  # as XLA scatters: dropped

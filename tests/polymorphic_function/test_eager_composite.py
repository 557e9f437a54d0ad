"""Composite ops run eagerly as one fused program (polymorphic_function/eager_composite.py)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import tfx_core as tx
from runtime.compile import counts
from tfx_core.polymorphic_function import eager_composite as EC
from tfx_core.polymorphic_function.eager_composite import composite

RNG = np.random.default_rng(7)
LOGITS = RNG.standard_normal((6, 5)).astype(np.float32)
LABELS = np.array([0, 4, 2, 1, 3, 0], np.int32)


def _want_loss(logits=LOGITS, labels=LABELS):
    return -sp.log_softmax(logits.astype(np.float64), -1)[np.arange(len(labels)), labels]


def test_sparse_cross_entropy_is_one_compile_and_one_op_eagerly():
    logits = tx.constant(LOGITS[:, :4] * 1.5)  # a shape no other test compiles
    labels = tx.constant(LABELS % 4)
    before = counts()["xla_compiles"]
    got = tx.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    assert counts()["xla_compiles"] - before == 1
    np.testing.assert_allclose(got.numpy(), _want_loss(LOGITS[:, :4] * 1.5, LABELS % 4),
                               rtol=1e-5)
    before = counts()["xla_compiles"]
    tx.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    assert counts()["xla_compiles"] == before  # the traced body is reused


@pytest.mark.parametrize("compiled", [False, True])
def test_cross_entropies_and_their_gradients_match_numpy(compiled):
    def loss(v, labels, dense):
        sparse = tx.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=v)
        full = tx.nn.softmax_cross_entropy_with_logits(labels=dense, logits=v)
        return tx.reduce_sum(sparse) + 2.0 * tx.reduce_sum(full)

    def step(v, labels, dense):
        with tx.GradientTape() as tape:
            out = loss(v, labels, dense)
        return out, tape.gradient(out, v)

    run = tx.function(step) if compiled else step
    dense = np.eye(5, dtype=np.float32)[LABELS[::-1]]
    v = tx.Variable(LOGITS)
    out, grad = run(v, tx.constant(LABELS), tx.constant(dense))
    p = sp.softmax(LOGITS.astype(np.float64), -1)
    want_grad = 3 * p - np.eye(5)[LABELS] - 2 * dense
    np.testing.assert_allclose(
        out.numpy(), _want_loss().sum() + 2 * _want_loss(labels=LABELS[::-1]).sum(), rtol=1e-5)
    np.testing.assert_allclose(grad.numpy(), want_grad, rtol=1e-4, atol=1e-5)


def test_softmax_and_log_softmax_on_another_axis():
    x = tx.constant(LOGITS)
    np.testing.assert_allclose(tx.nn.softmax(x, axis=0).numpy(), sp.softmax(LOGITS, 0),
                               rtol=1e-5)
    np.testing.assert_allclose(tx.nn.log_softmax(x, axis=0).numpy(),
                               sp.log_softmax(LOGITS, 0), rtol=1e-5, atol=1e-6)


def test_eager_errors_are_still_raised_before_the_fused_program():
    with pytest.raises(tx.errors.InvalidArgumentError, match="outside the valid range"):
        tx.nn.sparse_softmax_cross_entropy_with_logits(labels=tx.constant([0, 9]),
                                                       logits=tx.constant(LOGITS[:2]))


def test_a_body_reading_an_outside_tensor_runs_op_by_op():
    outside = tx.constant(np.float32(3.0))

    @composite("add_outside")
    def add_outside(x):
        return x + outside

    got = add_outside(tx.constant(np.ones(3, np.float32)))
    np.testing.assert_array_equal(got.numpy(), [4.0, 4.0, 4.0])
    # its traced body captured `outside`: remembered as "no fused program", run op by op
    bodies = [g for k, g in EC._BODIES.items() if k[0] is add_outside.__wrapped__]
    assert bodies == [None]

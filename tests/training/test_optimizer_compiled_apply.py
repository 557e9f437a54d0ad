"""Eager apply_gradients runs as one compiled program (per variable list): same results as
op by op, learning-rate changes and schedules apply without retracing."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx
from tfx_core.training import optimizers as O

RNG = np.random.default_rng(0)
W = [RNG.standard_normal(s).astype(np.float32) for s in [(4, 3), (3,), (3, 2)]]
G = [[RNG.standard_normal(w.shape).astype(np.float32) for w in W] for _ in range(3)]


def _run(make, op_by_op: bool):
    opt = make()
    vs = [tx.Variable(w) for w in W]
    tx.config.run_functions_eagerly(op_by_op)
    try:
        for gs in G:
            opt.apply_gradients(zip([tx.constant(g) for g in gs], vs))
    finally:
        tx.config.run_functions_eagerly(False)
    return [v.numpy() for v in vs], opt


@pytest.mark.parametrize("make", [
    lambda: O.SGD(0.1, momentum=0.9), lambda: O.Adam(0.01), lambda: O.AdamW(0.01),
    lambda: O.RMSprop(0.01, centered=True)], ids=["sgd", "adam", "adamw", "rmsprop"])
def test_compiled_equals_op_by_op(make):
    got, opt = _run(make, False)
    want, _ = _run(make, True)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert int(opt.iterations) == 3
    (step,) = opt._compiled.values()
    assert step.experimental_get_tracing_count() == 1


def test_learning_rate_changes_apply_without_retrace():
    opt = O.SGD(0.5)
    v = tx.Variable(np.ones(2, np.float32))
    opt.apply_gradients([(tx.constant([1.0, 1.0]), v)])
    opt.learning_rate = 0.25  # what a LearningRateScheduler callback does
    opt.apply_gradients([(tx.constant([1.0, 1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.25, 0.25])
    (step,) = opt._compiled.values()
    assert step.experimental_get_tracing_count() == 1

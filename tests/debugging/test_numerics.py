"""enable_check_numerics: the first op producing a NaN/Inf is named with its line, eagerly and
compiled (forward, backward, inside loops); off again, nothing is checked."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx

ERR = tx.errors.InvalidArgumentError


@pytest.fixture
def check_numerics():
    tx.debugging.enable_check_numerics()
    try:
        yield
    finally:
        tx.debugging.disable_check_numerics()


def test_eager_names_the_op(check_numerics):
    tx.math.exp(tx.constant([1.0]))  # fine
    with pytest.raises(ERR, match=r"log at test_numerics.py:\d+ produced NaN"):
        tx.math.log(tx.constant([-1.0]))
    with pytest.raises(ERR, match="produced Inf"):
        tx.constant([1.0]) / tx.constant([0.0])


def test_compiled_training_step_names_the_first_op(check_numerics):
    w = tx.Variable(np.ones((3, 2), np.float32))

    @tx.function
    def step(x):
        with tx.GradientTape() as tape:
            h = tx.matmul(x, w)
            loss = tx.reduce_sum(tx.math.sqrt(h))  # NaN where h < 0
        g = tape.gradient(loss, w)
        w.assign_sub(0.1 * g)
        return loss

    step(tx.constant(np.ones((4, 3), np.float32)))
    with pytest.raises(ERR, match=r"sqrt at test_numerics.py:\d+ produced NaN or Inf"):
        step(tx.constant(-np.ones((4, 3), np.float32)))


def test_inside_a_loop_body(check_numerics):
    @tx.function
    def f(x, n):
        for _ in tx.range(n):
            x = x * 10.0
        return x

    f(tx.constant(1.0), tx.constant(3))
    with pytest.raises(ERR, match="multiply"):
        f(tx.constant(1.0), tx.constant(60))


def test_off_means_no_checks():
    f = tx.function(lambda x: tx.math.log(x))
    assert np.isnan(f(tx.constant(-1.0)).numpy())
    assert "debug_assert" not in f.experimental_get_compiler_ir(tx.constant(1.0))("ir")
    assert np.isnan(tx.math.log(tx.constant(-1.0)).numpy())


def test_a_nan_that_later_ops_hide_is_still_found(check_numerics):
    # 1 / exp(1000) = 1 / inf = 0: the result is finite, exp's is not
    f = tx.function(lambda x: 1.0 / tx.math.exp(x))
    assert float(f(tx.constant(1.0))) > 0
    with pytest.raises(ERR, match="exp at test_numerics.py"):
        f(tx.constant(1000.0))


def test_ops_checked_together_are_all_named(check_numerics):
    # x * 1e30 overflows; the subtract after it keeps the Inf: one check names both
    f = tx.function(lambda x: x * 1e30 - 1.0)
    f(tx.constant([1.0]))
    with pytest.raises(ERR, match=r"multiply at test_numerics.py:\d+ or subtract at"):
        f(tx.constant([1e10]))
    ir = f.experimental_get_compiler_ir(tx.constant([1.0]))("ir")
    assert ir.count("is_finite") == 1

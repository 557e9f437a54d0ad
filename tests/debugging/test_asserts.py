"""tx.debugging asserts: silent when they hold; InvalidArgumentError with the message, the
values and the user's line when not — eagerly, compiled, in cond/while/scan bodies, in a
gradient; static facts checked while tracing."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx

D = tx.debugging
ERR = tx.errors.InvalidArgumentError
F = np.float32

# (name, check(x), a passing x, a failing x, text the failure shows)
CHECKS = [
    ("equal", lambda x: D.assert_equal(x, tx.constant([1.0, 2.0]), message="m"),
     [1.0, 2.0], [1.0, 3.0], "Condition x == y"),
    ("none_equal", lambda x: D.assert_none_equal(x, tx.constant([1.0, 2.0]), message="m"),
     [0.0, 0.0], [0.0, 2.0], "Condition x != y"),
    ("less", lambda x: D.assert_less(x, tx.constant([2.0, 2.0]), message="m"),
     [1.0, 1.0], [1.0, 2.0], "Condition x < y"),
    ("less_equal", lambda x: D.assert_less_equal(x, tx.constant([2.0, 2.0]), message="m"),
     [2.0, 1.0], [3.0, 1.0], "Condition x <= y"),
    ("greater", lambda x: D.assert_greater(x, tx.constant([0.0, 0.0]), message="m"),
     [1.0, 1.0], [1.0, 0.0], "Condition x > y"),
    ("greater_equal", lambda x: D.assert_greater_equal(x, tx.constant([0.0, 0.0]), message="m"),
     [0.0, 1.0], [-1.0, 1.0], "Condition x >= y"),
    ("near", lambda x: D.assert_near(x, tx.constant([1.0, 2.0]), atol=1e-3, message="m"),
     [1.0001, 2.0], [1.1, 2.0], "not equal to tolerance"),
    ("non_negative", lambda x: D.assert_non_negative(x, message="m"),
     [0.0, 1.0], [0.0, -1.0], "Condition x >= 0"),
    ("positive", lambda x: D.assert_positive(x, message="m"),
     [0.5, 1.0], [0.0, 1.0], "Condition x > 0"),
    ("all_finite", lambda x: D.assert_all_finite(x, "m"),
     [0.5, 1.0], [np.nan, 1.0], "Tensor had NaN values"),
    ("check_numerics", lambda x: D.check_numerics(x, "m"),
     [0.5, 1.0], [np.inf, 1.0], "Tensor had Inf values"),
    ("Assert", lambda x: tx.debugging.Assert(tx.reduce_all(x > 0), ["m", x]),
     [0.5, 1.0], [-0.5, 1.0], "assertion failed: [m] [-0.5 1]"),
]
IDS = [c[0] for c in CHECKS]


def _run(check, x, mode):
    def f(x):
        check(x)
        return x * 2

    if mode == "eager":
        return f(tx.constant(np.array(x, F)))
    if mode == "compiled":
        return tx.function(f)(tx.constant(np.array(x, F)))
    if mode == "cond":
        return tx.function(lambda x: tx.cond(x[1] > -100, lambda: f(x), lambda: x))(
            tx.constant(np.array(x, F)))
    if mode == "while":
        def loop(x):
            return tx.while_loop(lambda i, y: i < 2, lambda i, y: (i + 1, f(x) + y * 0),
                                 (tx.constant(0), x))[1]
        return tx.function(loop)(tx.constant(np.array(x, F)))
    if mode == "scan":
        return tx.function(lambda x: tx.scan(lambda a, r: f(x), tx.zeros([2]), initializer=x))(
            tx.constant(np.array(x, F)))
    raise AssertionError(mode)


@pytest.mark.parametrize("mode", ["eager", "compiled", "cond", "while", "scan"])
@pytest.mark.parametrize("name,check,good,bad,text", CHECKS, ids=IDS)
def test_holds_silently_and_fails_clearly(name, check, good, bad, text, mode):
    _run(check, good, mode)
    with pytest.raises(ERR) as e:
        _run(check, bad, mode)
    msg = str(e.value)
    assert text in msg
    assert "m" in msg and "test_asserts.py:" in msg


def test_failure_in_a_gradient():
    @tx.custom_gradient
    def guarded(x):
        def grad(g):
            D.assert_less(g, tx.constant(10.0), message="gradient too big")
            return g
        return tx.identity(x), grad

    @tx.function
    def step(x, scale):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = guarded(x) * scale
        return tape.gradient(y, x)

    assert float(step(tx.constant(1.0), tx.constant(3.0))) == 3.0
    with pytest.raises(ERR, match="gradient too big"):
        step(tx.constant(1.0), tx.constant(30.0))


def test_catchable_as_value_error_and_summarized():
    @tx.function
    def f(x):
        D.assert_positive(x, message="big", summarize=2)
        return x

    with pytest.raises(ValueError, match=r"\[-1 -1 \.\.\. -1 -1\]"):
        f(-tx.ones([100]))


def test_static_values_fail_while_tracing():
    traced = []

    @tx.function
    def f(x):
        traced.append(1)
        D.assert_equal(tx.constant(1), tx.constant(2), message="static")
        return x

    with pytest.raises(ERR, match="static"):
        f(tx.constant(1.0))


def test_static_facts():
    x = tx.zeros([2, 3])
    D.assert_rank(x, 2)
    D.assert_type(x, tx.float32)
    D.assert_shapes([(x, ("N", 3)), (tx.zeros([2]), ("N",))])
    with pytest.raises(ERR, match="rank 3"):
        D.assert_rank(x, 3)
    with pytest.raises(TypeError, match="int32"):
        D.assert_type(x, tx.int32)
    with pytest.raises(ERR, match="'N'"):
        D.assert_shapes([(x, ("N", 3)), (tx.zeros([4]), ("N",))])
    with pytest.raises(ERR, match="size 4"):
        D.assert_shapes([(x, (2, 4))])

    @tx.function
    def g(x):
        D.assert_rank(x, 1)
        return x

    with pytest.raises(ERR, match="rank 1"):
        g(x)


def test_dtype_mismatch_is_a_type_error():
    with pytest.raises(TypeError, match="same dtype"):
        D.assert_equal(tx.constant(1), tx.constant(1.0))


def test_assert_in_while_cond_is_refused():
    @tx.function
    def f(n):
        return tx.while_loop(lambda i: (D.assert_less(i, 100), i < n)[1], lambda i: i + 1,
                             [tx.constant(0)])

    with pytest.raises(TypeError, match="prints or asserts"):
        f(tx.constant(3))

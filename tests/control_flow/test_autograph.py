"""AutoGraph: Python if/while/for on tensors inside @tx.function become cond/while_loop."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx

X = np.array([1.0, -2.0, 3.0], np.float32)


def _ops(f, *args) -> str:
    return f.experimental_get_compiler_ir(*args)(stage="ir")


def test_if_elif_else_on_tensors():
    @tx.function
    def f(x):
        s = tx.reduce_sum(x)
        if s > 5.0:
            y = x * 2.0
        elif s > 0.0:
            y = x + 1.0
        else:
            y = -x
        return y

    for x in (X * 3, X, -X):
        s = x.sum()
        want = x * 2 if s > 5 else x + 1 if s > 0 else -x
        np.testing.assert_array_equal(f(x).numpy(), want)
    assert f.experimental_get_tracing_count() == 1  # one trace: the branches are regions
    assert "case" in _ops(f, X)


def test_while_and_for_loops_on_tensors():
    @tx.function
    def f(x, n):
        i = tx.constant(0)
        acc = tx.zeros_like(x)
        while i < n:
            acc = acc + x
            i = i + 1
        for k in tx.range(n):
            acc = acc + tx.cast(k, tx.float32)
        for row in tx.reshape(x, [3, 1]):
            acc = acc - row
        return acc

    for n in (0, 3):
        want = X * n + sum(range(n)) - X.sum()
        np.testing.assert_allclose(f(X, tx.constant(n)).numpy(), want)
    assert f.experimental_get_tracing_count() == 1


def test_python_conditions_stay_python():
    @tx.function
    def f(x, flag, n):
        if flag:
            x = x * 2.0
        total = 0
        for j in range(n):
            total += j
        return x + total

    np.testing.assert_array_equal(f(X, True, 3).numpy(), X * 2 + 3)
    ir = _ops(f, X, True, 3)
    assert "case" not in ir and "while" not in ir


def test_methods_are_converted():
    class Clip(tx.Module):
        @tx.function
        def __call__(self, x):
            if tx.reduce_max(x) > 2.0:
                x = x / 2.0
            return x

    m = Clip()
    np.testing.assert_array_equal(m(X).numpy(), X / 2)
    np.testing.assert_array_equal(m(X / 4).numpy(), X / 4)


def test_variable_set_in_only_one_branch_is_an_error_naming_the_line():
    @tx.function
    def f(x):
        if tx.reduce_sum(x) > 0.0:
            y = x
        return y  # noqa: F821

    with pytest.raises(ValueError, match=r"\['y'\] must be set in both branches.*"
                                         r"test_autograph.py:\d+"):
        f(X)


def test_loops_with_break_stay_python_and_say_why_a_tensor_fails():
    @tx.function
    def f(x):
        while tx.reduce_sum(x) < 100.0:
            x = x * 2.0
            if tx.reduce_max(x) > 50.0:
                break
        return x

    with pytest.raises(TypeError, match="Python bool"):
        f(X)


def test_to_code_and_opting_out():
    @tx.function
    def f(x):
        if tx.reduce_sum(x) > 0.0:
            x = -x
        return x

    code = tx.autograph.to_code(f)
    assert "__ag__.if_stmt" in code and "def __ag_if_true_1(x)" in code
    g = tx.function(f.python_function, autograph=False)
    with pytest.raises(TypeError, match="Python bool"):
        g(X)


def test_closures_are_read_at_trace_time():
    scale = 2.0

    @tx.function
    def f(x):
        if tx.reduce_sum(x) > 0.0:
            x = x * scale
        return x

    np.testing.assert_array_equal(f(X).numpy(), X * 2)
    scale = 5.0  # noqa: F841  (a retrace with a new signature sees the new value)
    np.testing.assert_array_equal(f(X[:2] * 0 + 1).numpy(), [5.0, 5.0])

"""AutoGraph: Python if/while/for on tensors inside @tx.function become cond/while_loop."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from jax import tree_util

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


def test_a_bound_method_passed_to_function_is_converted_with_its_instance():
    class Scaler:
        def __init__(self) -> None:
            self.k = 3.0

        def apply(self, x):
            if tx.reduce_sum(x) > 0.0:
                return x * self.k  # an early return in one branch
            return x - 1.0

    f = tx.function(Scaler().apply)
    np.testing.assert_array_equal(f(X).numpy(), X * 3.0)
    np.testing.assert_array_equal(f(-X).numpy(), -X - 1.0)


def test_variable_set_in_only_one_branch_is_an_error_naming_the_line():
    @tx.function
    def f(x):
        if tx.reduce_sum(x) > 0.0:
            y = x
        return y  # noqa: F821

    with pytest.raises(ValueError, match=r"\['y'\] must be set in both branches.*"
                                         r"test_autograph.py:\d+"):
        f(X)


def test_a_break_on_a_tensor_inside_a_tensor_while_loop_is_converted():
    @tx.function
    def f(x):
        while tx.reduce_sum(x) < 100.0:
            x = x * 2.0
            if tx.reduce_max(x) > 50.0:
                break
        return x

    np.testing.assert_array_equal(f(X).numpy(), X * 32)  # stops on the max (96 > 50)
    np.testing.assert_array_equal(f(X * 20).numpy(), X * 40)  # stops after one doubling
    assert f.experimental_get_tracing_count() == 1


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


# ---------------------------------------------------------------- break / continue / return
def _np(x):
    return x.numpy() if hasattr(x, "numpy") else x


def _same_as_eager(fn, *arg_sets):
    """fn under tx.function (array args become symbolic tensors) gives what the plain Python
    fn gives on eager tensors, for every set of args; returns the tx.function."""
    f = tx.function(fn)
    for args in arg_sets:
        eager = fn(*[tx.constant(a) if isinstance(a, np.ndarray) else a for a in args])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tx.RetracingWarning)  # a trace per Python arg
            got = f(*args)
        want_leaves, want_tree = tree_util.tree_flatten(eager)
        got_leaves, got_tree = tree_util.tree_flatten(got)
        assert got_tree == want_tree, (args, got, eager)
        for g, w in zip(got_leaves, want_leaves):
            np.testing.assert_allclose(_np(g), _np(w), rtol=1e-6, err_msg=str(args))
    return f


def _line(fn, text: str) -> str:
    """'test_autograph.py:N' for the line of fn's source containing `text`."""
    lines, first = inspect.getsourcelines(fn)
    k = next(i for i, ln in enumerate(lines) if text in ln)
    return f"test_autograph.py:{first + k}"


def test_break_at_different_iterations_of_a_tensor_while():
    def f(x, limit):
        i = tx.constant(0)
        while i < 10:
            x = x * 2.0
            i = i + 1
            if tx.reduce_sum(x) > limit:
                break
            x = x - 1.0
        return x, i

    g = _same_as_eager(f, *[(X, np.array(lim, np.float32)) for lim in (0.0, 5.0, 40.0, 1e9)])
    assert g.experimental_get_tracing_count() == 1
    assert "while" in _ops(g, X, np.array(1.0, np.float32))


def test_continue_in_a_for_over_tx_range():
    def f(x, n):
        acc = tx.constant(0.0)
        count = tx.constant(0)
        for i in tx.range(n):
            v = tx.gather(x, i)
            if v < 0.0:
                continue
            acc = acc + v
            count = count + 1
        return acc, count

    xs = np.array([1.0, -2.0, 3.0, -4.0, 5.0], np.float32)
    _same_as_eager(f, (xs, np.int32(5)), (xs, np.int32(2)), (-xs, np.int32(5)),
                   (xs, np.int32(0)))


def test_break_and_continue_over_the_rows_of_a_tensor():
    def f(m):
        acc = tx.zeros_like(m[0])
        for r in m:
            if tx.reduce_sum(r) < 0.0:
                continue
            if tx.reduce_sum(r) > 10.0:
                break
            acc = acc + r
        return acc

    m = np.array([[1, 2], [-5, 1], [3, 3], [20, 0], [1, 1]], np.float32)
    _same_as_eager(f, (m,), (m[::-1].copy(),), (-m,), (m * 0.1,))


def test_break_in_a_nested_loop_only_leaves_the_inner_loop():
    def f(x):
        acc = tx.constant(0.0)
        for i in tx.range(3):
            for j in tx.range(3):
                if tx.gather(x, j) * tx.cast(i, tx.float32) > 2.0:
                    break
                acc = acc + tx.gather(x, j)
            acc = acc * 2.0
        return acc

    _same_as_eager(f, (X,), (X * 0.5,), (X * 10,), (-X,))


def test_while_else_and_for_else_run_only_without_a_break():
    def f(x, n):
        i = tx.constant(0)
        while i < n:
            if tx.reduce_sum(x) > 20.0:
                break
            x = x * 2.0
            i = i + 1
        else:
            x = -x
        for k in range(3):  # Python
            if k == n:
                break
        else:
            x = x + 100.0
        return x

    _same_as_eager(f, *[(X * s, n) for s in (0.1, 1.0, 100.0) for n in (2, 5)])


def test_while_true_with_a_break_on_a_tensor():
    def f(x):
        i = tx.constant(0)
        while True:  # a Python test until the break flag is a tensor: then a while_loop
            x = x * 2.0
            i = i + 1
            if tx.reduce_sum(x) > 20.0:
                break
        return x, i

    g = _same_as_eager(f, (X,), (X * 10,), (X * 0.01,))
    assert "while" in _ops(g, X)


def test_early_returns_under_tensor_conditions():
    def f(x):
        if tx.reduce_sum(x) > 0.0:
            return x, tx.reduce_sum(x)
        elif tx.reduce_max(x) > 0.0:
            y = -x  # only on this path: needs no value on the others
            return y, tx.reduce_max(x)
        z = x * 0.0
        return z, tx.constant(0.0)

    g = _same_as_eager(f, (X,), (-X,), (-np.abs(X),))
    assert g.experimental_get_tracing_count() == 1
    assert "case" in _ops(g, X)


def test_a_return_nested_in_ifs_with_code_after_it():
    def f(x, y):
        out = x
        if tx.reduce_sum(x) > 0.0:
            if tx.reduce_sum(y) > 0.0:
                return x * y
            out = x - y
        out = out * 2.0
        return out

    _same_as_eager(f, *[(X * a, X * b) for a in (1, -1) for b in (1, -1)])


def test_return_inside_loops_stops_them_and_propagates_the_value():
    def first_negative(x, n):
        for i in tx.range(n):
            if tx.gather(x, i) < 0.0:
                return i
        return -1

    def grow(x):
        i = tx.constant(0)
        while i < 10:
            x = x + 1.0
            if tx.reduce_sum(x) > 10.0:
                return x * 100.0
            i = i + 1
        return x

    xs = np.array([1.0, 2.0, -3.0, 4.0, -5.0], np.float32)
    _same_as_eager(first_negative, (xs, np.int32(5)), (xs, np.int32(2)),
                   (np.abs(xs), np.int32(5)), (-xs, np.int32(5)))
    _same_as_eager(grow, (X,), (X - 10.0,), (X + 10.0,))


def test_a_return_under_a_python_condition_inside_a_tensor_loop():
    def f(x, n, stop_early):
        for _i in tx.range(n):
            x = x + 1.0
            if stop_early:
                return x * 10.0
        return x

    _same_as_eager(f, (X, np.int32(3), True), (X, np.int32(3), False), (X, np.int32(0), True))


def test_python_conditions_keep_python_semantics_and_add_no_regions():
    def f(x, flag, n):
        for j in range(n):
            if j == 2:
                continue
            if j == 4:
                break
            x = x + float(j)
        for item in [1.0, 2.0, 3.0]:
            if not flag:
                return {"x": x * item}
        if flag:
            return {"x": x * 2.0}
        return {"x": x}

    g = _same_as_eager(f, *[(X, flag, n) for flag in (True, False) for n in (0, 3, 6)])
    ir = _ops(g, X, True, 6)
    assert "case" not in ir and "while" not in ir


def test_python_break_flags_inside_tensor_loops_and_tensor_continue_in_python_loops():
    def f(x, flag, n):
        for _i in tx.range(n):
            if flag:  # a Python break flag, carried by the while_loop as a tensor
                break
            x = x + 1.0
        for _j in range(3):  # a Python loop: a tensor `continue` just guards the rest
            if tx.reduce_sum(x) > 10.0:
                continue
            x = x * 2.0
        return x

    _same_as_eager(f, *[(X * s, flag, np.int32(4)) for s in (1, 5) for flag in (True, False)])


def test_gradient_through_a_for_range_loop_with_a_break():
    @tx.function
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _i in tx.range(5):  # static trip count: the while_loop is differentiable
                if tx.reduce_sum(y) > 10.0:
                    break
                y = y * x
            loss = tx.reduce_sum(y)
        return loss, tape.gradient(loss, x)

    for x in (np.array([1.5, 1.2, 0.5], np.float32), np.array([0.5, 0.2, 0.5], np.float32)):
        k, y = 0, x.copy()
        while k < 5 and y.sum() <= 10.0:
            y, k = y * x, k + 1
        loss, grad = f(x)
        np.testing.assert_allclose(loss.numpy(), (x ** (k + 1)).sum(), rtol=1e-5)
        np.testing.assert_allclose(grad.numpy(), (k + 1) * x ** k, rtol=1e-5)


def test_to_code_shows_the_flags():
    @tx.function
    def f(x):
        for _i in tx.range(3):
            if tx.reduce_sum(x) > 5.0:
                break
            if tx.reduce_sum(x) < 0.0:
                return -x
            x = x * 2.0
        return x

    code = tx.autograph.to_code(f)
    for text in ("__ag_brk_1 = False", "__ag_brk_1 = True", "__ag_do_return = True",
                 "__ag_retval = __ag__.ret(-x)", "__ag__.not_any(__ag_brk_1, __ag_do_return)",
                 "return __ag__.retval(__ag_do_return, __ag_retval"):
        assert text in code, text
    np.testing.assert_array_equal(f(X).numpy(), X * 4)
    np.testing.assert_array_equal(f(-X * 10).numpy(), X * 10)


def test_a_value_returned_on_only_some_tensor_paths_is_an_error_naming_the_line():
    def f(x):
        if tx.reduce_sum(x) > 0.0:
            return x

    with pytest.raises(ValueError, match=r"'f' \(`return` at line \d+\): depending on a tensor "
                                         r"condition, some paths return a value and others "
                                         r".*" + _line(f, "return x")):
        tx.function(f)(X)


def test_returns_of_different_types_name_both_returns():
    def f(x):
        if tx.reduce_sum(x) > 0.0:
            return x
        return tx.reduce_sum(x)

    with pytest.raises(TypeError, match=r"the false branch returns f32\[\] \(`return` at "
                                        + _line(f, "return tx.reduce_sum") + r"\) but the true "
                                        r"branch returns f32\[3\] \(`return` at "
                                        + _line(f, "return x") + r"\).*" + _line(f, "if tx")):
        tx.function(f)(X)


def test_a_tensor_break_cannot_stop_a_python_for_loop():
    def f(x):
        for _ in range(3):
            if tx.reduce_sum(x) > 5.0:
                break
            x = x * 2.0
        return x

    with pytest.raises(TypeError, match=r"cannot stop a Python loop; loop over `tx.range\(n\)`"
                                        r".*" + _line(f, "for _ in")):
        tx.function(f)(X)


_CALLS = 0


def test_jumps_stay_python_with_global_and_a_tensor_condition_says_why():
    def f(x):
        global _CALLS
        _CALLS += 1
        if tx.reduce_sum(x) > 0.0:
            return x
        return -x

    with pytest.raises(TypeError, match=r"this `if` has a tensor condition, but AutoGraph "
                                        r"cannot make it.*contains `return` \(line \d+\).*"
                                        r"uses `global`.*" + _line(f, "if tx")):
        tx.function(f)(X)
    code = tx.autograph.to_code(f)
    assert "__ag__.py_cond(" in code and "__ag_do_return" not in code


def test_a_break_inside_try_stays_python_and_a_tensor_condition_says_why():
    def f(x):
        while tx.reduce_sum(x) < 100.0:
            try:
                x = x * 2.0
                if tx.reduce_max(x) > 50.0:
                    break
            finally:
                pass
        return x

    with pytest.raises(TypeError, match=r"`while` has a tensor condition.*`break` inside `try`"
                                        r".*" + _line(f, "while tx")):
        tx.function(f)(X)


def test_a_variable_first_set_inside_a_tensor_loop_and_read_after_it_is_an_error():
    def f(x, n):
        for i in tx.range(n):
            tmp = x * tx.cast(i, tx.float32)  # read only inside: fine
            last = tmp + 1.0
        return last

    with pytest.raises(ValueError, match=r"'last' is set in the loop and read after it.*must "
                                         r"be defined before the loop.*" + _line(f, "for i in")):
        tx.function(f)(X, np.int32(3))


def test_a_loop_variable_changing_shape_is_an_error_naming_it():
    def f(x, n):
        i = tx.constant(0)
        while i < n:
            x = tx.concat([x, x], 0)
            i = i + 1
        return x

    with pytest.raises(TypeError, match=r"'x' enters the loop as f32\[3\] but an iteration "
                                        r"makes it f32\[6\].*" + _line(f, "while i")):
        tx.function(f)(X, np.int32(3))


def test_a_bare_return_under_a_tensor_condition_returns_none():
    def f(x):
        if tx.reduce_sum(x) > 0.0:
            return
        x = x + 1.0

    assert tx.function(f)(X) is None
    assert tx.function(f)(-X) is None


def test_and_or_not_in_conditions_follow_python_or_become_logical_ops():
    def f(x, n, flag):
        i = tx.constant(0)
        done = False
        while i < n and not done:  # `done` becomes a tensor: logical_and / logical_not
            x = x * 2.0
            i = i + 1
            if tx.reduce_sum(x) > 20.0 or tx.reduce_min(x) < -20.0:
                done = True
        if flag and tx.reduce_sum(x) > 0.0:
            x = x + 1.0
        if not flag or x is None:  # Python: `x is None` runs only when flag is true
            x = x - 1.0
        return x, i

    _same_as_eager(f, *[(X * s, np.int32(n), flag) for s in (1.0, -1.0, 0.01)
                        for n in (0, 3, 9) for flag in (True, False)])


def test_methods_with_super_and_private_names_and_an_early_return():
    class Base(tx.Module):
        def scale(self, x):
            return x * 2.0

    class Scaled(Base):
        def __init__(self):
            super().__init__()
            self.__k = 3.0  # stored as _Scaled__k

        @tx.function
        def __call__(self, x, flag):
            if flag:  # the branch functions still see `self` as super()'s object
                return super().scale(x) * self.__k
            if tx.reduce_sum(x) > 0.0:
                return super().scale(x)
            return x

    m = Scaled()
    np.testing.assert_array_equal(m(X, True).numpy(), X * 6)
    np.testing.assert_array_equal(m(X, False).numpy(), X * 2)
    np.testing.assert_array_equal(m(-X, False).numpy(), -X)


def test_generators_keep_their_jumps_as_python():
    def gen(x, n):
        for k in range(n):
            if k == 2:
                return
            if tx.reduce_sum(x) > 0.0:
                yield x * float(k)

    conv = tx.autograph.convert(gen)()
    assert "__ag_do_return" not in tx.autograph.to_code(gen)
    assert [v.numpy().tolist() for v in conv(tx.constant(X), 5)] == [
        (X * 0).tolist(), X.tolist()]  # Python values: exactly the generator

    @tx.function
    def f(x):
        return tx.stack(list(conv(x, 3)))

    with pytest.raises(TypeError, match=r"`if` has a tensor condition.*contains `yield` "
                                        r"\(line \d+\), which AutoGraph keeps as Python.*"
                                        + _line(gen, "if tx.reduce_sum")):
        f(X)


def test_temporaries_of_a_tensor_loop_need_no_value_before_it():
    def f(x, n):
        acc = tx.zeros_like(x)
        for i in tx.range(n):  # i, parts, total and j are only read within an iteration
            parts = [x * c for c in (1.0, 2.0)]
            total = parts[0] + parts[1]
            for j in tx.range(2):
                total = total + tx.cast(i + j, tx.float32)
            acc = acc + total
        return acc

    g = _same_as_eager(f, (X, np.int32(3)), (X, np.int32(0)))
    assert "__ag_item, acc)" in tx.autograph.to_code(g)  # only acc is carried


def test_functions_without_source_warn_that_autograph_cannot_convert_them():
    ns: dict = {}
    exec(compile("def f(x):\n    if x > 0:\n        return x\n    return -x\n", "<repl>", "exec"),
         ns)
    with pytest.warns(UserWarning, match=r"AutoGraph cannot read the source of 'f' \(<repl>:1\)"):
        with pytest.raises(TypeError, match="Python bool"):
            tx.function(ns["f"])(tx.constant(1.0))
    exec(compile("def g(x):\n    return x * 2\n", "<repl>", "exec"), ns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to convert: no warning
        assert float(tx.function(ns["g"])(tx.constant(1.0))) == 2.0


# ---------------------------------------------------------------- conditional expressions
def test_conditional_expression_on_a_tensor_becomes_cond():
    @tx.function
    def f(x):
        return x * 2.0 if tx.reduce_sum(x) > 0 else x - 1.0

    pos, neg = np.array([1.0, 2.0], np.float32), np.array([-1.0, -2.0], np.float32)
    np.testing.assert_array_equal(f(tx.constant(pos)).numpy(), pos * 2.0)
    np.testing.assert_array_equal(f(tx.constant(neg)).numpy(), neg - 1.0)
    assert f.experimental_get_tracing_count() == 1
    assert "case" in _ops(f, tx.constant(pos))


def test_conditional_expression_on_python_values_stays_python():
    calls = []

    def side(v):
        calls.append(v)
        return v

    @tx.function
    def f(x, k):
        return x + (side(1.0) if k > 0 else side(2.0))

    assert float(f(tx.constant(1.0), 1)) == 2.0 and float(f(tx.constant(1.0), -1)) == 3.0
    assert calls == [1.0, 2.0]  # one side evaluated per trace, as Python


def test_conditional_expression_gradient_and_nesting():
    @tx.function
    def grad(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = x * x if x > 0 else (-x if x < -1 else x * 3.0)
        return tape.gradient(y, x)

    assert [float(grad(tx.constant(v))) for v in (2.0, -3.0, -0.5)] == [4.0, -1.0, 3.0]


def test_conditional_expression_branches_must_agree():
    @tx.function
    def f(x):
        return x if tx.reduce_sum(x) > 0 else tx.concat([x, x], 0)

    with pytest.raises((TypeError, ValueError)):
        f(tx.constant(X))


def test_defaults_naming_enclosing_locals_survive_conversion():
    # The converted def runs in AutoGraph's factory, where an enclosing function's locals
    # (here the loop's k) do not exist: defaults must come from the original function.
    got = []
    for k in (2.0, 3.0):
        def f(x, k=k, *, big=k > 2):
            if tx.reduce_sum(x) > 0:
                x = x + 0.0
            return x * k if big else x + k

        got.append(float(tx.function(f)(tx.constant(1.0))))
    assert got == [3.0, 3.0]
